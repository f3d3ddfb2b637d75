"""``nextgen-gql serve``."""

from __future__ import annotations

import argparse
import os
from typing import Any

from nextgen_gql.cli._common import run_with_db
from nextgen_gql.settings import Settings

__all__ = ["cmd_serve"]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from nextgen_gql.app import create_app

    settings = settings.with_(demo=args.demo or settings.demo)
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
        uvicorn.run(
            "nextgen_gql.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            **_live_options(settings),
        )
        return 0
    app = create_app(settings)
    print(f"nextgen-gql: serving on http://{args.host}:{args.port}/ (the app) and /graphql (GraphiQL)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", **_live_options(settings))
    return 0


def _live_options(settings: Settings) -> dict[str, Any]:
    """WebSockets and streams: a message at most as large as a request body; no per-message
    compression (events are a few hundred bytes, and each socket's compressor would cost
    tens of KiB: docs/benchmarks.md); on stopping, sockets are closed at once (1012) and
    streams of server-sent events, which would otherwise hold the server open, are cut
    after a few seconds (clients resume)."""
    return {
        "ws_max_size": settings.max_body_bytes,
        "ws_per_message_deflate": False,
        "timeout_graceful_shutdown": 3,
    }
