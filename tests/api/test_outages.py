"""Database outages are 503s (issue 31, item 2): a request that cannot reach the database is
answered 503 with Retry-After and DATABASE_UNAVAILABLE, GraphQL-shaped, in the negotiated media
type (``api.outages``); a mutation that may have written gets the code as its field's error.
A fake failing connection stands for the database here (both databases); the real restart is
tests/test_outages_restart.py (PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError

from nextgen_gql.api.context import Context
from nextgen_gql.db_backends.deadline import DatabaseBusy
from nextgen_gql.db_backends.outages import DatabaseUnavailable, is_unavailable
from nextgen_gql.models import Charge
from nextgen_gql.services import auth, billing
from nextgen_gql.settings import Settings
from tests import databases
from tests.api.live_helpers import COURTS_CHANGED
from tests.api.test_service_keys import USAGE, make_key
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api, running_api
from tests.live import gql_socket

ME = "{ me { username } }"


async def lost(*args: Any, **kwargs: Any) -> Any:
    raise lost_connection()


def lost_connection() -> Exception:
    """What the suite's database raises when it is away."""
    if databases.backend() == "postgres":
        return asyncpg.exceptions.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )
    try:
        raise sqlite3.OperationalError("unable to open database file")
    except sqlite3.OperationalError as exc:
        try:
            raise OperationalError(exc)
        except OperationalError as translated:  # as Tortoise's SQLite engine raises it
            return translated


