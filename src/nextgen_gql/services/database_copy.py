"""``nextgen-gql copy-database``: a SQLite database copied into an empty PostgreSQL one.

The way a court system moves from the embedded database to PostgreSQL, in one command:

1. The target is checked first: it must be reachable and hold no row in any table of the
   service (a database of another application's, or one already copied into, is refused
   before anything is written). Then it is migrated, as ``serve`` would.
2. The source is read in one read transaction (a snapshot: the service may keep writing
   to it; the copy is the database as of that moment), table by table in the order of their
   foreign keys, in batches, each batch converted to PostgreSQL's types (SQLite's 0/1 to
   booleans, its text date-times to ``timestamptz``) and written with ``COPY``.
3. All of it is written in one transaction on the target, with the kept-count triggers off:
   the counts (``list_counts``) are not copied but counted once from the copied rows
   (``counts.recount_statements``). SQLite's own search tables (FTS5) are not copied:
   PostgreSQL's trigram indexes are built from the copied rows. The id sequences are set
   past the highest id copied, every table's rows are counted on both sides, and only then
   is the transaction committed. A row PostgreSQL refuses, or a difference, rolls all of it
   back: the target is left migrated and empty, as before, never half-copied.
4. The target's planner statistics are gathered (``ANALYZE``), as after an import.

Authenticator secrets are copied sealed: the PostgreSQL service must run with the key that
sealed them (a SQLite database's generated key is kept beside it, ``FILE.secret-key``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nextgen_gql.services.counts import recount_statements

__all__ = ["BATCH_ROWS", "CopyRefused", "CopyReport", "copy_database", "redacted"]

#: Rows read and written at a time (a batch is held in memory twice: as read and as converted).
BATCH_ROWS = 5000
#: Tables of the service that are not copied: Tortoise's record of applied migrations (the
#: target's own, made by migrating it) and the kept counts (counted again on the target).
NOT_COPIED = frozenset({"tortoise_migrations", "list_counts"})
CONNECT_TIMEOUT = 10.0

#: Called after each batch with the rows copied so far and the rows to copy in all.
Progress = Callable[[int, int], None]


class CopyRefused(Exception):
    """Bad input (the source, the target, a row): nothing was copied. The message says what."""


@dataclass
class CopyReport:
    source: str
    target: str  # the URL without its password
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows copied (equal on both sides)
    #: Kept counts the source held that differ from the recount of its rows (the recount is
    #: what the target holds): "court list: source N, rows M".
    count_drift: list[str] = field(default_factory=list)
    seconds: float = 0.0
    secret_key_file: Path | None = None

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def redacted(url: str) -> str:
    """``url`` without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite://"):
        raise CopyRefused(
            f"the configured database ({redacted(url)}) is not SQLite: copy-database copies a SQLite "
            "database into PostgreSQL (NEXTGEN_GQL_DATABASE_URL or --database-url names the source)"
        )
    raw = url.removeprefix("sqlite://").split("?", 1)[0]
    if not raw or raw == ":memory:":
        raise CopyRefused("the configured database is an in-memory SQLite database: there is nothing to copy")
    path = Path(raw)
    if not path.is_file():
        raise CopyRefused(f"the source database {path} does not exist")
    return path


def _asyncpg_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme in ("postgres", "postgresql", "asyncpg") else url


# --- Reading the source ----------------------------------------------------------------------


def _source_tables(source: sqlite3.Connection) -> set[str]:
    """The source's data tables: not SQLite's own, not FTS5 tables or their shadow tables."""
    found = source.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in found if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    return {
        name
        for name, _ in found
        if not name.startswith("sqlite_")
        and name not in virtual
        and not any(name.startswith(f"{v}_") for v in virtual)
    }


def _source_columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]


