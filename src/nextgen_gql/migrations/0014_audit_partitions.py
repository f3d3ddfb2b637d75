"""National scale (issue 21), part 3: on PostgreSQL the audit trail is partitioned by month.

One row per sign-in makes ``audit_events`` the largest table of a national system, and the
one retention trims: with a partition per month (``audit_events_yYYYYmMM``, ``at`` in
``[first of the month, first of the next)``, UTC), retention drops whole months instead of
deleting millions of rows, and only the boundary month is deleted row by row
(``services.audit_partitions``). A ``DEFAULT`` partition (``audit_events_default``) takes a row
whose month has no partition yet; maintenance creates months ahead so that it stays empty.

This migration (PostgreSQL only; SQLite keeps its one table) creates the partitioned table,
copies every row, and swaps it in, in one transaction: columns, defaults and the id sequence,
the foreign keys, every index and the kept-count triggers (0011/0013) are carried over from
the table they replace, read from the catalogue, so nothing that 0001-0013 defined is lost. The
primary key becomes ``(id, at)`` (a partitioned table's unique keys must hold its partition
key); ids still come from the one sequence, so an id stays unique.

Months are created from the oldest row's month, or the current one if there is none (but no more than ``MONTHS_BACK`` months back:
older rows go to the default partition, where retention deletes them in batches) to
``MONTHS_AHEAD`` months after the current one, by the service's clock.
"""

from __future__ import annotations

import datetime as dt

from tortoise import migrations
from tortoise.migrations import operations as ops

TABLE = "audit_events"
MONTHS_BACK = 120
MONTHS_AHEAD = 2


def _month(value: dt.datetime, shift: int = 0) -> dt.datetime:
    index = value.year * 12 + value.month - 1 + shift
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def _literal(value: dt.datetime) -> str:
    return f"'{value.isoformat(' ')}'"


async def partition(apps, schema_editor) -> None:
    if schema_editor.DIALECT == "sqlite":
        return
    from nextgen_gql.services.clock import now

    client = schema_editor.client

    async def rows(sql: str) -> list[dict]:
        return list((await client.execute_query(sql))[1])

    kind = await rows(f"SELECT relkind::text AS relkind FROM pg_class WHERE oid = '{TABLE}'::regclass")
    if kind and kind[0]["relkind"] == "p":
        return  # already partitioned
    indexes = await rows(
        "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS sql FROM pg_index"
        f" WHERE indrelid = '{TABLE}'::regclass AND NOT indisprimary"
    )
    keys = await rows(
        "SELECT conname AS name, pg_get_constraintdef(oid) AS sql FROM pg_constraint"
        f" WHERE conrelid = '{TABLE}'::regclass AND contype IN ('f', 'c')"
    )
    triggers = await rows(
        "SELECT tgname AS name, pg_get_triggerdef(oid) AS sql FROM pg_trigger"
        f" WHERE tgrelid = '{TABLE}'::regclass AND NOT tgisinternal"
    )
    sequence = (await rows(f"SELECT pg_get_serial_sequence('{TABLE}', 'id') AS s"))[0]["s"]
    oldest = (await rows(f"SELECT MIN(at) AS at FROM {TABLE}"))[0]["at"]

    current = now()
    first = _month(current) if oldest is None else max(_month(current, -MONTHS_BACK), _month(oldest))
    last = _month(current, MONTHS_AHEAD)

    new = f"{TABLE}_partitioned"
    statements = [
        f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE)"
        " PARTITION BY RANGE (at)",
        f"ALTER TABLE {new} ADD PRIMARY KEY (id, at)",
        f"CREATE TABLE {TABLE}_default PARTITION OF {new} DEFAULT",
    ]
    month = first
    while month <= last:
        following = _month(month, 1)
        statements.append(
            f"CREATE TABLE {TABLE}_y{month.year:04d}m{month.month:02d} PARTITION OF {new}"
            f" FOR VALUES FROM ({_literal(month)}) TO ({_literal(following)})"
        )
        month = following
    # The ids keep coming from the same sequence (the copied default names it).
    statements.append(f"INSERT INTO {new} SELECT * FROM {TABLE}")
    if sequence:
        statements.append(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    statements += [
        f"DROP TABLE {TABLE}",
        f"ALTER TABLE {new} RENAME TO {TABLE}",
        f"ALTER TABLE {TABLE} RENAME CONSTRAINT {new}_pkey TO {TABLE}_pkey",
    ]
    if sequence:
        statements.append(f"ALTER SEQUENCE {sequence} OWNED BY {TABLE}.id")
    statements += [f"ALTER TABLE {TABLE} ADD CONSTRAINT {k['name']} {k['sql']}" for k in keys]
    # An index on the partitioned table is created on every partition (and on those to come).
    statements += [i["sql"].replace(" ONLY ", " ") for i in indexes]
    statements += [t["sql"] for t in triggers]
    for sql in statements:
        await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [("models", "0013_move_to_nextgen")]

    initial = False

    operations = [
        ops.RunPython(partition, ops.RunPython.noop),
    ]
