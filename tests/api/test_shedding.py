"""Admission (``nextgen_gql.admission``): the running cap per worker (``NEXTGEN_GQL_MAX_IN_FLIGHT``),
the queue bounded by its delay (``NEXTGEN_GQL_QUEUE_TARGET_MS``), over HTTP, and the queue's
rules on their own with a clock the test drives."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from unittest import mock

import orjson
import pytest

from nextgen_gql.admission.queue import Decision, Queue, Waiter
from nextgen_gql.db_backends import deadline as db_deadline
from nextgen_gql.models import Session
from nextgen_gql.settings import Settings
from tests.conftest import FILER, Api, running_api

NODE = 'query { node(id: "UGFjZXJBY2NvdW50OjE") { id } }'
SIGN_IN = f'mutation {{ signIn(input: {{username: "{FILER[0]}", password: "{FILER[1]}"}}) {{ token }} }}'


class Held:
    """``services.nodes.visible_node`` made to wait until the test lets go: a request that holds
    its running place as long as the test wants (``entered`` counts those inside)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inside = 0
        self.most_inside = 0
        self.entered = asyncio.Event()
        #: What each request found of its database deadline when it started running.
        self.remaining: list[float] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        found = db_deadline.current()
        self.remaining.append(found.remaining() if found is not None else float("nan"))
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        self.entered.set()
        try:
            await self.release.wait()
        finally:
            self.inside -= 1


async def raw_post(api: Api, body: bytes, accept: bytes = b"application/json") -> tuple[list[Any], bool]:
    """POST /graphql straight into the app: the messages it sent, and whether it read the body."""
    read = False
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"accept", accept),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await api.app(scope, receive, send)
    return sent, read


async def test_a_request_the_queue_cannot_start_in_time_is_refused_at_once_reading_nothing(
    settings: Settings,
) -> None:
    held = Held()
    async with running_api(settings.with_(max_in_flight=1, queue_target_ms=100)) as api:
        admission = api.app.state.admission
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=held.__call__):
            holding = asyncio.create_task(api.post(NODE))
            await asyncio.wait_for(held.entered.wait(), 10)
            # Nothing has started for longer than the target: the queue's delay says a newcomer
            # cannot start in time, so it is refused on arrival, before anything downstream runs.
            await asyncio.sleep(0.15)
            inner = admission.app
            with mock.patch.object(admission, "app", side_effect=AssertionError("ran")) as downstream:
                started = time.perf_counter()
                sent, read = await raw_post(api, orjson.dumps({"query": "{ courts { code } }"}))
                took = time.perf_counter() - started
                assert not downstream.called and not read  # no body read, no token, no database
            admission.app = inner
            head = next(m for m in sent if m["type"] == "http.response.start")
            headers = {k.decode(): v.decode() for k, v in head["headers"]}
            assert head["status"] == 503 and headers["retry-after"] == "1"
            assert headers["content-type"].startswith("application/json")
            body = orjson.loads(
                b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
            )
            assert "data" not in body and [e["extensions"]["code"] for e in body["errors"]] == ["OVERLOADED"]
            assert took < held_target(api)  # refused at once, not after waiting out the target
            # In the media type asked for.
            sent, _ = await raw_post(api, b"{}", accept=b"application/graphql-response+json")
            head = next(m for m in sent if m["type"] == "http.response.start")
            assert dict(head["headers"])[b"content-type"].startswith(b"application/graphql-response+json")
            # A mutation refused writes nothing.
            sessions = await Session.all().count()
            refused = await api.post(SIGN_IN)
            assert refused.status_code == 503 and "set-cookie" not in refused.headers
            assert await Session.all().count() == sessions
            # Health and metrics do not queue.
            assert (await api.client.get("/healthz")).status_code == 200
            metrics = (await api.client.get("/metrics")).text
            assert 'nextgen_gql_requests_shed_total{reason="queue"}' in metrics
            assert 'nextgen_gql_admission_refusal_seconds_count{reason="queue"}' in metrics
            assert "nextgen_gql_admission_queue_delay_seconds_count" in metrics
            held.release.set()
            assert (await holding).status_code == 200
        # The place is free again.
        assert (await api.post("{ courts { code } }")).status_code == 200
        assert admission.running == 0 and admission.queue.queued == 0


def held_target(api: Api) -> float:
    return float(api.settings.queue_target_ms) / 1000


