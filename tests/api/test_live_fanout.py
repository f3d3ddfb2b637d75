"""Fan-out: events written with their change (none for a rollback), in commit order within a
topic however transactions interleave, heard by every process (PostgreSQL LISTEN/NOTIFY,
with a catch-up after the listener reconnects; the outbox on SQLite), resumed from a cursor,
and pruned after the resume window."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from nextgen_gql.enums import RegistrationEventKind
from nextgen_gql.models import LiveEvent
from nextgen_gql.services import outbox
from nextgen_gql.services.clock import now
from nextgen_gql.services.event_hub import EventHub
from nextgen_gql.settings import Settings
from tests.api.live_helpers import REGISTRATION_EVENTS, clerk, decide, filer, submit, subscribed, withdraw
from tests.conftest import Api
from tests.live import gql_socket


async def test_a_subscriber_resumes_after_its_last_cursor(api: Api) -> None:
    mad_clerk, james = await clerk(api), await filer(api)
    async with gql_socket(api.app, "/courts/mad/graphql") as ws:
        await ws.init({"authorization": f"Bearer {mad_clerk}"})
        await ws.subscribe("q", REGISTRATION_EVENTS)
        await subscribed(api)
        first = await submit(api, james)
        seen = (await ws.next("q"))["data"]["registrationEvents"]
        assert (seen["kind"], seen["registration"]["id"]) == ("SUBMITTED", first)
    # Away: three changes, then back with the last cursor seen.
    await withdraw(api, james, first)
    second = await submit(api, james)
    await withdraw(api, james, second)
    async with gql_socket(api.app, "/courts/mad/graphql") as ws:
        await ws.init({"authorization": f"Bearer {mad_clerk}"})
        await ws.subscribe("q", REGISTRATION_EVENTS, {"after": seen["cursor"]})
        missed = [(await ws.next("q"))["data"]["registrationEvents"] for _ in range(3)]
        assert [(e["kind"], e["registration"]["id"]) for e in missed] == [
            ("WITHDRAWN", first),
            ("SUBMITTED", second),
            ("WITHDRAWN", second),
        ]
        third = await submit(api, james)  # then live ones, each once
        await decide(api, mad_clerk, third)
        live = [(await ws.next("q"))["data"]["registrationEvents"]["kind"] for _ in range(2)]
        assert live == ["SUBMITTED", "APPROVED"]
        await ws.quiet(0.3)


async def test_no_event_for_a_change_that_rolled_back(api: Api) -> None:
    mad_clerk, james = await clerk(api), await filer(api)
    async with gql_socket(api.app, "/courts/mad/graphql") as ws:
        await ws.init({"authorization": f"Bearer {mad_clerk}"})
        await ws.subscribe("q", REGISTRATION_EVENTS)
        await subscribed(api)
        registration = await submit(api, james)
        assert (await ws.next("q"))["data"]["registrationEvents"]["kind"] == "SUBMITTED"
        with pytest.raises(RuntimeError):
            async with in_transaction() as conn:
                await outbox.publish(
                    conn,
                    [
                        outbox.registration_event(
                            RegistrationEventKind.APPROVED, "mad", int(_row(registration))
                        )
                    ],
                )
                raise RuntimeError("the change failed: everything rolls back")
        await ws.quiet(0.5)
        await withdraw(api, james, registration)
        assert (await ws.next("q"))["data"]["registrationEvents"]["kind"] == "WITHDRAWN"
    assert not await LiveEvent.filter(kind="approved", registration_id=int(_row(registration))).exists()


async def test_a_topics_events_arrive_in_commit_order_however_transactions_interleave(api: Api) -> None:
    mad_clerk, james = await clerk(api), await filer(api)
    registration_id = int(_row(await submit(api, james)))
    async with gql_socket(api.app, "/courts/mad/graphql") as ws:
        await ws.init({"authorization": f"Bearer {mad_clerk}"})
        await ws.subscribe("q", "subscription { registrationEvents { cursor } }")
        await subscribed(api)

        async def writer() -> int:
            # Each transaction writes its event, then commits a random while later: without a
            # lock per topic, ids would commit out of order on PostgreSQL.
            async with in_transaction() as conn:
                await asyncio.sleep(random.random() * 0.02)
                [event] = await outbox.publish(
                    conn, [outbox.registration_event(RegistrationEventKind.SUBMITTED, "mad", registration_id)]
                )
                await asyncio.sleep(random.random() * 0.05)
                return event.id

        written = await asyncio.gather(*(writer() for _ in range(20)))
        from nextgen_gql.api.pagination import decode_cursor

        arrived = []
        for _ in written:
            cursor = (await ws.next("q"))["data"]["registrationEvents"]["cursor"]
            arrived.append(decode_cursor(cursor)[1])
        await ws.quiet(0.3)
    assert arrived == sorted(written), (arrived, written)
    stored = await outbox.read_after("court:mad", 0, 1000)
    assert [e.id for e in stored][-20:] == sorted(written)


async def test_another_process_hears_every_event_even_across_a_lost_connection(
    api: Api, settings: Settings
) -> None:
    """Another process's hub (its own LISTEN connection on PostgreSQL, its own poll of the
    outbox on SQLite) hears what this one commits, also what was committed while its
    connection was cut (it reads the outbox when it is back)."""
    james = await filer(api)
    other = EventHub(settings.direct_url, poll_seconds=0.05)
    await other.start()
    stream = await other.subscribe("court:mad", after=None)
    try:
        if other.postgres:
            assert other.listener is not None
            await asyncio.wait_for(other.listener.listening.wait(), 5)
        first = await submit(api, james)
        heard = await asyncio.wait_for(anext(stream), 5)
        assert (heard.kind, heard.registration_id) == ("submitted", int(_row(first)))
        if other.postgres:
            assert other.listener is not None
            client = connections.get("default")
            _, cut = await client.execute_query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%nextgen_events%'"
            )
            assert len(cut) == 1  # the other's (this process's listener listened to courts last)
            for _ in range(100):
                if not other.listener.listening.is_set():
                    break
                await asyncio.sleep(0.02)
        await withdraw(api, james, first)  # while it is not listening
        second = await submit(api, james)
        kinds = [(await asyncio.wait_for(anext(stream), 5)).kind for _ in range(2)]
        assert kinds == ["withdrawn", "submitted"]
        assert stream.last_id == await outbox.last_id("court:mad")
        del second
    finally:
        stream.close()
        await other.stop()


def _row(global_id: str) -> str:
    from nextgen_gql.api.ids import decode_id

    decoded = decode_id(global_id)
    assert decoded is not None
    return decoded[1]


async def test_events_older_than_the_resume_window_are_pruned(api: Api) -> None:
    old = now() - dt.timedelta(days=2)
    for _ in range(3):
        await LiveEvent.create(at=old, topic="court:mad", kind="submitted", court_id="mad", registration_id=1)
    fresh = await LiveEvent.create(
        at=now(), topic="court:mad", kind="submitted", court_id="mad", registration_id=1
    )
    before = await LiveEvent.all().count()
    # The three, and the demo's own events of its move to NextGen (dated weeks ago).
    stale = await LiveEvent.filter(at__lt=now() - dt.timedelta(days=1)).count()
    assert stale >= 3
    pruned = await outbox.prune(dt.timedelta(days=1), batch=2)
    assert pruned == stale
    assert await LiveEvent.all().count() == before - stale
    assert await LiveEvent.filter(id=fresh.id).exists()
    assert await outbox.prune(dt.timedelta(days=1)) == 0
