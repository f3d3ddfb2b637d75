"""``private_key_jwt`` (RFC 7523, OpenID Connect Core 9): a client signs an assertion with a key
it publishes at its ``jwks_uri``, which the service reads through its outbound guard (here a
local server, the suite allowing 127.0.0.1). Assertions are single use, short lived, signed with
RS256, PS256 or ES256 by a published key, and name the issuer (or the endpoint) as ``aud``."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from nextgen_gql.models import AuditEvent, OidcAssertion
from nextgen_gql.oidc import assertions, clients
from nextgen_gql.services import maintenance
from nextgen_gql.settings import Settings
from tests.api.test_oidc_flow import COURT_CB, ISSUER, authorize, pkce, query, sign_in_page
from tests.conftest import Api, running_api
from tests.webhook_receiver import Receiver

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(
        settings.with_(public_url=ISSUER, webhook_allow_networks="127.0.0.1/32")
    ) as running:
        yield running


@pytest.fixture
async def jwks() -> AsyncIterator[Receiver]:
    async with Receiver() as server:
        yield server


def rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)


def publish(server: Receiver, *keys: RSAKey | ECKey, private: bool = False) -> None:
    server.document = orjson.dumps({"keys": [k.as_dict(private=private) for k in keys]})


def assertion(client_id: str, key: Any, *, alg: str = "RS256", **claims: Any) -> str:
    at = int(time.time())
    body = {"iss": client_id, "sub": client_id, "aud": ISSUER, "iat": at, "exp": at + 60}
    body["jti"] = secrets.token_urlsafe(16)
    body.update(claims)
    header = {"alg": alg, **({"kid": key.kid} if getattr(key, "kid", None) else {})}
    return jwt.encode(header, {k: v for k, v in body.items() if v is not None}, key)


async def signer(jwks_uri: str, name: str = "MAD CM/ECF (signed)") -> clients.NewClient:
    """A court's own system registered with private_key_jwt and its keys at ``jwks_uri``."""
    made = await clients.add_client(
        name=name,
        court_code="mad",
        redirect_uris=[COURT_CB],
        auth_method="private_key_jwt",
        jwks_uri=jwks_uri,
    )
    assert made.secret is None
    return made


async def code_for(api: Api, client: clients.NewClient) -> tuple[str, str]:
    verifier, challenge = pkce()
    page = await authorize(api, client.client.client_id, challenge)
    back = await sign_in_page(api, page) if 'name="password"' in page.text else page
    assert back.status_code in (302, 303), back.text
    return query(back.headers["location"])["code"], verifier


async def token(api: Api, client: clients.NewClient, signed: str, **form: str) -> httpx.Response:
    if not form:
        code, verifier = await code_for(api, client)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": COURT_CB,
            "code_verifier": verifier,
        }
    data = {**form, "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}
    return await api.client.post("/oauth/token", data=data)


def invalid_client(answer: httpx.Response, words: str) -> None:
    assert answer.status_code in (400, 401), answer.text
    body = answer.json()
    assert body["error"] == "invalid_client" and words in body["error_description"], body


async def test_a_client_signs_in_with_a_published_key_and_each_assertion_works_once(
    provider: Api, jwks: Receiver
) -> None:
    key = rsa("k1")
    publish(jwks, key)
    client = await signer(jwks.url)
    meta = (await provider.client.get("/.well-known/openid-configuration")).json()
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "PS256", "ES256"]

    signed = assertion(client.client.client_id, key)
    answer = await token(provider, client, signed)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["access_token"].startswith("nga_") and tokens["refresh_token"]
    assert [r.method for r in jwks.received] == ["GET"]  # read once, kept
    # The same assertion again (a replay): refused, the refresh token unspent.
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    invalid_client(await token(provider, client, signed, **refresh), "used before")
    # A fresh one, naming the token endpoint as its audience: the refresh works.
    fresh = assertion(client.client.client_id, key, aud=f"{ISSUER}/oauth/token")
    again = await token(provider, client, fresh, **refresh)
    assert again.status_code == 200, again.text
    assert len(jwks.received) == 1
    # Revocation authenticates it the same way.
    revoked = await provider.client.post(
        "/oauth/revoke",
        data={
            "token": again.json()["access_token"],
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(client.client.client_id, key, aud=f"{ISSUER}/oauth/revoke"),
        },
    )
    assert revoked.status_code == 200, revoked.text
    assert await OidcAssertion.filter(client_id=client.client.client_id).count() == 3
    assert await AuditEvent.filter(action="oidc.token.issue").count() == 2