async def test_requests_beyond_the_running_cap_wait_their_turn_and_all_run(settings: Settings) -> None:
    held = Held()
    async with running_api(settings.with_(max_in_flight=2, queue_target_ms=10_000)) as api:
        admission = api.app.state.admission
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=held.__call__):
            sent = [asyncio.create_task(api.post(NODE)) for _ in range(5)]
            for _ in range(1000):
                if admission.queue.queued == 3 and held.inside == 2:
                    break
                await asyncio.sleep(0.01)
            assert admission.running == 2 and admission.queue.queued == 3 and held.inside == 2
            held.release.set()
            answers = await asyncio.gather(*sent)
        assert [a.status_code for a in answers] == [200] * 5
        assert held.most_inside == 2  # never more than the cap running
        assert admission.running == 0 and admission.queue.queued == 0


async def test_a_queued_request_not_started_by_the_target_is_refused(settings: Settings) -> None:
    held = Held()
    async with running_api(settings.with_(max_in_flight=1, queue_target_ms=200)) as api:
        # The queue's clock stands still, so that its estimate at the door does not depend on how
        # long this machine takes to bring the first request to its hold (a slow machine would
        # read it as a stall and refuse the second at the door); the target's timer is real.
        queue = api.app.state.admission.queue
        now = queue.clock()
        queue.clock = lambda: now
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=held.__call__):
            holding = asyncio.create_task(api.post(NODE))
            await asyncio.wait_for(held.entered.wait(), 10)
            started = time.perf_counter()
            refused = await api.post("{ courts { code } }")  # let in (the queue was fresh), never started
            assert (
                refused.status_code == 503
                and refused.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
            )
            assert time.perf_counter() - started >= 0.19
            metrics = (await api.client.get("/metrics")).text
            assert 'nextgen_gql_requests_shed_total{reason="queue_timeout"}' in metrics
            held.release.set()
            assert (await holding).status_code == 200


async def test_the_database_deadline_counts_from_the_start_not_the_arrival(settings: Settings) -> None:
    held = Held()
    tight = settings.with_(max_in_flight=1, queue_target_ms=10_000, db_acquire_timeout_ms=300)
    async with running_api(tight) as api:
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=held.__call__):
            first = asyncio.create_task(api.post(NODE))
            await asyncio.wait_for(held.entered.wait(), 10)
            second = asyncio.create_task(api.post(NODE))
            for _ in range(200):
                if api.app.state.admission.queue.queued == 1:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)  # the second waits in the queue longer than its database deadline
            held.release.set()
            answers = await asyncio.gather(first, second)
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        # Each started with (nearly) its whole deadline ahead, the queued one too.
        assert len(held.remaining) == 2 and all(0.1 < r <= 0.3 for r in held.remaining), held.remaining


async def test_the_defaults_and_bad_values() -> None:
    assert Settings().max_in_flight == 20
    assert Settings(db_pool_max=4).max_in_flight == 8
    assert Settings.from_env({"NEXTGEN_GQL_MAX_IN_FLIGHT": "3"}).max_in_flight == 3
    assert Settings().queue_target_ms == 500 and Settings().max_exports == 2
    assert Settings.from_env({"NEXTGEN_GQL_QUEUE_TARGET_MS": "0"}).queue_target_ms == 0
    for name, value in [
        ("QUEUE_TARGET_MS", "-1"),
        ("QUEUE_TARGET_MS", "60001"),
        ("QUEUE_TARGET_MS", "soon"),
        ("MAX_EXPORTS", "0"),
        ("MAX_EXPORTS", "two"),
    ]:
        with pytest.raises(ValueError, match=f"NEXTGEN_GQL_{name}"):
            Settings.from_env({f"NEXTGEN_GQL_{name}": value})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_queues_recent_delay_decides_who_is_refused() -> None:
    clock = Clock()
    queue = Queue(limit=1, target_s=0.5, clock=clock)
    assert queue.arrive() is Decision.STARTED
    clock.now += 0.1
    # Nothing started for 0.1 s: a newcomer would wait about that long, and is let in.
    first = queue.arrive()
    assert isinstance(first, Waiter) and queue.predicted_wait() == pytest.approx(0.1)
    clock.now += 0.45  # nothing started for 0.55 s: the next could not start within 0.5 s
    assert queue.arrive() is Decision.REFUSED and queue.queued == 1
    queue.release()  # the running one ends: the waiter starts, and the start interval is measured
    assert await queue.wait(first) is Decision.STARTED
    assert queue.interval == pytest.approx(0.45) and queue.running == 1 and queue.queued == 0
    # It waited 0.55 s where 0.1 s was predicted: later predictions are scaled up a little.
    assert queue.calibration == pytest.approx(1 + 0.05 * (4 - 1))


