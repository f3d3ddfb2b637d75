"""The unlinked export's memory (issue 23): a small roster and a 1,000,000-row one, side by side.

    .venv/bin/python bench/export_memory.py [--rows 1000 1000000] [--database sqlite|postgres]
        [--postgres-url URL]   (or NEXTGEN_GQL_BENCH_POSTGRES, as bench/scale.py)

For each size: a fresh database with the demo data (``serve --demo``), ``--rows`` unlinked
legacy accounts added at ``mad`` (streamed into the database from a generator, so the
loader holds no list of rows), then ``GET /courts/mad/exports/unlinked.csv`` sent as a clerk
straight through the app's ASGI interface (the body's chunks counted and dropped, as a
client reading the stream would; httpx's in-process transport would buffer the whole body).
Reported: the rows and bytes exported, the time, the peak of Python's allocations during the
export (``tracemalloc``) and the process's resident memory before and after it. Not part of
the test suite or of ``.ci/run``; results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import platform
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nextgen_gql.app import create_app  # noqa: E402
from nextgen_gql.settings import Settings  # noqa: E402

TENANTS = REPO / "tests" / "fixtures" / "tenants"
CLERK, CLERK_PASSWORD = "madclerk01", "Court-Docket-Review-2026!"
SECRET = "bench-secret-key-of-the-export-benchmark-0123456789"
COLUMNS = (
    "court_id, login, login_key, first_name, last_name, last_name_key, email, role, created_at, search_text"
)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rows(n: int) -> Iterator[tuple[Any, ...]]:
    created = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
    for g in range(1, n + 1):
        login = f"export{g:07}"
        last = f"Unlinked{g}"
        email = f"e{g}@example.org" if g % 4 else ""
        yield (
            "mad",
            login,
            login,
            "Bulk",
            last,
            last.casefold(),
            email,
            "attorney",
            created,
            f"{login} {email}",
        )


async def load(url: str, n: int) -> float:
    started = time.perf_counter()
    marks = ", ".join("?" * 10)
    if url.startswith("sqlite://"):
        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        with conn:
            conn.executemany(
                f"INSERT INTO cmecf_accounts ({COLUMNS}) VALUES ({marks})",
                (tuple(v.isoformat(" ") if isinstance(v, dt.datetime) else v for v in r) for r in rows(n)),
            )
        conn.execute("ANALYZE")
        conn.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            await conn.copy_records_to_table(
                "cmecf_accounts", records=rows(n), columns=[c.strip() for c in COLUMNS.split(",")]
            )
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
    return time.perf_counter() - started


async def export(app: Any, token: str) -> tuple[int, int, int]:
    """(status, bytes, rows) of the export, read chunk by chunk and dropped."""
    got = {"status": 0, "bytes": 0, "lines": 0}
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            got["status"] = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            got["bytes"] += len(body)
            got["lines"] += body.count(b"\n")
            if not message.get("more_body"):
                done.set()

    path = "/courts/mad/exports/unlinked.csv"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    await app(scope, receive, send)
    return got["status"], got["bytes"], got["lines"] - 1


async def one(url: str, n: int) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        tenants_dir=TENANTS,
        mail_dir=Path(tempfile.mkdtemp()) / "mail",
        demo=True,
        secret_key=SECRET,
        maintenance_interval_s=0,
        reminder_interval_s=0,
    )
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=600, shutdown_timeout=60) as manager:
        loaded = await load(url, n)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            answer = await client.post(
                "/graphql",
                json={
                    "query": "mutation($i: SignInInput!) { signIn(input: $i) { token } }",
                    "variables": {"i": {"username": CLERK, "password": CLERK_PASSWORD}},
                },
            )
            token = answer.json()["data"]["signIn"]["token"]
        gc.collect()
        before = rss_mib()
        tracemalloc.start()
        started = time.perf_counter()
        status, size, lines = await export(manager.app, token)
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        after = rss_mib()
    assert status == 200, status
    return {
        "rows": n,
        "exported": lines,
        "bytes": size,
        "load_s": loaded,
        "export_s": took,
        "peak_mib": peak / 2**20,
        "rss_before": before,
        "rss_after": after,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 1_000_000])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("NEXTGEN_GQL_BENCH_POSTGRES"))
    args = parser.parse_args()
    if args.database == "postgres" and not args.postgres_url:
        sys.exit("--postgres-url (or NEXTGEN_GQL_BENCH_POSTGRES) is needed for PostgreSQL")
    print(f"{platform.python_version()} on {platform.machine()}, {args.database}")
    print(
        "| roster rows added | rows exported | bytes | export s | peak Python alloc MiB | RSS before/after MiB |"
    )
    print("|---:|---:|---:|---:|---:|---|")
    for n in args.rows:
        if args.database == "sqlite":
            url = f"sqlite://{tempfile.mkdtemp()}/export.sqlite3"
        else:
            import asyncpg

            name = f"bench_export_{n}_{int(time.time())}"
            admin = await asyncpg.connect(args.postgres_url + "/postgres")
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            url = f"{args.postgres_url}/{name}"
        r = await one(url, n)
        print(
            f"| {r['rows']:,} | {r['exported']:,} | {r['bytes']:,} | {r['export_s']:.1f} | {r['peak_mib']:.2f} |"
            f" {r['rss_before']:.0f} / {r['rss_after']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
