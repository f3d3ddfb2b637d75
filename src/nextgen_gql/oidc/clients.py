"""Relying parties: a court's own system (``--court``: first party, no consent page) or a
national third-party app (consent asked once per set of scopes).

A confidential client's secret is ``ngc_`` and 32 random bytes (url-safe base64), shown
once; only its SHA-256 is kept. Redirect URIs are kept exactly as registered and compared
exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from nextgen_gql.models.courts import CourtRecord
from nextgen_gql.models.oidc import OidcClientRecord
from nextgen_gql.services.audit import record
from nextgen_gql.services.clock import now

__all__ = [
    "AUTH_METHODS",
    "ClientError",
    "NewClient",
    "add_client",
    "check_secret",
    "find_client",
    "list_clients",
    "remove_client",
]

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
SECRET_PREFIX = "ngc_"


class ClientError(ValueError):
    """A client's registration is refused; ``field`` names the option at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class NewClient:
    client: OidcClientRecord
    #: the secret, for a confidential client using client_secret_*; shown once
    secret: str | None


def _check_uri(field: str, uri: str, *, allow_custom_scheme: bool = False) -> str:
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise ClientError(field, f"{uri!r} has a fragment (#), which a redirect URI may not have")
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "https" and parts.hostname:
        return uri
    if parts.scheme == "http" and local:
        return uri
    if allow_custom_scheme and parts.scheme and "." in parts.scheme and parts.path:
        # a native app's private-use scheme (RFC 8252 7.1: reverse domain name)
        return uri
    raise ClientError(
        field,
        f"{uri!r} must be an https:// URL (http:// only for 127.0.0.1 or localhost"
        + (", or a reverse-domain private scheme for a public native app)" if allow_custom_scheme else ")"),
    )


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def add_client(
    *,
    name: str,
    redirect_uris: list[str],
    court_code: str | None = None,
    public: bool = False,
    auth_method: str | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str | None = None,
    jwks_uri: str | None = None,
) -> NewClient:
    """Register a client; its secret (``client_secret_*``) is in the answer, and only there."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ClientError("name", "give a name of 1 to 100 characters")
    if not redirect_uris:
        raise ClientError("redirect-uri", "give at least one redirect URI")
    method = auth_method or ("none" if public else "client_secret_basic")
    if method not in AUTH_METHODS:
        raise ClientError("auth-method", f"{method!r} is not one of {', '.join(AUTH_METHODS)}")
    if public and method != "none":
        raise ClientError("auth-method", "a public client authenticates with none")
    if method == "none" and not public:
        raise ClientError("auth-method", "none is for public clients (--public)")
    if method == "private_key_jwt" and not jwks_uri:
        raise ClientError("jwks-uri", "private_key_jwt needs the client's JWKS URL (--jwks-uri)")
    if jwks_uri and method != "private_key_jwt":
        raise ClientError("jwks-uri", "a JWKS URL is for private_key_jwt clients only")
    uris = [_check_uri("redirect-uri", u, allow_custom_scheme=public) for u in redirect_uris]
    logout_uris = [_check_uri("post-logout-redirect-uri", u) for u in post_logout_redirect_uris or []]
    if backchannel_logout_uri is not None:
        _check_uri("backchannel-logout-uri", backchannel_logout_uri)
    if jwks_uri is not None:
        _check_uri("jwks-uri", jwks_uri)
    if court_code is not None:
        court_code = court_code.strip().lower()
        if not await CourtRecord.filter(code=court_code).exists():
            raise ClientError("court", f"no court {court_code!r} (see `nextgen-gql tenants list`)")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32) if method.startswith("client_secret_") else None
    client = await OidcClientRecord.create(
        client_id="ngo_" + secrets.token_urlsafe(18),
        name=name,
        court_id=court_code,
        auth_method=method,
        secret_hash=_secret_hash(secret) if secret else None,
        redirect_uris="\n".join(dict.fromkeys(uris)),
        post_logout_redirect_uris="\n".join(dict.fromkeys(logout_uris)),
        backchannel_logout_uri=backchannel_logout_uri,
        jwks_uri=jwks_uri,
        created_at=now(),
    )
    await record("oidc.client.add", actor_id=None, court_code=court_code, detail=f"{client.client_id} {name}")
    return NewClient(client, secret)


async def find_client(client_id: str) -> OidcClientRecord | None:
    """The live client of that id, or None (unknown or removed)."""
    return await OidcClientRecord.get_or_none(client_id=client_id, removed_at=None)


def check_secret(client: OidcClientRecord, secret: str) -> bool:
    """Whether ``secret`` is the client's (compared in constant time)."""
    if client.secret_hash is None:
        return False
    return hmac.compare_digest(client.secret_hash, _secret_hash(secret))


def redirect_uris(client: OidcClientRecord) -> list[str]:
    return [u for u in client.redirect_uris.split("\n") if u]


def post_logout_redirect_uris(client: OidcClientRecord) -> list[str]:
    return [u for u in client.post_logout_redirect_uris.split("\n") if u]


async def list_clients() -> list[OidcClientRecord]:
    return await OidcClientRecord.filter(removed_at=None).order_by("id")


async def remove_client(client_id: str) -> OidcClientRecord:
    """End a client at once: its grants are revoked with it."""
    from nextgen_gql.oidc import grants

    client = await find_client(client_id)
    if client is None:
        raise ClientError("client-id", f"no live client {client_id!r} (see `nextgen-gql clients list`)")
    moment = now()
    ended = await OidcClientRecord.filter(id=client.id, removed_at=None).update(removed_at=moment)
    if ended != 1:
        raise ClientError("client-id", f"the client {client_id!r} was removed meanwhile")
    client.removed_at = moment
    await grants.revoke_client_grants(client)
    await record("oidc.client.remove", actor_id=None, court_code=client.court_id, detail=client.client_id)
    return client
