"""The performance harness: the real app beside a naive peer and a raw Starlette + orjson baseline.

    .venv/bin/python bench/harness.py [--rounds 3] [--duration 5] [--accounts 100000]
        [--database sqlite|postgres|both] [--postgres-url postgres://user@host:port]
    .venv/bin/python bench/harness.py --inprocess [--requests 200] [--profile] [--database ...]
    .venv/bin/python bench/harness.py --overhead [--rounds 5] [--database ...]

Needs `wrk` (Debian: `apt-get install wrk`). In one run, on one machine and for each
database asked for, it builds a database (100,000 PACER accounts, a 100-row linked roster
at `mad`, a filer with privileges and a firm, 203 courts), serves (a) `bench/raw_app.py`
(the same SQL for the same JSON, no GraphQL), (b) `bench/peer_app.py` (a naive Strawberry +
Tortoise app with DataLoaders) and (c) `nextgen-gql serve`, one uvicorn worker each, checks
that the three answer every scenario alike, and drives them in alternation (raw, peer, real
in each round) from a separate wrk process on loopback, bounded in time. It prints
requests/s, p50/p99 and the ratios real/raw and peer/raw for each scenario, and for the
page and `me` real/bare, against the bare baselines of `bench/raw_app.py` (one `SELECT`: the
page's columns with no authentication; an account by its token) (medians of
the rounds), sign-ins/s, the p99 of `me` during a sign-in burst, and the real server's
peak RSS, and writes them to docs/benchmarks.md between the harness markers (unless
`--no-write`).

PostgreSQL (`--database postgres` or `both`): the same data in a database of its own on
the server at `--postgres-url`, or, without one, in a throwaway cluster started with
`scripts/pg-cluster` and stopped at the end; the real app and the peer run on asyncpg
through Tortoise, the raw baseline on an asyncpg pool of the same size (1 to 10).

`--inprocess`: no servers and no wrk; over the same database, `bench/layers.py` sends each
app N requests per scenario straight through ASGI and prints the median microseconds per
request, and with `--profile` where that time goes, by layer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from markers import write_between

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
BIN = Path(sys.executable).parent
PASSWORD = "Bench-Harbor-Lantern-42"
MARK_START, MARK_END = "<!-- harness:start -->", "<!-- harness:end -->"
APPS = ("raw", "peer", "real")
#: Sessions written straight into the database (argon2 is not what is measured).
TOKENS: dict[str | None, str | None] = {
    "filer": "bench-filer-session-token",
    "clerk": "bench-clerk-session-token",
    None: None,
}

SCENARIOS = {
    "me": (
        "/graphql",
        "filer",
        """query Landing #me
{ me { id username firstName lastName email accountNumber isLegacy
  privileges { court { code name } role source } firm { name clientCodeRequired } } }""",
    ),
    "clerk 100-row page": (
        "/courts/mad/graphql",
        "clerk",
        """query Roster #roster
{ cmecfAccounts(first: 100) { totalCount
  edges { cursor node { id login firstName lastName role linkedAt
    linkedAccount { username firstName lastName email } } }
  pageInfo { hasNextPage endCursor } } }""",
    ),
    "courts (203 tenants)": (
        "/graphql",
        None,
        """query Courts #courts
{ courts { code name kind nextgenSince isNextgen acceptedRoles } }""",
    ),
}
#: The outside peer (PostgreSQL only): PostGraphile 5 on Node 22, from `npm ci --prefix bench/postgraphile`.
POSTGRAPHILE = BENCH / "postgraphile"
PGL_NODE = POSTGRAPHILE / "node_modules" / ".bin" / "node"
#: The clerk's page as PostGraphile's reflected schema names it: the same rows, order, columns
#: and linked account (through `cmecf_links`), its total counted; no authentication.
PGL_PAGE = """query Roster
{ allCmecfAccounts(first: 100, condition: {courtId: "mad"}, orderBy: [LOGIN_KEY_ASC, ROW_ID_ASC]) { totalCount
  edges { cursor node { id login firstName lastName role
    cmecfLinkByCmecfAccountId { linkedAt pacerAccountByAccountId { username firstName lastName email } } } }
  pageInfo { hasNextPage endCursor } } }"""
PGL_SCENARIO = "clerk 100-row page"
#: The bare baselines (`bench/raw_app.py`): the least a handler can do for the same data, GET.
BARE = {"me": "/bare/me", "clerk 100-row page": "/bare/page/mad"}
SIGN_IN = (
    'mutation { signIn(input: {username: "benchfiler", password: "' + PASSWORD + '",'
    " redactionAcknowledged: true}) { token } }"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL)


# --- Databases -----------------------------------------------------------------------------


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def asyncpg_dsn(url: str) -> str:
    """A Tortoise PostgreSQL URL as asyncpg takes it (no pool options)."""
    return "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]


async def pg_admin(server: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def database(kind: str, work: Path, postgres_url: str | None) -> Iterator[str]:
    """The URL of an empty database of ``kind``, removed afterwards (a cluster of its own unless
    ``postgres_url`` names a server: the database is then made and dropped there)."""
    if kind == "sqlite":
        yield f"sqlite://{work / 'bench.sqlite3'}"
        return
    cluster: Path | None = None
    if postgres_url:
        parts = urlsplit(postgres_url)
        server = f"{parts.scheme}://{parts.netloc}"
        admin = server + (parts.path if parts.path not in ("", "/") else "/postgres")
    else:
        cluster = Path(tempfile.mkdtemp(prefix="nextgen-harness-pg-"))
        port = free_port()
        print(f"starting a PostgreSQL cluster on port {port} ...", flush=True)
        subprocess.run([str(REPO / "scripts" / "pg-cluster"), "start", str(cluster), str(port)], check=True)
        server = f"postgres://postgres@127.0.0.1:{port}"
        admin = server + "/postgres"
    name = f"nextgen_bench_{os.getpid()}"
    try:
        asyncio.run(pg_admin(admin, f'CREATE DATABASE "{name}"'))
        try:
            yield f"{server}/{name}"
        finally:
            asyncio.run(pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        if cluster is not None:
            subprocess.run([str(REPO / "scripts" / "pg-cluster"), "stop", str(cluster)], check=False)


@dataclass
class Statements:
    """The harness's few direct statements, written with `?`, on sqlite3 or asyncpg."""

    conn: Any
    postgres: bool

    def _sql(self, text: str) -> str:
        if not self.postgres:
            return text
        parts = text.split("?")
        return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))

    def stamp(self, moment: dt.datetime) -> Any:
        # SQLite holds date-times as ISO text, as Tortoise writes them; PostgreSQL as timestamptz.
        return moment if self.postgres else moment.isoformat(sep=" ")

    async def fetch(self, text: str, *params: Any) -> list[Any]:
        if self.postgres:
            return list(await self.conn.fetch(self._sql(text), *params))
        return list(self.conn.execute(text, params).fetchall())

    async def many(self, text: str, rows: list[tuple[Any, ...]]) -> None:
        if self.postgres:
            await self.conn.executemany(self._sql(text), rows)
        else:
            self.conn.executemany(text, rows)

    async def version(self) -> str:
        if self.postgres:
            server: str = (await self.fetch("SHOW server_version"))[0][0]
            return "PostgreSQL " + server.split()[0]
        return f"SQLite {sqlite3.sqlite_version}"


