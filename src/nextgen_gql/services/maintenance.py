"""Data lifecycle: what has expired is deleted, in small batches, one process at a time.

``run`` deletes, each kind in batches of ``batch`` rows (``BATCH``: 1,000 on PostgreSQL, 100 on
SQLite; one short statement each, so that a sign-in is never queued behind a long delete; on
SQLite each batch also waits for a moment when no request runs):

- sessions expired or revoked longer ago than ``Retention.sessions`` (default 30 days);
- password-reset, email-change and multi-factor tokens once used or expired;
- throttles whose window has passed and whose lock (if any) has ended;
- live events past the subscriptions' resume window (``outbox.prune``);
- automatic persisted queries unused for ``Retention.apq`` (30 days); trusted documents never;
- webhook deliveries ended longer ago than ``Retention.webhooks`` (30 days), with their
  attempts (a delivery still pending is never deleted, however old), and the OpenID
  provider's back-channel logout tokens likewise; its codes a day after they expired, and its
  tokens ``Retention.sessions`` after they expired or were revoked;
- audit events older than ``Retention.audit`` when it is set (by default the trail is kept
  forever). Retention does not wait for an export: export first (``audit_export``). On
  PostgreSQL, where the trail is partitioned by month (migration 0014), whole months past the
  cutoff are dropped (``audit_partitions.drop_before``) and only the boundary month is deleted
  in batches; each run also creates the months ahead (``audit_partitions.ensure_months``).

Each run then keeps the planner's statistics (``statistics.upkeep``): tables never analysed
or much changed since are analysed, and on SQLite ``PRAGMA optimize`` runs.

Every time comparison takes the service's clock (``services.clock``) as a parameter, never the
database's ``now()``. On PostgreSQL a session advisory lock (``LOCK_KEY``), held on a
connection of its own for the length of the run, lets one process at a time work across
workers and machines; the others skip the run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from tortoise import connections

from nextgen_gql.db import DIRECT_SERVER_SETTINGS, is_postgres_url, plain_postgres_url
from nextgen_gql.db_backends import deadline as db_deadline
from nextgen_gql.services import audit_partitions, outbox, statistics
from nextgen_gql.services.clock import now
from nextgen_gql.services.ordering import execute, moment, query
from nextgen_gql.settings import Settings

__all__ = ["EXPORT_COLUMNS", "LOCK_KEY", "Report", "Retention", "export_events", "export_size", "run"]

log = logging.getLogger("nextgen_gql.maintenance")

#: The advisory lock (single-key form) held by the process that maintains.
LOCK_KEY = 0x6E674D  # "ngM"
#: Throttles are kept this long after their window started (the longest window and lock, 15 and
#: 30 minutes, with room to spare).
THROTTLE_HORIZON = dt.timedelta(hours=2)


@dataclass(frozen=True)
class Retention:
    """How long what has ended is kept."""

    sessions: dt.timedelta = dt.timedelta(days=30)
    #: None: the audit trail is kept forever.
    audit: dt.timedelta | None = None
    #: The subscriptions' resume window (``NEXTGEN_GQL_EVENT_RETENTION_SECONDS``).
    events: dt.timedelta = dt.timedelta(days=1)
    apq: dt.timedelta = dt.timedelta(days=30)
    #: Webhook deliveries are kept this long after they end (their attempts with them).
    webhooks: dt.timedelta = dt.timedelta(days=30)

    @classmethod
    def of(cls, settings: Settings) -> Retention:
        return cls(
            sessions=dt.timedelta(days=settings.session_retention_days),
            audit=dt.timedelta(days=settings.audit_retention_days) if settings.audit_retention_days else None,
            events=dt.timedelta(seconds=settings.event_retention_seconds),
        )

    def __post_init__(self) -> None:
        for name in ("sessions", "audit", "events", "apq", "webhooks"):
            value = getattr(self, name)
            if value is not None and value <= dt.timedelta(0):
                raise ValueError(f"the {name} retention must be more than 0, got {value}")


@dataclass
class Report:
    """Rows deleted, by kind; ``skipped`` when another process held the lock."""

    deleted: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    #: The tables whose planner statistics were missing or stale, analysed (``statistics.upkeep``).
    analyzed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def _deletions(retention: Retention, at: dt.datetime) -> list[tuple[str, str, str, list[Any]]]:
    """(kind, table, condition, parameters) of each kind of expired row, at ``at``."""
    sessions_before = moment(at - retention.sessions)
    apq_before = at - retention.apq
    found: list[tuple[str, str, str, list[Any]]] = [
        ("sessions", "sessions", "expires_at < ?", [sessions_before]),
        ("sessions", "sessions", "revoked_at < ?", [sessions_before]),
        ("password_resets", "password_resets", "used_at IS NOT NULL OR expires_at < ?", [moment(at)]),
        ("email_changes", "email_changes", "used_at IS NOT NULL OR expires_at < ?", [moment(at)]),
        ("mfa_challenges", "mfa_challenges", "used_at IS NOT NULL OR expires_at < ?", [moment(at)]),
        (
            "throttles",
            "throttles",
            "window_started < ? AND (locked_until IS NULL OR locked_until < ?)",
            [moment(at - THROTTLE_HORIZON), moment(at)],
        ),
        (
            "persisted_queries",
            "persisted_documents",
            "trusted = ? AND source = 'apq' AND ((used_on IS NOT NULL AND used_on < ?)"
            " OR (used_on IS NULL AND created_at < ?))",
            [False, _day(apq_before), moment(apq_before)],
        ),
    ]
    found.append(
        ("webhook_deliveries", "webhook_deliveries", "ended_at < ?", [moment(at - retention.webhooks)])
    )
    # The OpenID provider's: codes a day after they expired (a code presented again is still
    # recognised meanwhile); tokens once the last of them expired, or revoked, longer ago than
    # the sessions' retention (a rotated refresh token presented again is recognised until then);
    # back-channel logout tokens ended as webhook deliveries are; used client assertions once
    # they expired.
    kept = moment(at - retention.sessions)
    found += [
        ("oidc_codes", "oidc_codes", "expires_at < ?", [moment(at - dt.timedelta(days=1))]),
        (
            "oidc_tokens",
            "oidc_tokens",
            "revoked_at < ? OR refresh_expires_at < ? OR (refresh_expires_at IS NULL AND access_expires_at < ?)",
            [kept, kept, kept],
        ),
        ("oidc_logouts", "oidc_logouts", "ended_at < ?", [moment(at - retention.webhooks)]),
        # Used client assertions once they expired: they are refused for their age by then.
        ("oidc_assertions", "oidc_assertions", "expires_at < ?", [moment(at)]),
    ]
    if retention.audit is not None:
        found.append(("audit_events", "audit_events", "at < ?", [moment(at - retention.audit)]))
    return found


def _day(value: dt.datetime) -> object:
    day = value.astimezone(dt.UTC).date()
    return day.isoformat() if connections.get("default").capabilities.dialect == "sqlite" else day


async def delete_in_batches(
    table: str, condition: str, params: list[Any], *, batch: int, pause: float = 0.0
) -> int:
    """Delete ``table``'s rows matching ``condition``, ``batch`` at a time (each batch its own
    statement and transaction), until none is left. Returns how many."""
    deleted = 0
    while True:
        await db_deadline.background_turn()
        got = await execute(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {condition} LIMIT ?)",
            [*params, batch],
        )
        deleted += got
        if got < batch:
            return deleted
        if pause:
            await asyncio.sleep(pause)


#: Rows a delete statement takes: SQLite has one writer, so its batches are smaller, and each
#: waits for a moment when no request runs (``deadline.background_turn``): a sign-in waits
#: behind one batch at most, a few milliseconds.
BATCH = {"postgres": 1000, "sqlite": 100}


async def run(
    retention: Retention, *, database_url: str, batch: int | None = None, pause: float = 0.0
) -> Report:
    """One maintenance run (see the module): every kind, in batches (``BATCH`` by database
    unless given). On PostgreSQL only if no other process is maintaining (``Report.skipped``
    otherwise)."""
    if batch is None:
        batch = BATCH.get(connections.get("default").capabilities.dialect, 1000)
    lock = await _lock(database_url)
    if lock is False:
        return Report(skipped=True)
    try:
        at = now()
        report = Report()
        await audit_partitions.ensure_months(at)
        if retention.audit is not None:
            report.deleted["audit_events"] = await audit_partitions.drop_before(at - retention.audit)
        for kind, table, condition, params in _deletions(retention, at):
            got = await delete_in_batches(table, condition, params, batch=batch, pause=pause)
            report.deleted[kind] = report.deleted.get(kind, 0) + got
        report.deleted["live_events"] = await outbox.prune(retention.events, batch=batch)
        if report.total:
            log.info("maintenance: deleted %s", ", ".join(f"{k} {n}" for k, n in report.deleted.items() if n))
        await db_deadline.background_turn()
        report.analyzed = await statistics.upkeep()
        if report.analyzed:
            log.info("maintenance: analysed %s", ", ".join(report.analyzed))
        return report
    finally:
        if lock is not None and lock is not False:
            await lock.close()  # ends the session, and its advisory lock with it


async def _lock(database_url: str) -> Any:
    """PostgreSQL: a connection of its own holding the maintenance lock, or False when another
    process holds it. SQLite (one process at a time by nature): None."""
    if not is_postgres_url(database_url):
        return None
    import asyncpg

    conn = await asyncpg.connect(plain_postgres_url(database_url), server_settings=DIRECT_SERVER_SETTINGS)
    if await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
        return conn
    await conn.close()
    return False


#: The columns of an exported audit event, in order.
EXPORT_COLUMNS = ("id", "at", "action", "actor_id", "subject_id", "court_id", "detail", "service_key_id")


async def export_size(*, court: str | None, since: dt.datetime | None, until: dt.datetime | None) -> int:
    """How many events an export writes (a court's whole trail: its kept count)."""
    if court is not None and since is None and until is None:
        from nextgen_gql.services.counts import kept_count

        return await kept_count(court, "audit")
    where, params = _export_where(court, since, until, None)
    return int((await query(f"SELECT COUNT(*) FROM audit_events WHERE {where}", params))[0][0])


def _export_where(
    court: str | None, since: dt.datetime | None, until: dt.datetime | None, after: int | None
) -> tuple[str, list[Any]]:
    conditions, params = ["1 = 1"], list[Any]()
    if court is not None:
        conditions.append("court_id = ?")
        params.append(court)
    if since is not None:
        conditions.append("at >= ?")
        params.append(moment(since))
    if until is not None:
        conditions.append("at < ?")
        params.append(moment(until))
    if after is not None:
        conditions.append("id > ?")
        params.append(after)
    return " AND ".join(conditions), params


async def export_events(
    *,
    court: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    batch: int = 5000,
) -> AsyncIterator[dict[str, Any]]:
    """The audit events (of ``court``, or every one, national events included), oldest first,
    at or after ``since`` and before ``until``, as dicts, read ``batch`` at a time by id (an
    async iterator: memory stays flat however many there are)."""
    after: int | None = None
    while True:
        where, params = _export_where(court, since, until, after)
        rows = await query(
            f"SELECT {', '.join(EXPORT_COLUMNS)} FROM audit_events WHERE {where} ORDER BY id LIMIT ?",
            [*params, batch],
        )
        for row in rows:
            event = dict(zip(EXPORT_COLUMNS, row, strict=True))
            at = event["at"]
            if isinstance(at, str):
                at = dt.datetime.fromisoformat(at)
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
            event["at"] = at.astimezone(dt.UTC).isoformat()
            event["court"] = event.pop("court_id")
            yield event
        if len(rows) < batch:
            return
        after = int(rows[-1][0])
