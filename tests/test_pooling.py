"""Behind PgBouncer in transaction mode (``NEXTGEN_GQL_DATABASE_POOLING=transaction``): no
statement cache, no startup parameter, the statement timeout the role's, and what needs a
session of its own (``LISTEN``, locks, migrations, maintenance) on the direct URL. The
PgBouncer tests run in CI's PgBouncer leg (``NEXTGEN_GQL_TEST_PGBOUNCER``)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tortoise import connections

from nextgen_gql.db import DIRECT_SERVER_SETTINGS, tortoise_config
from nextgen_gql.settings import Settings
from tests import databases
from tests.conftest import running_api

through_pgbouncer = pytest.mark.skipif(
    databases.PGBOUNCER is None, reason="the PgBouncer leg (NEXTGEN_GQL_TEST_PGBOUNCER)"
)


def test_an_unknown_pooling_is_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match=r"NEXTGEN_GQL_DATABASE_POOLING must be session or transaction.*'statement'"
    ):
        Settings.from_env({"NEXTGEN_GQL_DATABASE_POOLING": "statement"})


def test_transaction_pooling_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="DATABASE_POOLING=transaction needs a PostgreSQL"):
        Settings.from_env({"NEXTGEN_GQL_DATABASE_POOLING": "transaction"})


def test_the_direct_url_must_be_the_same_kind_of_database() -> None:
    with pytest.raises(ValueError, match="NEXTGEN_GQL_DIRECT_DATABASE_URL must name the same kind"):
        Settings.from_env(
            {
                "NEXTGEN_GQL_DATABASE_URL": "postgres://u@pgbouncer/db",
                "NEXTGEN_GQL_DIRECT_DATABASE_URL": "sqlite://x",
            }
        )


def test_the_direct_url_defaults_to_the_database_url() -> None:
    plain = Settings.from_env({"NEXTGEN_GQL_DATABASE_URL": "postgres://u@db/x"})
    assert (plain.database_pooling, plain.direct_url) == ("session", "postgres://u@db/x")
    pooled = Settings.from_env(
        {
            "NEXTGEN_GQL_DATABASE_URL": "postgres://u@pgbouncer:6432/x",
            "NEXTGEN_GQL_DATABASE_POOLING": "Transaction",
            "NEXTGEN_GQL_DIRECT_DATABASE_URL": "postgres://u@db:5432/x",
        }
    )
    assert pooled.transaction_pooling and pooled.direct_url == "postgres://u@db:5432/x"


def test_transaction_pooling_sends_no_startup_timeout_and_keeps_no_statements() -> None:
    session = tortoise_config("postgres://u@db/x", statement_timeout_ms=5000)["connections"]["default"]
    assert session["credentials"]["server_settings"] == {"statement_timeout": "5000"}
    pooled = tortoise_config("postgres://u@pgbouncer/x", statement_timeout_ms=5000, transaction_pooling=True)
    credentials = pooled["connections"]["default"]["credentials"]
    assert "server_settings" not in credentials
    assert credentials["statement_cache_size"] == 0


@through_pgbouncer
async def test_the_request_pool_goes_through_pgbouncer_and_listen_does_not(settings: Settings) -> None:
    assert settings.transaction_pooling and settings.direct_url != settings.database_url
    async with running_api(settings) as api:
        assert (await api.data("{ courts { code } }"))["courts"]
        pool = connections.get("default")._pool
        assert pool._pool._connect_kwargs["statement_cache_size"] == 0
        # The service's LISTEN session is a server process of its own, not one of PgBouncer's.
        listening: list[tuple[object, ...]] = []
        for _ in range(100):  # the listener connects beside the start-up
            listening = databases.query(
                settings.direct_url,
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()",
            )
            if listening:
                break
            await asyncio.sleep(0.1)
        pooled = {int(row["remote_pid"]) for row in databases.pooler_console("SHOW SERVERS")}
        assert listening and not {pid for (pid,) in listening} & pooled


@through_pgbouncer
async def test_a_long_statement_is_cut_by_the_roles_timeout_through_pgbouncer(settings: Settings) -> None:
    async with running_api(settings.with_(statement_timeout_ms=300)):
        conn = connections.get("default")
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await conn.execute_query("SELECT pg_sleep(5)")
        # The role's setting, in this database: what a PgBouncer server connection starts with.
        rows = databases.query(
            settings.direct_url,
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = current_database()",
        )
        assert rows == [(["statement_timeout=300"],)]
        # A direct connection is exempt (its own statement_timeout = 0, as the service's are).
        direct = await asyncpg.connect(settings.direct_url, server_settings=DIRECT_SERVER_SETTINGS)
        try:
            assert await direct.fetchval("SELECT 1 FROM pg_sleep(0.5)") == 1
        finally:
            await direct.close()
