"""``nextgen-gql tenants list | validate | apply | add``: court files, and the database's courts."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path

from nextgen_gql.cli._common import fail
from nextgen_gql.enums import CourtKind, FilerRole
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import (
    DEFAULT_ROLES,
    Court,
    CourtFileError,
    CourtRegistry,
    HelpDesk,
    TenantFileProblem,
    add_court_file,
    validate_dir,
)
from nextgen_gql.tenancy.files import CODE_RE

__all__ = ["cmd_tenants"]


def _catalog(settings: Settings) -> tuple[CourtRegistry, dict[str, int]] | None:
    """The database's courts and roster sizes, read without creating or migrating anything;
    None when there is no database yet (or it is not migrated)."""
    from tortoise.context import TortoiseContext
    from tortoise.exceptions import BaseORMException

    from nextgen_gql.db import tortoise_config
    from nextgen_gql.services.court_catalog import load_registry
    from nextgen_gql.services.roster import roster_sizes

    url = settings.connection_url
    if url.startswith("sqlite://") and not Path(url.removeprefix("sqlite://")).exists():
        return None

    async def read() -> tuple[CourtRegistry, dict[str, int]] | None:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            try:
                return await load_registry(), await roster_sizes()
            except BaseORMException:
                return None  # not migrated yet

    try:
        return asyncio.run(read())
    except (OSError, BaseORMException):
        return None


def _status(court: Court) -> str:
    if court.is_nextgen():
        return f"since {court.nextgen_since}"
    return f"from {court.nextgen_since}" if court.nextgen_since else "legacy CM/ECF"


def _list(settings: Settings) -> int:
    """The courts the database serves and those it retired; the court files' own problems."""
    problems = validate_dir(settings.tenants_dir)[1] if settings.tenants_dir is not None else []
    for problem in problems:
        print(problem, file=sys.stderr)
    found = _catalog(settings)
    if found is None or not (len(found[0]) or found[0].retired):
        if settings.tenants_dir is None:
            print("No courts in the database yet, and NEXTGEN_GQL_TENANTS_DIR is empty.")
            return 0
        courts = validate_dir(settings.tenants_dir)[0]
        print(f"{'code':<8} {'kind':<11} {'nextgen':<22} {'roster':>8}  name")
        for court in courts:
            print(f"{court.code:<8} {court.kind.value:<11} {_status(court):<22} {'-':>8}  {court.name}")
        print(f"(roster: no database yet; these are the court files of {settings.tenants_dir}, not applied:")
        print(" `nextgen-gql tenants apply` or `nextgen-gql serve` applies them)")
        return fail(f"{len(problems)} problem(s) in {settings.tenants_dir}") if problems else 0
    registry, sizes = found
    print(f"{'code':<8} {'kind':<11} {'nextgen':<22} {'roster':>8}  name")
    for court in registry:
        print(
            f"{court.code:<8} {court.kind.value:<11} {_status(court):<22} {sizes.get(court.code, 0):>8}  {court.name}"
        )
    for code, (court, retired_at) in sorted(registry.retired.items()):
        status = f"RETIRED {retired_at:%Y-%m-%d %H:%M}"
        print(f"{code:<8} {court.kind.value:<11} {status:<22} {sizes.get(code, 0):>8}  {court.name}")
    print(f"{len(registry)} served, {len(registry.retired)} retired (catalog version {registry.version}).")
    return fail(f"{len(problems)} problem(s) in {settings.tenants_dir}") if problems else 0


def _apply(settings: Settings, *, dry_run: bool) -> int:
    """Validate every court file, print the plan, write it in one transaction (unless ``dry_run``)."""
    from nextgen_gql.cli._common import open_db
    from nextgen_gql.services import court_catalog

    if settings.tenants_dir is None:
        return fail("NEXTGEN_GQL_TENANTS_DIR is empty: name the folder of court files to apply")
    courts, problems = validate_dir(settings.tenants_dir)
    if not problems and not courts:
        problems = [TenantFileProblem(settings.tenants_dir, None, "no court files (*.toml) found")]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return fail(f"{len(problems)} problem(s) in {settings.tenants_dir}: nothing applied")

    async def work() -> tuple[court_catalog.CatalogPlan, int]:
        return await court_catalog.apply(courts, dry_run=dry_run)

    plan, version = open_db(settings, work)
    for line in plan.lines():
        print(line)
    if plan.empty:
        print(f"Nothing to change: the database serves what {settings.tenants_dir} says (version {version}).")
    elif dry_run:
        print(f"Dry run: nothing written ({len(plan.lines())} change(s) planned).")
    else:
        print(
            f"Applied {len(plan.lines())} change(s): catalog version {version}. Running services follow within 2 s."
        )
    return 0


def _validate(settings: Settings) -> int:
    if settings.tenants_dir is None:
        return fail("NEXTGEN_GQL_TENANTS_DIR is empty: name the folder of court files to validate")
    courts, problems = validate_dir(settings.tenants_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return fail(f"{len(problems)} problem(s) in {settings.tenants_dir}")
    print(f"{len(courts)} court file(s) in {settings.tenants_dir} are valid.")
    return 0


def _add(args: argparse.Namespace, settings: Settings) -> int:
    if settings.tenants_dir is None:
        return fail("NEXTGEN_GQL_TENANTS_DIR is empty: name the folder to write the court file in")
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
    if args.apply:
        status = _apply(settings, dry_run=False)
        if status:
            return status
    print("Next:")
    if not args.apply:
        print("  nextgen-gql tenants apply    (running services serve it within 2 s)")
    print(f"  nextgen-gql import cmecf-accounts {code} ROSTER.csv")
    print(f"  nextgen-gql clerks grant {code} USERNAME")
    print(f"  the court answers at /courts/{code}/graphql, with X-Court: {code}, and on {hosts[0]}")
    return 0


def cmd_tenants(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "validate":
        return _validate(settings)
    if args.action == "apply":
        return _apply(settings, dry_run=args.dry_run)
    if args.action == "add":
        return _add(args, settings)
    return _list(settings)
