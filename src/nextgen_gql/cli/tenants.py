"""``nextgen-gql tenants list | validate | add``: court files."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path

from nextgen_gql.cli._common import fail
from nextgen_gql.enums import CourtKind, FilerRole
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import DEFAULT_ROLES, Court, CourtFileError, HelpDesk, add_court_file, validate_dir
from nextgen_gql.tenancy.files import CODE_RE

__all__ = ["cmd_tenants"]


def _roster_sizes(settings: Settings) -> dict[str, int] | None:
    """Legacy accounts per court, read without creating or migrating anything; None if no database."""
    from tortoise.context import TortoiseContext
    from tortoise.exceptions import BaseORMException

    from nextgen_gql.db import tortoise_config
    from nextgen_gql.services.roster import roster_sizes

    url = settings.connection_url
    if url.startswith("sqlite://") and not Path(url.removeprefix("sqlite://")).exists():
        return None

    async def read() -> dict[str, int] | None:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            try:
                return await roster_sizes()
            except BaseORMException:
                return None  # not migrated yet

    try:
        return asyncio.run(read())
    except (OSError, BaseORMException):
        return None


def _list(settings: Settings) -> int:
    courts, problems = validate_dir(settings.tenants_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    sizes = _roster_sizes(settings)
    print(f"{'code':<8} {'kind':<11} {'nextgen':<22} {'roster':>8}  name")
    for court in courts:
        if court.is_nextgen():
            status = f"since {court.nextgen_since}"
        else:
            status = f"from {court.nextgen_since}" if court.nextgen_since else "legacy CM/ECF"
        roster = "-" if sizes is None else str(sizes.get(court.code, 0))
        print(f"{court.code:<8} {court.kind.value:<11} {status:<22} {roster:>8}  {court.name}")
    if sizes is None:
        print("(roster: no database yet)")
    return fail(f"{len(problems)} problem(s) in {settings.tenants_dir}") if problems else 0


def _validate(settings: Settings) -> int:
    courts, problems = validate_dir(settings.tenants_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return fail(f"{len(problems)} problem(s) in {settings.tenants_dir}")
    print(f"{len(courts)} court file(s) in {settings.tenants_dir} are valid.")
    return 0


def _add(args: argparse.Namespace, settings: Settings) -> int:
    code = args.code.strip()
    problems: list[str] = []
    if not CODE_RE.match(code):
        problems.append(f"CODE must be lowercase letters and digits, starting with a letter; got {code!r}")
    kind: CourtKind | None = None
    try:
        kind = CourtKind(args.kind.strip().lower())
    except ValueError:
        problems.append(f"--kind must be one of {' | '.join(k.value for k in CourtKind)}; got {args.kind!r}")
    since = None
    if args.nextgen_since:
        try:
            since = dt.date.fromisoformat(args.nextgen_since)
        except ValueError:
            problems.append(f"--nextgen-since must be a date (YYYY-MM-DD); got {args.nextgen_since!r}")
    roles: list[FilerRole] = []
    for raw in args.role or []:
        try:
            role = FilerRole.parse(raw)
        except ValueError as exc:
            problems.append(f"--role: {exc}")
            continue
        if role not in roles:
            roles.append(role)
    if not args.name.strip():
        problems.append("--name must not be empty")
    if problems or kind is None:
        for problem in problems:
            print(f"nextgen-gql: {problem}", file=sys.stderr)
        return fail(f"nothing written for {code!r}")
    hosts = tuple(h.strip().lower() for h in args.host) if args.host else (f"ecf.{code}.uscourts.gov",)
    desk = None
    if args.help_desk_phone or args.help_desk_url or args.help_desk_email:
        desk = HelpDesk(phone=args.help_desk_phone, email=args.help_desk_email, url=args.help_desk_url)
    court = Court(
        code=code,
        name=args.name.strip(),
        kind=kind,
        nextgen_since=since,
        accepted_roles=tuple(roles) or DEFAULT_ROLES[kind],
        hosts=hosts,
        help_desk=desk,
    )
    try:
        path = add_court_file(settings.tenants_dir, court)
    except CourtFileError as exc:
        for file_problem in exc.problems:
            print(file_problem, file=sys.stderr)
        return fail(f"nothing written for {code!r}")
    roles_text = ", ".join(r.value for r in court.accepted_roles)
    print(f"Wrote {path} ({kind.value}, accepts {roles_text}; host {', '.join(hosts)}).")
    print("Next:")
    print("  nextgen-gql tenants validate")
    print(f"  nextgen-gql import cmecf-accounts {code} ROSTER.csv")
    print(f"  nextgen-gql clerks grant {code} USERNAME")
    print(
        f"  restart `nextgen-gql serve`: the court answers at /courts/{code}/graphql, "
        f"with X-Court: {code}, and on {hosts[0]}"
    )
    return 0


def cmd_tenants(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "validate":
        return _validate(settings)
    if args.action == "add":
        return _add(args, settings)
    return _list(settings)
