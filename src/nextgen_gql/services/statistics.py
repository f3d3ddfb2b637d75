"""The planner's statistics, kept by the service itself.

A table loaded in bulk has no statistics until ``ANALYZE`` runs, and SQLite never runs it by
itself: the roster's search then walked a court's whole ``(court_id, login_key)`` index
instead of reading its few trigram candidates. The searches no longer depend on statistics
(``ordering.keyset_page``'s ``index``), and the service keeps them fresh anyway:

- after an import, ``refresh`` of the imported table (``imports``), in its own statement once
  the import has committed;
- at each maintenance run (``maintenance.run``), ``upkeep``: on SQLite the tables that have no
  statistics yet are analysed, then ``PRAGMA optimize`` re-analyses those whose size changed
  much since (as SQLite advises for a long-lived connection, run periodically); on PostgreSQL
  the tables changed by more than autovacuum's own threshold since their last analysis
  (autovacuum does the same, when it is on and has come round to them);
- when the service stops, ``PRAGMA optimize`` (SQLite's advice for a closing connection).

On SQLite each analysis reads at most ``ANALYSIS_LIMIT`` rows of each index
(``PRAGMA analysis_limit``): approximate statistics, in milliseconds at any size. PostgreSQL
samples by itself (``default_statistics_target``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tortoise import connections

from nextgen_gql.services.ordering import query

__all__ = ["ANALYSIS_LIMIT", "optimize", "refresh", "upkeep"]

log = logging.getLogger("nextgen_gql.statistics")

#: Rows of each index SQLite's ``ANALYZE`` reads (``PRAGMA analysis_limit``; 0 would read all).
ANALYSIS_LIMIT = 1000


def _sqlite() -> bool:
    return bool(connections.get("default").capabilities.dialect == "sqlite")


async def refresh(tables: Sequence[str]) -> None:
    """``ANALYZE`` these tables now (names from the service's code, never from a client)."""
    conn = connections.get("default")
    if _sqlite():
        await conn.execute_query(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        for table in tables:
            await conn.execute_query(f"ANALYZE {table}")
    else:
        await conn.execute_query(f"ANALYZE {', '.join(tables)}")


async def optimize() -> None:
    """SQLite: ``PRAGMA optimize`` (re-analyses what needs it, within ``ANALYSIS_LIMIT``)."""
    if _sqlite():
        conn = connections.get("default")
        await conn.execute_query(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        await conn.execute_query("PRAGMA optimize")


async def upkeep() -> list[str]:
    """The tables whose statistics were missing or stale, analysed now (see the module)."""
    if _sqlite():
        missing = [
            str(name)
            for (name,) in await query(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name NOT LIKE 'sqlite_%' AND tbl_name NOT IN"
                " (SELECT tbl FROM sqlite_stat1)"
                if await _has_stat1()
                else "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name NOT LIKE 'sqlite_%'",
                [],
            )
        ]
        if missing:
            await refresh(sorted(missing))
        await optimize()
        return sorted(missing)
    stale = [
        str(name)
        for (name,) in await query(
            "SELECT relid::regclass::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE c.relkind = 'r' AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)"
            " ORDER BY 1",
            [],
        )
    ]
    if stale:
        await refresh(stale)
    return stale


async def _has_stat1() -> bool:
    found = await query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'", [])
    return bool(found)
