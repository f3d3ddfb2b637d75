"""Writing the audit trail. Call ``record`` inside the transaction of the change it records.

Every audited action is also told to the service's observers (``events``: the security
log), as it is written.
"""

from __future__ import annotations

import datetime as dt

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import AuditEvent
from nextgen_gql.replica import data_read
from nextgen_gql.services import counts, events, moments
from nextgen_gql.services.clock import now
from nextgen_gql.services.ordering import KeysetPage, Sort, Window, keyset_page, moment, page_of, rows_by_ids
from nextgen_gql.services.pagination import Page, id_page, id_window, page_size
from nextgen_gql.tenancy import Court

__all__ = ["account_events", "court_events", "record"]


async def record(
    action: str,
    *,
    actor_id: int | None,
    subject_id: int | None = None,
    court_code: str | None = None,
    detail: str | None = None,
    service_key_id: int | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> AuditEvent:
    """Append one event: ``action`` (``"cmecf.link"``) by ``actor`` (or by a court's service
    key, ``service_key_id``) to ``subject`` in ``court``."""
    subject_id = subject_id if subject_id is not None else actor_id
    row = await AuditEvent.create(
        at=now(),
        action=action,
        actor_id=actor_id,
        subject_id=subject_id,
        court_id=court_code,
        detail=detail,
        service_key_id=service_key_id,
        using_db=using_db,
    )
    events.emit(action, subject_id=subject_id, actor_id=actor_id, court=court_code, detail=detail)
    return row


async def _page(query: QuerySet[AuditEvent], first: int | None, before_id: int | None) -> Page[AuditEvent]:
    return await id_page(query, first=first, after=before_id, newest_first=True)


ACTION_MAX = 64


@data_read
async def court_events(
    court: Court,
    *,
    win: Window | None = None,
    action: str | None = None,
    actor_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Page[AuditEvent]:
    """A window of the court's events, newest first, filtered: by ``action`` (exactly), by the
    account that acted, and to those at or after ``since`` and before ``until``."""
    found = await court_event_window(
        court, win=win, action=action, actor_id=actor_id, since=since, until=until
    )
    return page_of(await rows_by_ids(AuditEvent, found.ids, within=("at", found.also)), found)


@data_read
async def court_event_window(
    court: Court,
    *,
    win: Window | None = None,
    action: str | None = None,
    actor_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> KeysetPage:
    """``court_events``' window as ids and cursors (with each event's time, ``also``), its
    checks all applied, for a caller that reads the rows its own way (``rows.audit_events_by_ids``)."""
    win = win or Window(page_size(None))
    where, params = "court_id = ?", list[object]([court.code])
    if action is not None:
        if not action.strip() or len(action) > ACTION_MAX:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"action is 1 to {ACTION_MAX} characters, e.g. cmecf.link.", "action"
            )
        where += " AND action = ?"
        params.append(action.strip())
    if actor_id is not None:
        where += " AND actor_id = ?"
        params.append(actor_id)
    since = moments.in_range(since, "since") if since is not None else None
    until = moments.in_range(until, "until") if until is not None else None
    if since is not None and until is not None and until <= since:
        raise DomainError(ErrorCode.INVALID_INPUT, "until must be later than since.", "until")
    if since is not None:
        where += " AND at >= ?"
        params.append(moment(since))
    if until is not None:
        where += " AND at < ?"
        params.append(moment(until))
    # Unfiltered, the court's trail has a kept size; filtered, its matches are counted.
    unfiltered = action is None and actor_id is None and since is None and until is None
    total = await counts.kept_count(court.code, "audit") if unfiltered else None
    # Each row's time comes with its id: on PostgreSQL the trail is partitioned by month, and
    # the page's rows are then read from the months that hold them, not from every month.
    return await keyset_page(
        "audit_events", where, params, Sort(descending=True), win, total=total, also="at"
    )


@data_read
async def account_events(
    account_id: int, *, first: int | None = None, after: int | None = None
) -> Page[AuditEvent]:
    """Events about one account (national and in every court), newest first."""
    return await _page(AuditEvent.filter(subject_id=account_id), first, after)


@data_read
async def account_event_window(
    account_id: int, *, first: int | None = None, after: int | None = None
) -> Page[int]:
    """``account_events``' page as the events' ids, for a caller that reads the rows its own
    way (``rows.audit_events_by_ids``)."""
    return await id_window(
        AuditEvent.filter(subject_id=account_id), first=first, after=after, newest_first=True
    )
