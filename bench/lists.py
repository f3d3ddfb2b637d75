"""What a row costs in each compiled list, against the clerk's roster page.

    .venv/bin/python bench/lists.py [--database sqlite|postgres|both] [--postgres-url URL]
                                    [--requests 300] [--rows 100] [--write docs/benchmarks.md]

Issue 36 asks that every compiled list be no slower per row than the page. Each list here is
asked, in-process (straight through the ASGI app, no network, as ``bench/phases.py`` does), for
a page of 1 row and a page of ``--rows`` rows with the same selection, one that is shaped like
the page's: the node's id and four or five of its fields, one account beside it with four, and
the edge's cursor. A row's cost is the difference of the two medians divided by the rows
between them, so what every request pays once (HTTP, the session, the plan) falls out.

The lists, each over the rows a court or firm of that size has (a demo database, then
``--rows`` of each kind added at ``mad``):

- the clerk's roster page (``cmecfAccounts(first:)``, the fast path the harness measures);
- the roster in another order (``orderBy: LAST_NAME``) and searched (``search:``), the
  general path;
- the registration queue (``registrations(first:)``) and the court's audit trail
  (``auditEvents(first:)``), as mad's clerk; the trail again with the accounts' names only
  (no contact details, whose visibility is decided on facts read for each account);
- a firm's members (``me { firm { members(first:) } }``) as its administrator, and an
  account's own audit events (``me { auditEvents(first:) }``).

Medians of ``--requests`` requests after a warm-up, alternating the two sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from asgi_lifespan import LifespanManager

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from harness import database  # noqa: E402
from markers import write_between  # noqa: E402
from phases import call, sign_in  # noqa: E402
from tests.api.test_batching import linked_roster  # noqa: E402

from nextgen_gql.app import create_app  # noqa: E402
from nextgen_gql.enums import FilerRole, RegistrationStatus  # noqa: E402
from nextgen_gql.models import (  # noqa: E402
    AuditEvent,
    CmecfAccount,
    Firm,
    FirmMembership,
    PacerAccount,
    Registration,
)
from nextgen_gql.services.ordering import fold, search_copy  # noqa: E402
from nextgen_gql.settings import Settings  # noqa: E402

START = "<!-- lists:start -->"
END = "<!-- lists:end -->"

ACCOUNT = "username firstName lastName email"
#: name: (path, who, a query of N rows)
LISTS: dict[str, tuple[str, str, Callable[[int], str]]] = {
    "roster page (the reference)": (
        "/courts/mad/graphql",
        "clerk",
        lambda n: (
            f"""{{ cmecfAccounts(first: {n}) {{ totalCount
          edges {{ cursor node {{ id login firstName lastName role linkedAt
            linkedAccount {{ {ACCOUNT} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        ),
    ),
    "roster by last name": (
        "/courts/mad/graphql",
        "clerk",
        lambda n: (
            f"""{{ cmecfAccounts(first: {n}, orderBy: {{field: LAST_NAME, direction: ASC}}) {{
          totalCount edges {{ cursor node {{ id login firstName lastName role linkedAt
            linkedAccount {{ {ACCOUNT} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        ),
    ),
    "roster searched": (
        "/courts/mad/graphql",
        "clerk",
        lambda n: (
            f"""{{ cmecfAccounts(first: {n}, search: "bulk") {{ totalCount
          edges {{ cursor node {{ id login firstName lastName role linkedAt
            linkedAccount {{ {ACCOUNT} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        ),
    ),
    "registration queue": (
        "/courts/mad/graphql",
        "clerk",
        lambda n: (
            f"""{{ registrations(first: {n}, status: PENDING) {{ totalCount
          edges {{ cursor node {{ id role status caseNumber submittedAt
            account {{ {ACCOUNT} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        ),
    ),
    "court audit trail": (
        "/courts/mad/graphql",
        "clerk",
        lambda n: (
            f"""{{ auditEvents(first: {n}) {{ totalCount
          edges {{ cursor node {{ id at action detail
            subject {{ {ACCOUNT} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        ),
    ),
    # The same without the accounts' contact details: what the visibility rule costs a row
    # (whether the clerk sees an account's email is decided on facts read for its account).
    "court audit trail, names only": (
        "/courts/mad/graphql",
        "clerk",
        lambda n: (
            f"""{{ auditEvents(first: {n}) {{ totalCount
          edges {{ cursor node {{ id at action detail
            subject {{ username firstName lastName }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        ),
    ),
    "firm members": (
        "/graphql",
        "admin",
        lambda n: (
            f"""{{ me {{ firm {{ members(first: {n}) {{ totalCount
          edges {{ cursor node {{ id {ACCOUNT} isLegacy accountNumber }} }}
          pageInfo {{ hasNextPage endCursor }} }} }} }} }}"""
        ),
    ),
    "own audit events": (
        "/graphql",
        "admin",
        lambda n: (
            f"""{{ me {{ auditEvents(first: {n}) {{ totalCount
          edges {{ cursor node {{ id at action detail
            actor {{ {ACCOUNT} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }} }}"""
        ),
    ),
}

ADMIN = ("jmorgan2019", "Granite-Falcon-Morning-88")
CLERK = ("madclerk01", "Court-Docket-Review-2026!")


async def seed(rows: int) -> None:
    """``rows`` of each list's kind at mad and in a firm of the demo filer's."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    admin = await PacerAccount.get(username=ADMIN[0])
    firm = await Firm.create(account_number="9100001", name="Bench & Rows LLP", created_at=at)
    await FirmMembership.create(firm_id=firm.id, account_id=admin.id, is_admin=True, joined_at=at)
    # The roster, its links, accounts and privileges as the batching tests make them; the keys
    # the orders and the search read, as an import writes them (``ordering.search_copy``).
    await linked_roster(rows)
    bulk = CmecfAccount.filter(court_id="mad", login__startswith="bulk")
    for legacy in await bulk:
        await CmecfAccount.filter(id=legacy.id).update(
            last_name_key=fold(legacy.last_name),
            search_text=search_copy(legacy.login, legacy.first_name, legacy.last_name),
        )
    accounts = await PacerAccount.filter(username__startswith="bulkfiler").order_by("id")
    for i, account in enumerate(accounts):
        await Registration.create(
            court_id="mad",
            account_id=account.id,
            role=FilerRole.PRO_SE,
            case_number=f"1:26-cv-{10_000 + i}",
            status=RegistrationStatus.PENDING,
            open_key=Registration.make_open_key(account.id, "mad", FilerRole.PRO_SE),
            submitted_at=at + dt.timedelta(seconds=i),
            applicant_last_name_key=f"filer{i:04}",
            search_text=f"bulk filer{i:04} bulkfiler{i:04} bulk{i}@example.org",
        )
        await AuditEvent.create(
            at=at + dt.timedelta(seconds=i),
            action="cmecf.link",
            actor_id=account.id,
            subject_id=account.id,
            court_id="mad",
            detail=f"bulk{i:04}",
        )
        await AuditEvent.create(
            at=at + dt.timedelta(seconds=i),
            action="account.update",
            actor_id=account.id,
            subject_id=admin.id,
            court_id=None,
            detail="email",
        )
        await FirmMembership.create(firm_id=firm.id, account_id=account.id, is_admin=False, joined_at=at)


async def measure_kind(url: str, args: argparse.Namespace) -> dict[str, tuple[float, float, float]]:
    """Per list: (median us for 1 row, for ``--rows`` rows, us per row)."""
    work = Path(tempfile.mkdtemp(prefix="nextgen-lists-"))
    settings = Settings(
        database_url=url,
        tenants_dir=REPO / "tenants",
        mail_dir=work / "mail",
        demo=True,
        secret_key="bench-lists-" + "k" * 32,
        rate_limit_points=10**9,
    )
    app = create_app(settings)
    results: dict[str, tuple[float, float, float]] = {}
    async with LifespanManager(app, startup_timeout=300, shutdown_timeout=60) as manager:
        await seed(args.rows)
        tokens = {"clerk": await sign_in(manager.app, *CLERK), "admin": await sign_in(manager.app, *ADMIN)}
        for name, (path, who, query) in LISTS.items():
            small, large = query(1), query(args.rows)
            for document, size in ((small, 1), (large, args.rows)):
                answer = orjson.loads(await call(manager.app, path, document, tokens[who]))
                assert "errors" not in answer, (name, answer)
                if size == args.rows:
                    count = orjson.dumps(answer).count(b'"cursor"')
                    assert count == args.rows, (name, count, answer)
            for _ in range(30):
                await call(manager.app, path, small, tokens[who])
                await call(manager.app, path, large, tokens[who])
            times: dict[int, list[float]] = {1: [], args.rows: []}
            for _ in range(args.requests):
                for document, size in ((small, 1), (large, args.rows)):
                    start = time.perf_counter()
                    await call(manager.app, path, document, tokens[who])
                    times[size].append(time.perf_counter() - start)
            one, many = (statistics.median(times[s]) * 1e6 for s in (1, args.rows))
            results[name] = (one, many, (many - one) / (args.rows - 1))
            print(f"  {name}: 1 row {one:,.0f} us, {args.rows} rows {many:,.0f} us", flush=True)
    return results


def table(kind: str, results: dict[str, tuple[float, float, float]], rows: int) -> list[str]:
    page = results["roster page (the reference)"][2]
    lines = [
        f"**{kind}**",
        "",
        f"| list | 1 row us | {rows} rows us | us per row | per row / the page's |",
        "|---|---|---|---|---|",
    ]
    for name, (one, many, per_row) in results.items():
        lines.append(f"| {name} | {one:,.0f} | {many:,.0f} | {per_row:,.1f} | **{per_row / page:.2f}** |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--postgres-url", help="a PostgreSQL server to make a database on")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--write", type=Path, help="put the table between its markers in this file")
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    out = [
        START,
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `bench/lists.py --requests "
        f"{args.requests} --rows {args.rows}`, in-process, one request at a time: each list asked for 1 "
        f"row and for {args.rows} with the same selection; a row's cost is the difference over the "
        f"rows between. Python {sys.version.split()[0]}.",
        "",
    ]
    if args.results:  # one database, in a process of its own (see below)
        with (
            tempfile.TemporaryDirectory(prefix="nextgen-lists-db-") as work,
            database(kinds[0], Path(work), args.postgres_url) as url,
        ):
            args.results.write_bytes(orjson.dumps(asyncio.run(measure_kind(url, args))))
        return
    for kind in kinds:
        # Each database in a process of its own: Tortoise keeps the SQL it built for a model
        # (its placeholders) for the life of the process, whichever database comes next.
        label = "PostgreSQL" if kind == "postgres" else "SQLite"
        print(f"{label}:", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".json") as results:
            command = [sys.executable, __file__, "--database", kind, "--results", results.name]
            command += ["--requests", str(args.requests), "--rows", str(args.rows)]
            if args.postgres_url:
                command += ["--postgres-url", args.postgres_url]
            subprocess.run(command, check=True)
            measured = {
                name: tuple(row) for name, row in orjson.loads(Path(results.name).read_bytes()).items()
            }
        out += [*table(label, measured, args.rows), ""]
    out.append(END)
    text = "\n".join(out)
    print(text)
    if args.write:
        write_between(args.write, START, END, text, "Rows of every compiled list (`bench/lists.py`)")


if __name__ == "__main__":
    main()
