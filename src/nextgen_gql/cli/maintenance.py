"""``nextgen-gql maintenance`` and ``nextgen-gql audit export``: the data's lifecycle."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
from pathlib import Path
from typing import IO, Any

import orjson

from nextgen_gql.cli._common import fail, open_db
from nextgen_gql.settings import Settings

__all__ = ["cmd_audit", "cmd_maintenance"]


def cmd_maintenance(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.services import maintenance

    retention = maintenance.Retention.of(settings)

    async def once() -> maintenance.Report:
        return await maintenance.run(retention, database_url=settings.direct_url)

    async def forever() -> None:
        interval = settings.maintenance_interval_s or 300
        while True:
            _print(await maintenance.run(retention, database_url=settings.direct_url))
            await asyncio.sleep(interval)

    if args.once:
        _print(open_db(settings, once))
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        open_db(settings, forever)
    return 0


def _print(report: Any) -> None:
    if report.skipped:
        print("maintenance: another process is maintaining this database; nothing done.")
        return
    kinds = ", ".join(f"{kind} {n}" for kind, n in report.deleted.items())
    print(f"maintenance: deleted {report.total} row(s): {kinds}.")
    if report.analyzed:
        print(f"maintenance: analysed {len(report.analyzed)} table(s): {', '.join(report.analyzed)}.")


def _moment(raw: str | None, option: str) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(
            f"{option}: {raw!r} is not a date or date-time (write 2026-01-31 or 2026-01-31T08:00Z)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """``audit export``: the events as JSON Lines (one object a line), oldest first, streamed."""
    from nextgen_gql.services import maintenance
    from nextgen_gql.services.court_catalog import load_registry
    from nextgen_gql.tenancy import UnknownCourt

    try:
        since, until = _moment(args.since, "--since"), _moment(args.until, "--until")
    except ValueError as exc:
        return fail(str(exc))
    if since is not None and until is not None and until <= since:
        return fail(f"--until ({args.until}) must be later than --since ({args.since})")
    output: Path | None = Path(args.output) if args.output else None
    if output is not None:
        folder = output.parent if str(output.parent) else Path(".")
        if output.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
            return fail(f"--output: cannot write {output} (no such folder, or not writable)")
        if output.exists() and not os.access(output, os.W_OK):
            return fail(f"--output: cannot write {output} (not writable)")

    async def work() -> int:
        court = None
        if args.court is not None:
            court = (await load_registry()).get(args.court)  # served or retired
        code = court.code if court is not None else None
        total = await maintenance.export_size(court=code, since=since, until=until)
        with output.open("wb") if output is not None else _stdout() as sink, _bar(total) as advance:
            written = 0
            async for event in maintenance.export_events(court=code, since=since, until=until):
                sink.write(orjson.dumps(event) + b"\n")
                written += 1
                advance(written)
        return written

    try:
        written = open_db(settings, work)
    except UnknownCourt as exc:
        return fail(f"--court: {exc} (see `nextgen-gql tenants list`)")
    where = f" to {output}" if output is not None else ""
    print(f"audit export: {written} event(s){where}.", file=sys.stderr)
    return 0


class _stdout:
    def __enter__(self) -> IO[bytes]:
        return sys.stdout.buffer

    def __exit__(self, *exc: object) -> None:
        sys.stdout.buffer.flush()


class _bar:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise (CI, pipes)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.progress: Any = None

    def __enter__(self) -> Any:
        if not sys.stderr.isatty() or os.environ.get("CI"):
            return lambda done: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("exporting audit events"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.progress.start()
        task = self.progress.add_task("export", total=self.total or None)
        return lambda done: self.progress.update(task, completed=done) if done % 1000 == 0 else None

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
