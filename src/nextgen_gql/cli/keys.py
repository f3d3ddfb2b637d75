"""``nextgen-gql keys``: a court's service keys, for its own systems (CM/ECF, billing feeds)."""

from __future__ import annotations

import argparse

from nextgen_gql.cli._common import fail, run_with_db
from nextgen_gql.settings import Settings

__all__ = ["cmd_keys"]


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.errors import DomainError
    from nextgen_gql.services import keys
    from nextgen_gql.services.court_catalog import load_registry
    from nextgen_gql.tenancy import Court, UnknownCourt

    scopes = []
    if args.action == "create":
        try:
            scopes = keys.parse_scopes(args.scope or [])
        except ValueError as exc:
            return fail(f"--scope: {exc}")

    async def court() -> Court:
        return (await load_registry()).serve(args.court)

    async def create() -> keys.NewKey:
        return await keys.create_key(await court(), name=args.name, scopes=scopes, created_by=None)

    async def listed() -> tuple[str, list[str]]:
        served = await court()
        rows = []
        for key in await keys.list_keys(served):
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            held = ",".join(s.name for s in keys.scopes_of(key))
            rows.append(f"{key.prefix}\t{key.name}\t{held}\tlast used {used}\t{state}")
        return served.code, rows

    async def revoke() -> tuple[str, str]:
        served = await court()
        return served.code, (await keys.revoke_key_by_prefix(served, args.prefix)).prefix

    try:
        if args.action == "create":
            made = run_with_db(settings, create)
            print(
                f"Created the service key {made.key.prefix} ({made.key.name!r}) of {made.key.court_id}, scopes: "
                + ", ".join(s.name for s in keys.scopes_of(made.key))
                + "."
            )
            print(
                "Its secret, shown this once (send it as Authorization: Bearer <secret> to "
                f"/courts/{made.key.court_id}/graphql):"
            )
            print(made.secret)
        elif args.action == "list":
            code, rows = run_with_db(settings, listed)
            print(f"{len(rows)} service key(s) of {code} (prefix, name, scopes, last use, state):")
            for row in rows:
                print(row)
        else:
            code, prefix = run_with_db(settings, revoke)
            print(f"The service key {prefix} of {code} is revoked: it stops working at once.")
    except UnknownCourt as exc:
        return fail(f"{exc} (see `nextgen-gql tenants list`)")
    except DomainError as exc:
        return fail(f"--{exc.field}: {exc.message}" if exc.field in ("name", "scopes") else exc.message)
    return 0
