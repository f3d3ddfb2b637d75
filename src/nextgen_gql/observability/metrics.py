"""Prometheus metrics: every metric of the service, defined here, and ``GET /metrics``.

``serve`` always runs prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``,
made and emptied by ``serve``: ``observability.multiprocess``), so that with ``--workers N``
every worker counts and any worker answers a scrape with the sum. In-process (tests), the
metrics live in the process's default registry.

Counts come from two places only: ``count_request`` (each finished ``RequestRecord``) and
``count_event`` (the domain's events); the database pool is sampled each second and at each
scrape (``sample_pool``). Labels are bounded: routes, outcomes and codes are fixed sets, a
court is a court file's code, and an operation is counted by its name only when that name is
registered: an operation of a trusted document (the service's own front end's, those added with
``nextgen-gql operations add``; the documents the compiled path plans ahead), at most
``MAX_OPERATIONS`` of them a process. Any other name counts as ``(other)``, so that names a
client makes up can neither grow the labels nor take the place of real ones; a request's own
text never becomes a label.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from starlette.requests import Request
from starlette.responses import Response

from nextgen_gql.observability.multiprocess import multiprocess_dir
from nextgen_gql.observability.requests import RequestRecord
from nextgen_gql.services.events import Event
from nextgen_gql.settings import Settings

__all__ = [
    "MAX_OPERATIONS",
    "MetricsEndpoint",
    "count_event",
    "count_replica_set_aside",
    "count_request",
    "count_shed",
    "name_operations",
    "observe_queue_delay",
    "observe_refusal",
    "process_exiting",
    "sample_pool",
    "sampling_pool",
]

#: Registered operation names a process keeps as label values; any other counts as ``(other)``.
MAX_OPERATIONS = 200

REQUESTS = Counter(
    "nextgen_gql_requests",
    "HTTP requests answered, by route, GraphQL operation name, court and outcome "
    "(ok, error: answered with errors, refused: 4xx, failed: 5xx).",
    ["route", "operation", "court", "outcome"],
)
DURATION = Histogram(
    "nextgen_gql_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route and GraphQL operation name.",
    ["route", "operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter(
    "nextgen_gql_errors",
    "Error codes answered: GraphQL errors, refused requests and mutation payload errors, by code.",
    ["code"],
)
SIGN_INS = Counter(
    "nextgen_gql_sign_ins",
    "Sign-ins by outcome: success, failure (wrong username or password), refused (account "
    "locked or address rate-limited, before the password was checked).",
    ["outcome"],
)
LOCKOUTS = Counter(
    "nextgen_gql_lockouts",
    "Brute-force counters that reached their limit and locked their key, by policy (acct_addr, "
    "account, address, mfa, cmecf, linker, reset, reset_req).",
    ["policy"],
)
MFA_CHALLENGES = Counter(
    "nextgen_gql_mfa_challenges",
    "Second-factor challenges at sign-in, by outcome (issued, passed, failed, expired).",
    ["outcome"],
)
PERSISTED = Counter(
    "nextgen_gql_persisted_documents",
    "Requests naming a persisted document (an id or a hash) the service knew (hit) or not (miss).",
    ["result"],
)
DB_CONNECTIONS = Gauge(
    "nextgen_gql_db_connections",
    "Database connections of the request pool, in use or idle, summed over the live workers.",
    ["state"],
    multiprocess_mode="livesum",
)
DB_WAITING = Gauge(
    "nextgen_gql_db_waiting",
    "Requests waiting for a database connection, summed over the live workers.",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "nextgen_gql_subscriptions_open",
    "GraphQL subscriptions open, summed over the live workers.",
    multiprocess_mode="livesum",
)
EVENTS_FANNED_OUT = Counter(
    "nextgen_gql_events_fanned_out",
    "Events delivered to open subscriptions.",
)
SHED = Counter(
    "nextgen_gql_requests_shed",
    "Requests answered 503 OVERLOADED before anything was written, by reason (queue: refused at "
    "arrival, the queue's recent delay past NEXTGEN_GQL_QUEUE_TARGET_MS; queue_timeout: queued "
    "but not started within it; database: a wait for the database outlasted "
    "NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS; exports: NEXTGEN_GQL_MAX_EXPORTS CSV exports running).",
    ["reason"],
)
_ADMISSION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
QUEUE_DELAY = Histogram(
    "nextgen_gql_admission_queue_delay_seconds",
    "Time a GraphQL request over HTTP waited for a running place (NEXTGEN_GQL_MAX_IN_FLIGHT) "
    "before it started; 0 for one that started at once.",
    buckets=_ADMISSION_BUCKETS,
)
REFUSAL_TIME = Histogram(
    "nextgen_gql_admission_refusal_seconds",
    "Time from a GraphQL request's arrival at the admission stage to the end of its 503 "
    "OVERLOADED refusal, by reason (queue, queue_timeout).",
    ["reason"],
    buckets=_ADMISSION_BUCKETS,
)
ABANDONED = Counter(
    "nextgen_gql_requests_abandoned",
    "GraphQL requests cancelled because their client disconnected (queries, and mutations not started).",
)
REPLICA_READS = Counter(
    "nextgen_gql_replica_reads",
    "Queries over HTTP by where their data reads went, with a read replica: replica; "
    "primary_own_write (the caller's last write not replayed there yet); primary_replica_away "
    "(the replica down, behind by more than NEXTGEN_GQL_REPLICA_MAX_LAG_MS, or not in recovery); "
    "primary_replica_failed (a read failed there and ran on the database).",
    ["target"],
)
REPLICA_IN_USE = Gauge(
    "nextgen_gql_replica_in_use",
    "1 while a worker sends data reads to the read replica, 0 while it leaves it aside; the "
    "lowest over the live workers.",
    multiprocess_mode="livemin",
)
REPLICA_LAG = Gauge(
    "nextgen_gql_replica_lag_seconds",
    "How far the read replica was behind the database at its last check (the age of the oldest "
    "change it had not replayed); the highest over the live workers.",
    multiprocess_mode="livemax",
)
REPLICA_SET_ASIDE = Counter(
    "nextgen_gql_replica_set_aside",
    "Times a worker left the read replica aside, by reason (down, lagging, not_replica).",
    ["reason"],
)
WEBHOOK_ATTEMPTS = Counter(
    "nextgen_gql_webhook_attempts",
    "Webhook delivery attempts, by result (succeeded; retrying: failed, another attempt is "
    "scheduled; failed: failed, and the delivery ended).",
    ["result"],
)
WEBHOOK_OLDEST_DUE = Gauge(
    "nextgen_gql_webhook_oldest_due_seconds",
    "Seconds since the oldest pending webhook delivery fell due (0: none waits), at each "
    "worker's last round; the highest over the live workers.",
    multiprocess_mode="livemax",
)
IMPORT_ROWS = Counter(
    "nextgen_gql_import_rows",
    "Rows written by imports, by kind (pacer_accounts, cmecf_accounts).",
    ["kind"],
)

# --- Counting ------------------------------------------------------------------------------

_operations: set[str] = set()
_request_children: dict[tuple[str, str, str, str], Any] = {}
_duration_children: dict[tuple[str, str], Any] = {}
_error_children: dict[str, Any] = {}


def name_operations(names: Iterable[str]) -> None:
    """Count these operations by name from now on: the operation names of registered (trusted)
    documents, given at start and whenever a request finds one registered since. Past
    ``MAX_OPERATIONS`` names a process, the others count as ``(other)``."""
    for name in names:
        if len(_operations) >= MAX_OPERATIONS:
            return
        _operations.add(name)


def _operation_label(record: RequestRecord) -> str:
    name = record.operation
    if name is None:
        return "-" if record.operation_type is None else "(anonymous)"
    return name if name in _operations else "(other)"


def count_request(record: RequestRecord) -> None:
    """Count a finished request (an observer of ``ObserveRequests``)."""
    operation = _operation_label(record)
    court = record.court or ("national" if record.addressed else "-")
    key = (record.route, operation, court, record.outcome)
    child = _request_children.get(key)
    if child is None:
        child = _request_children[key] = REQUESTS.labels(*key)
    child.inc()
    timing = _duration_children.get(key[:2])
    if timing is None:
        timing = _duration_children[key[:2]] = DURATION.labels(record.route, operation)
    timing.observe(record.duration)
    if record.error_codes:
        for code in record.error_codes:
            errors = _error_children.get(code)
            if errors is None:
                errors = _error_children[code] = ERRORS.labels(code)
            errors.inc()
    if record.persisted is not None:
        PERSISTED.labels(record.persisted).inc()
    if record.reads is not None:
        REPLICA_READS.labels(record.reads).inc()


def count_replica_set_aside(reason: str) -> None:
    REPLICA_SET_ASIDE.labels(reason).inc()


_SIGN_IN_OUTCOMES = {
    "account.sign_in": "success",
    "account.sign_in_failed": "failure",
    "account.sign_in_refused": "refused",
}


def _amount(event: Event, name: str) -> int:
    value = event.fields.get(name)
    return value if isinstance(value, int) else 1


def count_event(event: Event) -> None:
    """Count a domain event (a listener of ``services.events``)."""
    name = event.name
    outcome = _SIGN_IN_OUTCOMES.get(name)
    if outcome is not None:
        SIGN_INS.labels(outcome).inc()
    elif name == "throttle.locked":
        LOCKOUTS.labels(str(event.fields.get("policy"))).inc()
    elif name == "mfa.challenge":
        MFA_CHALLENGES.labels(str(event.fields.get("outcome"))).inc()
    elif name == "import.rows":
        IMPORT_ROWS.labels(str(event.fields.get("kind"))).inc(_amount(event, "rows"))
    elif name == "subscription.opened":
        SUBSCRIPTIONS.inc()
    elif name == "subscription.closed":
        SUBSCRIPTIONS.dec()
    elif name == "events.fanned_out":
        EVENTS_FANNED_OUT.inc(_amount(event, "count"))


def count_shed(reason: str) -> None:
    SHED.labels(reason).inc()


def count_abandoned() -> None:
    ABANDONED.inc()


def count_webhook_attempt(result: str) -> None:
    WEBHOOK_ATTEMPTS.labels(result).inc()


def observe_webhook_backlog(oldest_due_seconds: float) -> None:
    WEBHOOK_OLDEST_DUE.set(oldest_due_seconds)


_refusal_children: dict[str, Any] = {}


def observe_queue_delay(seconds: float) -> None:
    QUEUE_DELAY.observe(seconds)


def observe_refusal(reason: str, seconds: float) -> None:
    child = _refusal_children.get(reason)
    if child is None:
        child = _refusal_children[reason] = REFUSAL_TIME.labels(reason)
    child.observe(seconds)


# --- The database pool ---------------------------------------------------------------------


def _pool_state() -> tuple[int, int, int] | None:
    """(in use, idle, waiting) of the default connection's pool, read from the driver's state."""
    from tortoise import connections

    try:
        conn = connections.get("default")
    except Exception:  # not initialised (start-up, shut-down)
        return None
    pool = getattr(conn, "_pool", None)
    if pool is not None:  # asyncpg
        size, idle = pool.get_size(), pool.get_idle_size()
        getters = getattr(getattr(pool, "_queue", None), "_getters", ()) or ()
        return size - idle, idle, sum(1 for waiter in getters if not waiter.done())
    lock = getattr(conn, "_lock", None)  # SQLite: one connection behind a lock
    if isinstance(lock, asyncio.Lock):
        waiters = getattr(lock, "_waiters", None) or ()
        busy = int(lock.locked())
        return busy, 1 - busy, sum(1 for waiter in waiters if not waiter.done())
    return None


def _sample_replica() -> None:
    from nextgen_gql import replica

    found = replica.state()
    if found is None:
        return
    REPLICA_IN_USE.set(1 if found.usable else 0)
    if found.lag_s is not None:
        REPLICA_LAG.set(found.lag_s)


def sample_pool() -> None:
    _sample_replica()
    state = _pool_state()
    if state is None:
        return
    in_use, idle, waiting = state
    DB_CONNECTIONS.labels("in_use").set(in_use)
    DB_CONNECTIONS.labels("idle").set(idle)
    DB_WAITING.set(waiting)


@contextlib.asynccontextmanager
async def sampling_pool(every: float = 1.0) -> AsyncIterator[None]:
    """While the app runs, sample the pool every ``every`` seconds."""

    async def sample_forever() -> None:
        while True:
            sample_pool()
            await asyncio.sleep(every)

    task = asyncio.create_task(sample_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# --- Multiprocess mode ---------------------------------------------------------------------


def process_exiting() -> None:
    """A worker stops: its live gauges stop counting (its counters stay in the sums)."""
    path = multiprocess_dir()
    if path is not None:
        _multiprocess.mark_process_dead(os.getpid(), str(path))  # type: ignore[no-untyped-call]


def _forget_dead_processes(path: Path) -> None:
    """Live gauges of workers that died without ``process_exiting`` (killed) stop counting."""
    for found in path.glob("gauge_live*_*.db"):
        pid = found.stem.rsplit("_", 1)[-1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            _multiprocess.mark_process_dead(int(pid), str(path))  # type: ignore[no-untyped-call]
        except PermissionError:
            pass


# --- GET /metrics --------------------------------------------------------------------------

_PROXIED = (b"x-forwarded-for", b"forwarded", b"x-real-ip")


class MetricsEndpoint:
    """``GET /metrics``, to the addresses (``NEXTGEN_GQL_METRICS_ALLOW``) or the bearer token
    (``NEXTGEN_GQL_METRICS_TOKEN``) the settings name.

    The address is the TCP peer's. A request that came through a proxy (it carries
    ``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP``) is not let in by address, since a
    proxy on the same machine would make every caller look local: only the token admits it.
    """

    def __init__(self, settings: Settings) -> None:
        self.networks = [ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow]
        self.token = settings.metrics_token

    def _admitted(self, request: Request) -> bool:
        if self.token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), self.token.encode()
            ):
                return True
        if any(name in _PROXIED for name, _ in request.scope["headers"]):
            return False
        client = request.client
        if client is None:
            return False
        try:
            address = ipaddress.ip_address(client.host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def endpoint(self, request: Request) -> Response:
        if not self._admitted(request):
            headers = {"www-authenticate": 'Bearer realm="metrics"'} if self.token else None
            return Response(
                "Forbidden: metrics are served to the addresses or token the settings name.\n",
                status_code=401 if self.token else 403,
                media_type="text/plain",
                headers=headers,
            )
        sample_pool()
        path = multiprocess_dir()
        if path is None:
            registry = REGISTRY
        else:
            _forget_dead_processes(path)
            registry = CollectorRegistry()
            _multiprocess.MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
