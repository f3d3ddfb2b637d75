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
import uuid
from pathlib import Path
from typing import Any

__all__ = ["POSTGRES", "SECRET_KEY", "backend", "copy_database", "drop_database", "new_database_url", "query"]

POSTGRES = os.environ.get("NEXTGEN_GQL_TEST_POSTGRES", "").rstrip("/") or None
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
        conn = await asyncpg.connect(url)
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
