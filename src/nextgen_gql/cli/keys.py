"""``nextgen-gql keys``: a court's service keys, for its own systems (CM/ECF, billing feeds)."""

from __future__ import annotations

import argparse

from nextgen_gql.cli._common import fail, run_with_db
from nextgen_gql.settings import Settings

__all__ = ["cmd_keys"]


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.errors import DomainError
    from nextgen_gql.services import keys
    from nextgen_gql.tenancy import CourtRegistry, UnknownCourt, load_courts

    try:
        court = CourtRegistry(load_courts(settings.tenants_dir)).get(args.court)
    except UnknownCourt as exc:
        return fail(f"{exc} (see `nextgen-gql tenants list`)")
    if args.action == "create":
        try:
            scopes = keys.parse_scopes(args.scope or [])
        except ValueError as exc:
            return fail(f"--scope: {exc}")

        async def create() -> keys.NewKey:
            return await keys.create_key(court, name=args.name, scopes=scopes, created_by=None)

        try:
            made = run_with_db(settings, create)
        except DomainError as exc:
            return fail(f"--{exc.field or 'name'}: {exc.message}" if exc.field else exc.message)
        print(
            f"Created the service key {made.key.prefix} ({made.key.name!r}) of {court.code}, scopes: "
            + ", ".join(s.name for s in keys.scopes_of(made.key))
            + "."
        )
        print(
            "Its secret, shown this once (send it as Authorization: Bearer <secret> to "
            f"/courts/{court.code}/graphql):"
        )
        print(made.secret)
        return 0
    if args.action == "list":

        async def listed() -> list[str]:
            rows = []
            for key in await keys.list_keys(court):
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                scopes = ",".join(s.name for s in keys.scopes_of(key))
                rows.append(f"{key.prefix}\t{key.name}\t{scopes}\tlast used {used}\t{state}")
            return rows

        rows = run_with_db(settings, listed)
        print(f"{len(rows)} service key(s) of {court.code} (prefix, name, scopes, last use, state):")
        for row in rows:
            print(row)
        return 0

    async def revoke() -> str:
        key = await keys.revoke_key_by_prefix(court, args.prefix)
        return key.prefix

    try:
        prefix = run_with_db(settings, revoke)
    except DomainError as exc:
        return fail(exc.message)
    print(f"The service key {prefix} of {court.code} is revoked: it stops working at once.")
    return 0
