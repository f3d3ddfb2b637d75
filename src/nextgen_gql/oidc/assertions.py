"""Clients that sign a JWT instead of sending a secret: ``private_key_jwt`` (RFC 7523, OpenID
Connect Core 9).

- A client registers its keys' URL (``--jwks-uri``). Its key set is read through the outbound
  guard (``outbound``: public addresses only, checked before and while connecting; in tests,
  the allowed networks), kept ``KEEP_S`` seconds, and read again sooner (at most once every
  ``REFETCH_S``) when an assertion names a ``kid`` the kept set lacks: a client that rotates
  its keys is followed without waiting. A failed read is kept ``RETRY_S`` seconds, so a
  client's broken server is not called at every request.
- A key set is refused if it holds a private key (a client that published its private key
  must be told, not trusted) or no RSA or EC key.
- ``jti`` is single use per client: a unique constraint (``oidc_assertions``) holds it until
  the assertion expires, so two workers or machines cannot both accept one assertion. An
  assertion lives ``MAX_LIFETIME`` at most.

Authlib's client authentication (``server._PrivateKeyJwt``) is synchronous: the route reads
the form and calls ``ClientKeys.prepare`` first, so that the keys are here when Authlib asks.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from tortoise.exceptions import IntegrityError

from nextgen_gql.models.oidc import OidcAssertion, OidcClientRecord
from nextgen_gql.oidc import clients
from nextgen_gql.outbound.addresses import PUBLIC_ONLY, Reach
from nextgen_gql.outbound.client import guarded_pool
from nextgen_gql.outbound.fetch import FetchFailed, get_json
from nextgen_gql.services.clock import now

__all__ = [
    "ASSERTION_TYPE",
    "MAX_LIFETIME",
    "ClientKeys",
    "KeysUnavailable",
    "key_set_of",
    "spend_jti",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
KEEP_S = 300.0
REFETCH_S = 60.0
RETRY_S = 5.0
MAX_LIFETIME = dt.timedelta(minutes=10)
MAX_JTI = 255


class KeysUnavailable(Exception):
    """The client's keys could not be had: why, in words."""


def key_set_of(document: object) -> KeySet:
    """A client's published key set, public RSA and EC keys only; ``ValueError`` saying why not."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('the document is not a JWK set ({"keys": [...]})')
    try:
        found = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"the JWK set does not parse: {exc}") from None
    if any(key.is_private for key in found.keys):
        raise ValueError("the JWK set holds a private key: publish public keys only, and replace that key")
    if not any(isinstance(key, (RSAKey, ECKey)) for key in found.keys):
        raise ValueError("the JWK set has no RSA or EC key")
    return KeySet([key for key in found.keys if isinstance(key, (RSAKey, ECKey))])


@dataclass(frozen=True)
class _Kept:
    uri: str
    fetched: float
    keys: KeySet | None
    error: str | None = None

    def kids(self) -> set[str]:
        return {key.kid for key in self.keys.keys if key.kid} if self.keys is not None else set()


class ClientKeys:
    """The key sets of the ``private_key_jwt`` clients, read from their ``jwks_uri`` and kept."""

    def __init__(self, reach: Reach = PUBLIC_ONLY) -> None:
        self.reach = reach
        self._kept: dict[str, _Kept] = {}

    async def prepare(self, form: Mapping[str, str]) -> None:
        """Before Authlib authenticates a client: if the form carries a client assertion of a
        ``private_key_jwt`` client, have its key set here (holding the ``kid`` it names, if the
        client publishes it). Nothing is decided here: Authlib checks the assertion."""
        assertion = form.get("client_assertion")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion or len(assertion) > 8192:
            return
        try:
            compact = jws.extract_compact(assertion.encode())
            claims = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeDecodeError):
            return  # Authlib says what is wrong with it
        subject = claims.get("sub") if isinstance(claims, dict) else None
        if not isinstance(subject, str) or len(subject) > 40:
            return
        client = await clients.find_client(subject)
        if client is None or client.auth_method != "private_key_jwt" or not client.jwks_uri:
            return
        kid = compact.headers().get("kid")
        await self.refresh(client, kid if isinstance(kid, str) else None)

    async def refresh(self, client: OidcClientRecord, kid: str | None = None) -> None:
        """Read the client's key set again if the kept one is stale, failed a while ago, or
        lacks ``kid`` and was read more than ``REFETCH_S`` ago."""
        assert client.jwks_uri is not None
        kept = self._kept.get(client.client_id)
        at = time.monotonic()
        if kept is not None and kept.uri == client.jwks_uri:
            age = at - kept.fetched
            if kept.keys is None and age < RETRY_S:
                return
            if (
                kept.keys is not None
                and age < KEEP_S
                and (kid is None or kid in kept.kids() or age < REFETCH_S)
            ):
                return
        try:
            async with guarded_pool(self.reach, max_connections=1) as pool:
                document = await get_json(pool, client.jwks_uri, self.reach)
            self._kept[client.client_id] = _Kept(client.jwks_uri, at, key_set_of(document))
        except (FetchFailed, ValueError) as exc:
            self._kept[client.client_id] = _Kept(client.jwks_uri, at, None, str(exc))

    def key_set(self, client: OidcClientRecord) -> KeySet:
        """The client's kept key set (``prepare`` read it); ``KeysUnavailable`` saying why not."""
        kept = self._kept.get(client.client_id)
        if kept is None or kept.uri != client.jwks_uri:
            raise KeysUnavailable("the client's keys were not read")
        if kept.keys is None:
            raise KeysUnavailable(f"the client's keys at {client.jwks_uri} could not be read: {kept.error}")
        return kept.keys


async def spend_jti(client_id: str, jti: str, expires_at: dt.datetime) -> bool:
    """Whether this call was the first to present ``jti`` for the client (then it is kept until
    ``expires_at``, and refused again meanwhile, on every worker and machine)."""
    try:
        await OidcAssertion.create(client_id=client_id, jti=jti, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def lifetime_refusal(claims: Mapping[str, object]) -> str | None:
    """Why an assertion's ``exp`` is refused (too far ahead, so its ``jti`` would be kept too
    long), or None."""
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)):
        return "the assertion has no numeric exp"
    if dt.datetime.fromtimestamp(exp, dt.UTC) - now() > MAX_LIFETIME:
        return f"the assertion's exp is more than {int(MAX_LIFETIME.total_seconds() // 60)} minutes ahead"
    return None
