"""Backups of the service's database while it runs (``nextgen-gql backup``).

One call, ``backup(database_url, output, force=...)``, makes a consistent copy, checks it and
counts its rows per table:

- SQLite (``backup.sqlite``): SQLite's online backup API copying every page in one step, so
  that the copy is one read transaction's snapshot and writers (in WAL mode they go on beside
  it) cannot make it start over; then ``PRAGMA integrity_check`` and the counts, on the copy.
- PostgreSQL (``backup.postgres``): ``pg_dump --format=custom`` of a snapshot exported from a
  ``REPEATABLE READ`` transaction (``pg_export_snapshot()``), which counts the rows in the same
  snapshot; the connection's parts go on pg_dump's command line, its password only in its
  environment (``PGPASSWORD``); ``pg_restore --list`` reads the dump back as the check.

The output is written to a temporary file beside it and put in place only once complete and
checked (``Target``): a failure or an interruption never leaves a partial file, and without
``force`` an existing file is never replaced, even one that appears while the backup runs.

Refusals before anything is written (``BackupRefused``: the command exits 2) and failures of
the backup itself (``BackupFailed``: exit 1) both name what is wrong.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from nextgen_gql.db import is_postgres_url
from nextgen_gql.services.backup._target import BackupFailed, BackupRefused, Target

__all__ = ["BackupFailed", "BackupRefused", "Report", "backup", "sqlite_file"]


@dataclass(frozen=True)
class Report:
    """What a backup wrote, and what it found in it."""

    path: Path
    #: "SQLite" or "PostgreSQL".
    database: str
    #: Rows per table, by table name (sorted), as of the backup's snapshot.
    counts: dict[str, int]
    #: How the copy was checked ("PRAGMA integrity_check: ok", "pg_restore --list: 412 entries").
    check: str
    size_bytes: int
    seconds: float
    #: SQLite without NEXTGEN_GQL_SECRET_KEY: the file holding the database's secret key, which
    #: the backup does not contain and a restored database needs.
    secret_key_file: Path | None = None

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def sqlite_file(database_url: str) -> Path | None:
    """The file of a ``sqlite://`` URL (None: an in-memory database)."""
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


async def backup(database_url: str, output: Path, *, force: bool = False) -> Report:
    """Back ``database_url`` up to ``output`` (refused if it exists, unless ``force``).

    Raises:
        BackupRefused: nothing was done: the output exists (without ``force``) or cannot be
            written, the database is not there, or PostgreSQL's client programs are missing.
        BackupFailed: the copy or its check failed; nothing was left at ``output``.
    """
    started = time.perf_counter()
    if is_postgres_url(database_url):
        from nextgen_gql.services.backup import postgres

        tools = postgres.find_tools()
        with Target(output, force=force) as target:
            counts, check = await postgres.dump(database_url, target.temporary, tools)
            size = target.commit()
        return Report(output, "PostgreSQL", counts, check, size, time.perf_counter() - started)
    from nextgen_gql.services.backup import sqlite
    from nextgen_gql.services.crypto import secret_key_file

    source = sqlite_file(database_url)
    if source is None:
        raise BackupRefused("an in-memory SQLite database has nothing to back up")
    if not source.is_file():
        raise BackupRefused(f"no SQLite database at {source} (NEXTGEN_GQL_DATABASE_URL)")
    key_file = secret_key_file(database_url)
    own = {source: "the database itself"}
    own |= {Path(f"{source}{side}"): f"the database's {side} file" for side in ("-wal", "-shm", "-journal")}
    if key_file is not None:
        own[key_file] = "the database's secret key"
    with Target(output, force=force, not_over=own) as target:
        counts, check = await sqlite.copy(source, target.temporary)
        size = target.commit()
    return Report(
        output,
        "SQLite",
        counts,
        check,
        size,
        time.perf_counter() - started,
        secret_key_file=key_file if key_file is not None and key_file.exists() else None,
    )