async def test_little_s_law_bounds_how_many_may_wait() -> None:
    clock = Clock()
    queue = Queue(limit=1, target_s=0.5, clock=clock)
    assert queue.arrive() is Decision.STARTED
    clock.now += 0.45
    queue.release()
    assert queue.arrive() is Decision.STARTED
    # The queue starts one every 10 ms from now on: its measured delay falls...
    for _ in range(150):
        waiter = queue.arrive()
        assert isinstance(waiter, Waiter)
        clock.now += 0.01
        queue.release()
        assert await queue.wait(waiter) is Decision.STARTED
    assert queue.interval == pytest.approx(0.01, abs=0.002)
    # ...so about target / interval requests may wait (0.5 s / 10 ms), and the next is refused.
    waiting: list[Waiter] = []
    while isinstance(decision := queue.arrive(), Waiter):
        waiting.append(decision)
    assert decision is Decision.REFUSED and 40 <= len(waiting) <= 50, len(waiting)
    assert queue.predicted_wait() > 0.5
    assert queue.calibration == 1.0  # every wait was as predicted (or shorter): no correction
    for waiter in waiting:
        queue._leave(waiter)
    assert queue.queued == 0


async def test_a_queue_slower_than_predicted_corrects_its_predictions() -> None:
    """Waits longer than Little's law predicted (the pace fell under a burst) scale later
    predictions up, so that fewer are let in to be refused late; a waiter that timed out
    counts as such a wait; the correction is bounded, and returns as waits match again."""
    clock = Clock()
    queue = Queue(limit=1, target_s=0.5, clock=clock)
    assert queue.arrive() is Decision.STARTED
    first = queue.arrive()
    assert isinstance(first, Waiter)
    clock.now += 0.01
    queue.release()
    assert await queue.wait(first) is Decision.STARTED
    assert queue.interval == pytest.approx(0.01) and queue.calibration == 1.0
    # Ten wait, predicted 10 ms apart; the queue then drains at a third of that pace.
    waiting = [queue.arrive() for _ in range(10)]
    assert all(isinstance(w, Waiter) for w in waiting)
    predicted = [w.predicted for w in waiting if isinstance(w, Waiter)]
    for waiter in waiting:
        clock.now += 0.03
        queue.release()
        assert isinstance(waiter, Waiter) and await queue.wait(waiter) is Decision.STARTED
    assert predicted == sorted(predicted) and predicted[0] > 0
    assert 1.3 < queue.calibration < 4
    corrected = queue.calibration
    assert queue.predicted_wait() == pytest.approx(queue._little() * corrected)
    # A waiter that times out is scored at the wait it had, the target.
    late = queue.arrive()
    assert isinstance(late, Waiter)
    clock.now += 0.5
    queue._time_out(late)
    assert await queue.wait(late) is Decision.TIMED_OUT
    assert queue.calibration > corrected
    # Waits as predicted again bring it back towards 1, never below.
    queue.release()
    assert queue.arrive() is Decision.STARTED
    for _ in range(300):
        waiter = queue.arrive()
        assert isinstance(waiter, Waiter)
        clock.now += waiter.predicted
        queue.release()
        assert await queue.wait(waiter) is Decision.STARTED
    assert 1.0 <= queue.calibration < 1.05


async def test_a_waiter_that_leaves_gives_back_its_place_in_line() -> None:
    queue = Queue(limit=1, target_s=5)
    assert queue.arrive() is Decision.STARTED
    waiter = queue.arrive()
    assert isinstance(waiter, Waiter) and queue.queued == 1
    task = asyncio.create_task(queue.wait(waiter))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert queue.queued == 0
    queue.release()
    assert queue.running == 0  # nobody was waiting any more
    # One handed a place just as it was cancelled gives it back.
    assert queue.arrive() is Decision.STARTED
    waiter = queue.arrive()
    assert isinstance(waiter, Waiter)
    task = asyncio.create_task(queue.wait(waiter))
    await asyncio.sleep(0)
    queue.release()  # hands the place to the waiter...
    task.cancel()  # ...whose task is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await task
    assert queue.running == 0 and queue.queued == 0


