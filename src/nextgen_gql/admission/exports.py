"""Admission of CSV exports: a cap of their own per worker, and their price in points.

An export streams for as long as its rows take (a national roster: seconds, on a connection
of its own), so it is not one of the GraphQL requests' running places; it has its own:
``NEXTGEN_GQL_MAX_EXPORTS`` per worker (``ExportSlots``). One more is answered at once, 503
``OVERLOADED`` with ``Retry-After``, before anything is read or written.

An export costs its caller points from the same hourly budget as GraphQL
(``services.budgets``), by the rows it may write, as a list's nodes do:
``max(1, ceil(rows / 100))``, charged before the first row is read (``charge``). Past the
budget: 429 ``RATE_LIMITED`` with ``Retry-After``, and nothing written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from nextgen_gql.admission.stage import RETRY_AFTER
from nextgen_gql.api.http import error_response
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.observability.metrics import count_shed
from nextgen_gql.services.budgets import Budgets, Spent, cost_of

__all__ = ["ExportSlots", "HeldStream", "admit", "charge"]


class ExportSlots:
    """The exports streaming now in this worker, at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0

    def take(self) -> bool:
        """A place for one more export, or False when every place is taken."""
        if self.running >= self.limit:
            return False
        self.running += 1
        return True

    def give_back(self) -> None:
        self.running -= 1


class HeldStream(StreamingResponse):
    """A streamed answer that gives its export place back when it ends, however it ends
    (finished, failed, or its client gone)."""

    def __init__(self, *args: object, slots: ExportSlots, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._slots.give_back()


def charge(budgets: Budgets, caller: str, rows: int) -> Spent | None:
    """Spend an export of ``rows`` rows from ``caller``'s budget; the ``Spent`` when it was
    refused (``allowed`` false: nothing spent), None when it was charged or budgets are off."""
    if not budgets.enabled:
        return None
    spent = budgets.charge(caller, cost_of(rows))
    return None if spent.allowed else spent


async def admit(
    slots: ExportSlots,
    budgets: Budgets,
    caller: str,
    rows: Callable[[], Awaitable[int]],
    media_type: str | None,
) -> Response | None:
    """Admit one export of ``caller`` (who may export): None when it holds a place and was
    charged (``HeldStream`` gives the place back), else the refusal to answer, in
    ``media_type``: 503 ``OVERLOADED`` (no place: nothing counted or charged) or 429
    ``RATE_LIMITED`` (its ``rows()`` cost more than the caller has left: nothing charged)."""
    if not slots.take():
        count_shed("exports")
        return error_response(
            503,
            f"The service is overloaded: {slots.limit} exports are running in this worker, so nothing was "
            "read. Retry after the Retry-After seconds.",
            RequestErrorCode.OVERLOADED,
            media_type,
            headers={"retry-after": RETRY_AFTER},
        )
    try:
        count = await rows()
        await budgets.recall(caller)
        refused = charge(budgets, caller, count)
    except BaseException:
        slots.give_back()
        raise
    if refused is None:
        return None
    slots.give_back()
    retry = refused.retry_after()
    return error_response(
        429,
        f"This caller has spent its {refused.limit} points for the hour ({refused.used} used; this export of "
        f"{count} rows costs {cost_of(count)}): retry after {retry} seconds.",
        RequestErrorCode.RATE_LIMITED,
        media_type,
        headers={"retry-after": str(retry)},
    )
