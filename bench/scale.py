"""National scale (issue 21): each hot request at demo size and at national size, side by side.

    .venv/bin/python bench/scale.py [--database sqlite|postgres|both] [--postgres-url URL]
        [--roster 1000000] [--audit 1000000] [--sessions 1000000] [--accounts 200000]
        [--requests 40] [--busy-seconds 120] [--keep]

For each database: the demo data (migrated and loaded as ``serve --demo`` does), each scenario
timed in-process through ASGI (the whole app: HTTP parsing, the view, the compiled path or
Strawberry, the SQL) ``--requests`` times, sequentially; then the big tables are loaded and the
same scenarios are timed again, on the database as users get it: the roster through the
service's own command (``nextgen-gql import cmecf-accounts``, one CSV a court, a process of its
own; one in 50 accounts then linked by an ``UPDATE`` that the service's triggers count), the
tables no command loads (accounts, audit events, sessions; one precomputed password hash reused)
with ``COPY`` on PostgreSQL and one ``executemany`` transaction on SQLite, and no ``ANALYZE`` of
the benchmark's own (the load times are reported). Then maintenance
deletes the expired sessions while sign-ins are timed beside it, back to back, for its first
``--busy-seconds`` (then it finishes alone; the time it took is reported). It prints a Markdown table
(p50 and p99 in milliseconds, demo and national, and the ratio of the p50s).

The issue's national load is 2,000,000 PACER accounts, 3,000,000 roster rows (1,000,000 at the
largest court), 20,000,000 audit events and 5,000,000 sessions; the defaults here are smaller
(the largest court's 1,000,000 roster rows at ``mad``, 1,000,000 audit events there, 1,000,000
expired sessions, 200,000 accounts) so that a run fits in minutes on a 2-core machine. Not
part of the test suite or of ``.ci/run``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.api.test_many_courts import generate_courts  # noqa: E402

from nextgen_gql.app import create_app  # noqa: E402
from nextgen_gql.settings import Settings  # noqa: E402

TENANTS = REPO / "tests" / "fixtures" / "tenants"
CLERK, CLERK_PASSWORD = "madclerk01", "Court-Docket-Review-2026!"
FILER, FILER_PASSWORD = "jmorgan2019", "Granite-Falcon-Morning-88"
SECRET = "bench-secret-key-of-the-scale-benchmark-0123456789"

SCENARIOS: dict[str, tuple[str, dict[str, Any], str]] = {
    # name: (query, variables, who) — who: clerk (at mad), filer (national)
    "cmecfAccounts(first: 100) with totalCount": (
        "{ cmecfAccounts(first: 100) { totalCount edges { node { login lastName } } } }",
        {},
        "clerk",
    ),
    'cmecfAccounts(first: 20, search: "3+ chars")': (
        "query($s: String) { cmecfAccounts(first: 20, search: $s) { totalCount edges { node { login } } } }",
        {"s": "roster12345"},
        "clerk",
    ),
    "cmecfAccounts(first: 100, linked: false)": (
        "{ cmecfAccounts(first: 100, linked: false) { totalCount edges { node { login } } } }",
        {},
        "clerk",
    ),
    "cmecfAccounts(first: 100, orderBy: LAST_NAME DESC)": (
        "{ cmecfAccounts(first: 100, orderBy: {field: LAST_NAME, direction: DESC}) { totalCount"
        " edges { node { login } } } }",
        {},
        "clerk",
    ),
    "auditEvents(first: 50) with totalCount": (
        "{ auditEvents(first: 50) { totalCount edges { node { id action } } } }",
        {},
        "clerk",
    ),
    "registrations(first: 25, status: PENDING)": (
        "{ registrations(first: 25, status: PENDING) { totalCount edges { node { id } } } }",
        {},
        "clerk",
    ),
    "me (session lookup and the account's lists)": (
        "{ me { username privileges { role court { code } } registrations { status } } }",
        {},
        "filer",
    ),
    "me { statement(quarter) { chargesConnection(first: 50) } }": (
        '{ me { statement(quarter: "2026Q4") { chargesCents chargesConnection(first: 50) { totalCount'
        " edges { node { amountCents } } } } } }",
        {},
        "filer",
    ),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=600, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> str:
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: SignInInput!) { signIn(input: $i) { token errors { code } } }",
            "variables": {"i": {"username": username, "password": password}},
        },
    )
    body = response.json()
    token = body["data"]["signIn"]["token"]
    assert token, body
    return str(token)


async def timed(work: Callable[[], Awaitable[None]], n: int) -> list[float]:
    await work()  # warm
    out = []
    for _ in range(n):
        started = time.perf_counter()
        await work()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def measure(client: httpx.AsyncClient, tokens: dict[str, str], n: int) -> dict[str, list[float]]:
    results = {}
    for name, (query, variables, who) in SCENARIOS.items():
        path = "/courts/mad/graphql" if who == "clerk" else "/graphql"

        async def send(
            query: str = query, variables: dict[str, Any] = variables, path: str = path, who: str = who
        ) -> None:
            response = await client.post(
                path,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body

        results[name] = await timed(send, n)
    results["signIn (argon2id check, session written)"] = await timed(
        lambda: _sign_in_once(client), max(5, n // 8)
    )
    return results


async def _sign_in_once(client: httpx.AsyncClient) -> None:
    await sign_in(client, FILER, FILER_PASSWORD)


CHUNK = 100_000


def roster_files(
    args: argparse.Namespace, courts: list[str], folder: Path, password_hash: str
) -> dict[str, Path]:
    """``--roster`` legacy accounts as one import file a court: ``--largest`` at mad, the rest
    spread over the other courts."""
    others = [c for c in courts if c != "mad"] or ["mad"]
    handles: dict[str, Any] = {}
    paths: dict[str, Path] = {}
    try:
        for g in range(1, args.roster + 1):
            court = "mad" if g <= args.largest else others[g % len(others)]
            if court not in handles:
                paths[court] = folder / f"roster-{court}.csv"
                handles[court] = paths[court].open("w", encoding="utf-8")
                handles[court].write("login,first_name,last_name,email,role,password_hash\n")
            handles[court].write(f'roster{g},Bulk,Roster{g},r{g}@example.org,attorney,"{password_hash}"\n')
    finally:
        for handle in handles.values():
            handle.close()
    return paths


def import_roster(url: str, tenants: Path, files: dict[str, Path]) -> float:
    """Every court's file through ``nextgen-gql import cmecf-accounts``, as an integrator runs it."""
    exe = Path(sys.executable).parent / "nextgen-gql"
    env = {
        **os.environ,
        "NEXTGEN_GQL_DATABASE_URL": url,
        "NEXTGEN_GQL_TENANTS_DIR": str(tenants),
        "NEXTGEN_GQL_SECRET_KEY": SECRET,
    }
    started = time.perf_counter()
    for court, path in files.items():
        subprocess.run(
            [str(exe), "import", "cmecf-accounts", court, str(path)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    return time.perf_counter() - started


#: One in 50 legacy accounts linked, over the weeks since 2022 (the triggers count each).
LINK_SOME = {
    "sqlite": "UPDATE cmecf_accounts SET linked_at = datetime('2022-01-01', '+' || id || ' minutes') || '+00:00'"
    " WHERE id % 50 = 0 AND login LIKE 'roster%'",
    "postgres": "UPDATE cmecf_accounts SET linked_at = TIMESTAMPTZ '2022-01-01 00:00:00+00' + id * INTERVAL '1 minute'"
    " WHERE id % 50 = 0 AND login LIKE 'roster%'",
}
AUDIT_COLUMNS = ("at", "action", "court_id")
SESSION_COLUMNS = ("token_hash", "account_id", "created_at", "expires_at", "redaction_acknowledged")
ACCOUNT_COLUMNS = (
    "account_number",
    "username",
    "username_key",
    "first_name",
    "last_name",
    "email",
    "password_hash",
    "created_at",
    "is_shared",
)
#: The audit events span this long back from now (one every few seconds nationally).
AUDIT_SPAN = dt.timedelta(days=730)


def bulk(
    args: argparse.Namespace, courts: list[str], first_account: int, password_hash: str, now: dt.datetime
) -> dict[str, Callable[[], Iterator[tuple[Any, ...]]]]:
    """Each big table's rows, generated lazily (the national set does not fit in a list)."""
    step = AUDIT_SPAN / max(args.audit, 1)
    others = [c for c in courts if c != "mad"] or ["mad"]

    def accounts() -> Iterator[tuple[Any, ...]]:
        for g in range(1, args.accounts + 1):
            yield (
                f"B{g:06X}",  # account numbers are 7 characters
                f"bulk{g}",
                f"bulk{g}",
                "Bulk",
                f"Person{g}",
                f"bulk{g}@example.org",
                password_hash,
                now - dt.timedelta(days=400),
                False,
            )

    def audit() -> Iterator[tuple[Any, ...]]:
        # A quarter at mad, a tenth national (no court), the rest over the other courts.
        for g in range(1, args.audit + 1):
            court = "mad" if g % 4 == 0 else None if g % 10 == 1 else others[g % len(others)]
            yield (now - step * g, ("signin.success", "signin.failure", "cmecf.link")[g % 3], court)

    def sessions() -> Iterator[tuple[Any, ...]]:
        # Nearly all expired long ago (what maintenance deletes); one in 20 live.
        for g in range(args.sessions):
            live = g % 20 == 0
            yield (
                f"{uuid.uuid4().hex}{g:032x}",
                first_account + g % max(args.accounts, 1),
                now - dt.timedelta(days=1 if live else 90),
                now + dt.timedelta(days=1) if live else now - dt.timedelta(days=60),
                False,
            )

    return {
        "pacer_accounts": accounts,
        "audit_events": audit,
        "sessions": sessions,
    }


COLUMNS = {
    "pacer_accounts": ACCOUNT_COLUMNS,
    "audit_events": AUDIT_COLUMNS,
    "sessions": SESSION_COLUMNS,
}


def chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    return iter(lambda: list(itertools.islice(rows, CHUNK)), [])


async def load(
    url: str, data: dict[str, Callable[[], Iterator[tuple[Any, ...]]]], roster: Callable[[], float]
) -> dict[str, float]:
    """Load every table: the roster through the import command (``roster``), the others with
    ``COPY`` on PostgreSQL, ``executemany`` in one transaction on SQLite (the service's triggers
    keeping counts as they do for any write); no ``ANALYZE``. The seconds each took."""
    took: dict[str, float] = {"cmecf_accounts (nextgen-gql import)": await asyncio.to_thread(roster)}
    if url.startswith("sqlite://"):
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        conn.execute("PRAGMA synchronous = OFF")
        with conn:
            for table, rows in data.items():
                started = time.perf_counter()
                cols = COLUMNS[table]
                sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                for chunk in chunks(rows()):
                    conn.executemany(
                        sql,
                        [
                            tuple(v.isoformat(" ") if isinstance(v, dt.datetime) else v for v in r)
                            for r in chunk
                        ],
                    )
                took[table] = time.perf_counter() - started
            started = time.perf_counter()
            conn.execute(LINK_SOME["sqlite"])
            took["linking 1 in 50"] = time.perf_counter() - started
        conn.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            for table, rows in data.items():
                started = time.perf_counter()
                for chunk in chunks(rows()):
                    await conn.copy_records_to_table(table, records=chunk, columns=list(COLUMNS[table]))
                took[table] = time.perf_counter() - started
            started = time.perf_counter()
            await conn.execute(LINK_SOME["postgres"])
            took["linking 1 in 50"] = time.perf_counter() - started
        finally:
            await conn.close()
    return took


async def leg(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="nextgen-scale-tenants-"))
    tenants = work / "tenants"
    shutil.copytree(TENANTS, tenants)
    courts = ["ca1", "mad", "mab"] + (generate_courts(tenants, args.courts - 3) if args.courts > 3 else [])
    settings = Settings(
        database_url=url,
        tenants_dir=tenants,
        mail_dir=work / "mail",
        demo=True,
        secret_key=SECRET,
        request_log=False,
        log_level="warning",
        maintenance_interval_s=0,
        reminder_interval_s=0,
        statement_timeout_ms=0,
        rate_limit_points=10**9,
    )
    now = dt.datetime.now(dt.UTC)
    async with app_client(settings) as client:
        tokens = {
            "clerk": await sign_in(client, CLERK, CLERK_PASSWORD),
            "filer": await sign_in(client, FILER, FILER_PASSWORD),
        }
        demo = await measure(client, tokens, args.requests)
        from nextgen_gql.models import PacerAccount
        from nextgen_gql.services import audit_partitions

        filer = await PacerAccount.get(username_key=FILER)
        data = bulk(args, courts, filer.id, filer.password_hash, now)
        # The months of the trail (PostgreSQL), as a migrated system has them from 0014.
        months = AUDIT_SPAN.days // 28 + 1
        await audit_partitions.ensure_months(now - AUDIT_SPAN, ahead=months)
    print(f"{kind}: loading ...", file=sys.stderr, flush=True)
    files = roster_files(args, courts, work, filer.password_hash)
    loaded = await load(url, data, lambda: import_roster(url, tenants, files))
    for path in files.values():
        path.unlink()
    print(f"{kind}: loaded {loaded}", file=sys.stderr, flush=True)
    async with app_client(settings.with_(demo=False)) as client:
        tokens = {
            "clerk": await sign_in(client, CLERK, CLERK_PASSWORD),
            "filer": await sign_in(client, FILER, FILER_PASSWORD),
        }
        national = await measure(client, tokens, args.requests)
        load_average = os.getloadavg()
        # Sign-in while maintenance deletes the expired sessions, as `serve`'s task runs it.
        from nextgen_gql.services import maintenance

        idle = await timed(lambda: _sign_in_once(client), 20)
        task = asyncio.create_task(maintenance.run(maintenance.Retention(), database_url=url, pause=0.01))
        busy: list[float] = []
        started = time.perf_counter()
        # Sign-ins back to back for --busy-seconds of the deletes (on SQLite each batch waits for
        # a pause between requests, so a steady load slows the deletes down), then the rest alone.
        while not task.done() and time.perf_counter() - started < args.busy_seconds:
            busy += await timed(lambda: _sign_in_once(client), 1)
        report = await task
        pruning = time.perf_counter() - started
    shutil.rmtree(work, ignore_errors=True)
    return {
        "kind": kind,
        "demo": demo,
        "national": national,
        "loaded": loaded,
        "idle": idle,
        "busy": busy,
        "pruned": report.deleted.get("sessions", 0),
        "pruning": pruning,
        "load_average": load_average,
    }


def table(result: dict[str, Any]) -> list[str]:
    lines = [
        f"### {result['kind']}",
        "",
        "Loaded in "
        + ", ".join(f"{table} {seconds:.0f} s" for table, seconds in result["loaded"].items())
        + f" (total {sum(result['loaded'].values()):.0f} s). p50 and p99 in ms, sequential requests in-process;"
        + " load average (1/5/15 min) after the national requests: "
        + " / ".join(f"{x:.1f}" for x in result["load_average"])
        + ".",
        "",
        "| scenario | demo p50 | demo p99 | national p50 | national p99 | p50 ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, demo in result["demo"].items():
        nat = result["national"][name]
        d50, n50 = statistics.median(demo), statistics.median(nat)
        lines.append(
            f"| `{name}` | {d50:.1f} | {percentile(demo, 0.99):.1f} | {n50:.1f} | {percentile(nat, 0.99):.1f}"
            f" | x{n50 / d50:.2f} |"
        )
    idle, busy = result["idle"], result["busy"]
    lines += [
        "",
        f"Maintenance deleted {result['pruned']:,} expired sessions in {result['pruning']:.1f} s (batches of"
        f" {1000 if result['kind'] == 'PostgreSQL' else 100:,}, 10 ms apart, as `serve` runs it). Sign-in p50/p99:"
        f" idle {statistics.median(idle):.0f}/{percentile(idle, 0.99):.0f} ms, during the deletes"
        + (
            f" {statistics.median(busy):.0f}/{percentile(busy, 0.99):.0f} ms ({len(busy)} sign-ins)."
            if busy
            else " (none: the deletes ended first)."
        ),
        "",
    ]
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("NEXTGEN_GQL_BENCH_POSTGRES"))
    parser.add_argument("--national", action="store_true", help="the issue's national set (the sizes below)")
    parser.add_argument("--courts", type=int, default=3)
    parser.add_argument("--roster", type=int, default=1_000_000)
    parser.add_argument("--largest", type=int, default=None, help="roster rows at mad (default: all)")
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument(
        "--busy-seconds", type=float, default=120, help="how long sign-ins are timed during the deletes"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostgreSQL database (its URL is printed)"
    )
    args = parser.parse_args()
    if args.national:
        args.courts, args.roster, args.largest = 203, 3_000_000, 1_000_000
        args.audit, args.sessions, args.accounts = 20_000_000, 5_000_000, 2_000_000
    if args.largest is None:
        args.largest = args.roster
    if args.database == "both":
        # Tortoise builds a model's statements for the first database it meets: one process a database.
        for kind in ("sqlite", "postgres"):
            argv = [a for a in sys.argv[1:] if a not in ("both", "--database")] + ["--database", kind]
            print(f"== {kind}", file=sys.stderr, flush=True)
            child = await asyncio.create_subprocess_exec(sys.executable, __file__, *argv)
            await child.wait()
        return
    work = Path(tempfile.mkdtemp(prefix="nextgen-scale-"))
    results = []
    if args.database == "sqlite":
        results.append(await leg("SQLite", f"sqlite://{work / 'scale.sqlite3'}", args))
    if args.database == "postgres":
        if not args.postgres_url:
            sys.exit("--postgres-url (or NEXTGEN_GQL_BENCH_POSTGRES) is needed for PostgreSQL")
        import asyncpg

        name = f"scale_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(f"{args.postgres_url}/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        try:
            results.append(await leg("PostgreSQL", f"{args.postgres_url}/{name}", args))
        finally:
            if args.keep:
                print(f"kept: {args.postgres_url}/{name}", file=sys.stderr, flush=True)
            else:
                admin = await asyncpg.connect(f"{args.postgres_url}/postgres")
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()
    cpu = os.cpu_count()
    print(
        f"Machine: {platform.machine()}, {cpu} cores, Python {platform.python_version()}; {args.courts} courts,"
        f" roster {args.roster:,} ({args.largest:,} at mad), {args.audit:,} audit events (a quarter at mad),"
        f" {args.sessions:,} sessions (19 in 20 expired), {args.accounts:,} accounts.\n"
    )
    for result in results:
        print("\n".join(table(result)))


if __name__ == "__main__":
    asyncio.run(main())
