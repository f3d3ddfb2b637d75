"""Live-update events: the outbox written with each change, and reading it back.

A service that changes something a subscriber follows calls ``publish`` inside the
transaction of the change, once, after its other writes. The event rows commit with the
change or not at all, so no event exists for a change that rolled back. On PostgreSQL
``publish`` also ``NOTIFY``s the channel ``nextgen_events`` with each event (delivered at
commit, in commit order, to every process: ``services.event_hub``).

Order. An event belongs to one topic: ``court:{code}`` (``registrationEvents``) or
``account:{id}`` (``myEvents``). Within a topic, ids follow commit order, so "the events
after id N" is exact for a subscriber that resumes. On PostgreSQL two transactions could
take ids in one order and commit in the other; ``publish`` therefore takes a transaction
advisory lock per topic (sorted, so that two transactions never wait on each other) before
its rows take their ids, and holds it to commit: writers of one topic queue up from that
point on. SQLite has one writer at a time, so its ids follow commit order anyway.

Retention. Events are kept ``event_retention_seconds`` (the resume window, a setting) plus a
margin, then pruned in small batches (``prune``, by the hub's maintenance task).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from nextgen_gql.db_backends import deadline as db_deadline
from nextgen_gql.enums import AccountEventKind, RegistrationEventKind
from nextgen_gql.models import LiveEvent
from nextgen_gql.services.clock import now
from nextgen_gql.services.listener import notify

__all__ = [
    "CHANNEL",
    "Event",
    "NewEvent",
    "account_event",
    "account_topic",
    "court_topic",
    "last_id",
    "prune",
    "publish",
    "read_after",
    "read_since",
    "registration_event",
]

#: The PostgreSQL channel every committed event is sent on, as JSON.
CHANNEL = "nextgen_events"
#: The first key of the per-topic advisory locks (two-key form: the second is the topic's hash).
_LOCK_SPACE = 0x6E6745  # "ngE"
#: Events older than the resume window are kept this much longer before they are pruned,
#: so that a cursor the window still accepts never points past a pruned event.
PRUNE_MARGIN = dt.timedelta(minutes=5)
log = logging.getLogger("nextgen_gql.live")

_COLUMNS = "id, at, topic, kind, court_id, registration_id, invitation_id, privilege_id"


def court_topic(code: str) -> str:
    """The topic of a court's registrations (its clerks follow it)."""
    return f"court:{code}"


def account_topic(account_id: int) -> str:
    """The topic of what concerns one account (the account follows it)."""
    return f"account:{account_id}"


@dataclass(frozen=True)
class NewEvent:
    """An event to publish: its topic, kind and what it refers to."""

    topic: str
    kind: str
    court: str | None = None
    registration_id: int | None = None
    invitation_id: int | None = None
    privilege_id: int | None = None


def registration_event(kind: RegistrationEventKind, court: str, registration_id: int) -> NewEvent:
    """For the court's clerks: a registration submitted, withdrawn or decided."""
    return NewEvent(court_topic(court), kind.value, court=court, registration_id=registration_id)


def account_event(
    kind: AccountEventKind,
    account_id: int,
    *,
    court: str | None = None,
    registration_id: int | None = None,
    invitation_id: int | None = None,
    privilege_id: int | None = None,
) -> NewEvent:
    """For the account itself."""
    return NewEvent(
        account_topic(account_id),
        kind.value,
        court=court,
        registration_id=registration_id,
        invitation_id=invitation_id,
        privilege_id=privilege_id,
    )


