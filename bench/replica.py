"""Benchmark: `me` and a clerk's 100-row page with 4 workers, straight to PostgreSQL against a
read replica taking the reads.

    .venv/bin/python bench/replica.py [--accounts 10000] [--workers 4] [--rounds 3]
        [--duration 10] [--connections 32] [--no-write]

One command: it starts a PostgreSQL cluster (`scripts/pg-cluster`), builds the harness's
database in it (`bench/harness.py`: the accounts, a 100-row linked roster at `mad`, a filer with
privileges and a firm, sessions written straight in), makes a streaming replica of it
(`scripts/pg-replica`, `pg_basebackup -R`), and serves the same database twice with
`nextgen-gql serve --workers 4`: once straight to the database, once with
`NEXTGEN_GQL_REPLICA_DATABASE_URL`. wrk drives each scenario on each in alternation; the table
gives requests/s, p50 and p99 (medians of the rounds), the transactions each request cost the
database and the replica (`pg_stat_database.xact_commit`: each statement outside a transaction
is one; pooled connections are given back with no reset query since 2026-12-06), and the share of queries whose reads went to the replica (its
`/metrics`). Budgets are off (`NEXTGEN_GQL_RATE_LIMIT_POINTS=0`): points would refuse the load.

Everything shares one machine here: the replica's server takes processor time from the
database's and the workers', so the requests/s say what the routing costs (a second server
and, for `me`, one more statement), and the transactions per request say what the database is
spared, which is what a replica on a machine of its own gives back. Writes its table to
docs/benchmarks.md between its markers unless `--no-write`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from harness import (  # noqa: E402
    BIN,
    SCENARIOS,
    TOKENS,
    asyncpg_dsn,
    build_database,
    database,
    free_port,
    serving,
    wrk_script,
)
from markers import write_between  # noqa: E402

MARK_START, MARK_END = "<!-- replica:start -->", "<!-- replica:end -->"
MEASURED = ("me", "clerk 100-row page")
MODES = ("database only", "with a replica")


async def _commits(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        value = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(value)
    finally:
        await conn.close()


#: A PostgreSQL 15 backend that stays idle reports its statistics after 10 s (PGSTAT_IDLE_INTERVAL).
STATS_SETTLE_S = 11


def commits(url: str) -> int:
    """Transactions committed in the database so far, as its server counts them (read once the
    pool's idle connections have reported theirs)."""
    return asyncio.run(_commits(url))


async def _caught_up(primary: str, replica: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(primary))
    try:
        target = await conn.fetchval("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
    finally:
        await conn.close()
    until = time.monotonic() + 120
    while True:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(replica))
            try:
                done = await conn.fetchval("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
            finally:
                await conn.close()
            if done is not None and done >= target:
                return
        except (OSError, asyncpg.PostgresError):
            pass
        if time.monotonic() > until:
            raise RuntimeError("the replica did not catch up within 120 s")
        await asyncio.sleep(0.2)


def wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    """``harness.wrk``, counting failed answers instead of stopping at the first (the table says
    how many: under this load the request path answers a few 500s that are not the replica's,
    on the server without one as well)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "failed": float(failed.group(1)) if failed else 0.0}


def replica_reads(base: str) -> dict[str, float]:
    text = httpx.get(base + "/metrics", timeout=10).text
    found: dict[str, float] = {}
    for target, value in re.findall(
        r'^nextgen_gql_replica_reads_total\{target="(\w+)"\} ([\d.e+]+)$', text, re.M
    ):
        found[target] = found.get(target, 0.0) + float(value)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/replica.py needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="nextgen-replica-bench-"))
    replica_dir = Path(tempfile.mkdtemp(prefix="nextgen-replica-bench-pg-", dir="/tmp"))
    try:
        with database("postgres", work, None) as url:
            print("building the database ...", flush=True)
            env, _tenants, version = build_database(work, args.accounts, url)
            server = url.rsplit("/", 1)[0]
            primary_port = server.rsplit(":", 1)[1]
            replica_port = free_port()
            subprocess.run(
                [
                    str(REPO / "scripts" / "pg-replica"),
                    "start",
                    str(replica_dir),
                    str(replica_port),
                    primary_port,
                ],
                check=True,
            )
            try:
                replica_url = f"postgres://postgres@127.0.0.1:{replica_port}/{url.rsplit('/', 1)[1]}"
                asyncio.run(_caught_up(url, replica_url))
                rows = measure(work, env, url, replica_url, args)
            except Exception:
                for log in ("plain.log", "replica.log"):  # what the servers said of the failure
                    lines = (work / log).read_text(errors="replace").splitlines()
                    failed = [
                        line
                        for line in lines
                        if '"status": 5' in line or "Traceback" in line or "ERROR" in line
                    ]
                    print(
                        f"--- {log}: {len(failed)} lines of failure", *failed[-20:], sep="\n", file=sys.stderr
                    )
                raise
            finally:
                subprocess.run([str(REPO / "scripts" / "pg-replica"), "stop", str(replica_dir)], check=False)
        report(rows, version, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(replica_dir, ignore_errors=True)


def measure(
    work: Path, env: dict[str, str], url: str, replica_url: str, args: argparse.Namespace
) -> dict[tuple[str, str], dict[str, Any]]:
    common = {
        "NEXTGEN_GQL_SECRET_KEY": "bench-replica-secret-key-0123456789abcdef",
        **env,
        "NEXTGEN_GQL_RATE_LIMIT_POINTS": "0",
        "NEXTGEN_GQL_MAINTENANCE_INTERVAL_S": "0",
    }
    envs = {MODES[0]: common, MODES[1]: {**common, "NEXTGEN_GQL_REPLICA_DATABASE_URL": replica_url}}
    ports = {mode: free_port() for mode in MODES}
    argv = [str(BIN / "nextgen-gql"), "serve", "--workers", str(args.workers)]
    results: dict[tuple[str, str], dict[str, Any]] = {}
    with (
        serving([*argv, "--port", str(ports[MODES[0]])], envs[MODES[0]], ports[MODES[0]], work / "plain.log"),
        serving(
            [*argv, "--port", str(ports[MODES[1]])], envs[MODES[1]], ports[MODES[1]], work / "replica.log"
        ),
    ):
        bases = {mode: f"http://127.0.0.1:{port}" for mode, port in ports.items()}
        for name in MEASURED:
            path, who, query = SCENARIOS[name]
            script = wrk_script(work, name, query, TOKENS[who])
            for mode in MODES:  # warm up each, and check it answers in full
                answer = httpx.post(
                    bases[mode] + path,
                    json={"query": query},
                    headers={"Authorization": f"Bearer {TOKENS[who]}"},
                    timeout=30,
                ).json()
                if "errors" in answer or None in answer["data"].values():
                    raise RuntimeError(f"{mode} does not answer {name}: {answer}")
                wrk(bases[mode] + path, script, 2, args.connections)
            for mode in MODES:
                results[(name, mode)] = {"runs": [], "database": [], "replica": [], "reads": {}}
            for _ in range(args.rounds):
                for mode in MODES:
                    entry = results[(name, mode)]
                    time.sleep(STATS_SETTLE_S)
                    before = (commits(url), commits(replica_url))
                    reads_before = replica_reads(bases[mode])
                    run = wrk(bases[mode] + path, script, args.duration, args.connections)
                    time.sleep(STATS_SETTLE_S)
                    after = (commits(url), commits(replica_url))
                    reads_after = replica_reads(bases[mode])
                    requests = run["rps"] * args.duration
                    entry["runs"].append(run)
                    entry["database"].append((after[0] - before[0]) / requests)
                    entry["replica"].append((after[1] - before[1]) / requests)
                    for target, value in reads_after.items():
                        entry["reads"][target] = (
                            entry["reads"].get(target, 0.0) + value - reads_before.get(target, 0)
                        )
                    print(
                        f"  {name}, {mode}: {run['rps']:.0f}/s, p99 {run['p99']:.1f} ms, {run['failed']:.0f} failed;"
                        " transactions a request:"
                        f" database {entry['database'][-1]:.2f}, replica {entry['replica'][-1]:.2f}",
                        flush=True,
                    )
    return results


def report(results: dict[tuple[str, str], dict[str, Any]], version: str, args: argparse.Namespace) -> None:
    load = os.getloadavg()
    lines = [
        MARK_START,
        f"Measured {dt.date.today()} by `bench/replica.py --accounts {args.accounts} --workers {args.workers}"
        f" --rounds {args.rounds} --duration {args.duration} --connections {args.connections}` on"
        f" {platform.machine()}, {os.cpu_count()} cores, {version}; the database, the replica, both"
        f" services ({args.workers} workers each) and wrk on one machine; load average at the end"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. Medians of {args.rounds} alternating rounds.",
        "",
        "| request | reads | requests/s | p50 ms | p99 ms | transactions a request on the database |"
        " on the replica | queries read on the replica | failed answers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, mode), entry in results.items():
        runs = entry["runs"]
        reads = entry["reads"]
        total = sum(reads.values())
        share = f"{reads.get('replica', 0) / total:.0%}" if total else "-"
        lines.append(
            f"| {name} | {mode} | {statistics.median(r['rps'] for r in runs):.0f}"
            f" | {statistics.median(r['p50'] for r in runs):.1f} | {statistics.median(r['p99'] for r in runs):.1f}"
            f" | {statistics.median(entry['database']):.2f} | {statistics.median(entry['replica']):.2f} | {share}"
            f" | {sum(r['failed'] for r in runs):.0f} of {sum(r['rps'] for r in runs) * args.duration:,.0f} |"
        )
    lines.append(MARK_END)
    text = "\n".join(lines)
    print(text)
    if args.no_write:
        return
    write_between(
        REPO / "docs" / "benchmarks.md", MARK_START, MARK_END, text, "A read replica (`bench/replica.py`)"
    )


if __name__ == "__main__":
    main()
