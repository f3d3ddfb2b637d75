"""A new SQLite database made in one step: the schema the migrations build, replayed.

Tortoise applies a migration by replaying, for every operation, its in-memory model state
(each model class built again, the state copied before each operation): on an empty SQLite
file that took 1.5 s of the 1.6 s the 17 migrations cost, against about 0.1 s of SQL. Every
command and every start on a new database paid it (``nextgen-gql import`` into a new file
among them).

``sqlite-schema.json`` beside the migrations holds what they leave in an empty database:
each schema object's ``CREATE`` statement in the order SQLite keeps them (FTS5 tables make
their own shadow tables, as they did, and are rebuilt, as the migrations rebuilt them), the
rows the migrations leave (``sqlite_sequence``), and the names of the migrations it stands for. ``apply`` replays it in one transaction and
records those migrations as applied, as Tortoise records them, only when:

- the database has no schema object at all (a database with anything in it migrates as
  before), checked inside the transaction that writes, which holds SQLite's write lock
  (``BEGIN IMMEDIATE``): two processes starting on one new file build it once;
- the file was made from the migrations as they are now: ``digest`` (the migration modules,
  the project modules they import, and Tortoise's version) is the one the file records.
  Otherwise (a migration added or changed and the file not made again) Tortoise migrates, as
  before: a stale file costs time, never a different schema.

``tests/test_migrations.py`` compares a database made from the file with one migrated by
Tortoise (every schema object and every row) and checks the digest: after changing a
migration, make the file again with ``python -m nextgen_gql.schema_snapshot``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

__all__ = ["SNAPSHOT", "apply", "build", "digest", "dump"]

PACKAGE = Path(__file__).resolve().parent
MIGRATIONS = PACKAGE / "migrations"
SNAPSHOT = MIGRATIONS / "sqlite-schema.json"
#: Tortoise's record of applied migrations (``MigrationRecorder``'s table and app label).
RECORDS = "tortoise_migrations"
APP = "models"


#: What names project modules in a source: ``import nextgen_gql...``, ``from nextgen_gql... import
#: a, b`` (parenthesised lists too) and ``import_module("nextgen_gql...")``. Read as text, not
#: parsed: a name in a comment or a string adds a module to the digest, never takes one away
#: (parsing every migration took 0.1 s of each new database's start).
_IMPORTS = re.compile(
    r"^[ \t]*from[ \t]+(nextgen_gql(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
    r"|^[ \t]*import[ \t]+([^\n]*)"
    r"|import_module\(\s*[\"'](nextgen_gql[\w.]*)[\"']",
    re.MULTILINE,
)


def _imported(source: str) -> list[str]:
    """The dotted names of project modules ``source`` may import (a superset: see ``_IMPORTS``)."""
    names: list[str] = []
    for found in _IMPORTS.finditer(source):
        module, listed, plain, dynamic = found.groups()
        if module is not None:
            words = re.findall(r"\w+", listed.split("#", 1)[0] if "(" not in listed else listed)
            names += [module, *(f"{module}.{word}" for word in words if word != "as")]
        elif plain is not None:
            names += [part.split()[0] for part in plain.split("#", 1)[0].split(",") if part.split()]
        else:
            names.append(dynamic)
    return [name for name in names if name == "nextgen_gql" or name.startswith("nextgen_gql.")]


def _sources() -> list[Path]:
    """The migration modules and every project module they import (the migrations' output
    depends on them: an enum's members are written into a column's comment), transitively."""
    found: dict[str, Path] = {}
    pending = sorted(MIGRATIONS.glob("*.py"))
    while pending:
        path = pending.pop()
        key = str(path)
        if key in found:
            continue
        found[key] = path
        for name in _imported(path.read_text(encoding="utf-8")):
            parts = name.split(".")[1:]
            for candidate in (
                PACKAGE.joinpath(*parts).with_suffix(".py"),
                PACKAGE.joinpath(*parts, "__init__.py"),
            ):
                if candidate.is_file():
                    pending.append(candidate)
    return sorted(found.values())


def digest() -> str:
    """What the migrations' result depends on: their sources, the project modules they
    import, and Tortoise's version."""
    import tortoise

    hashed = hashlib.sha256(f"tortoise {tortoise.__version__}\n".encode())
    for path in _sources():
        hashed.update(f"{path.relative_to(PACKAGE).as_posix()}\n".encode())
        hashed.update(path.read_bytes())
    return hashed.hexdigest()


