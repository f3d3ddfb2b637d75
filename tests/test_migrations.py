"""The committed migrations describe the models exactly, and apply twice without harm."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from nextgen_gql.db import apply_migrations, tortoise_config
from tests import databases

MIGRATIONS = Path(__file__).resolve().parent.parent / "src" / "nextgen_gql" / "migrations"


def test_no_model_change_lacks_a_migration(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path / 'm.sqlite3'}")

    async def pending() -> list[str]:
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            assert ctx.apps is not None
            writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
            return [w.name for w in writers]

    assert asyncio.run(pending()) == [], "run `tortoise makemigrations` and commit the file"


def test_migrating_twice_is_a_no_op(fresh_database_url: str) -> None:
    url = fresh_database_url
    asyncio.run(apply_migrations(url))
    databases.query(
        url,
        "INSERT INTO courts (code, name, kind, synced_at) VALUES ('mad', 'D. Mass.', 'district', '2026-01-01')"
        " RETURNING code",
    )
    asyncio.run(apply_migrations(url))
    assert databases.query(url, "SELECT code FROM courts") == [("mad",)]
    applied = databases.query(url, "SELECT name FROM tortoise_migrations")
    on_disk = sorted(p.stem for p in MIGRATIONS.glob("0*.py"))
    assert sorted(name for (name,) in applied) == on_disk


def test_every_index_names_real_columns(tmp_path: Path) -> None:
    """SQLite quietly indexes a constant when an index names a missing column; PostgreSQL refuses."""
    db = tmp_path / "indexes.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{db}"))
    with sqlite3.connect(db) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
        assert names
        for name in names:
            columns = [row[2] for row in conn.execute(f'PRAGMA index_info("{name}")')]
            assert columns and None not in columns, (name, columns)
