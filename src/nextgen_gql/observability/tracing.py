"""OpenTelemetry traces, when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; nothing at all when not.

Off (the default), this module imports no OpenTelemetry package, installs no middleware and
wraps nothing: ``ACTIVE`` is False and ``operation_span`` is a shared no-op, so the cost is
one attribute read a request.

On (``start``), a request gets:

- a server span from the ASGI instrumentation, continuing the caller's trace when the
  request carries a ``traceparent`` header (W3C Trace Context);
- a span for its GraphQL operation (``query Landing``), with the operation's name and
  type, the court and the executor that answered (``operation_span``);
- a span per SQL statement (Tortoise's and the compiled path's reads), with the statement's
  text and never its parameters (``_trace_database``);
- its trace context back in the response's ``traceparent`` header, and its trace id in the
  request's log line.

Spans go to ``{OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`` over OTLP/HTTP (protobuf) in
batches; the SDK's own variables (``OTEL_SERVICE_NAME``, ``OTEL_TRACES_SAMPLER``,
``OTEL_EXPORTER_OTLP_HEADERS``, ...) apply.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware import Middleware

__all__ = ["ACTIVE", "Tracing", "current_trace_id", "operation_span", "traceparent_header"]

#: Whether a tracer provider is running in this process.
ACTIVE = False
_tracer: Any = None
_NOOP = contextlib.nullcontext()


def operation_span(
    operation_type: str, name: str | None, court: str | None
) -> contextlib.AbstractContextManager[Any]:
    """A span around a GraphQL operation (a shared no-op when tracing is off)."""
    if not ACTIVE:
        return _NOOP
    return _tracer.start_as_current_span(  # type: ignore[no-any-return]
        f"{operation_type} {name}" if name else operation_type,
        attributes={
            "graphql.operation.type": operation_type,
            "graphql.operation.name": name or "",
            "nextgen.court": court or "",
        },
    )


def note_span_execution(path: str) -> None:
    """Say on the current span which executor answered (``compiled`` or ``reference``)."""
    if ACTIVE:
        from opentelemetry import trace

        trace.get_current_span().set_attribute("nextgen.execution", path)


def _current_context() -> Any:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return context if context.is_valid else None


def current_trace_id() -> str | None:
    context = _current_context()
    return f"{context.trace_id:032x}" if context is not None else None


def traceparent_header() -> list[tuple[bytes, bytes]]:
    """The current span's context as a response header (``ObserveRequests.response_headers``)."""
    context = _current_context()
    if context is None:
        return []
    value = f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"
    return [(b"traceparent", value.encode())]


def _statement_name(query: str) -> str:
    words = query.lstrip().split(None, 1)
    return words[0].upper() if words else "SQL"


def _traced(
    method: Callable[..., Awaitable[Any]], system: str, *, bound: bool = True
) -> Callable[..., Awaitable[Any]]:
    """``method`` (a client's ``execute_*(self, query, ...)``, or a function ``(query, ...)`` when
    not ``bound``) in a span per statement, while a request is traced."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    @functools.wraps(method)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        if _tracer is None or not trace.get_current_span().is_recording():
            return await method(*args, **kwargs)  # start-up, migrations: no request
        query = str(args[1] if bound else args[0])
        with _tracer.start_as_current_span(
            _statement_name(query),
            kind=SpanKind.CLIENT,
            # The text only: parameters may hold anything a client sent.
            attributes={"db.system": system, "db.statement": query[:2000]},
        ):
            return await method(*args, **kwargs)

    traced.__nextgen_traced__ = True  # type: ignore[attr-defined]
    return traced


def _trace_database() -> None:
    """Wrap the statements of Tortoise's SQLite and PostgreSQL clients, and the compiled
    path's reads (once a process)."""
    from tortoise.backends.sqlite import client as sqlite

    from nextgen_gql.services import rows

    targets: list[tuple[Any, str, str]] = [
        (sqlite.SqliteClient, name, "sqlite")
        for name in (
            "execute_insert",
            "execute_many",
            "execute_query",
            "execute_query_dict",
            "execute_script",
        )
    ]
    targets.append((sqlite.SqliteTransactionWrapper, "execute_many", "sqlite"))
    with contextlib.suppress(ImportError):
        from tortoise.backends.asyncpg import client as pg
        from tortoise.backends.base_postgres import client as base_pg

        targets += [
            (pg.AsyncpgDBClient, name, "postgresql")
            for name in ("execute_insert", "execute_many", "execute_query", "execute_query_dict")
        ]
        targets += [(pg.TransactionWrapper, "execute_many", "postgresql")]
        targets += [(base_pg.BasePostgresClient, "execute_script", "postgresql")]
    for owner, name, system in targets:
        method = owner.__dict__.get(name)
        if method is not None and not getattr(method, "__nextgen_traced__", False):
            setattr(owner, name, _traced(method, system))
    if not getattr(rows._read_reader, "__nextgen_traced__", False):
        rows._read_reader = _traced(rows._read_reader, "sqlite", bound=False)  # type: ignore[assignment]


class Tracing:
    """The tracer provider of a running app: ``start`` it, install ``middleware``, ``stop`` it."""

    def __init__(self, endpoint: str) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or endpoint.rstrip("/") + "/v1/traces"
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "nextgen-gql"})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces)))

    @classmethod
    def start(cls, endpoint: str) -> Tracing:
        global ACTIVE, _tracer
        tracing = cls(endpoint)
        _tracer = tracing.provider.get_tracer("nextgen_gql")
        ACTIVE = True
        _trace_database()
        return tracing

    def middleware(self) -> Middleware:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        return Middleware(
            OpenTelemetryMiddleware,
            tracer_provider=self.provider,
            exclude_spans=["receive", "send"],
            excluded_urls="healthz,readyz,metrics",
        )

    def stop(self) -> None:
        """Send what is left and stop (the app's shut-down)."""
        global ACTIVE, _tracer
        ACTIVE = False
        _tracer = None
        self.provider.shutdown()