def migration_names() -> list[str]:
    """The migrations on disk, as Tortoise names them (module names)."""
    return sorted(p.stem for p in MIGRATIONS.glob("*.py") if p.stem != "__init__")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    return "'" + str(value).replace("'", "''") + "'"


def dump(database: Path) -> dict[str, Any]:
    """The snapshot of a database the migrations (and nothing else) have built."""
    conn = sqlite3.connect(database)
    try:
        shadow = {
            name
            for (name, kind) in conn.execute("SELECT name, type FROM pragma_table_list")
            if kind == "shadow"
        }
        statements: list[str] = []
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master ORDER BY rowid"):
            if sql is None or name in shadow or name.startswith("sqlite_"):
                continue  # made by SQLite itself (automatic indexes, FTS5's own tables, sequences)
            statements.append(sql)
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
        ).fetchall():
            if name in shadow or name == RECORDS:
                continue  # FTS5's tables fill themselves; the records are written when applied
            where = f" WHERE name <> '{RECORDS}'" if name == "sqlite_sequence" else ""
            for row in conn.execute(f"SELECT * FROM {_quote(name)}{where}"):
                statements.append(f"INSERT INTO {_quote(name)} VALUES ({', '.join(map(_literal, row))})")
        # The migrations rebuilt each search index once made (``'rebuild'``, on empty tables):
        # its stored structure differs from a just-made one, so it is rebuilt here too.
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE % USING fts5(%'"
            " ORDER BY rowid"
        ).fetchall():
            statements.append(f"INSERT INTO {_quote(name)} ({_quote(name)}) VALUES ('rebuild')")
        applied = [
            name for (name,) in conn.execute(f"SELECT name FROM {RECORDS} WHERE app = ? ORDER BY id", [APP])
        ]
    finally:
        conn.close()
    return {"digest": digest(), "migrations": applied, "statements": statements}


def build() -> dict[str, Any]:
    """Migrate a new file with Tortoise and dump it."""
    from nextgen_gql.db import apply_migrations

    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "migrated.sqlite3"
        asyncio.run(apply_migrations(f"sqlite://{database}", snapshot=False))
        return dump(database)


def load() -> dict[str, Any] | None:
    """The snapshot, when there is one and it stands for the migrations as they are."""
    try:
        snapshot: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if snapshot.get("digest") != digest() or snapshot.get("migrations") != migration_names():
        return None
    return snapshot


async def apply(conn: BaseDBAsyncClient) -> bool:
    """Build an empty database from the snapshot on Tortoise's SQLite connection ``conn``;
    False (nothing done) when the database is not empty or the snapshot is not current."""
    async with conn.acquire_connection() as raw:  # the client's aiosqlite connection
        if await (await raw.execute("SELECT 1 FROM sqlite_master LIMIT 1")).fetchone() is not None:
            return False  # first, before the digest (reading the sources): most starts end here
        snapshot = load()
        if snapshot is None:
            return False
        await raw.execute("BEGIN IMMEDIATE")
        try:
            if await (await raw.execute("SELECT 1 FROM sqlite_master LIMIT 1")).fetchone() is not None:
                # another process built it between the two looks
                await raw.rollback()
                return False
            for statement in snapshot["statements"]:
                await raw.execute(statement)
            applied_at = dt.datetime.now(dt.UTC)
            await raw.executemany(
                f"INSERT INTO {RECORDS} (app, name, applied_at) VALUES (?, ?, ?)",
                [(APP, name, applied_at.isoformat(" ")) for name in snapshot["migrations"]],
            )
            await raw.commit()
        except BaseException:
            await raw.rollback()
            raise
    return True


def main() -> None:
    """``python -m nextgen_gql.schema_snapshot``: make ``sqlite-schema.json`` again."""
    snapshot = build()
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        f"{SNAPSHOT}: {len(snapshot['statements'])} statements, migrations up to {snapshot['migrations'][-1]}"
    )


if __name__ == "__main__":
    main()
