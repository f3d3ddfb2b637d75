"""Writing the audit trail. Call ``record`` inside the transaction of the change it records.

Every audited action is also told to the service's observers (``events``: the security
log), as it is written.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from nextgen_gql.models import AuditEvent
from nextgen_gql.services import events
from nextgen_gql.services.clock import now
from nextgen_gql.services.pagination import Page, id_page
from nextgen_gql.tenancy import Court

__all__ = ["account_events", "court_events", "record"]


async def record(
    action: str,
    *,
    actor_id: int | None,
    subject_id: int | None = None,
    court_code: str | None = None,
    detail: str | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> AuditEvent:
    """Append one event: ``action`` (``"cmecf.link"``) by ``actor`` to ``subject`` in ``court``."""
    subject_id = subject_id if subject_id is not None else actor_id
    row = await AuditEvent.create(
        at=now(),
        action=action,
        actor_id=actor_id,
        subject_id=subject_id,
        court_id=court_code,
        detail=detail,
        using_db=using_db,
    )
    events.emit(action, subject_id=subject_id, actor_id=actor_id, court=court_code, detail=detail)
    return row


async def _page(query: QuerySet[AuditEvent], first: int | None, before_id: int | None) -> Page[AuditEvent]:
    return await id_page(query, first=first, after=before_id, newest_first=True)


async def court_events(
    court: Court, *, first: int | None = None, after: int | None = None
) -> Page[AuditEvent]:
    """The court's events, newest first; ``after`` is the id of the last event seen."""
    return await _page(AuditEvent.filter(court_id=court.code), first, after)


async def account_events(
    account_id: int, *, first: int | None = None, after: int | None = None
) -> Page[AuditEvent]:
    """Events about one account (national and in every court), newest first."""
    return await _page(AuditEvent.filter(subject_id=account_id), first, after)
