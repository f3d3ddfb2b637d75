"""``nextgen-gql copy-database --to URL``: the configured SQLite database into an empty PostgreSQL one."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Iterator

from nextgen_gql.cli._common import fail
from nextgen_gql.settings import Settings

__all__ = ["cmd_copy_database"]


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing in CI or when output is redirected."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("copying rows"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    ) as bar:
        task = bar.add_task("copy", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def cmd_copy_database(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.services.database_copy import CopyRefused, copy_database

    with _progress_bar() as progress:
        try:
            report = asyncio.run(copy_database(settings.database_url, args.to, progress=progress))
        except CopyRefused as exc:
            return fail(f"copy-database: {exc}")
    width = max((len(name) for name in report.counts), default=0)
    for name, rows in report.counts.items():
        print(f"{name:<{width}}  {rows:>10}")
    print(
        f"copy-database: {report.source} to {report.target} in {report.seconds:.2f} s: "
        f"{len(report.counts)} tables, {report.rows} rows, the same in each table on both sides; "
        "kept counts and search indexes rebuilt, id sequences set."
    )
    for line in report.count_drift:
        print(f"copy-database: a kept count of the source was off, the copy counts its rows: {line}")
    if settings.secret_key is not None:
        print(
            "copy-database: authenticator secrets were copied sealed with NEXTGEN_GQL_SECRET_KEY: run the "
            "service on PostgreSQL with the same key."
        )
    elif report.secret_key_file is not None:
        print(
            f"copy-database: authenticator secrets were copied sealed with the key in {report.secret_key_file}: "
            "run the service on PostgreSQL with NEXTGEN_GQL_SECRET_KEY set to that file's content."
        )
    return 0
