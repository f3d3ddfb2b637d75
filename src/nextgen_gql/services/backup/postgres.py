"""A PostgreSQL database dumped while the service writes to it, counted in the dump's own snapshot.

A ``REPEATABLE READ`` transaction exports its snapshot (``pg_export_snapshot()``); ``pg_dump
--snapshot=`` dumps exactly what that snapshot sees while the transaction counts each table's
rows in it, so the counts printed are the dump's. The transaction stays open until pg_dump ends
(an exported snapshot lives as long as its transaction).

pg_dump gets the connection's parts as arguments (``--host``, ``--port``, ``--username``,
``--dbname``) and the password only in its environment (``PGPASSWORD``): a command line is
visible to every user of the machine (``ps``), an environment is not. ``--no-password`` keeps it
from ever waiting for a password at a prompt.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from nextgen_gql.db import plain_postgres_url
from nextgen_gql.services.backup._target import BackupFailed, BackupRefused

__all__ = ["Connection", "Tools", "dump", "find_tools", "pg_dump_command"]

#: How many lines of a failing program's stderr a message quotes.
_ERROR_LINES = 5
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


@dataclass(frozen=True)
class Tools:
    pg_dump: str
    pg_restore: str


def find_tools() -> Tools:
    """pg_dump and pg_restore from the PATH; ``BackupRefused`` naming the one missing."""
    found = {name: shutil.which(name) for name in ("pg_dump", "pg_restore")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise BackupRefused(
            f"{' and '.join(missing)} not found on the PATH: a PostgreSQL backup needs PostgreSQL's "
            "client programs (pg_dump writes the dump, pg_restore checks it), of the server's major "
            "version or newer (Debian and Ubuntu: apt-get install postgresql-client)"
        )
    return Tools(pg_dump=str(found["pg_dump"]), pg_restore=str(found["pg_restore"]))


@dataclass(frozen=True)
class Connection:
    """The parts of a ``postgres://`` URL that pg_dump takes."""

    host: str | None
    port: int | None
    user: str | None
    password: str | None
    dbname: str
    sslmode: str | None

    @classmethod
    def of(cls, database_url: str) -> Connection:
        parts = urlsplit(plain_postgres_url(database_url) + _query(database_url))
        query = parse_qs(parts.query)
        host = unquote(parts.hostname or "") or _first(query, "host")
        sslmode = _first(query, "sslmode") or _first(query, "ssl")
        dbname = unquote(parts.path.lstrip("/")) or _first(query, "dbname")
        if not dbname:
            raise BackupRefused(
                "NEXTGEN_GQL_DATABASE_URL names no database (postgres://user@host:5432/DBNAME)"
            )
        try:
            port = parts.port
        except ValueError:
            raise BackupRefused("NEXTGEN_GQL_DATABASE_URL: the port is not a number") from None
        return cls(
            host=host or None,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            dbname=dbname,
            sslmode=sslmode if sslmode in _SSL_MODES else None,
        )


def _query(database_url: str) -> str:
    return "?" + database_url.split("?", 1)[1] if "?" in database_url else ""


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def pg_dump_command(
    pg_dump: str, conn: Connection, snapshot: str, output: Path, environ: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment: the password in ``PGPASSWORD``, never an argument."""
    argv = [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={output}", "--no-password"]
    if conn.host:
        argv.append(f"--host={conn.host}")
    if conn.port:
        argv.append(f"--port={conn.port}")
    if conn.user:
        argv.append(f"--username={conn.user}")
    # --dbname= takes a connection string when the value holds "=" or a URI prefix: a plain name
    # with such characters is passed as a connection string naming it, so it cannot smuggle options.
    if "=" in conn.dbname or conn.dbname.startswith(("postgres://", "postgresql://")):
        quoted = conn.dbname.replace("\\", "\\\\").replace("'", "\\'")
        argv.append(f"--dbname=dbname='{quoted}'")
    else:
        argv.append(f"--dbname={conn.dbname}")
    env = dict(os.environ if environ is None else environ)
    if conn.password is not None:
        env["PGPASSWORD"] = conn.password
    if conn.sslmode is not None:
        env["PGSSLMODE"] = conn.sslmode
    return argv, env


#: The database's own tables in its schema: partitions are counted through their parent.
_TABLES = """
SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def dump(database_url: str, output: Path, tools: Tools) -> tuple[dict[str, int], str]:
    """Dump the database into ``output`` (custom format); rows per table in the dump's snapshot,
    and what ``pg_restore --list`` found."""
    import asyncpg

    conn = Connection.of(database_url)
    try:
        db = await asyncpg.connect(plain_postgres_url(database_url))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise BackupFailed(f"cannot connect to the database: {exc}") from None
    try:
        transaction = db.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        snapshot = await db.fetchval("SELECT pg_export_snapshot()")
        # Limits a role may carry (as behind a transaction-pooling PgBouncer) would end the
        # counts on a big table, or this transaction while it waits for pg_dump.
        await db.execute("SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0")
        argv, env = pg_dump_command(tools.pg_dump, conn, snapshot, output)
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            # Counted while pg_dump reads: the same snapshot, both at once.
            tables = await db.fetch(_TABLES)
            counts = {row[0]: await db.fetchval(f"SELECT count(*) FROM {_ident(row[0])}") for row in tables}
            _, stderr = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await transaction.rollback()
    finally:
        await db.close()
    if process.returncode != 0:
        raise BackupFailed(f"pg_dump failed (exit {process.returncode}): {_tail(stderr)}")
    return counts, await _check(output, tools, {row[0]: row[1] for row in tables})


async def _check(output: Path, tools: Tools, tables: dict[str, str]) -> str:
    """``pg_restore --list``: the dump reads back, and lists every table (and the data of every
    plain table; a partitioned table's rows are dumped with its partitions)."""
    process = await asyncio.create_subprocess_exec(
        tools.pg_restore, "--list", str(output),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    listing, stderr = await process.communicate()
    if process.returncode != 0:
        raise BackupFailed(
            f"pg_restore --list could not read the dump (exit {process.returncode}): {_tail(stderr)}"
        )
    entries = [
        line for line in listing.decode(errors="replace").splitlines() if line and not line.startswith(";")
    ]
    listed = set()
    for line in entries:
        found = re.match(r"^\d+; \d+ \d+ (TABLE DATA|TABLE) \S+ (\S+)(?: |$)", line)
        if found:
            listed.add((found.group(1), found.group(2)))
    missing = [name for name in tables if ("TABLE", name) not in listed]
    missing += [
        f"{name} (its rows)"
        for name, kind in tables.items()
        if kind == "r" and ("TABLE DATA", name) not in listed
    ]
    if missing:
        raise BackupFailed(f"pg_restore --list: the dump lacks {', '.join(missing)}")
    return f"pg_restore --list: {len(entries)} entries, every table and its rows"


def _tail(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return " / ".join(lines[-_ERROR_LINES:]) or "no message"
