"""One execution per event and sign-in: subscribers that would get the same answer share it.

A subscription runs its selection once per event for each subscriber. Subscribers on one
session (a browser's tabs, or several subscriptions on one socket) with the same document
and variables would get the same answer, so the first to run it keeps it on the event
(``Event.shared``), in flight or done, and the others take it. The key holds everything an
answer may depend on: the session (so the viewer), the addressed court and the viewer's
facts as the connection knows them; subscribers of different sessions never share.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from nextgen_gql.api.context import Context
from nextgen_gql.api.request_errors import CodedExecutionContext

__all__ = ["LiveExecutionContext"]


class LiveExecutionContext(CodedExecutionContext):
    """graphql-core's execution context; a subscription event's answer is shared as above."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = self._shared()
        if shared is None:
            return super().execute_operation(serially)
        results, key = shared
        found = results.get(key)
        if found is not None and found[0] is self.operation:
            return found[1]
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            result = asyncio.ensure_future(result)
        results[key] = (self.operation, result)
        return result

    def _shared(self) -> tuple[dict[Any, Any], tuple[Any, ...]] | None:
        event = getattr(self.root_value, "live_event", None)
        context = self.context_value
        if event is None or not isinstance(context, Context) or context.live is None:
            return None
        live = context.live
        if live.session is None or live.facts is None:
            return None
        values = getattr(self.variable_values, "coerced", self.variable_values)
        try:
            variables = orjson.dumps(values, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        key = (
            id(self.operation),
            variables,
            live.session.id,
            context.court_code,
            live.facts.clerk_courts,
            live.facts.admin_firm_id,
        )
        results: dict[Any, Any] = event.shared.setdefault("results", {})
        return results, key