@contextlib.asynccontextmanager
async def statements(url: str) -> AsyncIterator[Statements]:
    if is_postgres(url):
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            yield Statements(conn, postgres=True)
        finally:
            await conn.close()
        return
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as conn, conn:
        yield Statements(conn, postgres=False)


async def direct_rows(url: str) -> str:
    """Links for the roster page, the filer's privileges and firm, two live sessions: the
    same rows on SQLite and PostgreSQL. Returns the database's name and version."""
    now = dt.datetime.now(dt.UTC)
    async with statements(url) as db:
        ids = [
            r[0]
            for r in await db.fetch(
                "SELECT id FROM pacer_accounts WHERE username LIKE 'person%' ORDER BY id LIMIT 100"
            )
        ]
        legacy = [
            r[0]
            for r in await db.fetch(
                "SELECT id FROM cmecf_accounts WHERE court_id = 'mad' ORDER BY login_key LIMIT 100"
            )
        ]
        await db.many(
            "INSERT INTO cmecf_links (cmecf_account_id, court_id, account_id, linked_by_id, linked_at)"
            " VALUES (?,?,?,?,?)",
            [(c, "mad", a, a, db.stamp(now)) for c, a in zip(legacy, ids, strict=True)],
        )
        people = {
            r[1]: r[0]
            for r in await db.fetch(
                "SELECT id, username FROM pacer_accounts WHERE username IN ('benchfiler', 'benchclerk')"
            )
        }
        filer = people["benchfiler"]
        await db.many(
            "INSERT INTO filing_privileges (court_id, account_id, role, source, granted_at) VALUES (?,?,?,?,?)",
            [(c, filer, "attorney", "registration", db.stamp(now)) for c in ("ca1", "mab", "mad")],
        )
        firm = (
            await db.fetch(
                "INSERT INTO firms (account_number, name, client_code_required, created_at)"
                " VALUES ('9000000', 'Bench LLP', ?, ?) RETURNING id",
                False,
                db.stamp(now),
            )
        )[0][0]
        await db.many(
            "INSERT INTO firm_memberships (firm_id, account_id, is_admin, joined_at) VALUES (?,?,?,?)",
            [(firm, filer, True, db.stamp(now))],
        )
        await db.many(
            "INSERT INTO sessions (token_hash, account_id, created_at, expires_at, redaction_acknowledged)"
            " VALUES (?,?,?,?,?)",
            [
                (
                    hashlib.sha256(token.encode()).hexdigest(),
                    people[f"bench{who}"],
                    db.stamp(now),
                    db.stamp(now + dt.timedelta(days=1)),
                    True,
                )
                for who, token in TOKENS.items()
                if who and token
            ],
        )
        return await db.version()


