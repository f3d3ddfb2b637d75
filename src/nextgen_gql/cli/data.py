"""``nextgen-gql import`` and ``nextgen-gql clerks``: what an integrator loads into a court."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from nextgen_gql.cli._common import fail, run_with_db
from nextgen_gql.settings import Settings

__all__ = ["cmd_clerks", "cmd_import"]


@contextlib.contextmanager
def _progress_bar(path: Path, label: str) -> Iterator[object]:
    """A rich progress bar on a terminal; nothing in CI or when output is redirected."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from nextgen_gql.services.imports import count_rows

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=count_rows(path))
        yield lambda n: bar.advance(task, n)


@contextlib.contextmanager
def _counted() -> Iterator[None]:
    """With ``PROMETHEUS_MULTIPROC_DIR`` set to a serving instance's folder, the rows imported
    are counted in its metrics (``nextgen_gql_import_rows_total``)."""
    from nextgen_gql.observability.multiprocess import multiprocess_dir

    if multiprocess_dir() is None:
        yield
        return
    from nextgen_gql.observability.metrics import count_event
    from nextgen_gql.services import events

    stop = events.listen(count_event)
    try:
        yield
    finally:
        stop()


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.services.court_catalog import load_registry
    from nextgen_gql.services.imports import ImportFailed, import_cmecf_accounts, import_pacer_accounts
    from nextgen_gql.tenancy import UnknownCourt

    path = Path(args.file)
    if not path.is_file():
        return fail(f"{path}: no such file")
    code = args.court if args.kind == "cmecf-accounts" else None
    with _progress_bar(path, f"importing {path.name}") as progress:

        async def work() -> int:
            if code is None:
                return await import_pacer_accounts(path, progress=progress)  # type: ignore[arg-type]
            court = (await load_registry()).serve(code)
            return await import_cmecf_accounts(court, path, progress=progress)  # type: ignore[arg-type]

        try:
            with _counted():
                count = run_with_db(settings, work)
        except UnknownCourt as exc:
            return fail(f"{exc} (see `nextgen-gql tenants list`)")
        except ImportFailed as exc:
            return fail(f"{path}: {exc}")
    what = f"legacy CM/ECF accounts into {code.strip().lower()}" if code else "PACER accounts"
    print(f"Imported {count} {what} from {path}.")
    return 0


def cmd_clerks(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.errors import DomainError
    from nextgen_gql.services.court_catalog import load_registry
    from nextgen_gql.services.courts import grant_clerk, revoke_clerk
    from nextgen_gql.tenancy import UnknownCourt

    code = args.court.strip().lower()

    async def work() -> bool:
        court = (await load_registry()).serve(args.court)
        if args.action == "grant":
            await grant_clerk(court, args.username)
            return True
        return await revoke_clerk(court, args.username)

    try:
        changed = run_with_db(settings, work)
    except UnknownCourt as exc:
        return fail(str(exc))
    except DomainError as exc:
        return fail(exc.message)
    if args.action == "grant":
        print(f"{args.username} is a clerk of {code}.")
    elif changed:
        print(f"{args.username} is no longer a clerk of {code}.")
    else:
        print(f"{args.username} was not a clerk of {code}; nothing changed.")
    return 0
