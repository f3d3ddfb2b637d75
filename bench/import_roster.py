"""Benchmark: import a 100,000-row CM/ECF roster with password_hash, beside raw executemany.

    .venv/bin/python bench/import_roster.py [--rows N]

Generates a roster CSV (argon2 PHC strings, a few hundred distinct ones cycled: hashing
100,000 passwords is not what is measured here), then times, each on a fresh SQLite file:

- ``nextgen-gql import cmecf-accounts`` as an integrator runs it (a separate process: start-up,
  migrations, validation of every row, the duplicate checks, the batched writes, one transaction);
- the same rows inserted with the standard library's ``sqlite3.executemany`` into the same
  table, with no validation at all: the floor for this machine.
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
from pathlib import Path

from argon2 import PasswordHasher

REPO = Path(__file__).resolve().parent.parent


def make_roster(path: Path, rows: int) -> None:
    hasher = PasswordHasher()
    hashes = [hasher.hash(f"legacy-password-{i}") for i in range(200)]
    roles = ["attorney", "pro_se", "media"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["login", "first_name", "last_name", "email", "role", "password_hash"])
        for i in range(rows):
            writer.writerow(
                [
                    f"filer{i:06d}",
                    "Pat",
                    f"Filer{i}",
                    f"filer{i}@example.org",
                    roles[i % 3],
                    hashes[i % len(hashes)],
                ]
            )


def time_cli(workdir: Path, roster: Path) -> float:
    exe = Path(sys.executable).parent / "nextgen-gql"
    env = {
        **os.environ,
        "NEXTGEN_GQL_DATABASE_URL": f"sqlite://{workdir / 'cli.sqlite3'}",
        "NEXTGEN_GQL_TENANTS_DIR": str(REPO / "tenants"),
    }
    started = time.perf_counter()
    subprocess.run(
        [str(exe), "import", "cmecf-accounts", "mad", str(roster)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def time_raw(workdir: Path, roster: Path) -> float:
    # The same table, made by the service's own migrations, so both write into one schema.
    exe = Path(sys.executable).parent / "nextgen-gql"
    db = workdir / "raw.sqlite3"
    env = {
        **os.environ,
        "NEXTGEN_GQL_DATABASE_URL": f"sqlite://{db}",
        "NEXTGEN_GQL_TENANTS_DIR": str(REPO / "tenants"),
    }
    subprocess.run([str(exe), "tenants", "list"], check=True, env=env, stdout=subprocess.DEVNULL)
    empty = workdir / "empty.csv"
    empty.write_text("login,first_name,last_name,email,role,password_hash\n")
    subprocess.run(
        [str(exe), "import", "cmecf-accounts", "mad", str(empty)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    with roster.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
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
            for r in reader
        ]
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO cmecf_accounts (court_id, login, login_key, first_name, last_name, email, role,"
            " password_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            values,
        )
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="nextgen-bench-"))
    try:
        roster = workdir / "roster.csv"
        make_roster(roster, args.rows)
        cli = time_cli(workdir, roster)
        raw = time_raw(workdir, roster)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"rows: {args.rows}")
        print(
            f"nextgen-gql import cmecf-accounts (whole command): {cli:.2f} s ({args.rows / cli:,.0f} rows/s)"
        )
        print(
            f"raw sqlite3.executemany (insert only):            {raw:.2f} s ({args.rows / raw:,.0f} rows/s)"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