@dataclass(eq=False)
class Event:
    """A committed event, as subscribers get it. ``shared`` is this process's scratch space
    for the one object every subscriber of the event gets (the API keeps what it read for
    the event there, so that a thousand subscribers read it once)."""

    id: int
    at: dt.datetime
    topic: str
    kind: str
    court: str | None = None
    registration_id: int | None = None
    invitation_id: int | None = None
    privilege_id: int | None = None
    shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> str:
        return orjson.dumps(
            [
                self.id,
                self.at.isoformat(),
                self.topic,
                self.kind,
                self.court,
                self.registration_id,
                self.invitation_id,
                self.privilege_id,
            ]
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> Event:
        value = orjson.loads(text)
        return cls.from_row([value[0], dt.datetime.fromisoformat(value[1]), *value[2:]])

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Event:
        at = row[1] if isinstance(row[1], dt.datetime) else dt.datetime.fromisoformat(row[1])
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        return cls(
            int(row[0]), at.astimezone(dt.UTC), str(row[2]), str(row[3]), row[4], row[5], row[6], row[7]
        )


def _postgres(conn: BaseDBAsyncClient) -> bool:
    return bool(conn.capabilities.dialect == "postgres")


async def publish(conn: BaseDBAsyncClient, events: Sequence[NewEvent]) -> list[Event]:
    """Write ``events`` in ``conn``'s transaction; call it once per transaction, last.

    On PostgreSQL: a transaction advisory lock per topic first (in sorted order: no two
    writers wait on each other), so ids follow commit order within a topic; then a
    ``NOTIFY`` per event, sent at commit.
    """
    if not events:
        return []
    postgres = _postgres(conn)
    if postgres:
        for topic in sorted({e.topic for e in events}):
            await conn.execute_query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [_LOCK_SPACE, topic])
    at = now()
    written = []
    for new in events:
        row = await LiveEvent.create(
            at=at,
            topic=new.topic,
            kind=new.kind,
            court_id=new.court,
            registration_id=new.registration_id,
            invitation_id=new.invitation_id,
            privilege_id=new.privilege_id,
            using_db=conn,
        )
        event = Event(
            row.id,
            at,
            new.topic,
            new.kind,
            new.court,
            new.registration_id,
            new.invitation_id,
            new.privilege_id,
        )
        written.append(event)
        if postgres:  # the payload is for other processes' listeners: none on SQLite
            await notify(conn, CHANNEL, event.to_json())
    return written


async def _select(sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
    # Imported here: ``rows`` imports ``auth``, which publishes events (sign-out).
    from nextgen_gql.services import rows

    return await rows.select(sql, params, logger=log)


async def read_after(topic: str, after: int, limit: int) -> list[Event]:
    """Committed events of ``topic`` after the id ``after``, oldest first, at most ``limit``."""
    found = await _select(
        f"SELECT {_COLUMNS} FROM live_events WHERE topic = ? AND id > ? ORDER BY id LIMIT ?",
        (topic, after, limit),
    )
    return [Event.from_row(r) for r in found]


async def read_since(after: int, limit: int) -> list[Event]:
    """Committed events of every topic after the id ``after`` (SQLite, where ids follow commit order)."""
    found = await _select(
        f"SELECT {_COLUMNS} FROM live_events WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
    )
    return [Event.from_row(r) for r in found]


async def last_id(topic: str | None = None) -> int:
    """The id of the last committed event of ``topic`` (of any topic when None); 0 when none."""
    if topic is None:
        found = await _select("SELECT MAX(id) FROM live_events", ())
    else:
        found = await _select("SELECT MAX(id) FROM live_events WHERE topic = ?", (topic,))
    return int(found[0][0] or 0) if found else 0


#: The advisory lock (single-key form) that lets one process at a time prune.
_PRUNE_LOCK = 0x6E6750  # "ngP"


async def prune(retention: dt.timedelta, *, batch: int = 5000) -> int:
    """Delete events older than the resume window (and its margin), ``batch`` rows a
    transaction; on PostgreSQL only if no other process is pruning. Returns how many."""
    cutoff = now() - retention - PRUNE_MARGIN
    deleted = 0
    while True:
        await db_deadline.background_turn()
        async with in_transaction() as conn:
            if _postgres(conn):
                _, got = await conn.execute_query(
                    "SELECT pg_try_advisory_xact_lock($1) AS got", [_PRUNE_LOCK]
                )
                if not got or not got[0]["got"]:
                    return deleted
            ids = [
                r[0]
                for r in await LiveEvent.filter(at__lt=cutoff)
                .using_db(conn)
                .order_by("id")
                .limit(batch)
                .values_list("id")
            ]
            if not ids:
                return deleted
            deleted += await LiveEvent.filter(id__in=ids).using_db(conn).delete()
        if len(ids) < batch:
            return deleted
