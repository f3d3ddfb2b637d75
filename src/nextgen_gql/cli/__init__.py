"""The nextgen-gql command: serve the API, manage courts and import data (reference: docs/reference.md).

Every command exits 0 on success; on bad input it prints what is wrong (file, line and
field where there is one) to stderr, writes nothing, and exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nextgen_gql.cli._common import fail
from nextgen_gql.cli.backup import cmd_backup
from nextgen_gql.cli.copy_database import cmd_copy_database
from nextgen_gql.cli.data import cmd_clerks, cmd_import
from nextgen_gql.cli.keys import cmd_keys
from nextgen_gql.cli.maintenance import cmd_audit, cmd_maintenance
from nextgen_gql.cli.oidc import add_parsers as add_oidc_parsers
from nextgen_gql.cli.operations import cmd_operations
from nextgen_gql.cli.schema import cmd_export_schema
from nextgen_gql.cli.serve import cmd_serve
from nextgen_gql.cli.tenants import cmd_tenants
from nextgen_gql.settings import Settings

__all__ = ["build_parser", "entry", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nextgen-gql",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog="Every command, option, setting (NEXTGEN_GQL_*) and file format is described in "
        "docs/reference.md, in the project's repository.",
    )
    parser.add_argument("--database-url", help="Tortoise URL (env NEXTGEN_GQL_DATABASE_URL)")
    parser.add_argument("--tenants-dir", help="folder of court files (env NEXTGEN_GQL_TENANTS_DIR)")
    parser.add_argument("--mail-dir", help="where outgoing mail is written (env NEXTGEN_GQL_MAIL_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="fill an empty database with the demo data")
    serve.set_defaults(handler=cmd_serve)

    imp = sub.add_parser("import", help="load legacy accounts from a CSV file")
    imp_sub = imp.add_subparsers(dest="kind", required=True)
    pacer = imp_sub.add_parser("pacer-accounts", help="load legacy PACER accounts")
    pacer.add_argument("file")
    cmecf = imp_sub.add_parser("cmecf-accounts", help="load a court's legacy CM/ECF roster")
    cmecf.add_argument("court")
    cmecf.add_argument("file")
    imp.set_defaults(handler=cmd_import)

    clerks = sub.add_parser("clerks", help="court staff")
    clerks.add_argument("action", choices=["grant", "revoke"])
    clerks.add_argument("court")
    clerks.add_argument("username")
    clerks.set_defaults(handler=cmd_clerks)

    keys = sub.add_parser("keys", help="a court's service keys, for its own systems (CM/ECF, billing feeds)")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="make a key; its secret is printed once")
    create.add_argument("court")
    create.add_argument("--name", required=True, help="which system uses it")
    create.add_argument(
        "--scope",
        action="append",
        help="RECORD_USAGE, READ_ROSTER, READ_REGISTRATIONS or MANAGE_WEBHOOKS (repeat for several; at least one)",
    )
    listed = keys_sub.add_parser("list", help="the court's keys, without secrets: prefix, name, scopes, use")
    listed.add_argument("court")
    revoke = keys_sub.add_parser("revoke", help="end a key at once, on every worker")
    revoke.add_argument("court")
    revoke.add_argument("prefix", help="the key's prefix, ngk_ and 8 characters (keys list)")
    keys.set_defaults(handler=cmd_keys)

    tenants = sub.add_parser("tenants", help="courts: list, validate, apply, add")
    tenants_sub = tenants.add_subparsers(dest="action", required=True)
    tenants_sub.add_parser(
        "list",
        help="the courts the database serves and has retired: code, kind, NextGen status, roster, name",
    )
    tenants_sub.add_parser("validate", help="check every court file; exit non-zero on any problem")
    apply = tenants_sub.add_parser(
        "apply",
        help="write the court files to the database in one transaction (added, changed, retired); "
        "running services follow within 2 seconds",
    )
    apply.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    add = tenants_sub.add_parser("add", help="write tenants/CODE.toml for a new court, validated")
    add.add_argument("code", help="the court's PACER id, e.g. nysd")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, help="appellate | district | bankruptcy")
    add.add_argument("--nextgen-since", help="YYYY-MM-DD; omit while the court is on legacy CM/ECF")
    add.add_argument(
        "--role", action="append", help="an accepted filer role (repeat); default: the kind's usual roles"
    )
    add.add_argument(
        "--host", action="append", help="a host the court answers on (repeat); default ecf.CODE.uscourts.gov"
    )
    add.add_argument("--help-desk-phone")
    add.add_argument("--help-desk-email")
    add.add_argument("--help-desk-url")
    add.add_argument("--apply", action="store_true", help="then apply the court folder (tenants apply)")
    tenants.set_defaults(handler=cmd_tenants)

    maintenance = sub.add_parser(
        "maintenance",
        help="delete what has expired (sessions, tokens, throttles, old live events, unused automatic "
        "persisted queries) and apply audit retention, in small batches",
    )
    maintenance.add_argument(
        "--once",
        action="store_true",
        help="one run, then exit (default: every NEXTGEN_GQL_MAINTENANCE_INTERVAL_S)",
    )
    maintenance.set_defaults(handler=cmd_maintenance)

    backup = sub.add_parser(
        "backup",
        help="a consistent copy of the database, made while the service runs, checked and counted "
        "(SQLite: a copy of the file; PostgreSQL: pg_dump's custom format, pg_dump and pg_restore on the PATH)",
        description="Copy the configured database to FILE while the service runs: one consistent moment, "
        "checked (SQLite: PRAGMA integrity_check; PostgreSQL: pg_restore --list), with each table's rows "
        "printed. Nothing is left at FILE unless the whole backup succeeded. Restoring: docs/operations.md "
        "(Backups); messages and exit statuses: docs/reference.md.",
    )
    backup.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help="the file to write (refused if it exists, unless --force)",
    )
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(handler=cmd_backup)

    copy = sub.add_parser(
        "copy-database",
        help="copy the configured SQLite database into an empty PostgreSQL database",
        description="Copy everything from the configured database (SQLite) into an empty PostgreSQL "
        "database, migrated first: in batches, in one transaction, the kept counts and search indexes "
        "rebuilt, the id sequences set, the rows of every table counted on both sides. A target holding "
        "any row, a row PostgreSQL refuses or a difference: exit 2, saying which table, nothing copied. "
        "Moving to PostgreSQL: docs/operations.md.",
    )
    copy.add_argument("--to", required=True, metavar="URL", help="the PostgreSQL database (postgres://...)")
    copy.set_defaults(handler=cmd_copy_database)

    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="action", required=True)
    export = audit_sub.add_parser(
        "export", help="audit events as JSON Lines, oldest first, streamed (without --court: every event)"
    )
    export.add_argument("--court", help="one court's events (default: all, national events included)")
    export.add_argument("--since", help="events at or after this date or date-time (UTC unless given)")
    export.add_argument("--until", help="events before this date or date-time")
    export.add_argument("--output", help="the file to write (default: standard output)")
    audit.set_defaults(handler=cmd_audit)

    operations = sub.add_parser(
        "operations", help="trusted documents: the operations front ends ship (NEXTGEN_GQL_TRUSTED_DOCUMENTS)"
    )
    operations_sub = operations.add_subparsers(dest="action", required=True)
    add_ops = operations_sub.add_parser(
        "add",
        help="register documents: .graphql files (each operation with its fragments) or JSON manifests "
        "(relay-compiler persistConfig, GraphQL Code Generator, Apollo), validated; all or nothing",
    )
    add_ops.add_argument("files", nargs="+", metavar="FILE")
    operations_sub.add_parser("list", help="the trusted documents: id, operations, source, last use")
    operations.set_defaults(handler=cmd_operations)

    add_oidc_parsers(sub)

    export = sub.add_parser("export-schema", help="write schema/schema.graphql")
    export.add_argument("--output", default="schema/schema.graphql")
    export.set_defaults(handler=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = {
        k: v
        for k, v in {
            "database_url": args.database_url,
            "tenants_dir": Path(args.tenants_dir) if args.tenants_dir else None,
            "mail_dir": Path(args.mail_dir) if args.mail_dir else None,
        }.items()
        if v is not None
    }
    from nextgen_gql.tenancy import CourtFileError

    try:
        settings = Settings.from_env().with_(**overrides)
        code: int = args.handler(args, settings)
    except CourtFileError as exc:
        code = fail(str(exc))
    except ValueError as exc:
        code = fail(str(exc))
    return code


def entry() -> None:
    sys.exit(main())
