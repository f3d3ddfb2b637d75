"""Scaling and memory: `nextgen-gql serve --workers N` on PostgreSQL, driven by wrk.

    .venv/bin/python bench/scaling.py [--postgres-url postgres://user@host:port] [--workers 1 2 4]
        [--duration 10] [--connections 32] [--requests 1000000] [--write docs/benchmarks.md]

The database is bench/harness.py's (100,000 PACER accounts, a 150-account roster at `mad` with
a clerk, 203 courts), made on the server at `--postgres-url` (or a throwaway cluster) and
dropped at the end. Two parts:

1. **Scaling.** For each `--workers` N: the real server with N worker processes (uvicorn's
   supervisor), the clerk's 100-row page and `me` (bench/harness.py's queries, signed in) each
   driven by wrk (`--connections`, `--duration` s, after a warm-up): requests/s, p50/p99, and
   throughput per core (requests/s divided by the cores the workers can use: the smaller of N
   and the machine's cores; PostgreSQL and wrk share the same cores).
2. **Memory.** The real server with 2 workers answers `me` until it has served `--requests`
   (wrk in rounds of `--duration` s): each worker's resident memory (RSS, from /proc) after
   each round, so that growth shows as the count goes up.

Prints Markdown tables, dated, with the machine's load average; `--write` puts them in the
file between the `scaling` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # bench/harness.py, beside this file
    BIN,
    SCENARIOS,
    TOKENS,
    build_database,
    database,
    free_port,
    serving,
    wrk_script,
)
from markers import write_between

MARK_START, MARK_END = "<!-- scaling:start -->", "<!-- scaling:end -->"
RUNS = {"clerk 100-row page": SCENARIOS["clerk 100-row page"], "me": SCENARIOS["me"]}


def children(pid: int) -> list[int]:
    """The live worker processes of uvicorn's supervisor ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in command:
            found.append(int(entry))
    return sorted(found)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    threads = 2 if connections >= 2 else 1
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def ms(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "p50": ms("50"),
        "p99": ms("99"),
        "failed": float(failed.group(1)) if failed else 0.0,  # 503s of the admission queue, if any
    }


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def server(env: dict[str, str], workers: int, work: Path) -> tuple[object, int]:
    port = free_port()
    argv = [str(BIN / "nextgen-gql"), "serve", "--port", str(port), "--workers", str(workers)]
    return serving(argv, env, port, work / f"serve-{workers}.log"), port


def scaling(env: dict[str, str], work: Path, args: argparse.Namespace) -> list[str]:
    cores = os.cpu_count() or 1
    lines = [
        "| workers | scenario | req/s | p50 / p99 ms | not 2xx | req/s per core used | of 1 worker | load average before |",
        "|---|---|---|---|---|---|---|---|",
    ]
    single: dict[str, float] = {}
    for workers in args.workers:
        context, port = server(env, workers, work)
        with context as proc:
            deadline = time.monotonic() + 60
            while len(children(proc.pid)) < workers and time.monotonic() < deadline:
                time.sleep(0.2)
            base = f"http://127.0.0.1:{port}"
            for name, (path, who, query) in RUNS.items():
                script = wrk_script(work, f"scaling {name}", query, TOKENS[who])
                run_wrk(base + path, script, 2, args.connections)  # warm every worker
                before = load()
                got = run_wrk(base + path, script, args.duration, args.connections)
                used = min(workers, cores)
                single.setdefault(name, got["rps"])
                lines.append(
                    f"| {workers} | {name} | {got['rps']:,.0f} | {got['p50']:.1f} / {got['p99']:.1f} | {got['failed']:,.0f} | "
                    f"{got['rps'] / used:,.0f} | {got['rps'] / single[name]:.2f} | {before} |"
                )
                print(lines[-1], flush=True)
    return lines


def memory(env: dict[str, str], work: Path, args: argparse.Namespace) -> list[str]:
    context, port = server(env, 2, work)
    lines = [
        "| `me` served | worker RSS MB | load average |",
        "|---|---|---|",
    ]
    with context as proc:
        deadline = time.monotonic() + 60
        while len(children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = children(proc.pid)
        path, who, query = SCENARIOS["me"]
        script = wrk_script(work, "memory me", query, TOKENS[who])
        url = f"http://127.0.0.1:{port}{path}"
        run_wrk(url, script, 2, args.connections)
        served = 0.0
        lines.append(f"| 0 (warm) | {' / '.join(f'{rss_mb(p):.1f}' for p in workers)} | {load()} |")
        print(lines[-1], flush=True)
        while served < args.requests:
            got = run_wrk(url, script, args.duration, args.connections)
            if got["failed"]:
                raise RuntimeError(f"{got['failed']:.0f} answers were not 2xx")
            served += got["requests"]
            if children(proc.pid) != workers:
                raise RuntimeError(f"a worker was replaced: {workers} became {children(proc.pid)}")
            lines.append(f"| {served:,.0f} | {' / '.join(f'{rss_mb(p):.1f}' for p in workers)} | {load()} |")
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--postgres-url", help="a server to make the database on (default: a throwaway cluster)"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1_000_000, help="`me` requests for the memory part")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--write", help="a Markdown file to put the tables in (between the scaling markers)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/scaling.py needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="nextgen-scaling-"))
    try:
        with database("postgres", work, args.postgres_url) as url:
            print(f"building the database ({args.accounts:,} accounts, 203 courts) ...", flush=True)
            env, _tenants, version = build_database(work, args.accounts, url)
            started = dt.datetime.now(dt.UTC)
            table = scaling(env, work, args)
            grown = memory(env, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(
        [
            MARK_START,
            f"Measured {started:%Y-%m-%d %H:%M} UTC by `bench/scaling.py --workers {' '.join(map(str, args.workers))}"
            f" --duration {args.duration} --connections {args.connections} --requests {args.requests}` on"
            f" {os.cpu_count()} cores, {version}: wrk (2 threads, {args.connections} connections) on loopback, the"
            " server, PostgreSQL and wrk sharing the cores.",
            "",
            *table,
            "",
            f"Memory of `serve --workers 2` answering `me` (wrk rounds of {args.duration} s; RSS of each worker):",
            "",
            *grown,
            MARK_END,
        ]
    )
    print(text)
    if args.write:
        write_between(Path(args.write), MARK_START, MARK_END, text, "Scaling and memory (`bench/scaling.py`)")


if __name__ == "__main__":
    main()