def _batches(
    source: sqlite3.Connection, table: str, columns: Sequence[str]
) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows in its own order (rowid), ``BATCH_ROWS`` at a time; the rowid first."""
    listed = ", ".join(f'"{c}"' for c in columns)
    cursor = source.execute(f'SELECT rowid, {listed} FROM "{table}" ORDER BY rowid')
    while True:
        rows = cursor.fetchmany(BATCH_ROWS)
        if not rows:
            return
        yield rows


# --- Converting values -----------------------------------------------------------------------


def _timestamptz(value: Any) -> dt.datetime:
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
    elif isinstance(value, int | float):  # seconds since the epoch
        parsed = dt.datetime.fromtimestamp(value, dt.UTC)
    else:
        raise TypeError(f"{type(value).__name__} is not a date-time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _date(value: Any) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    raise TypeError(f"{type(value).__name__} is not a date")


def _boolean(value: Any) -> bool:
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("0", "1", "true", "false"):
        return value.lower() in ("1", "true")
    raise ValueError(f"{value!r} is not a boolean (0 or 1)")


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{value!r} is not an integer")
    return int(value)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value if isinstance(value, str) else str(value)


def _real(value: Any) -> float:
    return float(value)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "timestamptz": _timestamptz,
    "timestamp": lambda v: _timestamptz(v).replace(tzinfo=None),
    "date": _date,
    "bool": _boolean,
    "int2": _integer,
    "int4": _integer,
    "int8": _integer,
    "varchar": _text,
    "text": _text,
    "bpchar": _text,
    "float4": _real,
    "float8": _real,
}


class _Refused(Exception):
    def __init__(self, column: str, value: Any, reason: str) -> None:
        super().__init__(f"column {column}: {reason} (value {value!r:.80})")


def _converter(columns: Sequence[str], types: Sequence[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    steps = []
    for column, udt in zip(columns, types, strict=True):
        convert = _CONVERT.get(udt)
        if convert is None:
            raise CopyRefused(f"column {column} is of type {udt}, which copy-database does not convert")
        steps.append((column, convert))

    def row(values: tuple[Any, ...]) -> tuple[Any, ...]:
        out: list[Any] = []
        for (column, convert), value in zip(steps, values, strict=True):
            if value is None:
                out.append(None)
                continue
            try:
                out.append(convert(value))
            except (TypeError, ValueError, UnicodeDecodeError) as exc:
                raise _Refused(column, value, str(exc)) from None
        return tuple(out)

    return row


# --- The target --------------------------------------------------------------------------------


async def _connect(url: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(_asyncpg_url(url), timeout=CONNECT_TIMEOUT)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = str(exc) or type(exc).__name__
        raise CopyRefused(f"the target {redacted(url)} cannot be reached: {reason}") from None


async def _held_tables(conn: Any) -> list[str]:
    """Tables of the target's ``public`` schema (partitions aside) that hold a row, besides
    Tortoise's record of migrations."""
    names = await conn.fetch(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname"
    )
    held = []
    for (name,) in names:
        if name == "tortoise_migrations":
            continue
        if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{name}")'):
            held.append(name)
    return held


async def _target_tables(conn: Any) -> dict[str, list[tuple[str, str, bool, bool]]]:
    """Each table of the target (partitions aside): its columns as (name, type, nullable,
    has a default), in order."""
    rows = await conn.fetch(
        "SELECT a.attrelid::regclass::text AS tbl, a.attname, t.typname, NOT a.attnotnull AS nullable,"
        " a.atthasdef OR a.attidentity <> '' AS has_default"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY tbl, a.attnum"
    )
    found: dict[str, list[tuple[str, str, bool, bool]]] = {}
    for r in rows:
        found.setdefault(r["tbl"].strip('"'), []).append(
            (r["attname"], r["typname"], r["nullable"], r["has_default"])
        )
    return found


