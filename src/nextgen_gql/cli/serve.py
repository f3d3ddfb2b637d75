"""``nextgen-gql serve``."""

from __future__ import annotations

import argparse
import os

from nextgen_gql.cli._common import run_with_db
from nextgen_gql.services.crypto import resolve_secret_key
from nextgen_gql.settings import Settings

__all__ = ["cmd_serve"]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from nextgen_gql.app import create_app

    settings = settings.with_(demo=args.demo or settings.demo)
    # Before anything starts: PostgreSQL without NEXTGEN_GQL_SECRET_KEY stops here with a
    # message naming it; a SQLite file gets its key made once, by this process.
    resolve_secret_key(settings.secret_key, settings.database_url)
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
            "nextgen_gql.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers
        )
        return 0
    app = create_app(settings)
    print(f"nextgen-gql: serving on http://{args.host}:{args.port}/ (the app) and /graphql (GraphiQL)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
