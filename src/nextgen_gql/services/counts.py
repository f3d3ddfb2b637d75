"""The sizes of a court's lists, kept with the rows they count.

``list_counts`` (migration 0011) holds, per court, the size of the roster (``roster``) and
of its linked part (``roster.linked``), of the registrations (``registrations``) and of each
status (``registrations.pending``, ...), of the court's audit trail (``audit``) and of its
filing privileges (``privileges``). Database
triggers keep them in the transaction of every write that changes them (an import, a link, a
decision, a retention delete): an unfiltered ``totalCount`` is one indexed row, exact, at any
size.
"""

from __future__ import annotations

import importlib
from typing import Any

from nextgen_gql.services.ordering import query

__all__ = ["COUNTED", "kept_count", "recount_statements", "roster_contributions", "roster_count"]

# The latest definitions of what the roster's triggers count (0015 extends 0013's), so that a
# bulk write (``roster_load``) adds exactly what the triggers would have added row by row.
_0013: Any = importlib.import_module("nextgen_gql.migrations.0013_move_to_nextgen")
_0015: Any = importlib.import_module("nextgen_gql.migrations.0015_weekly_links_by_role")

#: Every counted table and the lists its rows count in, as the triggers keep them now: 0013's
#: (the roster's as 0015 extends them), and 0011's audit trail and filing privileges, which
#: 0013 left as they were. ``tests/test_copy_database.py`` checks a recount with these against
#: the counts the triggers kept.
COUNTED: dict[str, list[tuple[str, str | None]]] = {
    **_0013.COUNTED,
    **_0015.COUNTED,
    "audit_events": [("'audit'", None)],
    "filing_privileges": [("'privileges'", None)],
}


async def kept_count(court_code: str, name: str) -> int:
    """The kept size of one of the court's lists (0 when it never had a row)."""
    found = await query("SELECT n FROM list_counts WHERE court_id = ? AND list = ?", [court_code, name])
    return int(found[0][0]) if found else 0


async def roster_count(court_code: str, linked: bool | None = None) -> int:
    """The court's roster, or its linked or unlinked part."""
    if linked is None:
        return await kept_count(court_code, "roster")
    found = await query(
        "SELECT list, n FROM list_counts WHERE court_id = ? AND list IN ('roster', 'roster.linked')",
        [court_code],
    )
    sizes = {str(name): int(n) for name, n in found}
    with_link = sizes.get("roster.linked", 0)
    return with_link if linked else sizes.get("roster", 0) - with_link


def roster_contributions(alias: str, *, postgres: bool = False) -> str:
    """SQL of the (court_id, k, d) rows a set of roster rows ``alias`` (a table or a CTE)
    adds to the kept counts: one per list each row counts in, ``d`` = 1. Summed by
    (court_id, k), the counts those rows' insert triggers would have added."""
    return str(_0013._contributions("cmecf_accounts", alias, 1, postgres, _0015.COUNTED))


def recount_statements(*, postgres: bool) -> list[str]:
    """SQL adding every counted table's rows to an empty ``list_counts``: the counts the
    triggers would have kept had every row been inserted one by one (``copy-database`` copies
    with the triggers off, then counts once)."""
    return [
        "INSERT INTO list_counts (court_id, list, n)"
        f" SELECT court_id, k, SUM(d) FROM ({_0013._contributions(table, table, 1, postgres, COUNTED)}) AS c"
        " GROUP BY court_id, k HAVING SUM(d) <> 0"
        for table in COUNTED
    ]
