"""Admission of GraphQL requests over HTTP: the stage in front of ``api.http.GraphQLGate``.

Each request passes ``admission.queue.Queue`` first, before its token is looked up or its
body read: it starts at once (a running place was free), waits in the queue (at most
``NEXTGEN_GQL_QUEUE_TARGET_MS``), or is refused, ``503`` with ``Retry-After`` and a GraphQL
error coded ``OVERLOADED`` (in the media type its ``Accept`` asks for). A refused request
ran nothing, read nothing and wrote nothing.

From its start, a request holds a running place (``NEXTGEN_GQL_MAX_IN_FLIGHT`` per worker)
and its database deadline (``db_backends.deadline``, ``NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS``)
counts from then, not from its arrival: the time it queued is not taken from its database
waits. A request answered with a stream of server-sent events (a subscription, held open for
its life) gives its place back, and its deadline, when the stream starts.

What the deadline decides stays as it was: a request whose wait for the database ended it
before anything could be written is answered 503 ``OVERLOADED``; a mutation that may have
written never is (its field's error says so: ``api.view.error_code``). A POST whose client
disconnects once its body is read is cancelled, unless it is a mutation that started
(``api.http.WRITING_KEY``): that one finishes, so that what it writes is whole.

Counted: HTTP requests to the GraphQL routes (queries and mutations). WebSockets, health,
metrics and CSV exports (``admission.exports``) are other routes. Metrics: the queue delay
of every request started, the time to each refusal, and refusals by reason
(``observability.metrics``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nextgen_gql.admission.queue import Decision, Queue, Waiter
from nextgen_gql.api.graphql_http import negotiate
from nextgen_gql.api.http import WRITING_KEY, error_response
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.db_backends import deadline as db_deadline
from nextgen_gql.db_backends.deadline import DatabaseBusy
from nextgen_gql.observability.metrics import (
    count_abandoned,
    count_shed,
    observe_queue_delay,
    observe_refusal,
)
from nextgen_gql.settings import Settings

__all__ = ["RETRY_AFTER", "Admission", "overloaded"]

#: Seconds a refused client is asked to wait before it sends again.
RETRY_AFTER = "1"


async def overloaded(scope: Scope, send: Send, message: str) -> None:
    """Answer 503 ``OVERLOADED`` with ``Retry-After``, reading nothing of the request."""
    response = error_response(
        503,
        message,
        RequestErrorCode.OVERLOADED,
        negotiate(Headers(scope=scope).get("accept")),
        headers={"retry-after": RETRY_AFTER},
    )
    await response(scope, _no_body, send)


class Admission:
    """The running cap and the queue in front of the GraphQL routes (see the module)."""

    def __init__(self, app: ASGIApp, settings: Settings, queue: Queue | None = None) -> None:
        self.app = app
        self.queue = queue or Queue(settings.max_in_flight, settings.queue_target_ms / 1000)
        self.target_ms = settings.queue_target_ms
        self.acquire_timeout_ms = settings.db_acquire_timeout_ms

    @property
    def running(self) -> int:
        """Requests holding a running place now."""
        return self.queue.running

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.perf_counter()
        decision = self.queue.arrive()
        if isinstance(decision, Waiter):
            decision = await self.queue.wait(decision)
        if decision is not Decision.STARTED:
            reason = "queue" if decision is Decision.REFUSED else "queue_timeout"
            count_shed(reason)
            await overloaded(
                scope,
                send,
                f"The service is overloaded: this request could not start within {self.target_ms} ms, "
                "so nothing was run. Retry after the Retry-After seconds.",
            )
            observe_refusal(reason, time.perf_counter() - arrived)
            return
        observe_queue_delay(time.perf_counter() - arrived)
        await self._run(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request, holding its running place and its database deadline from now."""
        holding = True
        deadline, token = db_deadline.start(self.acquire_timeout_ms)
        shed = False  # answered 503: what the request would have sent goes nowhere

        async def sending(message: Message) -> None:
            nonlocal holding, shed
            if message["type"] == "http.response.start":
                if deadline.expired and not deadline.wrote:
                    shed = True
                    count_shed("database")
                    await overloaded(scope, send, _DATABASE_BUSY)
                    return
                if holding and _is_stream(message):
                    holding = False  # a subscription's stream: it holds no place while it lasts
                    self.queue.release()
                    # nor a deadline (its events wait for the database as they must)
                    db_deadline.release(deadline)
            if not shed:
                await send(message)

        try:
            if scope["method"] == "POST":
                await _abandoned_on_disconnect(self.app, scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        except DatabaseBusy:
            if not deadline.expired or deadline.wrote or shed:
                raise
            count_shed("database")
            await overloaded(scope, send, _DATABASE_BUSY)
        finally:
            db_deadline.stop(deadline, token)
            if holding:
                self.queue.release()


_DATABASE_BUSY = (
    "The service is overloaded (it waited too long for the database): nothing was written. "
    "Retry after the Retry-After seconds."
)


async def _abandoned_on_disconnect(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the request; if its client disconnects once the body is read, cancel it, unless
    it is a mutation that started (``WRITING_KEY``): that one finishes, so that what it
    writes is whole, and its answer goes nowhere.

    The request runs in this task; one watcher task waits for the disconnect and cancels this
    one (``Task.uncancel`` then takes the cancellation back: it was ours, not the server's)."""
    task = asyncio.current_task()
    assert task is not None
    body_read = asyncio.Event()
    answered = finished = abandoned = False

    async def tracked() -> Message:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            body_read.set()
        return message

    async def sending(message: Message) -> None:
        nonlocal answered
        if message["type"] == "http.response.start":
            answered = True  # from here the answer is on its way: nothing is abandoned
        await send(message)

    async def watch() -> None:
        nonlocal abandoned
        await body_read.wait()
        while (await receive())["type"] != "http.disconnect":
            pass
        # Checked and acted on in one step of the loop: the request cannot finish in between.
        if not finished and not answered and not scope.get(WRITING_KEY):
            abandoned = True
            task.cancel()

    watching = asyncio.ensure_future(watch())
    try:
        await app(scope, tracked, sending)
    except asyncio.CancelledError:
        if not abandoned:
            raise  # the server's (shutting down): not ours to take back
    finally:
        finished = True
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    if abandoned:
        task.uncancel()
        count_abandoned()


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _is_stream(message: Message) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"text/event-stream")
        for name, value in message.get("headers", ())
    )