@pytest.fixture
def database_away(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Call ``database_away()`` to make every statement of the default connection fail as a lost
    connection does."""

    def away() -> None:
        client = connections.get("default")

        async def failing(*args: Any, **kwargs: Any) -> Any:
            raise lost_connection()

        for name in (
            "execute_query",
            "execute_query_dict",
            "execute_insert",
            "execute_many",
            "execute_script",
        ):
            monkeypatch.setattr(client, name, failing)

    yield away


def assert_unavailable(response: Any, media_type: str = "application/json") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith(media_type)
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["DATABASE_UNAVAILABLE"]
    assert "Retry-After" in body["errors"][0]["message"]


def test_the_classification_names_lost_connections_and_nothing_else() -> None:
    lost = [
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.InterfaceError("connection is closed"),
        asyncpg.exceptions.InterfaceError(
            "cannot call Connection.fetch(): connection has been released back to the pool"
        ),
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        DatabaseUnavailable(ConnectionRefusedError(111, "Connect call failed")),
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.OperationalError("disk I/O error"),
        lost_connection(),
    ]
    kept = [
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.InterfaceError("the server expects 2 arguments, 1 was passed"),
        DatabaseBusy(1000),
        TimeoutError(),
        ConnectionRefusedError(111, "an SMTP server, not the database"),
        sqlite3.OperationalError("database is locked"),
        ValueError("x"),
        None,
    ]
    assert [is_unavailable(e) for e in lost] == [True] * len(lost)
    assert [is_unavailable(e) for e in kept] == [False] * len(kept)
    # Raised from (or while handling) a lost connection: still the database's absence.
    try:
        try:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("gone")
        except Exception as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_unavailable(wrapped)


async def test_the_token_lookup_before_graphql_answers_503_in_the_negotiated_media_type(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await api.sign_in(*FILER, redactionAcknowledged=True)

    async def lost(*args: Any, **kwargs: Any) -> Any:
        raise lost_connection()

    monkeypatch.setattr(auth, "session_for_token", lost)
    for accept in ("application/graphql-response+json", "application/json"):
        response = await api.post(ME, token=token, headers={"accept": accept})
        assert_unavailable(response, accept)
    # A client that takes server-sent events only (graphql-sse) is told the same, before any stream.
    response = await api.post(ME, token=token, headers={"accept": "text/event-stream"})
    assert_unavailable(response, "application/json")
    monkeypatch.undo()
    assert (await api.data(ME, token=token))["me"]["username"] == FILER[0]


async def test_a_query_whose_field_lost_the_database_answers_503_not_200_with_errors(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_api(settings.with_(compiled=False)) as api:  # the reference executor
        token = await api.sign_in(*FILER, redactionAcknowledged=True)
        with monkeypatch.context() as patched:
            patched.setattr(Context, "viewer", lost)  # the token was looked up; the field's read fails
            assert_unavailable(await api.post("{ courts { code } me { username } }", token=token))
        assert (await api.data(ME, token=token))["me"]["username"] == FILER[0]


async def test_queries_on_the_compiled_path_answer_503(api: Api, database_away: Any) -> None:
    token = await api.sign_in(*FILER, redactionAcknowledged=True)
    database_away()  # every statement fails: the compiled path, and its token lookup
    assert_unavailable(await api.post(ME, token=token))
    assert_unavailable(await api.post("{ courts { code } me { username } }", token=token))


async def test_a_mutation_that_may_have_written_gets_a_field_error_and_a_keyed_resend_is_safe(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    secret, _ = await make_key(api, clerk, "mad", "billing feed", "RECORD_USAGE")
    real = billing.record_usage

    async def written_then_lost(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)  # the charge is written, then the answer is lost
        raise asyncpg.exceptions.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )

    monkeypatch.setattr(billing, "record_usage", written_then_lost)
    response = await api.post(USAGE, {"k": "item-1"}, court="mad", token=secret)
    assert response.status_code == 200, response.text  # never a 503 that invites a blind resend
    body = response.json()
    assert body["data"] is None  # recordUsage is non-null: its error nulls the data
    assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
        ("DATABASE_UNAVAILABLE", ["recordUsage"])
    ]
    assert await Charge.filter(idempotency_key="item-1").count() == 1
    monkeypatch.undo()
    # The client resends with the same key: the first charge answers, nothing is billed twice.
    again = await api.data(USAGE, {"k": "item-1"}, court="mad", token=secret)
    assert again["recordUsage"]["charge"]["idempotencyKey"] == "item-1"
    assert await Charge.filter(idempotency_key="item-1").count() == 1


async def test_a_mutation_whose_token_lookup_fails_wrote_nothing_and_answers_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    secret, _ = await make_key(api, clerk, "mad", "billing feed", "RECORD_USAGE")
    before = await Charge.all().count()
    from nextgen_gql.services import keys

    async def lost(*args: Any, **kwargs: Any) -> Any:
        raise lost_connection()

    monkeypatch.setattr(keys, "authenticate", lost)
    assert_unavailable(await api.post(USAGE, {"k": "item-2"}, court="mad", token=secret))
    # The CSV export's key lookup too.
    export = await api.client.get(
        "/courts/mad/exports/unlinked.csv", headers={"authorization": f"Bearer {secret}"}
    )
    assert_unavailable(export, "application/json")
    monkeypatch.undo()
    assert await Charge.all().count() == before


async def test_readyz_answers_503_while_the_database_is_away(api: Api, database_away: Any) -> None:
    assert (await api.client.get("/readyz")).status_code == 200
    database_away()
    response = await api.client.get("/readyz")
    assert response.status_code == 503 and "The database does not answer." in response.json()["reasons"]
    assert (await api.client.get("/healthz")).status_code == 503


async def test_a_websocket_operation_gets_an_error_message_and_the_socket_stays(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nextgen_gql.api.view import GraphQLView

    async def lost(*args: Any, **kwargs: Any) -> Any:
        raise lost_connection()

    async with gql_socket(api.app) as ws:
        await ws.send({"type": "connection_init"})
        assert (await ws.message())["type"] == "connection_ack"
        monkeypatch.setattr(GraphQLView, "prepare", lost)
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": COURTS_CHANGED}})
        message = await ws.message()
        assert message["type"] == "error" and message["id"] == "1", message
        assert [e["extensions"]["code"] for e in message["payload"]] == ["DATABASE_UNAVAILABLE"]
        monkeypatch.undo()
        await ws.send({"type": "ping"})
        assert (await ws.message())["type"] == "pong"


postgres_only = pytest.mark.skipif(
    databases.backend() != "postgres", reason="the asyncpg engine's transactions"
)


async def all_idle(pool: Any) -> bool:
    """Every connection of the pool back in it, once the app's own background work (pollers,
    maintenance) has given back any it held a moment: a leaked one never comes back."""
    for _ in range(100):
        if pool.get_idle_size() == pool.get_size():
            return True
        await asyncio.sleep(0.05)
    return False


@postgres_only
async def test_a_begin_on_a_connection_the_server_ended_is_given_back_and_begun_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cause of "cannot switch to state 15; another operation (2) is in progress": a pooled
    connection the server ended, handed out before its close was read. Its BEGIN fails; the
    transaction gives it back terminated and begins on a fresh one (nothing was written), and
    the task is never left pointing at the dead one."""
    from tortoise.transactions import in_transaction

    from nextgen_gql.db_backends.asyncpg import SafeTransactionWrapper

    client = connections.get("default")
    pool = client._pool
    real_begin = SafeTransactionWrapper.begin
    failures = [
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        )
    ]
    ended: list[Any] = []

    async def begin(self: Any) -> None:
        if failures:
            ended.append(self._connection)
            raise failures.pop()
        await real_begin(self)

    monkeypatch.setattr(SafeTransactionWrapper, "begin", begin)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict("SELECT 1 AS one")
    assert rows == [{"one": 1}]
    assert len(ended) == 1 and ended[0]._con is None  # given back (terminated), its proxy detached
    assert connections.get("default") is client  # the task's connection is the pool again
    assert await all_idle(pool)  # nothing left checked out

    # Twice lost: the error is the database's absence, and nothing is left behind either.
    failures[:] = [asyncpg.exceptions.ConnectionDoesNotExistError("gone")] * 2
    with pytest.raises(asyncpg.exceptions.ConnectionDoesNotExistError) as raised:
        async with in_transaction():
            pass
    assert is_unavailable(raised.value)
    assert connections.get("default") is client
    assert await all_idle(pool)


@postgres_only
async def test_a_cancelled_begin_leaves_no_connection_checked_out(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tortoise.transactions import in_transaction

    from nextgen_gql.db_backends.asyncpg import SafeTransactionWrapper

    client = connections.get("default")
    pool = client._pool
    started = asyncio.Event()

    async def slow_begin(self: Any) -> None:
        started.set()
        await asyncio.sleep(60)

    monkeypatch.setattr(SafeTransactionWrapper, "begin", slow_begin)

    async def transaction() -> None:
        async with in_transaction():
            pass

    task = asyncio.create_task(transaction())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await all_idle(pool)
