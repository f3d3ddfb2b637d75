"""The performance harness: the real app beside a raw Starlette + orjson baseline.

    .venv/bin/python bench/harness.py [--rounds 3] [--duration 5] [--accounts 100000]

Needs `wrk` (Debian: `apt-get install wrk`). In one run, on one database and machine, it
builds a database (100,000 PACER accounts, a 100-row linked roster at `mad`, a filer with
privileges and a firm, 203 courts), serves (a) `nextgen-gql serve` and (b) `bench/raw_app.py`
(the same SQL for the same JSON, checked equal before measuring), one uvicorn worker each,
and drives both in alternation from a separate wrk process on loopback, bounded in time.
It prints requests/s, p50/p99 and the ratio real/raw for each scenario (medians of the
rounds), sign-ins/s, the p99 of `me` during a sign-in burst, and the real server's peak
RSS, and writes them to docs/benchmarks.md between the harness markers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Bench-Harbor-Lantern-42"
MARK_START, MARK_END = "<!-- harness:start -->", "<!-- harness:end -->"

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


def build_database(work: Path, accounts: int) -> tuple[dict[str, str], Path]:
    """Tenants, accounts, roster, links, firm; returns the environment and the tenants folder."""
    sys.path.insert(0, str(REPO))
    from argon2 import PasswordHasher
    from tests.api.test_many_courts import generate_courts

    tenants = work / "tenants"
    shutil.copytree(REPO / "tenants", tenants)
    generate_courts(tenants, 200)
    db = work / "bench.sqlite3"
    env = {
        **os.environ,
        "NEXTGEN_GQL_DATABASE_URL": f"sqlite://{db}",
        "NEXTGEN_GQL_TENANTS_DIR": str(tenants),
        "NEXTGEN_GQL_MAIL_DIR": str(work / "mail"),
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
    now = dt.datetime.now(dt.UTC).isoformat(sep=" ")
    import sqlite3

    with sqlite3.connect(db) as conn:
        ids = [
            r[0]
            for r in conn.execute("SELECT id FROM pacer_accounts WHERE username LIKE 'person%' LIMIT 100")
        ]
        legacy = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM cmecf_accounts WHERE court_id='mad' ORDER BY login_key LIMIT 100"
            )
        ]
        conn.executemany(
            "INSERT INTO cmecf_links (cmecf_account_id, court_id, account_id, linked_by_id, linked_at) VALUES (?,?,?,?,?)",
            [(c, "mad", a, a, now) for c, a in zip(legacy, ids, strict=True)],
        )
        filer = conn.execute("SELECT id FROM pacer_accounts WHERE username='benchfiler'").fetchone()[0]
        conn.executemany(
            "INSERT INTO filing_privileges (court_id, account_id, role, source, granted_at) VALUES (?,?,?,?,?)",
            [(c, filer, "attorney", "registration", now) for c in ("ca1", "mab", "mad")],
        )
        firm = conn.execute(
            "INSERT INTO firms (account_number, name, client_code_required, created_at) VALUES ('9000000', 'Bench LLP', 0, ?)"
            " RETURNING id",
            (now,),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO firm_memberships (firm_id, account_id, is_admin, joined_at) VALUES (?,?,1,?)",
            (firm, filer, now),
        )
    return env, tenants


@contextlib.contextmanager
def serving(argv: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (
                        httpx.post(
                            f"http://127.0.0.1:{port}/graphql",
                            json={"query": "{ courts { code } } #courts"},
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


def wrk_script(work: Path, name: str, query: str, token: str | None) -> Path:
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


def sign_in(base: str, username: str) -> str:
    body = httpx.post(
        f"{base}/graphql", json={"query": SIGN_IN.replace("benchfiler", username)}, timeout=30
    ).json()
    token: str = body["data"]["signIn"]["token"]
    return token


def compare(real: str, raw: str, path: str, query: str, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    a = httpx.post(real + path, json={"query": query}, headers=headers, timeout=30).json()
    b = httpx.post(raw + path, json={"query": query}, headers=headers, timeout=30).json()
    if a != b:
        raise RuntimeError(
            f"real and raw answers differ for {path}:\n{json.dumps(a)[:600]}\n{json.dumps(b)[:600]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/harness.py needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="nextgen-harness-"))
    try:
        print(f"building the database ({args.accounts:,} accounts, 203 courts) in {work} ...", flush=True)
        env, tenants = build_database(work, args.accounts)
        real_port, raw_port = free_port(), free_port()
        raw_env = {
            **env,
            "BENCH_RAW_DB": str(work / "bench.sqlite3"),
            "BENCH_RAW_TENANTS": str(tenants),
            "PYTHONPATH": str(REPO / "bench"),
        }
        real_cmd = [str(BIN / "nextgen-gql"), "serve", "--port", str(real_port)]
        raw_cmd = [
            str(BIN / "uvicorn"),
            "raw_app:app",
            "--port",
            str(raw_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with (
            serving(real_cmd, env, real_port, work / "real.log") as real_proc,
            serving(raw_cmd, raw_env, raw_port, work / "raw.log"),
        ):
            real, raw = f"http://127.0.0.1:{real_port}", f"http://127.0.0.1:{raw_port}"
            tokens = {"filer": sign_in(real, "benchfiler"), "clerk": sign_in(real, "benchclerk"), None: None}
            results: dict[str, dict[str, list[dict[str, float]]]] = {}
            for name, (path, who, query) in SCENARIOS.items():
                compare(real, raw, path, query, tokens[who])
                script = wrk_script(work, name, query, tokens[who])
                results[name] = {"real": [], "raw": []}
                wrk(real + path, script, 1, args.connections)  # warm up both
                wrk(raw + path, script, 1, args.connections)
                for _ in range(args.rounds):
                    results[name]["real"].append(wrk(real + path, script, args.duration, args.connections))
                    results[name]["raw"].append(wrk(raw + path, script, args.duration, args.connections))
                    print(
                        f"  {name}: real {results[name]['real'][-1]['rps']:.0f}/s, raw "
                        f"{results[name]['raw'][-1]['rps']:.0f}/s",
                        flush=True,
                    )
            me_script = wrk_script(work, "me-burst", SCENARIOS["me"][2], tokens["filer"])
            login_script = wrk_script(work, "sign-in", SIGN_IN, None)
            idle = wrk(real + "/graphql", me_script, args.duration, 4)
            with subprocess.Popen(
                ["wrk", "-t1", "-c8", f"-d{args.duration + 2}s", "-s", str(login_script), real + "/graphql"],
                stdout=subprocess.PIPE,
                text=True,
            ) as burst:
                time.sleep(1)
                during = wrk(real + "/graphql", me_script, args.duration, 4)
                burst_out = burst.communicate()[0]
            logins = float(re.search(r"Requests/sec:\s+([\d.]+)", burst_out).group(1))  # type: ignore[union-attr]
            rss = rss_peak_mb(real_proc.pid)
        report(results, idle, during, logins, rss, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(
    results: dict[str, dict[str, list[dict[str, float]]]],
    idle: dict[str, float],
    during: dict[str, float],
    logins: float,
    rss: float,
    args: argparse.Namespace,
) -> None:
    import importlib.metadata as md

    versions = ", ".join(
        f"{p} {md.version(p)}"
        for p in [
            "strawberry-graphql",
            "graphql-core",
            "starlette",
            "uvicorn",
            "tortoise-orm",
            "aiosqlite",
            "orjson",
        ]
    )
    extras = [p for p in ("uvloop", "httptools") if importlib_available(p)]
    lines = [
        MARK_START,
        f"Measured {dt.date.today()} by `bench/harness.py --rounds {args.rounds} --duration {args.duration}`"
        f" on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {versions}"
        f"; event loop: {'uvloop + httptools' if extras else 'asyncio + h11'}. One uvicorn worker each, wrk with"
        f" {args.connections} connections on loopback, medians of {args.rounds} alternating rounds,"
        f" {args.accounts:,} accounts in the database.",
        "",
        "| scenario | real req/s | raw req/s | real/raw | real p50 / p99 ms | raw p50 / p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        real_rps, raw_rps = median(runs["real"], "rps"), median(runs["raw"], "rps")
        lines.append(
            f"| {name} | {real_rps:,.0f} | {raw_rps:,.0f} | **{real_rps / raw_rps:.2f}** | "
            f"{median(runs['real'], 'p50'):.1f} / {median(runs['real'], 'p99'):.1f} | "
            f"{median(runs['raw'], 'p50'):.1f} / {median(runs['raw'], 'p99'):.1f} |"
        )
    lines += [
        "",
        f"- signIn: **{logins:.1f} sign-ins/s** (argon2id by design).",
        f"- p99 of `me`: idle {idle['p99']:.1f} ms, during a sign-in burst {during['p99']:.1f} ms"
        f" (**{during['p99'] / idle['p99']:.1f}x**).",
        f"- Peak RSS of the real server after every run: **{rss:.0f} MB**.",
        MARK_END,
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        doc = REPO / "docs" / "benchmarks.md"
        current = doc.read_text()
        if MARK_START in current:
            before, rest = current.split(MARK_START, 1)
            current = before + text + rest.split(MARK_END, 1)[1]
        else:
            current += "\n## Real app and raw baseline (`bench/harness.py`)\n\n" + text + "\n"
        doc.write_text(current)


def importlib_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    asyncio.run(asyncio.sleep(0))
    main()
