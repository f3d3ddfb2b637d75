"""``nextgen-gql serve``.

Logging is configured here (``observability.logs.logging_config``, given to uvicorn, which
applies it in every worker), and so is the folder prometheus-client's multiprocess mode
shares between the processes: made (or emptied) before anything imports prometheus-client,
removed (or emptied) when serving ends. SIGTERM or SIGINT stops taking new connections and
lets the requests in flight finish, for at most ``NEXTGEN_GQL_SHUTDOWN_TIMEOUT_SECONDS``; live
connections (WebSockets, streams of server-sent events) are ended at once
(``LiveConnections.stop_on_signals``). Once each process's app has started, the cyclic
garbage collector is tuned for serving (``tune_collector``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from nextgen_gql.cli._common import run_with_db
from nextgen_gql.observability.multiprocess import clean_multiprocess_dir, prepare_multiprocess_dir
from nextgen_gql.services.crypto import resolve_secret_key
from nextgen_gql.settings import Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["cmd_serve", "served", "served_app", "tune_collector"]


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    shared = prepare_multiprocess_dir() if settings.metrics else None
    # uvicorn shuts down on SIGTERM, then raises it again for the handler it found: this one,
    # so that the process ends with status 0 and the clean-up below runs, as after SIGINT.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        return _serve(args, settings)
    finally:
        if shared is not None:
            clean_multiprocess_dir(*shared)


#: The collector's first-generation threshold while serving (Python's default: 700).
GC_THRESHOLD = 20_000


def tune_collector() -> None:
    """Once the app has started: what start-up left alive (the schema, compiled plans, court
    registry, modules) is moved out of the cyclic collector's sight (``gc.freeze``), and the
    youngest generation is collected every 20,000 allocations instead of 700. A request
    allocates thousands of short-lived objects (a 100-row page: rows, edges, dicts), freed by
    reference counting, not by the collector; with the defaults the collector ran every few
    requests and, every tenth of those, walked everything start-up had made: on 2026-12-06 that
    was the slowest percent of requests (`me`'s p99 68 ms against 11 ms frozen; docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def served(app: Starlette) -> Starlette:
    """The app as ``serve`` runs it: its own start-up, then ``tune_collector`` (in each worker
    process; the test suite's apps keep Python's defaults)."""
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(inner: Starlette) -> AsyncIterator[Any]:
        async with started(inner) as state:
            tune_collector()
            yield state

    app.router.lifespan_context = lifespan
    return app


def served_app() -> Starlette:
    """``uvicorn``'s factory for each of ``serve --workers N``'s processes."""
    from nextgen_gql.app import create_app

    return served(create_app())


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from nextgen_gql.admission.pacing import PacedHttpToolsProtocol
    from nextgen_gql.app import create_app
    from nextgen_gql.observability.logs import logging_config

    settings = settings.with_(demo=args.demo or settings.demo)
    # Before anything starts: PostgreSQL without NEXTGEN_GQL_SECRET_KEY stops here with a
    # message naming it; a SQLite file gets its key made once, by this process.
    resolve_secret_key(settings.secret_key, settings.database_url)
    server_options = {
        "host": args.host,
        "port": args.port,
        "log_config": logging_config(settings),
        "log_level": settings.log_level,
        "access_log": False,  # the request log (observability.logs) says more, in JSON
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
        # WebSockets (subscriptions): a message at most as large as a request body, and no
        # per-message compression (events are a few hundred bytes, while each socket's
        # compressor would cost tens of KiB: docs/benchmarks.md).
        "ws_max_size": settings.max_body_bytes,
        "ws_per_message_deflate": False,
        # The app settles the real caller itself (api.proxies, NEXTGEN_GQL_FORWARDED_ALLOW_IPS):
        # uvicorn's own proxy handling (and its FORWARDED_ALLOW_IPS) would act first, apart.
        "proxy_headers": False,
        # A connection answered 503 with Retry-After is not read again until then
        # (admission.pacing: clients that resend at once would keep the workers refusing).
        "http": PacedHttpToolsProtocol,
    }
    if args.workers > 1:
        # The parent prepares the database once; each worker then finds nothing to do.
        from nextgen_gql.services.court_catalog import load_registry
        from nextgen_gql.services.demo import load_demo
        from nextgen_gql.services.mail import Mailer

        async def prepare() -> None:  # run_with_db has applied the court folder
            if settings.demo:
                mailer = Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from)
                await load_demo(await load_registry(), mailer)

        run_with_db(settings, prepare)
        os.environ["NEXTGEN_GQL_DATABASE_URL"] = settings.database_url
        os.environ["NEXTGEN_GQL_TENANTS_DIR"] = str(settings.tenants_dir or "")
        os.environ["NEXTGEN_GQL_MAIL_DIR"] = str(settings.mail_dir)
        if settings.demo:  # the workers' GraphiQL names the demo accounts (the data is loaded already)
            os.environ["NEXTGEN_GQL_DEMO"] = "true"
        uvicorn.run("nextgen_gql.cli.serve:served_app", factory=True, workers=args.workers, **server_options)
        return 0
    app = served(create_app(settings))
    print(f"nextgen-gql: serving on http://{args.host}:{args.port}/ (the app) and /graphql (GraphiQL)")
    uvicorn.run(app, **server_options)
    return 0