async def _in_key_order(conn: Any, tables: set[str]) -> list[str]:
    """``tables`` with every table after the tables its foreign keys point to."""
    edges = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent"
        " FROM pg_constraint c JOIN pg_class k ON k.oid = c.conrelid"
        " WHERE c.contype = 'f' AND NOT k.relispartition"
    )
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for e in edges:
        child, parent = e["child"].strip('"'), e["parent"].strip('"')
        if child in parents and parent in tables and parent != child:
            parents[child].add(parent)
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(tables):
        ready = sorted(t for t in tables if t not in placed and parents[t] <= placed)
        if not ready:  # a cycle of foreign keys: none in this schema; refuse rather than guess
            left = ", ".join(sorted(tables - placed))
            raise CopyRefused(f"the foreign keys of {left} form a cycle: copy-database cannot order them")
        ordered += ready
        placed.update(ready)
    return ordered


async def _sequences(conn: Any, table: str) -> list[tuple[str, str]]:
    """(column, sequence) of the table's columns that take their values from a sequence."""
    rows = await conn.fetch(
        "SELECT a.attname, pg_get_serial_sequence(quote_ident($1), a.attname) AS seq FROM pg_attribute a"
        " WHERE a.attrelid = quote_ident($1)::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        table,
    )
    return [(r["attname"], r["seq"]) for r in rows if r["seq"]]


# --- The copy ----------------------------------------------------------------------------------


async def copy_database(source_url: str, target_url: str, *, progress: Progress | None = None) -> CopyReport:
    """Copy the SQLite database ``source_url`` (migrated) into the empty PostgreSQL database
    ``target_url``; ``CopyRefused`` when that cannot be done, with nothing copied."""
    from nextgen_gql.db import apply_migrations, is_postgres_url
    from nextgen_gql.services.crypto import secret_key_file

    started = time.perf_counter()
    path = _sqlite_path(source_url)
    if not is_postgres_url(target_url):
        raise CopyRefused(
            f"--to {redacted(target_url)}: the target must be a PostgreSQL URL (postgres://...)"
        )
    conn = await _connect(target_url)
    try:
        held = await _held_tables(conn)
        if held:
            raise CopyRefused(
                f"the target {redacted(target_url)} is not empty: {', '.join(held)} hold rows "
                "(copy into a new, empty database)"
            )
    finally:
        await conn.close()
    await apply_migrations(source_url)  # as every command does: the source as this version has it
    # Tortoise keeps models' INSERT statements by connection name, not by dialect: a migration of
    # the target that writes through a model must not find the source's SQLite ones.
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await apply_migrations(target_url)
    report = CopyReport(source=str(path), target=redacted(target_url), secret_key_file=None)
    key_file = secret_key_file(source_url)
    if key_file is not None and key_file.is_file():
        report.secret_key_file = key_file

    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn = await _connect(target_url)
    try:
        source.execute("BEGIN")  # one read transaction: the copy is one moment of the source
        await _copy(source, conn, report, progress)
    finally:
        source.close()
        await conn.close()
    conn = await _connect(target_url)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    report.seconds = time.perf_counter() - started
    return report


