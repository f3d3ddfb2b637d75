"""Benchmark: `me` and a clerk's 100-row page with 4 workers, straight to PostgreSQL against
through PgBouncer in transaction mode.

    .venv/bin/python bench/pooling.py [--accounts 10000] [--workers 4] [--rounds 3]
        [--duration 10] [--connections 32] [--no-write]

One command: it starts a PostgreSQL cluster (`scripts/pg-cluster`), builds the harness's
database in it (`bench/harness.py`), starts a PgBouncer in transaction mode in front of it
(`scripts/pgbouncer`), and serves the same database twice with `nextgen-gql serve --workers 4`:
once straight to the database, once through PgBouncer (`NEXTGEN_GQL_DATABASE_POOLING=transaction`,
`NEXTGEN_GQL_DIRECT_DATABASE_URL` the cluster itself for `LISTEN`, locks and maintenance). wrk
drives each scenario on each in alternation; the table gives requests/s, p50 and p99 (medians
of the rounds) and the server connections each service held on the database at the end
(`pg_stat_activity`). Budgets are off (`NEXTGEN_GQL_RATE_LIMIT_POINTS=0`): points would refuse
the load. Everything shares one machine: PgBouncer's own processor time comes out of the
workers' and the database's. Writes its table to docs/benchmarks.md between its markers
unless `--no-write`.
"""

from __future__ import annotations

import argparse
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
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from harness import (  # noqa: E402
    BIN,
    SCENARIOS,
    TOKENS,
    build_database,
    database,
    free_port,
    serving,
    wrk_script,
)
from markers import write_between  # noqa: E402
from replica import wrk  # noqa: E402

MARK_START, MARK_END = "<!-- pooling:start -->", "<!-- pooling:end -->"
MEASURED = ("me", "clerk 100-row page")
MODES = ("straight to PostgreSQL", "through PgBouncer")


def server_connections(url: str) -> int:
    """Client backends on the database (the services' pools, PgBouncer's, the listeners)."""
    out = subprocess.run(
        [
            "psql",
            url,
            "-Atc",
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    for tool in ("wrk", "psql"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/pooling.py needs {tool}")
    work = Path(tempfile.mkdtemp(prefix="nextgen-pooling-bench-"))
    pgb_dir = Path(tempfile.mkdtemp(prefix="nextgen-pooling-bench-pgb-", dir="/tmp"))
    try:
        with database("postgres", work, None) as url:
            print("building the database ...", flush=True)
            env, _tenants, version = build_database(work, args.accounts, url)
            server, name = url.rsplit("/", 1)
            pgb_port = free_port()
            subprocess.run(
                [
                    str(REPO / "scripts" / "pgbouncer"),
                    "start",
                    str(pgb_dir),
                    str(pgb_port),
                    server.rsplit(":", 1)[1],
                ],
                check=True,
            )
            try:
                pooled = f"postgres://postgres@127.0.0.1:{pgb_port}/{name}"
                rows = measure(work, env, url, pooled, args)
            finally:
                subprocess.run([str(REPO / "scripts" / "pgbouncer"), "stop", str(pgb_dir)], check=False)
        report(rows, version, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pgb_dir, ignore_errors=True)


def measure(
    work: Path, env: dict[str, str], url: str, pooled: str, args: argparse.Namespace
) -> dict[tuple[str, str], dict[str, Any]]:
    common = {
        "NEXTGEN_GQL_SECRET_KEY": "bench-pooling-secret-key-0123456789abcdef",
        **env,
        "NEXTGEN_GQL_RATE_LIMIT_POINTS": "0",
        "NEXTGEN_GQL_MAINTENANCE_INTERVAL_S": "0",
    }
    envs = {
        MODES[0]: common,
        MODES[1]: {
            **common,
            "NEXTGEN_GQL_DATABASE_URL": pooled,
            "NEXTGEN_GQL_DATABASE_POOLING": "transaction",
            "NEXTGEN_GQL_DIRECT_DATABASE_URL": url,
        },
    }
    argv = [str(BIN / "nextgen-gql"), "serve", "--workers", str(args.workers)]
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for mode in MODES:
        for scenario in MEASURED:
            results[(scenario, mode)] = {"runs": [], "connections": 0}
    # One service at a time, so that each holds only its own connections while measured.
    for round_ in range(args.rounds):
        for mode in MODES:
            port = free_port()
            with serving([*argv, "--port", str(port)], envs[mode], port, work / f"{mode[:8]}.log"):
                base = f"http://127.0.0.1:{port}"
                for scenario in MEASURED:
                    path, who, query = SCENARIOS[scenario]
                    script = wrk_script(work, scenario, query, TOKENS[who])
                    answer = httpx.post(
                        base + path,
                        json={"query": query},
                        headers={"Authorization": f"Bearer {TOKENS[who]}"},
                        timeout=30,
                    ).json()
                    if "errors" in answer or None in answer["data"].values():
                        raise RuntimeError(f"{mode} does not answer {scenario}: {answer}")
                    wrk(base + path, script, 2, args.connections)  # warm up
                    run = wrk(base + path, script, args.duration, args.connections)
                    entry = results[(scenario, mode)]
                    entry["runs"].append(run)
                    entry["connections"] = server_connections(url)
                    print(
                        f"  round {round_ + 1}, {scenario}, {mode}: {run['rps']:.0f}/s, p99 {run['p99']:.1f} ms,"
                        f" {run['failed']:.0f} failed; {entry['connections']} server connections",
                        flush=True,
                    )
            time.sleep(1)
    for mode in MODES:  # what the failed answers were, from the request log
        shutil.copy(
            work / f"{mode[:8]}.log", Path(tempfile.gettempdir()) / f"nextgen-pooling-bench-{mode[:8]}.log"
        )
        statuses = Counter(
            re.findall(r'"status": ?([45]\d\d)', (work / f"{mode[:8]}.log").read_text(errors="replace"))
        )
        print(f"  {mode}, failed answers in the last round by status: {dict(statuses) or 'none'}", flush=True)
    return results


def report(results: dict[tuple[str, str], dict[str, Any]], version: str, args: argparse.Namespace) -> None:
    load = os.getloadavg()
    lines = [
        MARK_START,
        f"Measured {dt.date.today()} by `bench/pooling.py --accounts {args.accounts} --workers {args.workers}"
        f" --rounds {args.rounds} --duration {args.duration} --connections {args.connections}` on"
        f" {platform.machine()}, {os.cpu_count()} cores, {version}; the database, PgBouncer, the service"
        f" ({args.workers} workers) and wrk on one machine; load average at the end"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. Medians of {args.rounds} rounds.",
        "",
        "| request | path | requests/s | p50 ms | p99 ms | server connections held | failed answers |",
        "|---|---|---|---|---|---|---|",
    ]
    for (scenario, mode), entry in sorted(results.items(), key=lambda kv: MEASURED.index(kv[0][0])):
        runs = entry["runs"]
        lines.append(
            f"| {scenario} | {mode} | {statistics.median(r['rps'] for r in runs):.0f}"
            f" | {statistics.median(r['p50'] for r in runs):.1f} | {statistics.median(r['p99'] for r in runs):.1f}"
            f" | {entry['connections']} | {sum(r['failed'] for r in runs):.0f} of"
            f" {sum(r['rps'] for r in runs) * args.duration:,.0f} |"
        )
    lines.append(MARK_END)
    text = "\n".join(lines)
    print(text)
    if args.no_write:
        return
    write_between(
        REPO / "docs" / "benchmarks.md", MARK_START, MARK_END, text, "PgBouncer (`bench/pooling.py`)"
    )


if __name__ == "__main__":
    main()
