"""``nextgen-gql backup``: a consistent copy of the database, made while the service runs."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from nextgen_gql.cli._common import fail
from nextgen_gql.settings import Settings

__all__ = ["EXIT_FAILED", "cmd_backup"]

#: The backup started and failed (pg_dump's error, a failed check): nothing was left behind.
EXIT_FAILED = 1


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Back the configured database up to ``--output``; print the rows per table and a summary.

    The database is read, never migrated or written: a backup of an older version's database is
    that version's, and restores as it was.
    """
    from nextgen_gql.services.backup import BackupFailed, BackupRefused, backup

    output = Path(args.output)
    try:
        report = asyncio.run(backup(settings.database_url, output, force=args.force))
    except BackupRefused as exc:
        return fail(f"backup: {exc}; nothing written")
    except BackupFailed as exc:
        return fail(f"backup failed: {exc}; nothing was written to {output}", EXIT_FAILED)
    width = max((len(name) for name in report.counts), default=0)
    for name, rows in report.counts.items():
        print(f"{name:<{width}}  {rows:>10}")
    print(
        f"backup: {report.database} database to {report.path} ({_size(report.size_bytes)}) in "
        f"{report.seconds:.2f} s: {len(report.counts)} tables, {report.rows} rows; {report.check}."
    )
    if report.secret_key_file is not None:
        print(
            f"backup: the database's secret key is in {report.secret_key_file}, not in the backup: keep a copy "
            "of it apart from the backup (a restored database needs it to open authenticator secrets)."
        )
    return 0


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:.1f} {unit}"
