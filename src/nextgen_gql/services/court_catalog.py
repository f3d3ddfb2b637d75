"""The catalog of courts in the database, and every running process following it live.

The court files (``tenants/*.toml``) are the integrator's input; ``apply`` writes what they
say into the database in one transaction: courts added, fields changed, courts whose file
is gone retired (never deleted: their accounts, links, registrations, privileges, charges
and audit stay, and applying the file again serves them again). Each apply that changes
something moves the catalog's version on and is audited with what changed.

``LiveCourts`` is what a process serves: a ``CourtRegistry`` read from the catalog,
replaced whole when the version moves. On PostgreSQL an apply ``NOTIFY``s the channel
``nextgen_courts`` in its transaction (delivered at commit) and every process ``LISTEN``s
(on the process's one listener connection, ``services.listener``, which reconnects when
it drops; a periodic version check is the safety net); on SQLite each process checks the
version twice a second. A request keeps the
registry it started with, so a change never fails a request in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from nextgen_gql.db import is_postgres_url
from nextgen_gql.models import CourtCatalog, CourtRecord
from nextgen_gql.services import audit
from nextgen_gql.services.clock import now
from nextgen_gql.services.listener import PgListener
from nextgen_gql.services.listener import notify as send_notify
from nextgen_gql.tenancy import Court, CourtRegistry

__all__ = [
    "CHANNEL",
    "CatalogPlan",
    "CourtsChanged",
    "FieldChange",
    "LiveCourts",
    "apply",
    "catalog_version",
    "load_registry",
    "plan",
]

log = logging.getLogger("nextgen_gql.courts")

#: The PostgreSQL channel an apply notifies, with the new version as its payload.
CHANNEL = "nextgen_courts"
_FIELDS = ("name", "kind", "nextgen_since", "accepted_roles", "hosts", "help_desk")


@dataclass(frozen=True)
class FieldChange:
    code: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class CatalogPlan:
    """What applying the court files changes in the catalog."""

    added: tuple[Court, ...] = ()
    changed: tuple[FieldChange, ...] = ()
    retired: tuple[str, ...] = ()
    restored: tuple[Court, ...] = ()  # retired courts whose file is back

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.retired or self.restored)

    def lines(self) -> list[str]:
        """The plan as ``tenants apply`` prints it, one line per change."""
        out = [f"+ {c.code}: added ({c.kind.value}, {c.name})" for c in self.added]
        out += [f"+ {c.code}: restored (its file is back; its data was kept)" for c in self.restored]
        out += [f"~ {c.code}: {c.field}: {_show(c.old)} -> {_show(c.new)}" for c in self.changed]
        out += [f"- {code}: retired (not served; its data is kept)" for code in self.retired]
        return out

    def summary(self) -> dict[str, Any]:
        """The plan as JSON values (the audit event's detail, the change event)."""
        return {
            "added": [c.code for c in self.added],
            "restored": [c.code for c in self.restored],
            "changed": [
                {"court": c.code, "field": c.field, "old": c.old, "new": c.new} for c in self.changed
            ],
            "retired": list(self.retired),
        }


def _show(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value)


def plan(courts: Sequence[Court], records: Sequence[CourtRecord]) -> CatalogPlan:
    """What writing ``courts`` (the files) over ``records`` (the catalog) would change."""
    by_code = {r.code: r for r in records}
    added, restored, changed = [], [], []
    for court in sorted(courts, key=lambda c: c.code):
        record = by_code.get(court.code)
        if record is None:
            added.append(court)
            continue
        if record.retired_at is not None:
            restored.append(court)
        old = (
            json.loads(record.definition) if record.definition else {"name": record.name, "kind": record.kind}
        )
        new = court.definition()
        changed += [FieldChange(court.code, f, old.get(f), new[f]) for f in _FIELDS if old.get(f) != new[f]]
    in_files = {c.code for c in courts}
    retired = tuple(sorted(r.code for r in records if r.code not in in_files and r.retired_at is None))
    return CatalogPlan(tuple(added), tuple(changed), retired, tuple(restored))


async def apply(
    courts: Sequence[Court], *, actor_id: int | None = None, dry_run: bool = False, notify: bool = True
) -> tuple[CatalogPlan, int]:
    """Write the court files' courts into the catalog, in one transaction; returns the plan and
    the catalog's version after it. Nothing is written when nothing changes, or ``dry_run``."""
    async with in_transaction() as conn:
        catalog = await CourtCatalog.filter(id=1).using_db(conn).select_for_update().first()
        if catalog is None:
            catalog = await CourtCatalog.create(id=1, version=0, using_db=conn)
        the_plan = plan(courts, await CourtRecord.all().using_db(conn))
        if the_plan.empty or dry_run:
            return the_plan, catalog.version
        at = now()
        touched = {c.code for c in the_plan.added} | {c.code for c in the_plan.restored}
        touched |= {c.code for c in the_plan.changed}
        for court in courts:
            if court.code not in touched:
                continue
            values = {
                "name": court.name,
                "kind": court.kind.value,
                "definition": json.dumps(court.definition(), sort_keys=True),
                "retired_at": None,
                "synced_at": at,
            }
            updated = await CourtRecord.filter(code=court.code).using_db(conn).update(**values)
            if not updated:
                await CourtRecord.create(code=court.code, using_db=conn, **values)
        if the_plan.retired:
            await CourtRecord.filter(code__in=the_plan.retired).using_db(conn).update(retired_at=at)
        catalog.version += 1
        catalog.changed_at = at
        await catalog.save(using_db=conn)
        await audit.record(
            "courts.apply",
            actor_id=actor_id,
            detail=json.dumps(the_plan.summary(), sort_keys=True),
            using_db=conn,
        )
        if notify:
            await send_notify(conn, CHANNEL, str(catalog.version))
        return the_plan, catalog.version


async def catalog_version() -> int:
    catalog = await CourtCatalog.filter(id=1).first()
    return catalog.version if catalog else 0


async def load_registry() -> CourtRegistry:
    """The catalog as a registry: served courts, and retired ones (to describe their data)."""
    version = await catalog_version()
    served, retired = [], {}
    for record in await CourtRecord.all():
        if record.definition is None:
            continue  # written before courts were kept here, and not applied since
        court = Court.from_definition(record.code, json.loads(record.definition))
        if record.retired_at is None:
            served.append(court)
        else:
            retired[record.code] = (court, record.retired_at)
    return CourtRegistry(served, version=version, retired=retired)


@dataclass(frozen=True)
class CourtsChanged:
    """A change of the catalog, as a process saw it (for the ``courtsChanged`` subscription)."""

    version: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    retired: tuple[str, ...]
    at: dt.datetime = field(default_factory=now)


def _difference(old: CourtRegistry, new: CourtRegistry) -> CourtsChanged:
    before, after = old.by_code, new.by_code
    return CourtsChanged(
        version=new.version,
        added=tuple(sorted(set(after) - set(before))),
        changed=tuple(sorted(c for c in set(after) & set(before) if after[c] != before[c])),
        retired=tuple(sorted(set(before) - set(after))),
    )


class LiveCourts:
    """The courts this process serves, following the catalog.

    Example:
        live = LiveCourts(registry, database_url=settings.connection_url)
        await live.start()          # in the app's lifespan
        registry = live.current     # per request: a snapshot that never changes under it
        async for change in live.changes(): ...
        await live.stop()
    """

    def __init__(
        self,
        registry: CourtRegistry,
        *,
        database_url: str = "",
        poll_seconds: float | None = None,
        listener: PgListener | None = None,
    ) -> None:
        self.current = registry
        self.database_url = database_url
        self.postgres = is_postgres_url(database_url)
        #: The version check: the only wake-up on SQLite, the safety net under LISTEN on PostgreSQL.
        self.poll_seconds = poll_seconds if poll_seconds is not None else (2.0 if self.postgres else 0.5)
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._listeners: list[asyncio.Queue[CourtsChanged]] = []
        #: Called with each change, after the registry was replaced (caches keyed by version need nothing).
        self.on_change: list[Callable[[CourtsChanged], None]] = []
        # The process's LISTEN connection (shared with the live-updates hub), or one of its own.
        self._own_listener = False
        if self.postgres and listener is None:
            listener = PgListener(database_url)
            self._own_listener = True
        self.listener = listener
        if listener is not None:
            listener.listen(CHANNEL, lambda _payload: self._wake.set(), on_reconnect=self._wake.set)

    async def refresh(self) -> bool:
        """Read the catalog again if its version moved; True when the registry was replaced."""
        async with self._lock:
            version = await catalog_version()
            if version == self.current.version:
                return False
            new = await load_registry()
            old, self.current = self.current, new
        change = _difference(old, new)
        log.info(
            "courts: version %d (added %s, changed %s, retired %s)",
            new.version,
            ",".join(change.added) or "-",
            ",".join(change.changed) or "-",
            ",".join(change.retired) or "-",
        )
        for callback in self.on_change:
            callback(change)
        for queue in list(self._listeners):
            queue.put_nowait(change)
        return True

    async def changes(self) -> AsyncIterator[CourtsChanged]:
        """Every change from now on, in order (the live-updates issue's ``courtsChanged``)."""
        queue: asyncio.Queue[CourtsChanged] = asyncio.Queue()
        self._listeners.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.remove(queue)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._poll(), name="courts-poll"))
        if self.listener is not None and self._own_listener:
            await self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None and self._own_listener:
            await self.listener.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _poll(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                await self.refresh()
            except Exception:  # the database is away for a moment: keep serving, try again
                log.warning("courts: could not read the catalog", exc_info=True)
