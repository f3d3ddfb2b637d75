"""Database outages answered as such: ``503``, ``Retry-After``, ``DATABASE_UNAVAILABLE``.

One stage (``OutageAnswers``) around the GraphQL routes over HTTP (queries, mutations, the
start of a stream of server-sent events) and the CSV exports; ``database_code`` for the errors
inside an answer (``api.view.error_code`` asks it); the WebSocket's operations use
``is_unavailable`` (``api.live.websocket``). Which failures count is ``db_backends.outages``'s.

- A request that fails before running anything (the token or key lookup, a persisted document,
  the compiled path) raises: answered ``503`` with ``Retry-After`` and ``DATABASE_UNAVAILABLE``,
  GraphQL-shaped, in the media type the client accepts.
- A query (or a subscription's first step) whose fields failed because the database was lost:
  the same ``503`` instead of a ``200`` with errors (no field of it is worth keeping).
- A mutation that started (``api.http.WRITING_KEY``) may have written: its answer stays, the
  field's error coded ``DATABASE_UNAVAILABLE`` (HTTP 200): never a ``503`` that invites a
  blind resend. ``recordUsage`` with an ``idempotencyKey`` may be resent safely.
- An answer already under way (a CSV export's rows, an event stream) cannot change: it stops.
"""

from __future__ import annotations

import contextvars
import logging

from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nextgen_gql.api.graphql_http import negotiate
from nextgen_gql.api.http import WRITING_KEY, error_response
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.db_backends.deadline import DatabaseBusy
from nextgen_gql.db_backends.outages import RETRY_AFTER_S, is_unavailable

__all__ = ["MESSAGE", "OutageAnswers", "database_code", "is_unavailable"]

log = logging.getLogger("nextgen_gql.outages")

MESSAGE = "The database cannot be reached now: nothing was written. Retry after the Retry-After seconds."


class _Watch:
    """One request: whether an error of its answer said the database was lost."""

    __slots__ = ("lost",)

    def __init__(self) -> None:
        self.lost = False


_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar("nextgen_gql_outage", default=None)


def database_code(original: BaseException) -> RequestErrorCode | None:
    """The code of an error the database caused, for ``api.view.error_code``: ``OVERLOADED``
    (its deadline passed), ``DATABASE_UNAVAILABLE`` (it cannot be reached; the request is told,
    so that a query is answered 503), or None (not the database's)."""
    if isinstance(original, DatabaseBusy):
        return RequestErrorCode.OVERLOADED
    if isinstance(original, GraphQLError) or not is_unavailable(original):
        return None
    watch = _WATCH.get()
    if watch is not None:
        watch.lost = True
    return RequestErrorCode.DATABASE_UNAVAILABLE


class OutageAnswers:
    """The stage: wraps an HTTP app (ASGI) and answers what the database's absence stopped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = _Watch()
        token = _WATCH.set(watch)
        started = False
        replaced = False

        async def sending(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                if watch.lost and not scope.get(WRITING_KEY):
                    replaced = True
                    await self._unavailable(scope, send)
                    return
                started = True
            if not replaced:
                await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if replaced or not is_unavailable(exc):
                raise
            if started:  # rows under way (a CSV export): the answer stops short, the client sees it cut
                log.warning("database unavailable (%s) during an answer: it stops short", type(exc).__name__)
                return
            log.warning("database unavailable (%s): answered 503", type(exc).__name__)
            await self._unavailable(scope, send)
        finally:
            _WATCH.reset(token)

    async def _unavailable(self, scope: Scope, send: Send) -> None:
        response = error_response(
            503,
            MESSAGE,
            RequestErrorCode.DATABASE_UNAVAILABLE,
            negotiate(Headers(scope=scope).get("accept")),
            headers={"retry-after": str(RETRY_AFTER_S)},
        )
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
