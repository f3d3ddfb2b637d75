"""``nextgen-gql backup`` of the demo database, and its restore (issue 31, item 5).

    .venv/bin/python bench/backup.py [--database sqlite postgres] [--runs 3]
        [--roster N] [--postgres-url URL]   (or NEXTGEN_GQL_BENCH_POSTGRES, as bench/scale.py)

For each database: a fresh database filled with the demo data (as ``serve --demo`` fills it)
and ``--roster`` more legacy accounts at mad (loaded as bench/export_memory.py loads them),
then ``--runs`` backups through the command, each to a new file (the command's wall time,
Python's start-up included, and the time it reports for the backup itself), then a restore
of the last one (SQLite: a copy of the file; PostgreSQL: ``pg_restore`` into a fresh
database) and a check that the restored database holds the rows the backup printed. Prints
a Markdown table; results in docs/operations.md ("Backups"). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nextgen_gql.app import create_app  # noqa: E402
from nextgen_gql.settings import Settings  # noqa: E402

TENANTS = REPO / "tests" / "fixtures" / "tenants"
SECRET = "bench-secret-key-of-the-backup-benchmark-0123456789"


async def demo(url: str, folder: Path, roster: int) -> None:
    settings = Settings(
        database_url=url,
        tenants_dir=TENANTS,
        mail_dir=folder / "mail",
        demo=True,
        secret_key=SECRET,
        maintenance_interval_s=0,
        reminder_interval_s=0,
    )
    async with LifespanManager(create_app(settings), startup_timeout=600, shutdown_timeout=60):
        pass
    if roster:
        sys.path.insert(0, str(REPO / "bench"))
        from export_memory import load  # legacy accounts at mad, streamed in (COPY on PostgreSQL)

        await load(url, roster)


async def admin(server: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def backup(url: str, output: Path) -> tuple[float, float, dict[str, int], str]:
    """(wall s, reported s, rows per table, summary line) of one ``nextgen-gql backup``."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nextgen_gql", "--database-url", url, "backup", "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"backup failed: {done.stderr}")
    counts: dict[str, int] = {}
    summary = ""
    for line in done.stdout.splitlines():
        if line.startswith("backup:"):
            summary = summary or line
            continue
        name, rows = line.split()
        counts[name] = int(rows)
    found = re.search(r" in ([0-9.]+) s:", summary)
    return wall, float(found.group(1)) if found else float("nan"), counts, summary


def count(url: str, table: str) -> int:
    sys.path.insert(0, str(REPO))
    from tests import databases

    return int(databases.query(url, f'SELECT count(*) FROM "{table}"')[0][0])


async def one(kind: str, runs: int, server: str | None, roster: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    made: list[str] = []
    try:
        if kind == "sqlite":
            url = f"sqlite://{folder / 'demo.sqlite3'}"
        else:
            assert server is not None
            name = f"bench_backup_{int(time.time())}"
            await admin(server, f'CREATE DATABASE "{name}"')
            made.append(name)
            url = f"{server}/{name}"
        # In a process of its own: one process fills one dialect's database (statements are cached).
        argv = [
            sys.executable,
            __file__,
            "--demo-into",
            url,
            "--folder",
            str(folder),
            "--roster",
            str(roster),
        ]
        await asyncio.to_thread(subprocess.run, argv, check=True)
        walls, reported = [], []
        counts: dict[str, int] = {}
        summary = ""
        for i in range(runs):
            output = folder / f"backup-{i}.{'sqlite3' if kind == 'sqlite' else 'dump'}"
            wall, took, counts, summary = await asyncio.to_thread(backup, url, output)
            walls.append(wall)
            reported.append(took)
        size = output.stat().st_size
        started = time.perf_counter()
        if kind == "sqlite":
            restored_file = folder / "restored.sqlite3"
            shutil.copyfile(output, restored_file)
            restored = f"sqlite://{restored_file}"
        else:
            assert server is not None
            name = f"bench_restored_{int(time.time())}"
            await admin(server, f'CREATE DATABASE "{name}"')
            made.append(name)
            restored = f"{server}/{name}"
            argv = ["pg_restore", "--no-owner", f"--dbname={restored}", str(output)]
            await asyncio.to_thread(subprocess.run, argv, check=True)
        restore_s = time.perf_counter() - started
        differs = [t for t, n in counts.items() if count(restored, t) != n]
        return {
            "database": "SQLite" if kind == "sqlite" else "PostgreSQL",
            "tables": len(counts),
            "rows": sum(counts.values()),
            "bytes": size,
            "wall": walls,
            "reported": reported,
            "restore_s": restore_s,
            "differs": differs,
            "summary": summary,
        }
    finally:
        for name in made:
            assert server is not None
            await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--roster", type=int, default=0, help="legacy accounts added to the demo's (at mad)")
    parser.add_argument("--postgres-url", default=os.environ.get("NEXTGEN_GQL_BENCH_POSTGRES"))
    parser.add_argument("--demo-into", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.demo_into:
        await demo(args.demo_into, Path(args.folder), args.roster)
        return
    kinds = [k for k in args.database if k == "sqlite" or args.postgres_url]
    if "postgres" in args.database and not args.postgres_url:
        print("(PostgreSQL skipped: give --postgres-url or NEXTGEN_GQL_BENCH_POSTGRES)", file=sys.stderr)
    load = os.getloadavg()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        "| database | tables | rows | backup size | command, wall s (each run) | backup itself, s | restore s | restored = printed |"
    )
    print("|---|---:|---:|---:|---|---|---:|---|")
    for kind in kinds:
        r = await one(kind, args.runs, args.postgres_url, args.roster)
        walls = ", ".join(f"{w:.2f}" for w in r["wall"])
        took = ", ".join(f"{t:.2f}" for t in r["reported"])
        same = "yes" if not r["differs"] else "NO: " + ", ".join(r["differs"])
        print(
            f"| {r['database']} | {r['tables']} | {r['rows']:,} | {r['bytes'] / 2**20:.1f} MiB | {walls} | {took} |"
            f" {r['restore_s']:.2f} | {same} |",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