async def test_a_query_whose_client_closed_its_socket_is_abandoned(settings: Settings) -> None:
    """Over a real TCP socket (uvicorn in this process): the client sends a query and closes
    the connection while it runs; the query is cancelled and its slot freed."""
    import socket

    import orjson
    import uvicorn

    from nextgen_gql.app import create_app

    entered, cancelled, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> None:
        entered.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started:
                break
            await asyncio.sleep(0.1)
        assert server.started
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=slow):
            body = orjson.dumps({"query": NODE})
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /graphql HTTP/1.1\r\nHost: testserver\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            await asyncio.wait_for(entered.wait(), 10)
            assert app.state.admission.running == 1
            writer.close()  # the client goes away
            await asyncio.wait_for(cancelled.wait(), 10)
            for _ in range(50):
                if app.state.admission.running == 0:
                    break
                await asyncio.sleep(0.1)
            assert app.state.admission.running == 0
            del reader
    finally:
        release.set()
        server.should_exit = True
        await serving


async def test_a_standing_queue_lets_no_newcomer_wait() -> None:
    """A queue not empty for STANDING_S is standing (overload, not a burst): a newcomer then
    starts only if a running place is free and is otherwise refused at the door, at once
    (SHORT_TARGET_S is no wait); one let in before keeps the whole target to start in; once the
    queue empties and nobody has been refused for OVERLOADED_S, the whole target applies again."""
    from nextgen_gql.admission.queue import OVERLOADED_S, SHORT_TARGET_S, STANDING_S

    assert SHORT_TARGET_S == 0.0
    clock = Clock()
    queue = Queue(limit=1, target_s=0.5, clock=clock)
    assert queue.arrive() is Decision.STARTED
    first = queue.arrive()
    assert isinstance(first, Waiter)
    clock.now += 0.002
    queue.release()
    assert await queue.wait(first) is Decision.STARTED  # one start every 2 ms, as measured
    assert queue.current_target() == 0.5  # nobody waits
    early = queue.arrive()
    assert isinstance(early, Waiter) and queue.current_target() == 0.5  # waiting just began
    # Starts go on every 2 ms, but someone is always waiting.
    waiting = early
    for _ in range(int(STANDING_S / 0.002) + 1):
        newcomer = queue.arrive()
        assert isinstance(newcomer, Waiter)
        clock.now += 0.002
        queue.release()
        assert await queue.wait(waiting) is Decision.STARTED
        waiting = newcomer
    assert queue.current_target() == SHORT_TARGET_S  # not empty for longer than STANDING_S
    # Every place taken and someone waiting: the newcomer is refused at the door.
    assert queue.arrive() is Decision.REFUSED
    # The one let in before keeps the whole target to start in, and starts at the next release.
    assert waiting.timer is not None
    assert waiting.timer.when() - asyncio.get_running_loop().time() > 0.5 - 0.05
    clock.now += 0.002
    queue.release()
    assert await queue.wait(waiting) is Decision.STARTED
    # The queue is empty but a refusal was just made: still no wait for a newcomer.
    assert queue.current_target() == SHORT_TARGET_S and queue.arrive() is Decision.REFUSED
    clock.now += OVERLOADED_S
    queue.release()
    assert queue.arrive() is Decision.STARTED
    late = queue.arrive()
    assert isinstance(late, Waiter) and queue.current_target() == 0.5
    queue._leave(late)


async def test_a_refusal_at_the_door_keeps_the_worker_overloaded_for_the_retry_after_second() -> None:
    """The refused come back together after their Retry-After second: until then the worker
    counts as overloaded, and a newcomer meeting a queue that has just emptied may not wait
    (SHORT_TARGET_S), as in a standing queue (so that the returning wave is refused at the
    door, not let in to wait and be refused late); after it, the whole target again."""
    from nextgen_gql.admission.queue import OVERLOADED_S, SHORT_TARGET_S

    clock = Clock()
    queue = Queue(limit=1, target_s=0.5, clock=clock)
    assert queue.arrive() is Decision.STARTED
    assert queue.current_target() == 0.5
    queue.interval = 0.1  # starts are 100 ms apart: a second waiter would wait past 100 ms
    first = queue.arrive()
    assert isinstance(first, Waiter)  # 100 ms predicted: within the whole target
    queue.calibration = 6.0  # the queue drains far slower than predicted
    assert queue.arrive() is Decision.REFUSED
    queue._leave(first)
    assert queue.queued == 0 and queue.current_target() == SHORT_TARGET_S
    assert queue.arrive() is Decision.REFUSED  # every place taken: no wait while overloaded
    clock.now += OVERLOADED_S
    assert queue.current_target() == 0.5
    queue.calibration = 1.0
    queue.release()
    assert queue.arrive() is Decision.STARTED
    again = queue.arrive()  # 100 ms predicted: within the whole target again
    assert isinstance(again, Waiter)
    queue._leave(again)
