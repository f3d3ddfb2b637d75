"""What the operations team sees: metrics, traces, structured logs, health and readiness.

One module per concept:

- ``requests``: the request id and the record of each request (``ObserveRequests``);
- ``logs``: JSON lines for requests, security events and everything else;
- ``metrics``: the Prometheus metrics and ``GET /metrics``;
- ``tracing``: OpenTelemetry, only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set;
- ``health``: ``GET /healthz`` and ``GET /readyz``.

``Observability`` is what ``create_app`` installs from the settings. The domain takes no
part beyond telling what happens (``services.events``). docs/operations.md is the
operator's guide to all of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING

from nextgen_gql.services import events
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import Court

if TYPE_CHECKING:  # imported where used: a command that only reads this package's
    # ``multiprocess`` (``nextgen-gql import``) starts without the web stack
    from starlette.middleware import Middleware
    from starlette.routing import BaseRoute

    from nextgen_gql.observability.requests import RequestRecord

__all__ = ["Observability"]


class Observability:
    """The middleware, routes and running parts ``create_app`` installs, as the settings say."""

    def __init__(self, settings: Settings, courts: Callable[[], Iterable[Court]]) -> None:
        """``courts``: the courts served now (for ``/readyz``)."""
        from nextgen_gql.observability.health import Readiness

        self.settings = settings
        self.readiness = Readiness(courts)
        self.tracing = None
        if settings.otel_endpoint:
            from nextgen_gql.observability.tracing import Tracing

            self.tracing = Tracing.start(settings.otel_endpoint)

    def middleware(self) -> list[Middleware]:
        """Outermost first: the tracing of the request (when on), then its record."""
        from starlette.middleware import Middleware

        from nextgen_gql.observability import logs, tracing
        from nextgen_gql.observability.requests import ObserveRequests

        observers: list[Callable[[RequestRecord], None]] = []
        if self.settings.metrics:
            from nextgen_gql.observability import metrics

            observers.append(metrics.count_request)
        if self.settings.request_log:
            observers.append(logs.log_request)
        stack = [self.tracing.middleware()] if self.tracing is not None else []
        stack.append(
            Middleware(
                ObserveRequests,
                observers=observers,
                response_headers=tracing.traceparent_header if self.tracing is not None else None,
            )
        )
        return stack

    def routes(self) -> list[BaseRoute]:
        from starlette.routing import Route

        from nextgen_gql.observability.health import healthz

        routes: list[BaseRoute] = [
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", self.readiness.endpoint, methods=["GET"]),
        ]
        if self.settings.metrics:
            from nextgen_gql.observability.metrics import MetricsEndpoint

            routes.append(Route("/metrics", MetricsEndpoint(self.settings).endpoint, methods=["GET"]))
        return routes

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the app's life (its lifespan): events logged and counted, the pool sampled.
        Call ``ready()`` when start-up is done."""
        from nextgen_gql.observability import logs

        stops = [events.listen(logs.log_event)]
        sampling: contextlib.AbstractAsyncContextManager[None] = contextlib.nullcontext()
        if self.settings.metrics:
            from nextgen_gql.observability import metrics

            stops.append(events.listen(metrics.count_event))
            sampling = metrics.sampling_pool()
        try:
            async with sampling:
                yield
        finally:
            self.readiness.started = False
            for stop in stops:
                stop()
            if self.settings.metrics:
                metrics.process_exiting()
            if self.tracing is not None:
                self.tracing.stop()

    def ready(self) -> None:
        self.readiness.started = True
