"""One request, observed: its id, what it ran, for whom, how it ended, and how long it took.

``ObserveRequests`` (the outermost middleware) decides the request id (the client's
``X-Request-ID`` when it is a sane one, else a new one), opens a ``RequestRecord`` that the
layers below fill in through the ``note_*`` functions (the addressing gate the court, the
view the operation and the execution path, the viewer look-ups the account, every error
answered its code), and hands the finished record to the observers (the request log line,
the metrics). The record lives in a context variable, so nothing has to be passed down.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CURRENT",
    "REQUEST_ID_KEY",
    "ObserveRequests",
    "RequestRecord",
    "note_account",
    "note_court",
    "note_error",
    "note_execution",
    "note_operation",
    "note_persisted",
    "note_reads",
    "route_of",
]

log = logging.getLogger("nextgen_gql.observability")

#: The scope key of the request id (what error messages quote, and ``X-Request-ID``).
REQUEST_ID_KEY = "nextgen_gql.request_id"
#: An ``X-Request-ID`` a client or proxy sends is kept when it looks like an id (UUIDs, hex,
#: base64): anything else is replaced, so that a log line never carries what a client made up.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
#: Routes whose requests are logged at debug only (load balancers and Prometheus poll them).
PROBES = frozenset({"healthz", "readyz", "metrics"})


@dataclass(slots=True)
class RequestRecord:
    """What is known of one request; ``ObserveRequests`` gives it to the observers at the end."""

    request_id: str
    method: str
    path: str
    #: ``graphql``, ``healthz``, ``readyz``, ``metrics``, ``static``, ``app`` or ``other`` (``route_of``).
    route: str
    client: str | None
    started: float
    status: int = 0
    duration: float = 0.0
    #: Whether the GraphQL gate addressed the request (to ``court``, or to the nation when None).
    addressed: bool = False
    court: str | None = None
    operation: str | None = None
    #: ``query``, ``mutation`` or ``subscription`` once the view selected an operation.
    operation_type: str | None = None
    #: ``compiled`` or ``reference``: which executor answered.
    execution: str | None = None
    #: ``hit`` or ``miss`` when the client named a persisted document.
    persisted: str | None = None
    #: Where a query's data reads went, with a replica (``nextgen_gql.replica``): ``replica``,
    #: ``primary_own_write``, ``primary_replica_away`` or ``primary_replica_failed``.
    reads: str | None = None
    account_id: int | None = None
    #: Every error code answered (GraphQL errors, refusals, mutation payload errors), in order.
    error_codes: list[str] | None = None

    @property
    def outcome(self) -> str:
        """``ok``, ``error`` (answered, with errors), ``refused`` (4xx) or ``failed`` (5xx)."""
        if self.status >= 500:
            return "failed"
        if self.status >= 400:
            return "refused"
        return "error" if self.error_codes else "ok"


#: The request being served by this task (and the tasks it starts), if any.
CURRENT: ContextVar[RequestRecord | None] = ContextVar("nextgen_gql.request", default=None)


def note_court(code: str | None) -> None:
    """The gate addressed the request to court ``code`` (None: the national endpoint)."""
    record = CURRENT.get()
    if record is not None:
        record.addressed = True
        record.court = code


def note_operation(name: str | None, operation_type: str) -> None:
    record = CURRENT.get()
    if record is not None:
        record.operation = name
        record.operation_type = operation_type


def note_execution(path: str) -> None:
    record = CURRENT.get()
    if record is not None:
        record.execution = path


def note_reads(target: str) -> None:
    record = CURRENT.get()
    if record is not None:
        record.reads = target


def note_persisted(found: bool) -> None:
    record = CURRENT.get()
    if record is not None:
        record.persisted = "hit" if found else "miss"


def note_account(account_id: int) -> None:
    """The caller is (or has just signed in as) this account."""
    record = CURRENT.get()
    if record is not None:
        record.account_id = account_id


def note_error(code: str) -> None:
    record = CURRENT.get()
    if record is not None:
        if record.error_codes is None:
            record.error_codes = [code]
        else:
            record.error_codes.append(code)


def route_of(path: str) -> str:
    """The route a path belongs to: a small fixed set (a metric label), whatever the path."""
    if path == "/graphql" or (path.startswith("/courts/") and path.endswith("/graphql")):
        return "graphql"
    if path in ("/healthz", "/readyz", "/metrics"):
        return path[1:]
    if path.startswith("/static/"):
        return "static"
    if path == "/":
        return "app"
    return "other"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if _GIVEN_ID.fullmatch(given):
                return given
            break
    return secrets.token_hex(8)


Observer = Callable[[RequestRecord], None]


class ObserveRequests:
    """The outermost middleware: a request id and a ``RequestRecord`` for every HTTP request.

    ``observers`` get each finished record (the request log, the metrics); ``response_headers``
    may add headers to every response from the record (tracing's ``traceparent``).
    """

    def __init__(
        self,
        app: ASGIApp,
        observers: Sequence[Observer] = (),
        response_headers: Callable[[], list[tuple[bytes, bytes]]] | None = None,
    ) -> None:
        self.app = app
        self.observers = tuple(observers)
        self.response_headers = response_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope[REQUEST_ID_KEY] = request_id
        path = scope["path"]
        client = scope.get("client")
        record = RequestRecord(
            request_id,
            scope["method"],
            path,
            route_of(path),
            client[0] if client else None,
            time.perf_counter(),
        )
        extra = self.response_headers

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                if extra is not None:
                    message["headers"] = [*message.get("headers", ()), *extra()]
            await send(message)

        token = CURRENT.set(record)
        try:
            await self.app(scope, receive, observed_send)
            if record.status == 0:
                record.status = 499  # ended unanswered: the client went away (an abandoned query)
        except BaseException as exc:
            if record.status == 0:
                if isinstance(exc, asyncio.CancelledError):
                    record.status = 499  # the client went away (nginx's number for it)
                else:
                    record.status = 500
                    note_error("INTERNAL_ERROR")
            raise
        finally:
            CURRENT.reset(token)
            record.duration = time.perf_counter() - record.started
            for observe in self.observers:
                try:
                    observe(record)
                except Exception:  # an observer must never break the request it observes
                    log.exception("a request observer failed")