def build_database(work: Path, accounts: int, url: str) -> tuple[dict[str, str], Path, str]:
    """Tenants, accounts, roster, links, firm, sessions; returns the real app's environment,
    the tenants folder and the database's name and version."""
    sys.path.insert(0, str(REPO))
    from argon2 import PasswordHasher
    from tests.api.test_many_courts import generate_courts

    tenants = work / "tenants"
    if not tenants.exists():
        shutil.copytree(REPO / "tenants", tenants)
        generate_courts(tenants, 200)
    env = {
        **os.environ,
        "NEXTGEN_GQL_DATABASE_URL": url,
        "NEXTGEN_GQL_TENANTS_DIR": str(tenants),
        "NEXTGEN_GQL_MAIL_DIR": str(work / "mail"),
        # Every request is costed and charged, as a user's is, but the budget never runs out:
        # wrk sends more in a run than an hour's default 5,000 points (it would measure 429s).
        "NEXTGEN_GQL_RATE_LIMIT_POINTS": str(10**9),
        # PostgreSQL requires one (authenticator secrets are sealed with it); the bench's own.
        "NEXTGEN_GQL_SECRET_KEY": os.environ.get(
            "NEXTGEN_GQL_SECRET_KEY", "bench-harness-secret-key-0123456789abcdef"
        ),
        "CI": "1",
    }
    hashed = PasswordHasher().hash(PASSWORD)
    people = work / "people.csv"
    with people.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "account_number",
                "username",
                "first_name",
                "last_name",
                "email",
                "created_at",
                "is_shared",
                "password_hash",
            ]
        )
        out.writerow(
            ["1000000", "benchfiler", "Bea", "Filer", "bea@example.org", "2020-01-01", "false", hashed]
        )
        out.writerow(
            ["1000001", "benchclerk", "Cal", "Clerk", "cal@example.org", "2020-01-01", "false", hashed]
        )
        for i in range(accounts - 2):
            out.writerow(
                [
                    str(2_000_000 + i),
                    f"person{i:06d}",
                    "Pat",
                    f"Person{i}",
                    f"p{i}@example.org",
                    "2019-05-05",
                    "false",
                    hashed,
                ]
            )
    roster = work / "roster.csv"
    with roster.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["login", "first_name", "last_name", "email", "role", "password_hash"])
        for i in range(150):
            out.writerow([f"filer{i:03d}", "Fay", f"Filer{i}", f"f{i}@example.org", "attorney", hashed])
    nextgen = str(BIN / "nextgen-gql")
    run(nextgen, "import", "pacer-accounts", str(people), env=env)
    run(nextgen, "import", "cmecf-accounts", "mad", str(roster), env=env)
    run(nextgen, "clerks", "grant", "mad", "benchclerk", env=env)
    version = asyncio.run(direct_rows(url))
    return env, tenants, version