async def _copy(source: sqlite3.Connection, conn: Any, report: CopyReport, progress: Progress | None) -> None:
    import asyncpg

    target = await _target_tables(conn)
    copied = set(target) - NOT_COPIED
    present = _source_tables(source)
    missing = sorted(copied - present)
    if missing:
        raise CopyRefused(
            f"the source has no table {', '.join(missing)}: is it a database of this service, and of this version?"
        )
    extra = sorted(present - set(target))
    if extra:
        raise CopyRefused(f"the target has no table {', '.join(extra)}, which the source holds")
    order = await _in_key_order(conn, copied)
    plan: list[tuple[str, list[str], Callable[[tuple[Any, ...]], tuple[Any, ...]]]] = []
    for table in order:
        have = set(_source_columns(source, table))
        columns = target[table]
        unknown = sorted(have - {c for c, *_ in columns})
        if unknown:
            raise CopyRefused(
                f"{table}: the target has no column {', '.join(unknown)}, which the source holds"
            )
        wanted = [(c, t) for c, t, nullable, has_default in columns if c in have]
        for c, _, nullable, has_default in columns:
            if c not in have and not nullable and not has_default:
                raise CopyRefused(f"{table}: the source has no column {c}, which the target requires")
        names = [c for c, _ in wanted]
        plan.append((table, names, _converter([f"{table}.{c}" for c in names], [t for _, t in wanted])))
    totals = {table: int(source.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]) for table in order}
    done, total = 0, sum(totals.values())
    if progress is not None:
        progress(done, total)
    async with conn.transaction():
        await conn.execute("SET LOCAL statement_timeout = 0")
        triggers = [
            t
            for (t,) in await conn.fetch(
                "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
                " AND tgrelid::regclass::text = ANY($1::text[])",
                list(copied),
            )
        ]
        for table in triggers:
            await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for table, names, convert in plan:
            for rows in _batches(source, table, names):
                records = []
                for row in rows:
                    try:
                        records.append(convert(row[1:]))
                    except _Refused as exc:
                        raise CopyRefused(f"{table}, row {row[0]}: {exc}; nothing was copied") from None
                try:
                    async with conn.transaction():  # a savepoint: a refused batch is looked into
                        await conn.copy_records_to_table(table, records=records, columns=names)
                except (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
                    culprit = await _refused_row(conn, table, names, rows, records)
                    where = f"row {culprit[0]}" if culprit else f"rows {rows[0][0]}-{rows[-1][0]}"
                    reason = culprit[1] if culprit else str(exc)
                    raise CopyRefused(
                        f"{table}, {where}: PostgreSQL refused it: {reason}; nothing was copied"
                    ) from None
                done += len(records)
                if progress is not None:
                    progress(done, total)
        await conn.execute("DELETE FROM list_counts")
        for statement in recount_statements(postgres=True):
            await conn.execute(statement)
        for table in triggers:
            await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        for table, _, _ in plan:
            for column, sequence in await _sequences(conn, table):
                await conn.execute(
                    f'SELECT setval($1, COALESCE((SELECT MAX("{column}") FROM "{table}"), 1),'
                    f' (SELECT MAX("{column}") FROM "{table}") IS NOT NULL)',
                    sequence,
                )
        for table in order:
            copied_rows = int(await conn.fetchval(f'SELECT COUNT(*) FROM "{table}"'))
            if copied_rows != totals[table]:
                raise CopyRefused(
                    f"{table}: {totals[table]} rows in the source, {copied_rows} in the target after the copy;"
                    " nothing was copied"
                )
            report.counts[table] = copied_rows
        report.count_drift = await _drift(source, conn)


async def _refused_row(
    conn: Any, table: str, names: list[str], rows: list[tuple[Any, ...]], records: list[tuple[Any, ...]]
) -> tuple[Any, str] | None:
    """The first row of a refused batch that PostgreSQL refuses alone, and why (each tried in a
    savepoint of its own, rolled back)."""
    import asyncpg

    for row, record in zip(rows, records, strict=True):
        try:
            async with conn.transaction():
                await conn.copy_records_to_table(table, records=[record], columns=names)
                raise _Fine
        except _Fine:
            continue
        except (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
            return row[0], str(exc)
    return None


class _Fine(Exception):
    """Rolls back a row that went in (only whether it would is wanted)."""


async def _drift(source: sqlite3.Connection, conn: Any) -> list[str]:
    """The source's kept counts that differ from the recount now on the target."""
    kept = {
        (court, name): int(n)
        for court, name, n in source.execute("SELECT court_id, list, n FROM list_counts WHERE n <> 0")
    }
    recounted = {
        (r["court_id"], r["list"]): int(r["n"])
        for r in await conn.fetch("SELECT court_id, list, n FROM list_counts WHERE n <> 0")
    }
    return [
        f"{court} {name}: kept {kept.get((court, name), 0)}, the rows count {recounted.get((court, name), 0)}"
        for court, name in sorted(set(kept) | set(recounted))
        if kept.get((court, name), 0) != recounted.get((court, name), 0)
    ]
