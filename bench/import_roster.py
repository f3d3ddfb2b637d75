"""Benchmark: the roster import through ``nextgen-gql import cmecf-accounts``, as an integrator runs it.

    .venv/bin/python bench/import_roster.py [--database sqlite|postgres|both]
        [--postgres-url URL] [--rows 100000] [--beside 1000000] [--pg-rows 10000,100000,1000000]
        [--repeat 5]

Generates roster CSVs (argon2 PHC strings, a few hundred distinct ones cycled: hashing passwords
is not what is measured here) and times the whole command (a separate process: start-up,
migrations, validation of every row, the duplicate checks, the writes, the kept counts and
search rows, the statistics, one transaction), each time into an empty court:

- SQLite: ``--rows`` into a fresh database; then ``--rows`` into ``mad`` of a database where
  ``mab`` already holds ``--beside`` rows (loaded by the same command, also timed); and the
  same rows inserted with the standard library's ``sqlite3.executemany``, no validation and no
  triggers, as the floor for this machine;
- PostgreSQL (``--postgres-url`` or ``NEXTGEN_GQL_BENCH_POSTGRES``, a server URL without a
  database): each of ``--pg-rows`` into a fresh database, to show whether it grows linearly.

The machine's load average is printed with every figure (shared machines move them). Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from argon2 import PasswordHasher

REPO = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).parent / "nextgen-gql"
SECRET = "bench-secret-key-of-the-import-benchmark-0123456789"


_HASHES: list[str] = []


def make_roster(
    path: Path, rows: int, prefix: str = "filer", roles: tuple[str, ...] = ("attorney", "pro_se", "media")
) -> None:
    """``rows`` accounts in ``roles`` by turns (the default: a district court's; ``mab``, a
    bankruptcy court, takes attorneys)."""
    if not _HASHES:  # made once: argon2 is slow on purpose
        hasher = PasswordHasher()
        _HASHES.extend(hasher.hash(f"legacy-password-{i}") for i in range(200))
    hashes = _HASHES
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["login", "first_name", "last_name", "email", "role", "password_hash"])
        for i in range(rows):
            writer.writerow(
                [
                    f"{prefix}{i:07d}",
                    "Pat",
                    f"Filer{i}",
                    f"{prefix}{i}@example.org" if i % 10 else "",
                    roles[i % len(roles)],
                    hashes[i % len(hashes)],
                ]
            )


def report(line: str) -> str:
    """A table row, also printed to stderr as soon as it is measured (a long run shows progress)."""
    print(line, file=sys.stderr, flush=True)
    return line


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def run_import(url: str, court: str, roster: Path) -> tuple[float, str]:
    """Seconds the whole command took, and the load average when it ended."""
    # As an installed service runs: Python writes its bytecode caches (pip compiles them at
    # install; an editable install writes them at the first run, ``warm_up``). A shell with
    # PYTHONDONTWRITEBYTECODE set would compile every changed module again at every run.
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "NEXTGEN_GQL_DATABASE_URL": url,
        "NEXTGEN_GQL_TENANTS_DIR": str(REPO / "tenants"),
        "NEXTGEN_GQL_SECRET_KEY": SECRET,
    }
    started = time.perf_counter()
    subprocess.run(
        [str(EXE), "import", "cmecf-accounts", court, str(roster)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, load()


def time_raw(workdir: Path, roster: Path) -> float:
    """``sqlite3.executemany`` into the service's own table, triggers dropped: the floor."""
    db = workdir / "raw.sqlite3"
    empty = workdir / "empty.csv"
    empty.write_text("login,first_name,last_name,email,role,password_hash\n")
    run_import(f"sqlite://{db}", "mad", empty)  # migrated, courts applied
    conn = sqlite3.connect(db)
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cmecf_accounts'"
    ):
        conn.execute(f"DROP TRIGGER {name}")
    started = time.perf_counter()
    with roster.open(newline="", encoding="utf-8") as handle:
        values = [
            (
                "mad",
                r["login"],
                r["login"].lower(),
                r["first_name"],
                r["last_name"],
                r["email"],
                r["role"],
                r["password_hash"],
                "2026-01-01 00:00:00+00:00",
            )
            for r in csv.DictReader(handle)
        ]
    with conn:
        conn.executemany(
            "INSERT INTO cmecf_accounts (court_id, login, login_key, first_name, last_name, email, role,"
            " password_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            values,
        )
    conn.close()
    return time.perf_counter() - started


