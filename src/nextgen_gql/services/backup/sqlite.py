"""A SQLite database copied while the service writes to it: one step of the online backup API.

``sqlite3.Connection.backup(pages=-1)`` copies every page in a single ``sqlite3_backup_step``,
inside one read transaction: the copy is that transaction's snapshot. Copied a few pages at a
time instead, a write by another connection between two steps would make SQLite start the copy
over, and a steady stream of writes could keep it from ever finishing. In WAL mode (the
service's) writers go on while the step runs; they are not blocked. ``VACUUM INTO`` would give
the same guarantee with a compacted copy, at the cost of rebuilding every index.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from nextgen_gql.services.backup._target import BackupFailed, BackupRefused

__all__ = ["copy", "count_rows"]

#: How long to wait for a lock when the database is not in WAL mode and a writer holds it (s).
BUSY_TIMEOUT_S = 30.0


async def copy(source: Path, target: Path) -> tuple[dict[str, int], str]:
    """Copy ``source`` into the (empty) file ``target``, check the copy, count its rows.

    Runs in a thread: the copy and the counts are synchronous SQLite calls.
    """
    return await asyncio.to_thread(_copy, source, target)


def _copy(source: Path, target: Path) -> tuple[dict[str, int], str]:
    try:
        src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise BackupRefused(f"cannot open the SQLite database {source}: {exc}") from None
    try:
        src.execute("PRAGMA query_only = ON")
        dst = sqlite3.connect(target)
        try:
            try:
                src.backup(dst, pages=-1)
            except sqlite3.DatabaseError as exc:
                raise BackupFailed(f"copying {source} failed: {exc}") from None
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupFailed(
                    "the copy failed PRAGMA integrity_check (is the database itself damaged? run "
                    f"`sqlite3 {source} 'PRAGMA integrity_check'`): " + "; ".join(problems[:5])
                )
            counts = count_rows(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return counts, "PRAGMA integrity_check: ok"


def count_rows(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table: the database's own tables, not SQLite's (``sqlite_*``) nor the search
    indexes' virtual tables and the shadow tables behind them (they hold index data, not rows)."""
    tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = [name for name, sql in tables if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    counts: dict[str, int] = {}
    for name, _ in tables:
        if name.startswith("sqlite_") or name in virtual or any(name.startswith(f"{v}_") for v in virtual):
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        counts[name] = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
    return counts
