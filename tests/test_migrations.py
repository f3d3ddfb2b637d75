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


def test_migrating_from_the_previous_migration_keeps_every_row(fresh_database_url: str) -> None:
    """A database at the migration before head, with data in every table, migrates to head losing nothing."""
    url = fresh_database_url
    on_disk = sorted(p.stem for p in MIGRATIONS.glob("0*.py"))
    previous = on_disk[-2]
    asyncio.run(apply_migrations(url, target=f"models.{previous}"))
    assert [
        n for (n,) in databases.query(url, "SELECT name FROM tortoise_migrations ORDER BY name")
    ] == on_disk[:-1]
    at = "'2026-01-02 03:04:05+00:00'"
    statements = [
        f"INSERT INTO courts (code, name, kind, synced_at) VALUES ('mad', 'D. Mass.', 'district', {at})",
        "INSERT INTO pacer_accounts (account_number, username, username_key, first_name, last_name, email,"
        f" password_hash, password_compliant, created_at, upgraded_at, is_shared) VALUES"
        f" ('1234567', 'Keeper01', 'keeper01', 'Kee', 'Per', 'k@example.org', 'h', TRUE, {at}, NULL, FALSE)",
        "INSERT INTO cmecf_accounts (court_id, login, login_key, first_name, last_name, email, role, password_hash,"
        f" created_at) VALUES ('mad', 'kper', 'kper', 'Kee', 'Per', '', 'attorney', NULL, {at})",
        "INSERT INTO cmecf_links (cmecf_account_id, court_id, account_id, linked_by_id, linked_at)"
        f" SELECT c.id, 'mad', p.id, p.id, {at} FROM cmecf_accounts c, pacer_accounts p",
        "INSERT INTO filing_privileges (court_id, account_id, role, source, granted_at)"
        f" SELECT 'mad', id, 'attorney', 'linked_legacy_account', {at} FROM pacer_accounts",
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at, revoked_at, client_code,"
        f" redaction_acknowledged) SELECT 'abc', id, {at}, {at}, NULL, NULL, TRUE FROM pacer_accounts",
        f"INSERT INTO audit_events (at, action, actor_id, subject_id, court_id, detail) VALUES ({at}, 'cmecf.link', NULL, NULL, 'mad', 'kept')",
    ]
    if "registrations" in previous or previous > "0002":
        statements.append(
            "INSERT INTO registrations (court_id, account_id, role, pro_hac_vice, status, open_key, submitted_at)"
            f" SELECT 'mad', id, 'media', FALSE, 'pending', 'k', {at} FROM pacer_accounts"
        )
    for sql in statements:
        databases.query(url, sql + " RETURNING 1")
    tables = [
        "courts",
        "pacer_accounts",
        "cmecf_accounts",
        "cmecf_links",
        "filing_privileges",
        "sessions",
        "audit_events",
    ]
    if len(statements) > 7:
        tables.append("registrations")
    before = {t: databases.query(url, f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    asyncio.run(apply_migrations(url))
    assert [
        n for (n,) in databases.query(url, "SELECT name FROM tortoise_migrations ORDER BY name")
    ] == on_disk
    for table, rows in before.items():
        assert databases.query(url, f"SELECT * FROM {table} ORDER BY 1") == rows, table
