"""``nextgen-gql clients`` and ``nextgen-gql signing-keys``: the OpenID Connect provider's
relying parties and signing keys."""

from __future__ import annotations

import argparse

from nextgen_gql.cli._common import fail, run_with_db
from nextgen_gql.settings import Settings

__all__ = ["add_parsers", "cmd_clients", "cmd_signing_keys"]


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    clients = sub.add_parser("clients", help="the OpenID Connect provider's clients (relying parties)")
    clients_sub = clients.add_subparsers(dest="action", required=True)
    add = clients_sub.add_parser(
        "add", help="register a client; a confidential client's secret is printed once"
    )
    add.add_argument(
        "--name", required=True, help="shown to people on the consent page and in Connected apps"
    )
    add.add_argument("--court", help="a court's own system (first party: no consent page)")
    add.add_argument("--redirect-uri", action="append", required=True, help="exact redirect URI (repeat)")
    add.add_argument("--public", action="store_true", help="a public client (no secret; PKCE only)")
    add.add_argument("--post-logout-redirect-uri", action="append", default=[], help="(repeat)")
    add.add_argument("--backchannel-logout-uri")
    add.add_argument(
        "--auth-method", help="client_secret_basic (default), client_secret_post, private_key_jwt, none"
    )
    add.add_argument("--jwks-uri", help="the client's keys, for private_key_jwt")
    clients_sub.add_parser("list", help="the live clients: client_id, name, court, method, redirect URIs")
    remove = clients_sub.add_parser("remove", help="end a client at once, with every grant to it")
    remove.add_argument("client_id")
    clients.set_defaults(handler=cmd_clients)

    keys = sub.add_parser("signing-keys", help="the OpenID Connect provider's signing keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser(
        "rotate", help="publish a new key at once; it signs after NEXTGEN_GQL_SIGNING_KEY_PUBLISH_S"
    )
    keys_sub.add_parser("list", help="every key: kid, created, signs from, state")
    keys.set_defaults(handler=cmd_signing_keys)


def cmd_clients(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.oidc import clients

    try:
        if args.action == "add":
            made = run_with_db(
                settings,
                lambda: clients.add_client(
                    name=args.name,
                    redirect_uris=args.redirect_uri,
                    court_code=args.court,
                    public=args.public,
                    auth_method=args.auth_method,
                    post_logout_redirect_uris=args.post_logout_redirect_uri,
                    backchannel_logout_uri=args.backchannel_logout_uri,
                    jwks_uri=args.jwks_uri,
                ),
            )
            c = made.client
            kind = f"the own system of {c.court_id}" if c.court_id else "a national third-party app"
            print(f"Registered {c.name!r}, {kind}, authenticating with {c.auth_method}.")
            print(f"client_id: {c.client_id}")
            if made.secret is not None:
                print(f"client_secret (shown this once): {made.secret}")
            if c.jwks_uri is not None:
                print(f"keys read from: {c.jwks_uri} (assertions signed with RS256, PS256 or ES256)")
        elif args.action == "list":
            listed = run_with_db(settings, clients.list_clients)
            print(f"{len(listed)} client(s) (client_id, name, court, method, redirect URIs):")
            for c in listed:
                uris = " ".join(clients.redirect_uris(c))
                print(f"{c.client_id}\t{c.name}\t{c.court_id or '-'}\t{c.auth_method}\t{uris}")
        else:
            gone = run_with_db(settings, lambda: clients.remove_client(args.client_id))
            print(f"The client {gone.client_id} ({gone.name!r}) is removed: its grants end at once.")
    except clients.ClientError as exc:
        return fail(f"--{exc.field}: {exc.message}" if exc.field != "client-id" else exc.message)
    return 0


def cmd_signing_keys(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.oidc import signing
    from nextgen_gql.services.crypto import Sealer, resolve_secret_key

    sealer = Sealer(resolve_secret_key(settings.secret_key, settings.database_url))
    if args.action == "rotate":
        row = run_with_db(settings, lambda: signing.rotate(sealer, settings.signing_key_publish_s))
        print(f"Published the key {row.kid}; it signs from {row.signs_from:%Y-%m-%d %H:%M:%S} UTC.")
    else:
        states = run_with_db(settings, signing.key_states)
        print(f"{len(states)} signing key(s) (kid, created, signs from, state):")
        for s in states:
            print(
                f"{s.key.kid}\t{s.key.created_at:%Y-%m-%d %H:%M:%S}\t{s.key.signs_from:%Y-%m-%d %H:%M:%S}\t{s.state}"
            )
    return 0
