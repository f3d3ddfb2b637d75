"""The ``nextgen-gql`` command (see CONTRACT.md, "Command line").

Every command exits 0 on success; on bad input it prints what is wrong (file, line and
field where there is one) to stderr, writes nothing, and exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from nextgen_gql.settings import Settings

__all__ = ["main"]

T = TypeVar("T")
EXIT_BAD_INPUT = 2


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"nextgen-gql: {message}", file=sys.stderr)
    return code


def _run_with_db(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Migrate, open the database, make sure court rows exist, run ``work``, close."""
    from tortoise.context import TortoiseContext

    from nextgen_gql.db import apply_migrations, tortoise_config
    from nextgen_gql.services.courts import sync_courts
    from nextgen_gql.tenancy import load_courts

    async def runner() -> T:
        courts = load_courts(settings.tenants_dir)
        await apply_migrations(settings.database_url)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(settings.database_url))
            await sync_courts(courts)
            return await work()

    return asyncio.run(runner())


# ------------------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from nextgen_gql.app import create_app

    settings = settings.with_(demo=args.demo or settings.demo)
    if args.workers > 1:
        # The parent prepares the database once; each worker then finds nothing to do.
        from nextgen_gql.services.demo import load_demo
        from nextgen_gql.tenancy import CourtRegistry, load_courts

        registry = CourtRegistry(load_courts(settings.tenants_dir))

        async def prepare() -> None:
            if settings.demo:
                await load_demo(registry)

        _run_with_db(settings, prepare)
        import os

        os.environ["NEXTGEN_GQL_DATABASE_URL"] = settings.database_url
        os.environ["NEXTGEN_GQL_TENANTS_DIR"] = str(settings.tenants_dir)
        os.environ["NEXTGEN_GQL_MAIL_DIR"] = str(settings.mail_dir)
        uvicorn.run(
            "nextgen_gql.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers
        )
        return 0
    app = create_app(settings)
    print(f"nextgen-gql: serving on http://{args.host}:{args.port}/graphql (GraphiQL in a browser)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.services.imports import ImportFailed, import_cmecf_accounts, import_pacer_accounts
    from nextgen_gql.tenancy import CourtRegistry, UnknownCourt, load_courts

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"{path}: no such file")
    if args.kind == "pacer-accounts":

        async def work() -> int:
            return await import_pacer_accounts(path)

        what = "PACER accounts"
    else:
        try:
            court = CourtRegistry(load_courts(settings.tenants_dir)).get(args.court)
        except UnknownCourt as exc:
            return _fail(f"{exc} (see `nextgen-gql tenants list`)")

        async def work() -> int:
            return await import_cmecf_accounts(court, path)

        what = f"legacy CM/ECF accounts into {court.code}"
    try:
        count = _run_with_db(settings, work)
    except ImportFailed as exc:
        return _fail(f"{path}: {exc}")
    print(f"Imported {count} {what} from {path}.")
    return 0


def cmd_clerks(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.errors import DomainError
    from nextgen_gql.services.courts import grant_clerk, revoke_clerk
    from nextgen_gql.tenancy import CourtRegistry, UnknownCourt, load_courts

    try:
        court = CourtRegistry(load_courts(settings.tenants_dir)).get(args.court)
    except UnknownCourt as exc:
        return _fail(str(exc))

    async def work() -> bool:
        if args.action == "grant":
            await grant_clerk(court, args.username)
            return True
        return await revoke_clerk(court, args.username)

    try:
        changed = _run_with_db(settings, work)
    except DomainError as exc:
        return _fail(exc.message)
    if args.action == "grant":
        print(f"{args.username} is a clerk of {court.code}.")
    elif changed:
        print(f"{args.username} is no longer a clerk of {court.code}.")
    else:
        print(f"{args.username} was not a clerk of {court.code}; nothing changed.")
    return 0


def cmd_tenants(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.tenancy import validate_dir

    directory = settings.tenants_dir
    courts, problems = validate_dir(directory)
    if args.action == "validate":
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return _fail(f"{len(problems)} problem(s) in {directory}")
        print(f"{len(courts)} court file(s) in {directory} are valid.")
        return 0
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{'code':<8} {'kind':<11} {'nextgen':<22} name")
    for court in courts:
        status = (
            f"since {court.nextgen_since}"
            if court.is_nextgen()
            else (f"from {court.nextgen_since}" if court.nextgen_since else "legacy CM/ECF")
        )
        print(f"{court.code:<8} {court.kind.value:<11} {status:<22} {court.name}")
    return 1 if problems else 0


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.api.schema import schema

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(schema.as_str() + "\n", encoding="utf-8")
    print(f"Wrote {out}.")
    return 0


# ------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nextgen-gql", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--database-url", help="Tortoise URL (env NEXTGEN_GQL_DATABASE_URL)")
    parser.add_argument("--tenants-dir", help="folder of court files (env NEXTGEN_GQL_TENANTS_DIR)")
    parser.add_argument("--mail-dir", help="where outgoing mail is written (env NEXTGEN_GQL_MAIL_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="fill an empty database with the demo data")
    serve.set_defaults(handler=cmd_serve)

    imp = sub.add_parser("import", help="load legacy accounts from a CSV file")
    imp_sub = imp.add_subparsers(dest="kind", required=True)
    pacer = imp_sub.add_parser("pacer-accounts", help="load legacy PACER accounts")
    pacer.add_argument("file")
    cmecf = imp_sub.add_parser("cmecf-accounts", help="load a court's legacy CM/ECF roster")
    cmecf.add_argument("court")
    cmecf.add_argument("file")
    imp.set_defaults(handler=cmd_import)

    clerks = sub.add_parser("clerks", help="court staff")
    clerks.add_argument("action", choices=["grant", "revoke"])
    clerks.add_argument("court")
    clerks.add_argument("username")
    clerks.set_defaults(handler=cmd_clerks)

    tenants = sub.add_parser("tenants", help="court files")
    tenants.add_argument("action", choices=["list", "validate"])
    tenants.set_defaults(handler=cmd_tenants)

    export = sub.add_parser("export-schema", help="write schema/schema.graphql")
    export.add_argument("--output", default="schema/schema.graphql")
    export.set_defaults(handler=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = {
        k: v
        for k, v in {
            "database_url": args.database_url,
            "tenants_dir": Path(args.tenants_dir) if args.tenants_dir else None,
            "mail_dir": Path(args.mail_dir) if args.mail_dir else None,
        }.items()
        if v is not None
    }
    from nextgen_gql.tenancy import CourtFileError

    try:
        settings = Settings.from_env().with_(**overrides)
        code: int = args.handler(args, settings)
    except CourtFileError as exc:
        code = _fail(str(exc))
    except ValueError as exc:
        code = _fail(str(exc))
    return code


def entry() -> None:
    sys.exit(main())
