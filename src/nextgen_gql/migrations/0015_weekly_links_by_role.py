"""The move to NextGen (issue 23), part 2: the weekly links kept by role.

A court's chart draws linked accounts over time by role, so next to 0013's
``week.<monday>.linked`` (links made that week, every role) the counts now keep
``week.<monday>.linked.<role>`` (links made that week of legacy accounts of that role). The
new lists sort inside a week's range of the primary key (``week.<monday>.linked`` <
``week.<monday>.linked.<role>`` < ``week.<monday>.reminded``), so a series of weeks stays one
range read.

The ``cmecf_accounts`` count triggers of 0013 are replaced by ones of the same shape (row
triggers on SQLite, ``UPDATE OF court_id, linked_at, role, email`` included; statement
triggers with transition tables on PostgreSQL) that keep 0013's lists and the new ones: a
link counts in its week and role, a role change moves it, a delete lowers it. The new lists
are filled from the rows. Built with 0013's helpers, which this migration imports.
"""

from __future__ import annotations

import importlib
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

_0013: Any = importlib.import_module("nextgen_gql.migrations.0013_move_to_nextgen")

TABLE = "cmecf_accounts"
#: The lists this migration adds: links of a week, by the role of the account linked.
ADDED: list[tuple[str, str | None]] = [
    ("'week.' || {week:linked_at} || '.linked.' || {r}.role", "{r}.linked_at IS NOT NULL"),
]
#: What the replaced triggers keep: 0013's lists of the table, and the new ones.
COUNTED: dict[str, list[tuple[str, str | None]]] = {TABLE: [*_0013.COUNTED[TABLE], *ADDED]}
#: The new lists' names: ``week.<monday>.linked.<role>`` (``.`` is no LIKE wildcard).
ADDED_LIKE = "week.%.linked.%"


async def _replace_triggers(client: Any, postgres: bool, counted: dict[str, list[tuple[str, str | None]]]) -> None:
    for statement in _0013._drop_triggers(TABLE, postgres):
        await client.execute_query(statement)
    for statement in (
        _0013._postgres_triggers(TABLE, counted) if postgres else _0013._sqlite_triggers(TABLE, counted)
    ):
        await client.execute_query(statement)


async def weekly_links_by_role(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"
    await _replace_triggers(client, postgres, COUNTED)
    # The new lists, counted from the rows (the triggers keep them from here on).
    await client.execute_query(f"DELETE FROM list_counts WHERE list LIKE '{ADDED_LIKE}'")
    await client.execute_query(
        "INSERT INTO list_counts (court_id, list, n)"
        f" SELECT court_id, k, SUM(d) FROM ({_0013._contributions(TABLE, TABLE, 1, postgres, {TABLE: ADDED})})"
        " AS c GROUP BY court_id, k"
    )


async def back_to_0013(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"
    await _replace_triggers(client, postgres, _0013.COUNTED)
    await client.execute_query(f"DELETE FROM list_counts WHERE list LIKE '{ADDED_LIKE}'")


class Migration(migrations.Migration):
    dependencies = [("models", "0014_audit_partitions")]

    initial = False

    operations = [ops.RunPython(weekly_links_by_role, back_to_0013)]
