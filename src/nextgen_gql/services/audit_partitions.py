"""The audit trail's monthly partitions on PostgreSQL (migration 0014), kept by maintenance.

- ``ensure_months``: the partitions of the current month and ``AHEAD`` months after it exist,
  so that new events never land in the default partition. Should a month's rows already be
  there (maintenance did not run for months), they are moved into the new month's partition
  in the same transaction, since PostgreSQL cannot attach a range the default partition holds.
- ``drop_before``: retention drops every month that ends on or before the cutoff, whole; the
  kept counts (``list_counts``'s ``audit``) are lowered by the dropped rows in the same
  transaction (dropping a table fires no delete trigger). The boundary month and the default
  partition are then trimmed row by row by the caller, in batches.

Partitions are named ``audit_events_yYYYYmMM`` and cover ``[first of the month, first of the
next)`` in UTC. Nothing here runs on SQLite, whose one table is trimmed in batches. Every
date is the service's clock given as a parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from tortoise import connections
from tortoise.transactions import in_transaction

__all__ = ["AHEAD", "TABLE", "drop_before", "ensure_months", "is_partitioned", "month_start", "months"]

log = logging.getLogger("nextgen_gql.maintenance")

TABLE = "audit_events"
#: Months created ahead of the current one.
AHEAD = 2
_NAME = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")


def month_start(value: dt.datetime, shift: int = 0) -> dt.datetime:
    """The first instant (UTC) of ``value``'s month, ``shift`` months later."""
    value = value.astimezone(dt.UTC)
    index = value.year * 12 + value.month - 1 + shift
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def _name(month: dt.datetime) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _postgres() -> bool:
    return bool(connections.get("default").capabilities.dialect == "postgres")


async def is_partitioned() -> bool:
    """Whether the audit table is partitioned (PostgreSQL after 0014)."""
    if not _postgres():
        return False
    _, rows = await connections.get("default").execute_query(
        "SELECT relkind::text AS relkind FROM pg_class WHERE oid = to_regclass($1)", [TABLE]
    )
    return bool(rows and rows[0]["relkind"] == "p")


async def months() -> dict[dt.datetime, str]:
    """The monthly partitions there are: their first instant and their name."""
    _, rows = await connections.get("default").execute_query(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass($1)",
        [TABLE],
    )
    found = {}
    for row in rows:
        match = _NAME.match(row["name"])
        if match:
            found[dt.datetime(int(match[1]), int(match[2]), 1, tzinfo=dt.UTC)] = row["name"]
    return found


async def ensure_months(at: dt.datetime, ahead: int = AHEAD) -> list[str]:
    """Create the partitions of ``at``'s month and the ``ahead`` after it that are missing;
    the names created."""
    if not await is_partitioned():
        return []
    there = await months()
    created = []
    for shift in range(ahead + 1):
        start = month_start(at, shift)
        if start in there:
            continue
        end = month_start(start, 1)
        name = _name(start)
        async with in_transaction("default") as conn:
            # A standalone table filled with the default partition's rows of the month (moved
            # by partition, so no count changes), then attached.
            await conn.execute_script(
                f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING STORAGE)"
            )
            await conn.execute_query(
                f"WITH moved AS (DELETE FROM {TABLE}_default WHERE at >= $1 AND at < $2 RETURNING *)"
                f" INSERT INTO {name} SELECT * FROM moved",
                [start, end],
            )
            await conn.execute_query(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ('{start.isoformat(' ')}')"
                f" TO ('{end.isoformat(' ')}')"
            )
        created.append(name)
    if created:
        log.info("maintenance: audit partitions created: %s", ", ".join(created))
    return created


async def drop_before(cutoff: dt.datetime) -> int:
    """Drop the monthly partitions that end on or before ``cutoff``, lowering the kept
    counts by their rows in the same transaction; the rows dropped."""
    if not await is_partitioned():
        return 0
    dropped = 0
    for start, name in sorted((await months()).items()):
        if month_start(start, 1) > cutoff:
            break
        async with in_transaction("default") as conn:
            # Counting a month may take longer than a request's statement timeout.
            await conn.execute_script("SET LOCAL statement_timeout = 0")
            _, rows = await conn.execute_query(f"SELECT COUNT(*) AS n FROM {name}")
            await conn.execute_query(
                "INSERT INTO list_counts (court_id, list, n)"
                f" SELECT court_id, 'audit', -COUNT(*) FROM {name} WHERE court_id IS NOT NULL GROUP BY court_id"
                " ORDER BY court_id ON CONFLICT (court_id, list) DO UPDATE SET n = list_counts.n + EXCLUDED.n"
            )
            await conn.execute_script(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
            await conn.execute_script(f"DROP TABLE {name}")
        dropped += int(rows[0]["n"])
        log.info("maintenance: audit month %s dropped (%d events)", name, rows[0]["n"])
    return dropped