def app_env(env: dict[str, str], tenants: Path) -> dict[str, str]:
    """The environment of the raw baseline and the peer (they import nextgen_gql.tenancy)."""
    return {
        **env,
        "BENCH_DATABASE_URL": env["NEXTGEN_GQL_DATABASE_URL"],
        "BENCH_TENANTS": str(tenants),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")])),
    }


# --- Serving and measuring -----------------------------------------------------------------


@contextlib.contextmanager
def serving(
    argv: list[str], env: dict[str, str], port: int, log: Path, probe: str = "{ courts { code } } #courts"
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (
                        httpx.post(
                            f"http://127.0.0.1:{port}/graphql",
                            json={"query": probe},
                            timeout=2,
                        ).status_code
                        == 200
                    ):
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            yield proc
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def uvicorn_cmd(module: str, port: int) -> list[str]:
    return [
        str(BIN / "uvicorn"),
        f"{module}:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def wrk_script(work: Path, name: str, query: str | None, token: str | None) -> Path:
    """A wrk script POSTing ``query`` (None: a GET, for the bare baselines)."""
    if query is None:
        lines = ['wrk.method = "GET"']
    else:
        body = json.dumps({"query": query})
        lines = [
            'wrk.method = "POST"',
            f"wrk.body = {json.dumps(body)}",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    path = work / f"{re.sub(r'[^a-z0-9]+', '-', name)}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} failed responses\n{out}")
    return {"rps": rps, "p50": ms("50"), "p99": ms("99")}


def rss_peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def compare(bases: dict[str, str], path: str, query: str, token: str | None) -> None:
    """Every app answers as the raw baseline does (parsed JSON, so key order aside), and raw
    answers in full (no errors, no null root field: a wrong token would give three equal nulls)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answers = {
        app: httpx.post(base + path, json={"query": query}, headers=headers, timeout=30).json()
        for app, base in bases.items()
    }
    expected = answers["raw"]
    if "errors" in expected or None in expected.get("data", {None: None}).values():
        raise RuntimeError(f"raw does not answer {path} in full: {json.dumps(expected)[:600]}")
    for app, answer in answers.items():
        if answer != expected:
            raise RuntimeError(
                f"{app} and raw answers differ for {path}:\n{json.dumps(answer)[:600]}\n"
                f"{json.dumps(expected)[:600]}"
            )


@dataclass
class Leg:
    """One database's figures."""

    database: str
    results: dict[str, dict[str, list[dict[str, float]]]] = field(default_factory=dict)
    idle: dict[str, float] = field(default_factory=dict)
    during: dict[str, float] = field(default_factory=dict)
    logins: float = 0.0
    rss: float = 0.0
    #: PostGraphile's peak RSS (MB), when it ran.
    pgl_rss: float = 0.0


def same_page(real: dict[str, Any], pgl: dict[str, Any]) -> None:
    """PostGraphile's page holds what the real app's does: the total, the logins in order, their
    names, roles, link times and linked accounts (its ids and cursors are its own)."""
    mine, theirs = real["data"]["cmecfAccounts"], pgl["data"]["allCmecfAccounts"]

    def rows(edges: list[dict[str, Any]], linked: Any) -> list[tuple[Any, ...]]:
        return [
            (
                e["node"]["login"],
                e["node"]["firstName"],
                e["node"]["lastName"],
                e["node"]["role"].upper(),
                *linked(e["node"]),
            )
            for e in edges
        ]

    def who(account: dict[str, Any] | None) -> Any:
        return account and (account["username"], account["firstName"], account["lastName"], account["email"])

    ours = rows(mine["edges"], lambda n: (n["linkedAt"], who(n["linkedAccount"])))
    link = "cmecfLinkByCmecfAccountId"
    peers = rows(
        theirs["edges"],
        lambda n: (n[link] and n[link]["linkedAt"], who(n[link] and n[link]["pacerAccountByAccountId"])),
    )
    if mine["totalCount"] != theirs["totalCount"] or ours != peers or len(ours) != 100:
        raise RuntimeError(
            f"PostGraphile's page differs from the real app's:\n{json.dumps(pgl)[:600]}\n{json.dumps(real)[:600]}"
        )


@dataclass
class Peer:
    """An outside peer's server: its base URL and process."""

    base: str
    proc: subprocess.Popen[bytes]


@contextlib.contextmanager
def postgraphile(url: str, work: Path) -> Iterator[Peer | None]:
    """PostGraphile serving the database at ``url`` (None when it is not installed)."""
    if not PGL_NODE.exists():
        print(
            "PostGraphile is not installed (npm ci --prefix bench/postgraphile): the outside peer is left out",
            flush=True,
        )
        yield None
        return
    port = free_port()
    env = {**os.environ, "GRAPHILE_ENV": "production"}
    argv = [str(PGL_NODE), str(POSTGRAPHILE / "serve.mjs"), url, str(port)]
    probe = "{ allCourts(first: 1) { totalCount } }"
    with serving(argv, env, port, work / "postgraphile.log", probe=probe) as proc:
        yield Peer(f"http://127.0.0.1:{port}", proc)


def measure(work: Path, env: dict[str, str], tenants: Path, version: str, args: argparse.Namespace) -> Leg:
    leg = Leg(database=version)
    ports = {app: free_port() for app in APPS}
    bench_env = app_env(env, tenants)
    database_url = env["NEXTGEN_GQL_DATABASE_URL"]
    with (
        postgraphile(database_url, work) if is_postgres(database_url) else contextlib.nullcontext() as pgl,
        serving(uvicorn_cmd("raw_app", ports["raw"]), bench_env, ports["raw"], work / "raw.log"),
        serving(uvicorn_cmd("peer_app", ports["peer"]), bench_env, ports["peer"], work / "peer.log"),
        serving(
            [str(BIN / "nextgen-gql"), "serve", "--port", str(ports["real"])],
            env,
            ports["real"],
            work / "real.log",
        ) as real_proc,
    ):
        bases = {app: f"http://127.0.0.1:{port}" for app, port in ports.items()}
        for name, (path, who, query) in SCENARIOS.items():
            compare(bases, path, query, TOKENS[who])
            script = wrk_script(work, name, query, TOKENS[who])
            runs: dict[str, list[dict[str, float]]] = {app: [] for app in APPS}
            targets = {app: (bases[app] + path, script) for app in APPS}
            if name in BARE:
                bare = bases["raw"] + BARE[name]
                answer = httpx.get(bare, headers={"Authorization": f"Bearer {TOKENS[who]}"}, timeout=30)
                if answer.status_code != 200 or not answer.json():
                    raise RuntimeError(f"the bare baseline answers {answer.status_code}: {answer.text[:300]}")
                targets["bare"] = (bare, wrk_script(work, f"bare {name}", None, TOKENS[who]))
                runs["bare"] = []
            if pgl is not None and name == PGL_SCENARIO:
                headers = {"Authorization": f"Bearer {TOKENS[who]}"}
                real_page = httpx.post(
                    bases["real"] + path, json={"query": query}, headers=headers, timeout=30
                )
                pgl_page = httpx.post(pgl.base + "/graphql", json={"query": PGL_PAGE}, timeout=30)
                same_page(real_page.json(), pgl_page.json())
                pgl_script = wrk_script(work, "postgraphile page", PGL_PAGE, None)
                targets["postgraphile"] = (pgl.base + "/graphql", pgl_script)
                runs["postgraphile"] = []
            for url, with_script in targets.values():  # warm up each
                wrk(url, with_script, 1, args.connections)
            for _ in range(args.rounds):
                for app, (url, with_script) in targets.items():
                    runs[app].append(wrk(url, with_script, args.duration, args.connections))
                print(
                    f"  {name}: " + ", ".join(f"{app} {runs[app][-1]['rps']:.0f}/s" for app in targets),
                    flush=True,
                )
            leg.results[name] = runs
        real = bases["real"]
        me_script = wrk_script(work, "me-burst", SCENARIOS["me"][2], TOKENS["filer"])
        login_script = wrk_script(work, "sign-in", SIGN_IN, None)
        leg.idle = wrk(real + "/graphql", me_script, args.duration, 4)
        with subprocess.Popen(
            ["wrk", "-t1", "-c8", f"-d{args.duration + 2}s", "-s", str(login_script), real + "/graphql"],
            stdout=subprocess.PIPE,
            text=True,
        ) as burst:
            time.sleep(1)
            leg.during = wrk(real + "/graphql", me_script, args.duration, 4)
            burst_out = burst.communicate()[0]
        leg.logins = float(re.search(r"Requests/sec:\s+([\d.]+)", burst_out).group(1))  # type: ignore[union-attr]
        leg.rss = rss_peak_mb(real_proc.pid)
        if pgl is not None:
            leg.pgl_rss = rss_peak_mb(pgl.proc.pid)
    return leg


def inprocess(work: Path, env: dict[str, str], tenants: Path, version: str, args: argparse.Namespace) -> None:
    """Each app in a process of its own (Tortoise keeps one global context), through `bench/layers.py`."""
    timings: dict[str, dict[str, float]] = {}
    for app in APPS:
        out = work / f"layers-{app}.json"
        argv = [sys.executable, str(BENCH / "layers.py"), "--app", app, "--requests", str(args.requests)]
        argv += ["--json", str(out)] + (["--profile", "--top", str(args.top)] if args.profile else [])
        subprocess.run(argv, env=app_env(env, tenants), check=True)
        timings[app] = json.loads(out.read_text())
    if args.before:
        # The real app of another checkout (its src/ first on the path), over the same database.
        out = work / "layers-before.json"
        argv = [sys.executable, str(BENCH / "layers.py"), "--app", "real", "--requests", str(args.requests)]
        argv += ["--json", str(out)] + (["--profile", "--top", str(args.top)] if args.profile else [])
        before_env = app_env(env, tenants)
        before_env["PYTHONPATH"] = os.pathsep.join([str(Path(args.before) / "src"), before_env["PYTHONPATH"]])
        print(f"\n== the real app of {args.before} (before)", flush=True)
        subprocess.run(argv, env=before_env, check=True)
        before = json.loads(out.read_text())
        print("\n| scenario | before us | now us | before/now |")
        print("|---|---|---|---|")
        for name in SCENARIOS:
            print(
                f"| {name} | {before[name]:,.0f} | {timings['real'][name]:,.0f} | {before[name] / timings['real'][name]:.1f}x |"
            )
    print(
        f"\nIn-process median microseconds per request, {version}, {args.requests} requests each"
        " (the ratios are of requests per second, as in the wrk tables):\n"
    )
    print("| scenario | raw us | peer us | real us | real/raw | peer/raw |")
    print("|---|---|---|---|---|---|")
    for name in SCENARIOS:
        raw, peer, real = (timings[app][name] for app in APPS)
        print(f"| {name} | {raw:,.0f} | {peer:,.0f} | {real:,.0f} | {raw / real:.2f} | {raw / peer:.2f} |")


#: ``--overhead``: the real app with its metrics and request log off, then on one at a time.
OVERHEAD_CONFIGS = {
    "metrics and request log off": {"NEXTGEN_GQL_METRICS": "false", "NEXTGEN_GQL_REQUEST_LOG": "false"},
    "metrics on": {"NEXTGEN_GQL_REQUEST_LOG": "false"},
    "metrics and request log on (the default)": {},
}


def overhead(work: Path, env: dict[str, str], version: str, args: argparse.Namespace) -> None:
    """What the metrics and the request log cost on `me`: the real server in each of
    ``OVERHEAD_CONFIGS`` (log lines to a file, as a process manager collects them), driven by wrk
    in alternation, rounds in turn forwards and backwards."""
    path, who, query = SCENARIOS["me"]
    script = wrk_script(work, "me-overhead", query, TOKENS[who])
    ports = {name: free_port() for name in OVERHEAD_CONFIGS}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in OVERHEAD_CONFIGS}
    with contextlib.ExitStack() as stack:
        for i, (name, extra) in enumerate(OVERHEAD_CONFIGS.items()):
            argv = [str(BIN / "nextgen-gql"), "serve", "--port", str(ports[name])]
            stack.enter_context(serving(argv, {**env, **extra}, ports[name], work / f"overhead-{i}.log"))
        bases = {name: f"http://127.0.0.1:{port}{path}" for name, port in ports.items()}
        for base in bases.values():
            wrk(base, script, 2, args.connections)
        for round_ in range(args.rounds):
            order = list(OVERHEAD_CONFIGS)[:: 1 if round_ % 2 == 0 else -1]
            for name in order:
                runs[name].append(wrk(bases[name], script, args.duration, args.connections))
            print("  " + ", ".join(f"{name}: {runs[name][-1]['rps']:.0f}/s" for name in order), flush=True)
    base_rps = median(runs[next(iter(OVERHEAD_CONFIGS))], "rps")
    print(
        f"\n`me`, {version}, one worker, wrk -c{args.connections}, medians of {args.rounds} rounds of {args.duration} s:\n"
    )
    print("| configuration | req/s | p50 / p99 ms | cost against off |")
    print("|---|---|---|---|")
    for name, results in runs.items():
        rps = median(results, "rps")
        print(
            f"| {name} | {rps:,.0f} | {median(results, 'p50'):.2f} / {median(results, 'p99'):.2f}"
            f" | {100 * (1 - rps / base_rps):+.1f}% |"
        )


# --- The report ----------------------------------------------------------------------------


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def leg_lines(leg: Leg) -> list[str]:
    lines = [
        "| scenario | real req/s | peer req/s | raw req/s | bare req/s | PostGraphile req/s | real/raw | peer/raw"
        " | real/bare | real/PostGraphile | real p50 / p99 ms | peer p50 / p99 ms | raw p50 / p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in leg.results.items():
        rps = {app: median(app_runs, "rps") for app, app_runs in runs.items()}
        latency = " | ".join(
            f"{median(runs[app], 'p50'):.1f} / {median(runs[app], 'p99'):.1f}"
            for app in ("real", "peer", "raw")
        )
        bare = f"{rps['bare']:,.0f}" if "bare" in rps else "-"
        to_bare = f"**{rps['real'] / rps['bare']:.2f}**" if "bare" in rps else "-"
        pgl = f"{rps['postgraphile']:,.0f}" if "postgraphile" in rps else "-"
        to_pgl = f"**{rps['real'] / rps['postgraphile']:.2f}**" if "postgraphile" in rps else "-"
        lines.append(
            f"| {name} | {rps['real']:,.0f} | {rps['peer']:,.0f} | {rps['raw']:,.0f} | {bare} | {pgl} | "
            f"**{rps['real'] / rps['raw']:.2f}** | {rps['peer'] / rps['raw']:.2f} | {to_bare} | {to_pgl} | {latency} |"
        )
    return [
        *lines,
        "",
        f"- signIn: **{leg.logins:.1f} sign-ins/s** (argon2id by design).",
        f"- p99 of `me`: idle {leg.idle['p99']:.1f} ms, during a sign-in burst {leg.during['p99']:.1f} ms"
        f" (**{leg.during['p99'] / leg.idle['p99']:.1f}x**).",
        f"- Peak RSS of the real server after every run: **{leg.rss:.0f} MB**"
        + (f"; of PostGraphile's Node process: **{leg.pgl_rss:.0f} MB**." if leg.pgl_rss else "."),
    ]


def report(legs: list[Leg], args: argparse.Namespace) -> None:
    import importlib.metadata as md

    packages = ["strawberry-graphql", "graphql-core", "starlette", "uvicorn", "tortoise-orm"]
    packages += ["asyncpg" if "PostgreSQL" in leg.database else "aiosqlite" for leg in legs] + ["orjson"]
    versions = ", ".join(f"{p} {md.version(p)}" for p in dict.fromkeys(packages))
    extras = [p for p in ("uvloop", "httptools") if importlib_available(p)]
    options = f"--rounds {args.rounds} --duration {args.duration}"
    if args.database != "sqlite":
        options += f" --database {args.database}"
    lines = [
        MARK_START,
        f"Measured {dt.date.today()} by `bench/harness.py {options}` on {platform.machine()},"
        f" {os.cpu_count()} cores, Python {platform.python_version()}; {versions}"
        f"; event loop: {'uvloop + httptools' if extras else 'asyncio + h11'}. One uvicorn worker each"
        f" (raw: `bench/raw_app.py`, peer: `bench/peer_app.py`, naive Strawberry + Tortoise with"
        f" DataLoaders; real: `nextgen-gql serve`; bare: `bench/raw_app.py`'s one-`SELECT` handlers,"
        f" the page's columns with no authentication, `me` one account by its token; PostGraphile, on PostgreSQL:"
        f" PostGraphile 5 on Node 22, `bench/postgraphile/serve.mjs`, the same page with no authentication),"
        f" wrk with {args.connections} connections on loopback,"
        f" medians of {args.rounds} alternating rounds, {args.accounts:,} accounts in the database.",
    ]
    for leg in legs:
        lines += ["", f"**{leg.database}**" if len(legs) > 1 else f"Database: {leg.database}.", ""]
        lines += leg_lines(leg)
    lines.append(MARK_END)
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        heading = "Real app, peer and raw baseline (`bench/harness.py`)"
        write_between(REPO / "docs" / "benchmarks.md", MARK_START, MARK_END, text, heading)


def importlib_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        help="a PostgreSQL server (postgres://user@host:port) to make a database on;"
        " default: a throwaway cluster (scripts/pg-cluster)",
    )
    parser.add_argument("--inprocess", action="store_true", help="time requests in-process (bench/layers.py)")
    parser.add_argument("--requests", type=int, default=200, help="--inprocess: requests per scenario")
    parser.add_argument("--profile", action="store_true", help="--inprocess: cProfile, by layer")
    parser.add_argument("--top", type=int, default=6, help="--profile: entries shown per layer")
    parser.add_argument(
        "--before",
        metavar="CHECKOUT",
        help="--inprocess: also time the real app of another checkout (e.g. a git worktree of an older commit)",
    )
    parser.add_argument(
        "--overhead",
        action="store_true",
        help="the cost of the metrics and the request log on `me` (the real app only; prints, writes nothing)",
    )
    args = parser.parse_args()
    if not args.inprocess and shutil.which("wrk") is None:
        sys.exit("bench/harness.py needs wrk: apt-get install wrk")
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    legs: list[Leg] = []
    for kind in kinds:
        work = Path(tempfile.mkdtemp(prefix="nextgen-harness-"))
        try:
            with database(kind, work, args.postgres_url) as url:
                print(
                    f"building the {kind} database ({args.accounts:,} accounts, 203 courts) ...", flush=True
                )
                env, tenants, version = build_database(work, args.accounts, url)
                if args.overhead:
                    overhead(work, env, version, args)
                elif args.inprocess:
                    inprocess(work, env, tenants, version, args)
                else:
                    print(f"{version}: raw, peer, real", flush=True)
                    legs.append(measure(work, env, tenants, version, args))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if legs and not args.overhead:
        report(legs, args)


if __name__ == "__main__":
    main()
