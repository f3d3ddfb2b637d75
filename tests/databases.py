"""The database the suite runs on: SQLite files by default, PostgreSQL when asked.

Set ``NEXTGEN_GQL_TEST_POSTGRES`` to a server URL (``postgres://postgres@127.0.0.1:54329``,
see ``scripts/pg-cluster``) and every test that makes a database makes it there instead:
a fresh database per test, copied from a template where the demo data is needed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "PGBOUNCER",
    "POSTGRES",
    "SECRET_KEY",
    "assert_pooled",
    "backend",
    "copy_database",
    "drop_database",
    "new_database_url",
    "pooled_env",
    "pooled_settings",
    "pooler_console",
    "query",
]

POSTGRES = os.environ.get("NEXTGEN_GQL_TEST_POSTGRES", "").rstrip("/") or None
#: A PgBouncer in transaction mode in front of ``NEXTGEN_GQL_TEST_POSTGRES`` (scripts/pgbouncer):
#: when set, the services the tests start reach their database through it
#: (``NEXTGEN_GQL_DATABASE_POOLING=transaction``), and directly only for ``LISTEN``, locks,
#: migrations and maintenance (``NEXTGEN_GQL_DIRECT_DATABASE_URL``).
PGBOUNCER = os.environ.get("NEXTGEN_GQL_TEST_PGBOUNCER", "").rstrip("/") or None
_counter = itertools.count()
#: NEXTGEN_GQL_SECRET_KEY of the suite's services (required on PostgreSQL; fixed, so that a
#: database copied from the template opens with the key that sealed its secrets).
SECRET_KEY = "test-secret-key-of-the-nextgen-gql-suite-0123456789"


def backend() -> str:
    return "postgres" if POSTGRES else "sqlite"


def _admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(f"{POSTGRES}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _pg_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def new_database_url(folder: Path, name: str = "nextgen") -> str:
    """The URL of a database that exists and is empty (SQLite: a file not created yet)."""
    if POSTGRES is None:
        return f"sqlite://{folder / f'{name}.sqlite3'}"
    db = f"t{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    _admin(f'CREATE DATABASE "{db}"')
    return f"{POSTGRES}/{db}"


def copy_database(template_url: str, folder: Path) -> str:
    """A new database holding what ``template_url`` holds."""
    if POSTGRES is None:
        source = Path(template_url.removeprefix("sqlite://"))
        target = folder / "nextgen.sqlite3"
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return f"sqlite://{target}"
    db = f"t{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    _admin(f'CREATE DATABASE "{db}" TEMPLATE "{_pg_name(template_url)}"')
    return f"{POSTGRES}/{db}"


def pooled_settings(url: str) -> dict[str, Any]:
    """The database settings of a service over ``url``: through the suite's PgBouncer when
    ``NEXTGEN_GQL_TEST_PGBOUNCER`` is set, else ``url`` itself."""
    if PGBOUNCER is None or POSTGRES is None or not url.startswith(POSTGRES + "/"):
        return {"database_url": url}
    return {
        "database_url": PGBOUNCER + url.removeprefix(POSTGRES),
        "database_pooling": "transaction",
        "direct_database_url": url,
    }


def pooler_console(command: str) -> list[dict[str, str]]:
    """Rows of a ``SHOW`` command on the suite's PgBouncer's admin console (it speaks only the
    simple query protocol, so through ``psql``)."""
    assert PGBOUNCER is not None
    parts = urlsplit(PGBOUNCER)
    out = subprocess.run(
        [
            *("psql", "-X", "-A", "-F", "\t", "-P", "footer=off", "-h", parts.hostname or "127.0.0.1"),
            *("-p", str(parts.port or 6432), "-U", parts.username or "postgres", "pgbouncer", "-c", command),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    header = out[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in out[1:]]


def assert_pooled(url: str) -> None:
    """When the suite runs through PgBouncer: fail unless the service over ``url`` reached its
    database through the pooler (PgBouncer lists a database once a client opened it)."""
    if PGBOUNCER is None or POSTGRES is None or not url.startswith(POSTGRES + "/"):
        return
    name = _pg_name(url)
    seen = {row["name"] for row in pooler_console("SHOW DATABASES")}
    assert name in seen, f"the service over {name} did not go through PgBouncer at {PGBOUNCER}"


def pooled_env(url: str) -> dict[str, str]:
    """``pooled_settings`` as the environment of a ``nextgen-gql`` process."""
    return {f"NEXTGEN_GQL_{name.upper()}": value for name, value in pooled_settings(url).items()}


def drop_database(url: str) -> None:
    if POSTGRES is not None and url.startswith(POSTGRES):
        _admin(f'DROP DATABASE IF EXISTS "{_pg_name(url)}" WITH (FORCE)')


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one SQL query, from a synchronous test; booleans come back as 0 and 1."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]
    import asyncpg

    async def run() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url, statement_cache_size=0)  # the URL may be a PgBouncer's
        try:
            rows = await conn.fetch(sql)
        finally:
            await conn.close()
        return [tuple(int(v) if isinstance(v, bool) else v for v in row.values()) for row in rows]

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    # A loop runs in this thread (Playwright's synchronous API keeps one): in a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()