async def test_what_an_assertion_must_be(provider: Api, jwks: Receiver) -> None:
    key, stranger = rsa("k1"), rsa("k9")
    publish(jwks, key)
    client = await signer(jwks.url)
    cid = client.client.client_id
    cases = {
        "another audience": (assertion(cid, key, aud="https://elsewhere.example"), "aud"),
        "no jti": (assertion(cid, key, jti=None), "Missing JWT ID"),
        "expired": (assertion(cid, key, exp=int(time.time()) - 120), "exp"),
        "living too long": (assertion(cid, key, exp=int(time.time()) + 3600), "more than 10 minutes"),
        "iss is not sub": (assertion(cid, key, iss="ngo_other"), "Issuer and Subject"),
        "an unpublished key": (assertion(cid, stranger), "does not verify"),
        "an HMAC with the public key's bytes": (
            assertion(cid, OctKey.import_key(secrets.token_bytes(32)), alg="HS256"),
            "does not verify",
        ),
    }
    for name, (signed, words) in cases.items():
        answer = await token(provider, client, signed)
        assert answer.status_code in (400, 401), (name, answer.text)
        assert words in answer.json()["error_description"], (name, answer.json())

    # alg none is never accepted.
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"iss": cid, "sub": cid, "aud": ISSUER, "exp": int(time.time()) + 60, "jti": "x"}
    unsigned = f"{b64(orjson.dumps({'alg': 'none'}))}.{b64(orjson.dumps(claims))}."
    invalid_client(await token(provider, client, unsigned), "")
    # A client registered with a secret cannot use an assertion instead.
    with_secret = await clients.add_client(name="Secret", court_code="mad", redirect_uris=[COURT_CB])
    invalid_client(
        await token(provider, with_secret, assertion(with_secret.client.client_id, key)),
        "does not authenticate with private_key_jwt",
    )


async def test_a_client_that_rotates_its_keys_is_followed(
    provider: Api, jwks: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = rsa("2026-11"), rsa("2026-12")
    publish(jwks, old)
    client = await signer(jwks.url)
    assert (await token(provider, client, assertion(client.client.client_id, old))).status_code == 200
    publish(jwks, old, new)
    # Within a minute of the last read, an unknown kid does not make the service read again.
    invalid_client(await token(provider, client, assertion(client.client.client_id, new)), "does not verify")
    assert len(jwks.received) == 1
    monkeypatch.setattr(assertions, "REFETCH_S", 0.0)
    answer = await token(provider, client, assertion(client.client.client_id, new))
    assert answer.status_code == 200, answer.text
    assert len(jwks.received) == 2


async def test_keys_that_cannot_be_trusted_or_read_are_said_so(provider: Api, jwks: Receiver) -> None:
    key = rsa("k1")
    publish(jwks, key, private=True)
    client = await signer(jwks.url)
    invalid_client(await token(provider, client, assertion(client.client.client_id, key)), "private key")
    # A server that fails: said, and not called again at once.
    other = await signer(jwks.url, "Broken")
    jwks.document = None
    jwks.default = 500
    calls = len(jwks.received)
    invalid_client(await token(provider, other, assertion(other.client.client_id, key)), "answered 500")
    invalid_client(await token(provider, other, assertion(other.client.client_id, key)), "answered 500")
    assert len(jwks.received) == calls + 1
    # An address the service may not call is never dialled.
    private = await signer("https://10.0.0.7/jwks.json", "Inside")
    invalid_client(
        await token(provider, private, assertion(private.client.client_id, key)), "address not allowed"
    )


async def test_used_assertions_are_forgotten_once_they_expired(provider: Api, jwks: Receiver) -> None:
    key = rsa("k1")
    publish(jwks, key)
    client = await signer(jwks.url)
    assert (await token(provider, client, assertion(client.client.client_id, key))).status_code == 200
    assert await OidcAssertion.all().count() == 1
    retention = maintenance.Retention()
    await maintenance.run(retention, database_url=provider.settings.database_url)
    assert await OidcAssertion.all().count() == 1  # still live: kept
    await OidcAssertion.all().update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    await maintenance.run(retention, database_url=provider.settings.database_url)
    assert await OidcAssertion.all().count() == 0
