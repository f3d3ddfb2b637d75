"""``nextgen-gql copy-database --to URL``: a SQLite database into an empty PostgreSQL one.

The source is the demo with a world built on it (a firm, a link, registrations, service keys
and their usage, sessions, audit events); after the copy every row of every table and every
kept count are the same on both sides, and a service started on the copy answers every
operation of the front end and the benchmark, as every role at every endpoint, with the same
bytes as the service on the source. Bad input (a target holding rows, an unreachable one, a
row PostgreSQL refuses) exits 2 and leaves nothing copied.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from nextgen_gql.cli import main
from nextgen_gql.settings import Settings
from tests import databases
from tests.api.firm_helpers import register
from tests.api.test_compiled import ENDPOINTS, HOT, SPA_VARIABLES, build_world, spa_operations
from tests.conftest import TENANTS, Api, running_api

postgres_only = pytest.mark.skipif(
    databases.POSTGRES is None, reason="the target is PostgreSQL: set NEXTGEN_GQL_TEST_POSTGRES to run these"
)


def _settings(url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=url,
        tenants_dir=TENANTS,
        mail_dir=tmp_path / "mail",
        secret_key=databases.SECRET_KEY,
        db_acquire_timeout_ms=60_000,
        **extra,
    )


def _copy(source_url: str, target_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("NEXTGEN_GQL_SECRET_KEY", databases.SECRET_KEY)
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(TENANTS))
    return main(["--database-url", source_url, "copy-database", "--to", target_url])


def _queries() -> list[tuple[str, str, dict[str, Any] | None]]:
    """(operation name, document, variables) of every query of the front end and the benchmark."""
    found: list[tuple[str, str, dict[str, Any] | None]] = [(name, doc, None) for name, doc in HOT.items()]
    for name, document in spa_operations():
        if f"query {name}" in document:
            found.append((name, document, SPA_VARIABLES.get(name)))
    return found


async def _answers(
    api: Api, tokens: dict[str, str | None]
) -> dict[tuple[str, str, str | None], tuple[int, bytes]]:
    answers = {}
    for name, document, variables in _queries():
        for role, token in tokens.items():
            for court in ENDPOINTS:
                path = f"/courts/{court}/graphql" if court else "/graphql"
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                body: dict[str, Any] = {"query": document, "variables": variables or {}}
                if name in dict(spa_operations()):
                    body["operationName"] = name
                response = await api.client.post(path, json=body, headers=headers)
                answers[(name, role, court)] = (response.status_code, response.content)
    return answers


def _plain(value: Any) -> Any:
    """A value as both sides can be compared: booleans as 0/1, date-times as UTC ISO text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _sqlite_plain(value: Any, pg_type: str) -> Any:
    if value is None:
        return None
    if pg_type == "timestamptz":
        return _plain(dt.datetime.fromisoformat(value))
    if pg_type == "date":
        return value[:10]
    return value


def _tables(pg_url: str) -> dict[str, dict[str, str]]:
    """The target's tables (partitions aside) and each one's columns' types."""
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in databases.query(
        pg_url,
        "SELECT c.relname, a.attname, t.typname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_type t ON t.oid = a.atttypid WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped",
    ):
        found.setdefault(table, {})[column] = kind
    return found


def _rows_of(source: Path, pg_url: str, table: str, columns: dict[str, str]) -> tuple[list[Any], list[Any]]:
    with sqlite3.connect(source) as conn:
        have = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
        names = [c for c in columns if c in have]
        listed = ", ".join(f'"{c}"' for c in names)
        lite = sorted(
            (
                tuple(_sqlite_plain(v, columns[c]) for c, v in zip(names, row, strict=True))
                for row in conn.execute(f'SELECT {listed} FROM "{table}"')
            ),
            key=repr,
        )
    pg = sorted(
        (tuple(_plain(v) for v in row) for row in databases.query(pg_url, f'SELECT {listed} FROM "{table}"')),
        key=repr,
    )
    return lite, pg


def _kept(url: str) -> list[tuple[Any, ...]]:
    return sorted(databases.query(url, "SELECT court_id, list, n FROM list_counts WHERE n <> 0"))


def _held(pg_url: str) -> list[str]:
    return [
        table
        for table in _tables(pg_url)
        if table != "tortoise_migrations" and databases.query(pg_url, f'SELECT COUNT(*) FROM "{table}"')[0][0]
    ]


@pytest.fixture(autouse=True)
def forget_statements() -> Any:
    """Tortoise keeps each model's INSERT and DELETE statements by connection name
    ("default"), not by dialect, for the life of the process. These tests serve or migrate a
    SQLite database in a process whose other tests use PostgreSQL: the statements they leave
    must not be used there (``=?`` sent to PostgreSQL), nor theirs here."""
    EXECUTOR_CACHE.clear()
    yield
    EXECUTOR_CACHE.clear()


@pytest.fixture
def target(tmp_path: Path) -> Any:
    url = databases.new_database_url(tmp_path, "target")
    yield url
    databases.drop_database(url)


