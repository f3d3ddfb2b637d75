"""The Starlette application.

Building the app reads and validates the court files (a bad file fails before serving).
Start-up (the lifespan) applies pending migrations, opens the database, applies the court
files to the database's catalog (``services.court_catalog``; with an empty
``NEXTGEN_GQL_TENANTS_DIR`` the catalog stands as it is), starts following the catalog
live, and, with ``demo``, fills an empty database with the demo data. Then it starts the
live updates: the events hub (``services.event_hub``), the check of live connections'
sessions (``api.live.connections``) and, on PostgreSQL, the process's one ``LISTEN``
connection (``services.listener``), which the court catalog and the hub share. Metrics,
logs, traces, ``/healthz`` and ``/readyz`` are ``nextgen_gql.observability``'s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route, WebSocketRoute, request_response
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from nextgen_gql import replica
from nextgen_gql.admission import Admission, ExportSlots
from nextgen_gql.api.exports import unlinked_csv
from nextgen_gql.api.http import GraphQLGate, SecurityHeaders
from nextgen_gql.api.live.connections import LiveConnections
from nextgen_gql.api.outages import OutageAnswers
from nextgen_gql.api.persisted import read_bundle
from nextgen_gql.api.proxies import TrustedProxies
from nextgen_gql.api.schema import build_schema
from nextgen_gql.api.view import GraphQLView
from nextgen_gql.db import apply_migrations, is_postgres_url, set_role_statement_timeout, tortoise_config
from nextgen_gql.observability import Observability, metrics
from nextgen_gql.oidc import logouts
from nextgen_gql.oidc.routes import routes as oidc_routes
from nextgen_gql.outbound.addresses import Reach
from nextgen_gql.services import court_catalog, mail, maintenance, reminders, rows, statistics
from nextgen_gql.services.court_catalog import LiveCourts
from nextgen_gql.services.crypto import Sealer, resolve_secret_key
from nextgen_gql.services.demo import load_demo
from nextgen_gql.services.event_hub import EventHub
from nextgen_gql.services.listener import PgListener
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from nextgen_gql.sign_on.pacer_api import PacerAuthApi
from nextgen_gql.tenancy import CourtRegistry, load_courts
from nextgen_gql.web import APP_CSP, OPERATIONS_BUNDLE, STATIC_DIR, app_page
from nextgen_gql.webhooks import deliveries as webhook_deliveries
from nextgen_gql.webhooks import worker as webhook_worker

__all__ = ["create_app"]

log = logging.getLogger("nextgen_gql")


async def _maintain(settings: Settings) -> None:
    """``services.maintenance`` every ``NEXTGEN_GQL_MAINTENANCE_INTERVAL_S`` seconds; on
    PostgreSQL one process at a time across workers and machines (its advisory lock)."""
    retention = maintenance.Retention.of(settings)
    while True:
        await asyncio.sleep(settings.maintenance_interval_s)
        try:
            await maintenance.run(retention, database_url=settings.direct_url, pause=0.01)
        except Exception:  # the database is away for a moment: the next run tries again
            log.warning("maintenance: the run failed", exc_info=True)


async def _remind(settings: Settings, courts: LiveCourts) -> None:
    """Run linking-reminder jobs: every ``NEXTGEN_GQL_REMINDER_INTERVAL_S`` seconds, and at once
    when one is started in this process. Any worker may run a job; its lease keeps it to one."""
    mailer = Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from)
    woken = asyncio.Event()
    reminders.on_wake(woken.set)
    try:
        while True:
            try:
                await reminders.run_pending(courts.current, mailer)
            except Exception:  # the job's lease runs out and a later round resumes it
                log.warning("reminders: the run failed", exc_info=True)
            with suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=settings.reminder_interval_s)
            woken.clear()
    finally:
        reminders.off_wake(woken.set)


async def spa(request: Request) -> HTMLResponse:
    """The reference single-page app."""
    return HTMLResponse(app_page(), headers={"content-security-policy": APP_CSP})


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app. Court files are read now, so a bad file fails before serving."""
    settings = settings or Settings.from_env()
    files = load_courts(settings.tenants_dir) if settings.tenants_dir is not None else None
    url = settings.direct_url  # LISTEN needs a session of its own: never through a pooler
    postgres = is_postgres_url(url)
    listener = PgListener(url) if postgres else None
    # The hub listens first, the courts last: the courts' channel is the connection's last LISTEN
    # (tests find the connection by it).
    hub = EventHub(
        url,
        listener=listener,
        queue_size=settings.subscription_queue,
        retention=dt.timedelta(seconds=settings.event_retention_seconds),
    )
    # Webhook deliveries written by any process wake this one's worker (NOTIFY at commit).
    webhooks_due = asyncio.Event()
    if listener is not None and settings.webhook_interval_s > 0:
        listener.listen(
            webhook_deliveries.CHANNEL,
            on_notify=lambda _payload: webhooks_due.set(),
            on_reconnect=webhooks_due.set,
        )
    # So do back-channel logout tokens owed by any process (the OpenID provider's).
    logouts_due = asyncio.Event()
    if listener is not None and settings.webhook_interval_s > 0 and settings.public_url is not None:
        listener.listen(
            logouts.CHANNEL, on_notify=lambda _payload: logouts_due.set(), on_reconnect=logouts_due.set
        )
    live = LiveCourts(CourtRegistry(files or ()), database_url=url, listener=listener)
    connections = LiveConnections(settings, hub, live)
    # PostgreSQL without NEXTGEN_GQL_SECRET_KEY stops here, before serving (MissingSecretKey).
    sealer = Sealer(resolve_secret_key(settings.secret_key, settings.database_url))
    # Where the service may call out: checked when a webhook URL is given, at every attempt, and
    # before a private_key_jwt client's keys are read.
    reach = Reach(settings.webhook_networks)
    view = GraphQLView(
        build_schema(settings),
        settings=settings,
        courts=live,
        sealer=sealer,
        connections=connections,
        reach=reach,
    )
    endpoint = GraphQLGate(view, live, settings)
    # HTTP queries and mutations pass admission first: the running cap and its queue
    # (WebSockets do not count; CSV exports have their own cap).
    limited = Admission(endpoint, settings)
    # What the database's absence stopped is answered 503 DATABASE_UNAVAILABLE (api.outages).
    guarded = OutageAnswers(limited)
    observability = Observability(settings, lambda: live.current)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await apply_migrations(settings.direct_url)
        if settings.transaction_pooling:
            await set_role_statement_timeout(settings.direct_url, settings.statement_timeout_ms)
        async with (
            RegisterTortoise(
                app,
                config=tortoise_config(
                    settings.connection_url,
                    statement_timeout_ms=settings.statement_timeout_ms,
                    transaction_pooling=settings.transaction_pooling,
                ),
            ),
            replica.serving(settings),  # queries' data reads on a replica (nextgen_gql.replica)
            observability.running(),
        ):
            if files is not None:
                applied, version = await court_catalog.apply(files)
                for line in applied.lines():
                    log.info("courts (version %d): %s", version, line)
            await live.refresh()
            if not len(live.current):
                raise RuntimeError(
                    "No court to serve: the database's catalog is empty. Apply court files "
                    "(nextgen-gql tenants apply) or set NEXTGEN_GQL_TENANTS_DIR to their folder."
                )
            if settings.demo and await load_demo(
                live.current, Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from)
            ):
                log.info("loaded the demo data")
            await live.start()
            await view.documents.ensure_trusted(read_bundle(OPERATIONS_BUNDLE))
            metrics.name_operations(await view.documents.trusted_operation_names())
            log.info("planned %d trusted operations ahead", await view.compile_ahead())
            await rows.open_reader()
            await view.budgets.start()
            await hub.start()
            await connections.start()
            if listener is not None:
                await listener.start()
            restore_signals = connections.stop_on_signals()
            upkeep = (
                asyncio.create_task(_maintain(settings), name="maintenance")
                if settings.maintenance_interval_s > 0
                else None
            )
            remind = (
                asyncio.create_task(_remind(settings, live), name="reminders")
                if settings.reminder_interval_s > 0
                else None
            )
            sender = (
                webhook_worker.Sender(
                    sealer,
                    Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from),
                    reach=reach,
                )
                if settings.webhook_interval_s > 0
                else None
            )
            deliver = (
                asyncio.create_task(
                    webhook_worker.run(sender, settings.webhook_interval_s, webhooks_due), name="webhooks"
                )
                if sender is not None
                else None
            )
            # Back-channel logout tokens, when the OpenID provider is on (the same interval).
            logout_sender = (
                logouts.Sender(settings.public_url, sealer, reach=reach)
                if settings.public_url is not None and settings.webhook_interval_s > 0
                else None
            )
            tell = (
                asyncio.create_task(
                    logouts.run(logout_sender, settings.webhook_interval_s, logouts_due), name="logouts"
                )
                if logout_sender is not None
                else None
            )
            observability.ready()
            try:
                yield
            finally:
                await mail.drain()  # messages handed to Mailer.send_later go out before we stop
                if tell is not None:
                    tell.cancel()
                    await asyncio.wait({tell}, timeout=5)
                if logout_sender is not None:
                    with suppress(Exception):
                        await asyncio.wait_for(logout_sender.close(), timeout=5)
                if upkeep is not None:
                    upkeep.cancel()
                if remind is not None:
                    remind.cancel()
                if deliver is not None:
                    deliver.cancel()
                    # Bounded: a worker in the middle of an attempt has its lease to fall back on.
                    await asyncio.wait({deliver}, timeout=5)
                if sender is not None:
                    with suppress(Exception):
                        await asyncio.wait_for(sender.close(), timeout=5)
                restore_signals()
                await view.budgets.stop()
                await connections.stop()
                await hub.stop()
                if listener is not None:
                    await listener.stop()
                await live.stop()
                await rows.close_reader()
                with suppress(Exception):  # SQLite's advice for a closing connection; best effort
                    await statistics.optimize()

    # The real caller first: everything after (logs, limits, HTTPS) reads the settled client.
    middleware = [
        Middleware(TrustedProxies, allow=settings.forwarded_allow_ips),
        *observability.middleware(),
        Middleware(SecurityHeaders, settings=settings),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-court", "x-request-id", "traceparent"],
                allow_credentials=True,
                expose_headers=["x-request-id", "traceparent"],
            )
        )
    pacer_api = PacerAuthApi(
        settings, sealer, Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from)
    )
    app = Starlette(
        routes=[
            # Every method reaches the view, which answers what it does not serve with a 405.
            Route("/graphql", guarded),
            Route("/courts/{code}/graphql", guarded),
            Route(
                "/courts/{code}/exports/unlinked.csv",
                OutageAnswers(request_response(unlinked_csv)),
                methods=["GET"],
            ),
            # Subscriptions over WebSocket (graphql-transport-ws) on the same two URLs.
            WebSocketRoute("/graphql", endpoint),
            WebSocketRoute("/courts/{code}/graphql", endpoint),
            # PACER's authentication API, for tools written for PACER (nextgen_gql.sign_on).
            Route(
                "/services/cso-auth", OutageAnswers(request_response(pacer_api.cso_auth)), methods=["POST"]
            ),
            Route(
                "/services/cso-logout",
                OutageAnswers(request_response(pacer_api.cso_logout)),
                methods=["POST"],
            ),
            *observability.routes(),
            # the OpenID Connect provider (nextgen_gql.oidc)
            *oidc_routes(
                settings, sealer, Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from), reach
            ),
            Route("/", spa, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.courts = live
    app.state.compiled = view.compiled
    app.state.documents = view.documents
    app.state.view = view
    app.state.admission = limited
    app.state.exports = ExportSlots(settings.max_exports)
    app.state.hub = hub
    app.state.connections = connections
    app.state.listener = listener
    app.state.gate = endpoint  # the GraphQL routes' gate (its open WebSockets per address)
    return app
