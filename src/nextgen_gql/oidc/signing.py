"""The provider's RS256 signing keys (joserfc), sealed at rest with NEXTGEN_GQL_SECRET_KEY.

A key is published in the JWKS from its creation and signs from ``signs_from``; the newest
key whose ``signs_from`` has come signs. ``rotate`` makes a key that signs after the publish
delay (``NEXTGEN_GQL_SIGNING_KEY_PUBLISH_S``), so every client has seen it before meeting it.
A replaced key stays in the JWKS until the longest token it signed has expired
(``LONGEST_TOKEN``), then it is dropped from the JWKS (its row stays, for the history).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from nextgen_gql.models.oidc import OidcSigningKey
from nextgen_gql.services.audit import record
from nextgen_gql.services.clock import now
from nextgen_gql.services.crypto import Sealer

__all__ = ["LONGEST_TOKEN", "KeyState", "jwks", "key_states", "rotate", "sign", "signing_key"]

#: The longest life of a token signed by these keys (ID tokens and logout tokens).
LONGEST_TOKEN = dt.timedelta(hours=1)
ALG = "RS256"


@dataclass(frozen=True)
class KeyState:
    key: OidcSigningKey
    #: "pending" (published, not yet signing), "signing", "retired" (published, signs no
    #: more), "dropped" (out of the JWKS)
    state: str
    #: when it stopped signing (the next key's signs_from), if it has
    replaced_at: dt.datetime | None


def _new_key(sealer: Sealer, signs_from: dt.datetime) -> tuple[RSAKey, dict[str, Any]]:
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALG}, auto_kid=True)
    return key, {
        "kid": key.kid,
        "sealed_private": sealer.seal(json.dumps(key.as_dict(private=True))),
        "public_jwk": json.dumps(key.as_dict(private=False), sort_keys=True),
        "created_at": now(),
        "signs_from": signs_from,
    }


async def key_states(moment: dt.datetime | None = None) -> list[KeyState]:
    """Every key, oldest first, with its state at ``moment`` (now)."""
    moment = moment or now()
    rows = await OidcSigningKey.all().order_by("signs_from", "id")
    states = []
    started = [r for r in rows if r.signs_from <= moment]
    current = started[-1] if started else None
    for i, row in enumerate(rows):
        replaced_at = next((r.signs_from for r in rows[i + 1 :] if r.signs_from <= moment), None)
        if row.signs_from > moment:
            state = "pending"
        elif row is current:
            state = "signing"
        elif replaced_at is not None and replaced_at + LONGEST_TOKEN <= moment:
            state = "dropped"
        else:
            state = "retired"
        states.append(KeyState(row, state, replaced_at))
    return states


async def signing_key(sealer: Sealer) -> RSAKey:
    """The key that signs now; the first key is made (signing at once) when there is none."""
    states = await key_states()
    current = next((s.key for s in states if s.state == "signing"), None)
    if current is None:
        key, values = _new_key(sealer, now())
        await OidcSigningKey.create(**values)
        await record("oidc.signing_key.create", actor_id=None, detail=key.kid)
        return key
    return RSAKey.import_key(json.loads(sealer.open(current.sealed_private)))


async def jwks(sealer: Sealer) -> dict[str, Any]:
    """The published keys (pending, signing, retired), public halves only."""
    await signing_key(sealer)  # the first key exists before anyone asks for it
    return {"keys": [json.loads(s.key.public_jwk) for s in await key_states() if s.state != "dropped"]}


async def rotate(sealer: Sealer, publish_s: int) -> OidcSigningKey:
    """Publish a new key at once; it signs after ``publish_s`` seconds."""
    await signing_key(sealer)
    key, values = _new_key(sealer, now() + dt.timedelta(seconds=publish_s))
    row = await OidcSigningKey.create(**values)
    await record(
        "oidc.signing_key.rotate",
        actor_id=None,
        detail=f"{key.kid} signs from {row.signs_from:%Y-%m-%dT%H:%M:%SZ}",
    )
    return row


async def sign(sealer: Sealer, claims: dict[str, Any], *, typ: str = "JWT") -> str:
    """A JWS (RS256, with ``kid``) of ``claims`` by the key that signs now. Never ``none``."""
    key = await signing_key(sealer)
    return jwt.encode({"alg": ALG, "kid": key.kid, "typ": typ}, claims, key, algorithms=[ALG])


def verify(token: str, published: dict[str, Any]) -> dict[str, Any]:
    """The claims of a token signed by one of the ``published`` keys (RS256 only)."""
    keys = KeySet.import_key_set(published)  # type: ignore[arg-type]
    return dict(jwt.decode(token, keys, algorithms=[ALG]).claims)