@postgres_only
async def test_the_copy_holds_every_row_and_count_and_answers_the_same_bytes(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.sqlite3"
    source_url = f"sqlite://{source}"
    async with running_api(_settings(source_url, tmp_path, demo=True)) as api:
        tokens = await build_world(api)
        before = await _answers(api, tokens)
    assert len(before) > 200

    assert await asyncio.to_thread(_copy, source_url, target, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "the same in each table on both sides" in out
    assert "was off" not in out

    tables = _tables(target)
    for table, columns in tables.items():
        if table in ("tortoise_migrations", "list_counts"):
            continue
        lite, pg = _rows_of(source, target, table, columns)
        assert lite == pg, table
        assert f"{table} " in out
    assert _kept(target) == _kept(source_url)
    assert _kept(target)  # the demo's roster, registrations and trail are counted

    # Tortoise keeps each model's INSERT statement by connection name ("default"), not by
    # dialect: this process served SQLite first, and must forget them to serve PostgreSQL.
    EXECUTOR_CACHE.clear()
    async with running_api(_settings(target, tmp_path)) as api:
        after = await _answers(api, tokens)
        assert after == before
        # The id sequences were set past the copied rows: new rows (an account, its session,
        # the trail's events, a key) get new ids.
        await register(api, "aftercopy", "After", "Copy")
        made = await api.data(
            """mutation { createCourtServiceKey(input: {name: "after the copy", scopes: [RECORD_USAGE]}) {
              secret errors { code } } }""",
            court="mad",
            token=tokens["mad clerk"],
        )
        assert made["createCourtServiceKey"]["secret"], made
    # The kept counts are kept again by the triggers on the copy (the trail grew by the sign-in
    # and the key).
    assert _kept(target) != _kept(source_url)


@postgres_only
def test_a_target_holding_rows_is_refused_and_left_as_it_was(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.sqlite3"
    assert _copy_demo(source, target, tmp_path, monkeypatch) == 0
    capsys.readouterr()
    counts = {t: databases.query(target, f'SELECT COUNT(*) FROM "{t}"') for t in _tables(target)}
    assert _copy(f"sqlite://{source}", target, monkeypatch) == 2
    err = capsys.readouterr().err
    assert "copy-database: the target" in err and "is not empty" in err and "pacer_accounts" in err
    assert {t: databases.query(target, f'SELECT COUNT(*) FROM "{t}"') for t in _tables(target)} == counts


def _copy_demo(source: Path, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The demo, made on SQLite by ``serve``'s start-up, copied to ``target``."""
    import asyncio

    async def build() -> None:
        async with running_api(_settings(f"sqlite://{source}", tmp_path, demo=True)):
            pass

    asyncio.run(build())
    return _copy(f"sqlite://{source}", target, monkeypatch)


@postgres_only
def test_a_row_postgresql_refuses_names_its_table_and_row_and_nothing_is_copied(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    source = tmp_path / "source.sqlite3"

    async def build() -> None:
        async with running_api(_settings(f"sqlite://{source}", tmp_path, demo=True)):
            pass

    asyncio.run(build())
    # SQLite keeps a NUL character in text; PostgreSQL's text cannot hold one.
    with sqlite3.connect(source) as conn:
        (row,) = conn.execute("SELECT id FROM pacer_accounts ORDER BY id DESC LIMIT 1").fetchone()
        conn.execute("UPDATE pacer_accounts SET first_name = 'Nu' || char(0) || 'l' WHERE id = ?", [row])
    assert _copy(f"sqlite://{source}", target, monkeypatch) == 2
    err = capsys.readouterr().err
    assert f"copy-database: pacer_accounts, row {row}: PostgreSQL refused it" in err
    assert "nothing was copied" in err
    assert _held(target) == []  # migrated, and empty


@postgres_only
def test_an_unreachable_target_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.sqlite3"
    sqlite3.connect(source).close()
    assert _copy(f"sqlite://{source}", "postgres://someone:hunter2@127.0.0.1:1/nothing", monkeypatch) == 2
    err = capsys.readouterr().err
    assert "the target postgres://someone:***@127.0.0.1:1/nothing cannot be reached" in err
    assert "hunter2" not in err


def test_the_source_must_be_a_sqlite_file_and_the_target_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.sqlite3"
    assert _copy(f"sqlite://{missing}", "postgres://u@127.0.0.1:1/x", monkeypatch) == 2
    assert f"the source database {missing} does not exist" in capsys.readouterr().err
    assert not missing.exists()
    source = tmp_path / "source.sqlite3"
    sqlite3.connect(source).close()
    assert _copy(f"sqlite://{source}", f"sqlite://{tmp_path / 'other.sqlite3'}", monkeypatch) == 2
    assert "the target must be a PostgreSQL URL" in capsys.readouterr().err
    assert _copy("postgres://u@127.0.0.1:1/x", "postgres://u@127.0.0.1:1/y", monkeypatch) == 2
    assert "is not SQLite: copy-database copies a SQLite database into PostgreSQL" in capsys.readouterr().err