def warm_up(workdir: Path) -> None:
    """One import of nothing, not measured: the bytecode caches written, as after an install."""
    empty = workdir / "warm.csv"
    empty.write_text("login,first_name,last_name,email,role,password_hash\n")
    run_import(f"sqlite://{workdir / 'warm.sqlite3'}", "mad", empty)


def sqlite_leg(args: argparse.Namespace, workdir: Path) -> list[str]:
    roster = workdir / "roster.csv"
    make_roster(roster, args.rows)
    warm_up(workdir)
    lines = []
    runs = []
    for i in range(args.repeat):  # a fresh database each time; the median is reported
        runs.append(run_import(f"sqlite://{workdir / f'empty{i}.sqlite3'}", "mad", roster))
        for leftover in workdir.glob(f"empty{i}.sqlite3*"):
            leftover.unlink()
    took, at = sorted(runs)[len(runs) // 2]
    spread = f" (median of {len(runs)}: {min(runs)[0]:.2f}-{max(runs)[0]:.2f} s)" if len(runs) > 1 else ""
    lines.append(
        report(
            f"| SQLite | {args.rows:,} into an empty court, fresh database | {took:.2f} s{spread} | {args.rows / took:,.0f} | {at} |"
        )
    )
    if args.beside:
        big = workdir / "big.csv"
        make_roster(big, args.beside, prefix="big", roles=("attorney",))
        url = f"sqlite://{workdir / 'beside.sqlite3'}"
        took, at = run_import(url, "mab", big)
        lines.append(
            report(
                f"| SQLite | {args.beside:,} into an empty court (`mab`), fresh database | {took:.2f} s | {args.beside / took:,.0f} | {at} |"
            )
        )
        took, at = run_import(url, "mad", roster)
        lines.append(
            report(
                f"| SQLite | {args.rows:,} into an empty court (`mad`) beside `mab`'s {args.beside:,} | {took:.2f} s | {args.rows / took:,.0f} | {at} |"
            )
        )
    raw = time_raw(workdir, roster)
    lines.append(
        report(
            f"| SQLite | {args.rows:,}: raw `sqlite3.executemany`, no validation, no triggers (the floor) | {raw:.2f} s | {args.rows / raw:,.0f} | {load()} |"
        )
    )
    return lines


def postgres_leg(args: argparse.Namespace, workdir: Path) -> list[str]:
    import asyncio

    import asyncpg

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"{args.postgres_url}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    lines = []
    for rows in (int(n) for n in args.pg_rows.split(",")):
        roster = workdir / f"pg{rows}.csv"
        make_roster(roster, rows)
        name = f"import_{uuid.uuid4().hex[:8]}"
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        try:
            # Migrated and courts applied first, as a running service's database is.
            empty = workdir / "empty.csv"
            empty.write_text("login,first_name,last_name,email,role,password_hash\n")
            run_import(f"{args.postgres_url}/{name}", "mad", empty)
            took, at = run_import(f"{args.postgres_url}/{name}", "mad", roster)
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        roster.unlink()
        lines.append(
            report(
                f"| PostgreSQL | {rows:,} into an empty court (migrated database) | {took:.2f} s | {rows / took:,.0f} | {at} |"
            )
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("NEXTGEN_GQL_BENCH_POSTGRES"))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--beside", type=int, default=1_000_000, help="rows already at another court (0: skip)"
    )
    parser.add_argument("--pg-rows", default="10000,100000,1000000")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of the fresh SQLite import (the median is reported)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="nextgen-bench-"))
    lines = [
        "| database | what | time | rows/s | load average (1/5/15 min) at the end |",
        "|---|---|---|---|---|",
    ]
    try:
        if args.database in ("sqlite", "both"):
            lines += sqlite_leg(args, workdir)
        if args.database in ("postgres", "both"):
            if not args.postgres_url:
                sys.exit("--postgres-url (or NEXTGEN_GQL_BENCH_POSTGRES) is needed for PostgreSQL")
            lines += postgres_leg(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}. Each figure is the whole `nextgen-gql import cmecf-accounts`"
        " command (a process of its own).\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
