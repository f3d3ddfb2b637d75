"""The OpenID Connect provider's authorization code flow over HTTP, as a relying party and a
browser meet it: the sign-in page (password, second factor), consent, codes with PKCE, the
token endpoint (codes once, refresh tokens rotated), the ID token against the JWKS, and
``userinfo``."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from nextgen_gql.models import AppGrantRecord, AuditEvent, Session
from nextgen_gql.oidc import clients
from nextgen_gql.oidc.claims import LOA_1, LOA_2
from nextgen_gql.services.auth import token_hash
from nextgen_gql.settings import Settings
from tests.api.mfa_helpers import code, enrol, next_step, stop_clock
from tests.conftest import FILER, Api, running_api

ISSUER = "http://127.0.0.1:8000"
COURT_CB = "https://ecf.mad.example/oidc/callback"
APP_CB = "https://docketing.example/cb"
JAMES_EMAIL = "james.morgan@morganlegal.example"


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings.with_(public_url=ISSUER)) as running:
        yield running


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def form_fields(page: str) -> dict[str, str]:
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page)
    }


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def authorize(api: Api, client_id: str, challenge: str, **extra: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": extra.pop("redirect_uri", COURT_CB),
        "scope": extra.pop("scope", "openid profile email pacer"),
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return await api.client.get("/oauth/authorize", params={k: v for k, v in params.items() if v})


async def submit(api: Api, page: httpx.Response, **fields: str) -> httpx.Response:
    return await api.client.post("/oauth/authorize", data={**form_fields(page.text), **fields})


async def sign_in_page(api: Api, page: httpx.Response, user: tuple[str, str] = FILER) -> httpx.Response:
    assert page.status_code == 200 and 'name="password"' in page.text, page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    return await submit(api, page, action="sign_in", username=user[0], password=user[1], redaction="1")


async def exchange(
    api: Api, client: clients.NewClient, code_: str, verifier: str, **extra: str
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code_,
        "redirect_uri": extra.pop("redirect_uri", COURT_CB),
        "code_verifier": verifier,
        **extra,
    }
    assert client.secret
    return await api.client.post("/oauth/token", data=data, auth=(client.client.client_id, client.secret))


async def court_client() -> clients.NewClient:
    return await clients.add_client(name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB])


async def id_claims(api: Api, id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set((await api.client.get("/oauth/jwks")).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    return dict(token.header), dict(token.claims)


async def test_a_court_system_signs_a_person_in_with_a_code_and_pkce(provider: Api) -> None:
    client = await court_client()
    verifier, challenge = pkce()
    page = await authorize(provider, client.client.client_id, challenge)
    back = await sign_in_page(provider, page)
    assert back.status_code == 303, back.text  # a court's own system: no consent page
    location = back.headers["location"]
    assert location.startswith(COURT_CB + "?")
    got = query(location)
    assert got["state"] == "st-1" and got["iss"] == ISSUER and got["code"]
    session = await Session.get(token_hash=token_hash(back.cookies["NextGenCSO"]))

    answer = await exchange(provider, client, got["code"], verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"] and tokens["expires_in"] == 600
    header, claims = await id_claims(provider, tokens["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == client.client.client_id and claims["nonce"] == "n-1"
    assert claims["auth_time"] == int(session.created_at.timestamp())
    assert claims["amr"] == ["pwd"] and claims["acr"] == LOA_1 and claims["at_hash"] and claims["sid"]
    assert claims["preferred_username"] == FILER[0] and claims["pacer_account_type"] == "upgraded"

    info = await provider.client.get(
        "/oauth/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200, info.text
    assert (
        info.json()["sub"] == claims["sub"]
        and info.json()["pacer_account_number"] == claims["pacer_account_number"]
    )
    assert "cmecf_privilege" not in info.json()  # not asked for

    # The code is single use: presented again it is refused and what it issued is revoked.
    again = await exchange(provider, client, got["code"], verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    dead = await provider.client.get(
        "/oauth/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert dead.status_code == 401 and dead.json()["error"] == "invalid_token"
    assert await AuditEvent.filter(action="oidc.code.reuse").count() == 1


async def test_the_sub_is_the_same_for_every_client_and_a_signed_in_person_is_not_asked_again(
    provider: Api,
) -> None:
    one, other = (
        await court_client(),
        await clients.add_client(name="MAB CM/ECF", court_code="mab", redirect_uris=[COURT_CB]),
    )
    subs = []
    for index, client in enumerate((one, other)):
        verifier, challenge = pkce()
        page = await authorize(provider, client.client.client_id, challenge)
        # The first signs in; the second finds the session (the NextGenCSO cookie): no page.
        back = await sign_in_page(provider, page) if index == 0 else page
        assert back.status_code in (302, 303), back.text
        tokens = (await exchange(provider, client, query(back.headers["location"])["code"], verifier)).json()
        subs.append((await id_claims(provider, tokens["id_token"]))[1]["sub"])
    assert subs[0] == subs[1] and len(subs[0]) >= 32


async def test_refresh_tokens_rotate_and_a_reused_one_ends_the_family(provider: Api) -> None:
    client = await court_client()
    verifier, challenge = pkce()
    back = await sign_in_page(provider, await authorize(provider, client.client.client_id, challenge))
    first = (await exchange(provider, client, query(back.headers["location"])["code"], verifier)).json()
    auth = (client.client.client_id, client.secret or "")
    refreshed = await provider.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert (
        second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    )
    bearer = {"authorization": f"Bearer {second['access_token']}"}
    assert (await provider.client.get("/oauth/userinfo", headers=bearer)).status_code == 200
    # The first refresh token again: a leaked copy. The whole family ends.
    reused = await provider.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=auth,
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert (await provider.client.get("/oauth/userinfo", headers=bearer)).status_code == 401
    later = await provider.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=auth,
    )
    assert later.status_code == 400
    assert await AuditEvent.filter(action="oidc.refresh.reuse").count() == 1


async def test_a_third_party_app_asks_consent_once_and_never_gets_court_scopes(provider: Api) -> None:
    app = await clients.add_client(name="Docketing Pro", redirect_uris=[APP_CB])
    verifier, challenge = pkce()
    scope = "openid profile api api.read"
    page = await authorize(provider, app.client.client_id, challenge, redirect_uri=APP_CB, scope=scope)
    consent = await sign_in_page(provider, page)
    assert consent.status_code == 200 and "Docketing Pro" in consent.text and "Allow" in consent.text
    assert "Read what you can read at the courts" in consent.text
    assert "Act as you" not in consent.text  # api is a court's own system's only
    allowed = await submit(provider, consent, action="allow")
    assert allowed.status_code == 303, allowed.text
    got = query(allowed.headers["location"])
    tokens = (await exchange(provider, app, got["code"], verifier, redirect_uri=APP_CB)).json()
    assert tokens["scope"].split() == ["openid", "profile", "api.read"]
    (grant,) = await AppGrantRecord.filter(client_id=app.client.id)
    assert grant.scopes.split() == ["api.read", "openid", "profile"]
    # Asked again within what was granted: no page at all.
    _, challenge = pkce()
    again = await authorize(provider, app.client.client_id, challenge, redirect_uri=APP_CB, scope=scope)
    assert again.status_code == 302 and "code=" in again.headers["location"]
    # A person who says no: access_denied back to the app.
    other = await clients.add_client(name="Other App", redirect_uris=[APP_CB])
    _, challenge = pkce()
    asked = await authorize(provider, other.client.client_id, challenge, redirect_uri=APP_CB)
    denied = await submit(provider, asked, action="deny")
    assert denied.status_code == 303
    assert query(denied.headers["location"])["error"] == "access_denied"
    assert query(denied.headers["location"])["iss"] == ISSUER


async def test_what_must_not_go_back_to_a_client_gets_a_page(provider: Api) -> None:
    client = await court_client()
    _, challenge = pkce()
    cases = {
        "unknown client": {"client_id": "ngo_nobody"},
        "unregistered redirect URI": {"redirect_uri": "https://evil.example/cb"},
        "a redirect URI that differs by a slash": {"redirect_uri": COURT_CB + "/"},
    }
    for what, change in cases.items():
        params = {"client_id": client.client.client_id, **change}
        answer = await authorize(provider, params.pop("client_id"), challenge, **params)
        assert answer.status_code == 400 and "location" not in answer.headers, what
        assert "cannot go on" in answer.text, what
    missing = await provider.client.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": client.client.client_id, "code_challenge": challenge},
    )
    assert missing.status_code == 400 and "redirect_uri" in missing.text and "location" not in missing.headers


async def test_pkce_with_s256_is_required_of_every_client(provider: Api) -> None:
    client = await court_client()  # a confidential client
    for params in ({"code_challenge": ""}, {"code_challenge_method": "plain"}):
        _, challenge = pkce()
        answer = await authorize(provider, client.client.client_id, challenge, **params)
        assert answer.status_code == 302, answer.text
        got = query(answer.headers["location"])
        assert got["error"] == "invalid_request" and got["state"] == "st-1" and got["iss"] == ISSUER
    verifier, challenge = pkce()
    back = await sign_in_page(provider, await authorize(provider, client.client.client_id, challenge))
    wrong = await exchange(provider, client, query(back.headers["location"])["code"], pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    _, challenge = pkce()
    back = await authorize(provider, client.client.client_id, challenge)
    without = await exchange(provider, client, query(back.headers["location"])["code"], "")
    assert without.status_code == 400 and without.json()["error"] == "invalid_request"
    del verifier


async def test_prompt_none_and_prompt_login(provider: Api) -> None:
    client = await court_client()
    _, challenge = pkce()
    none = await authorize(provider, client.client.client_id, challenge, prompt="none")
    assert none.status_code == 302 and query(none.headers["location"])["error"] == "login_required"
    await sign_in_page(provider, await authorize(provider, client.client.client_id, challenge))
    # Signed in: prompt=login asks again, and after the new sign-in goes on.
    page = await authorize(provider, client.client.client_id, challenge, prompt="login")
    assert page.status_code == 200 and 'name="password"' in page.text
    back = await sign_in_page(provider, page)
    assert back.status_code == 303 and "code=" in back.headers["location"]


async def test_the_second_factor_is_asked_and_said_in_amr_and_acr(provider: Api) -> None:
    stop_clock()
    token = await provider.sign_in(*FILER)
    enrolled = await enrol(provider, token, JAMES_EMAIL)
    next_step()
    client = await court_client()
    verifier, challenge = pkce()
    page = await authorize(provider, client.client.client_id, challenge)
    asked = await sign_in_page(provider, page)
    assert asked.status_code == 200 and 'name="code"' in asked.text and 'name="password"' not in asked.text
    wrong = await submit(
        provider,
        asked,
        action="second_factor",
        code="000000" if code(enrolled.secret) != "000000" else "111111",
    )
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text
    back = await submit(provider, wrong, action="second_factor", code=code(enrolled.secret))
    assert back.status_code == 303, back.text
    tokens = (await exchange(provider, client, query(back.headers["location"])["code"], verifier)).json()
    claims = (await id_claims(provider, tokens["id_token"]))[1]
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == LOA_2


async def test_a_form_from_elsewhere_or_a_wrong_password_goes_nowhere(provider: Api) -> None:
    client = await court_client()
    _, challenge = pkce()
    page = await authorize(provider, client.client.client_id, challenge)
    fields = form_fields(page.text)
    provider.client.cookies.clear()  # another site's form: no CSRF cookie to match
    forged = await provider.client.post(
        "/oauth/authorize", data={**fields, "action": "sign_in", "username": FILER[0], "password": FILER[1]}
    )
    assert forged.status_code == 403 and "NextGenCSO" not in forged.cookies
    page = await authorize(provider, client.client.client_id, challenge)
    wrong = await submit(provider, page, action="sign_in", username=FILER[0], password="not-the-password-1")
    assert wrong.status_code == 401 and "location" not in wrong.headers and 'role="alert"' in wrong.text
    assert "NextGenCSO" not in wrong.cookies


async def test_the_token_endpoint_authenticates_clients_and_says_what_is_wrong(provider: Api) -> None:
    client = await court_client()
    verifier, challenge = pkce()
    back = await sign_in_page(provider, await authorize(provider, client.client.client_id, challenge))
    got = query(back.headers["location"])
    bad_secret = await provider.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": got["code"],
            "redirect_uri": COURT_CB,
            "code_verifier": verifier,
        },
        auth=(client.client.client_id, "ngc_wrong"),
    )
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    json_body = await provider.client.post("/oauth/token", json={"grant_type": "authorization_code"})
    assert json_body.status_code == 400 and "x-www-form-urlencoded" in json_body.json()["error_description"]
    unknown = await provider.client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "x"},
        auth=(client.client.client_id, client.secret or ""),
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "unsupported_grant_type"
    # The code was not spent by the refused attempts of an unauthenticated caller.
    fine = await exchange(provider, client, got["code"], verifier)
    assert fine.status_code == 200, fine.text


async def test_a_revoked_grant_or_an_ended_session_ends_the_apps_tokens(provider: Api) -> None:
    client = await court_client()
    held = []
    for _ in range(2):
        verifier, challenge = pkce()
        page = await authorize(provider, client.client.client_id, challenge)
        back = await sign_in_page(provider, page) if 'name="password"' in page.text else page
        held.append(
            (await exchange(provider, client, query(back.headers["location"])["code"], verifier)).json()
        )
        session_token = provider.client.cookies["NextGenCSO"]

    def bearer(tokens: dict[str, Any]) -> dict[str, str]:
        return {"authorization": f"Bearer {tokens['access_token']}"}

    assert (await provider.client.get("/oauth/userinfo", headers=bearer(held[0]))).status_code == 200
    # The person signs out of the service: the session's tokens stop at once.
    await provider.data("mutation { signOut { errors { code } } }", token=session_token)
    assert (await provider.client.get("/oauth/userinfo", headers=bearer(held[1]))).status_code == 401
    refreshed = await provider.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": held[1]["refresh_token"]},
        auth=(client.client.client_id, client.secret or ""),
    )
    assert refreshed.status_code == 400
    # Signed in again elsewhere, the person ends the app's grant under Connected apps.
    provider.client.cookies.clear()
    verifier, challenge = pkce()
    back = await sign_in_page(provider, await authorize(provider, client.client.client_id, challenge))
    fresh = (await exchange(provider, client, query(back.headers["location"])["code"], verifier)).json()
    token = await provider.sign_in(*FILER)
    grants = await provider.data("{ me { appGrants { id } } }", token=token)
    (grant,) = grants["me"]["appGrants"]
    ended = await provider.data(
        "mutation($id: ID!) { revokeAppGrant(id: $id) { errors { code } } }", {"id": grant["id"]}, token=token
    )
    assert ended["revokeAppGrant"]["errors"] == []
    assert (await provider.client.get("/oauth/userinfo", headers=bearer(fresh))).status_code == 401


# Authlib 1.9.10 asks its httpx users to move to "httpx2"; httpx is what the stack uses.
@pytest.mark.filterwarnings("ignore:The httpx module is deprecated")
async def test_a_relying_party_library_completes_the_flow(provider: Api) -> None:
    """Authlib's own OAuth client (an httpx client), as a court's system would use it: it makes
    the authorization URL with PKCE, and redeems the code at the token endpoint."""
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    client = await court_client()
    transport = httpx.ASGITransport(app=provider.app)
    async with AsyncOAuth2Client(
        client_id=client.client.client_id,
        client_secret=client.secret,
        scope="openid profile pacer cmecf",
        redirect_uri=COURT_CB,
        code_challenge_method="S256",
        transport=transport,
        base_url=ISSUER,
    ) as relying_party:
        meta = (
            await relying_party.request("GET", "/.well-known/openid-configuration", withhold_token=True)
        ).json()
        verifier = secrets.token_urlsafe(48)
        url, state = relying_party.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce="rp-nonce"
        )
        # The person's browser follows the URL and signs in.
        page = await provider.client.get(url.removeprefix(ISSUER))
        back = await sign_in_page(provider, page)
        assert back.status_code == 303, back.text
        token = await relying_party.fetch_token(
            meta["token_endpoint"], authorization_response=back.headers["location"], code_verifier=verifier
        )
        assert query(back.headers["location"])["state"] == state
        claims = (await id_claims(provider, token["id_token"]))[1]
        assert claims["nonce"] == "rp-nonce" and claims["aud"] == client.client.client_id
        info = (await relying_party.get(meta["userinfo_endpoint"])).json()
        assert info["sub"] == claims["sub"]
        # The filer holds no privilege at mad: cmecf says so, as null.
        assert info["cmecf_privilege"] is None


async def signed_in_tokens(api: Api, client: clients.NewClient) -> dict[str, Any]:
    verifier, challenge = pkce()
    page = await authorize(api, client.client.client_id, challenge)
    back = await sign_in_page(api, page) if 'name="password"' in page.text else page
    answer = await exchange(api, client, query(back.headers["location"])["code"], verifier)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


async def test_revocation_ends_a_clients_own_tokens_and_no_other(provider: Api) -> None:
    mine, theirs = await court_client(), await court_client()
    held = await signed_in_tokens(provider, mine)
    other = await signed_in_tokens(provider, theirs)
    auth = (mine.client.client_id, mine.secret or "")
    # Another client's token: 200 (nothing said), and it still works.
    answer = await provider.client.post("/oauth/revoke", data={"token": other["access_token"]}, auth=auth)
    assert answer.status_code == 200
    bearer = {"authorization": f"Bearer {other['access_token']}"}
    assert (await provider.client.get("/oauth/userinfo", headers=bearer)).status_code == 200
    # Its own access token: ended at once.
    answer = await provider.client.post("/oauth/revoke", data={"token": held["access_token"]}, auth=auth)
    assert answer.status_code == 200
    bearer = {"authorization": f"Bearer {held['access_token']}"}
    assert (await provider.client.get("/oauth/userinfo", headers=bearer)).status_code == 401
    # Its refresh token: the whole family ends, the refresh token with it.
    fresh = await signed_in_tokens(provider, mine)
    answer = await provider.client.post(
        "/oauth/revoke", data={"token": fresh["refresh_token"], "token_type_hint": "refresh_token"}, auth=auth
    )
    assert answer.status_code == 200
    bearer = {"authorization": f"Bearer {fresh['access_token']}"}
    assert (await provider.client.get("/oauth/userinfo", headers=bearer)).status_code == 401
    refreshed = await provider.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]},
        auth=auth,
    )
    assert refreshed.status_code == 400
    # An unknown token is 200 too (RFC 7009 2.2); a wrong secret is 401.
    assert (await provider.client.post("/oauth/revoke", data={"token": "nope"}, auth=auth)).status_code == 200
    wrong = await provider.client.post(
        "/oauth/revoke", data={"token": "x"}, auth=(mine.client.client_id, "ngc_x")
    )
    assert wrong.status_code == 401


async def test_introspection_tells_a_confidential_client_about_its_own_tokens(provider: Api) -> None:
    mine, theirs = await court_client(), await court_client()
    held = await signed_in_tokens(provider, mine)
    other = await signed_in_tokens(provider, theirs)
    auth = (mine.client.client_id, mine.secret or "")

    async def introspect(token: str) -> dict[str, Any]:
        answer = await provider.client.post("/oauth/introspect", data={"token": token}, auth=auth)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    about = await introspect(held["access_token"])
    claims = (await id_claims(provider, held["id_token"]))[1]
    assert about["active"] is True and about["client_id"] == mine.client.client_id
    assert about["sub"] == claims["sub"] and about["iss"] == ISSUER and about["token_type"] == "Bearer"
    assert set(about["scope"].split()) == {"openid", "profile", "email", "pacer"}
    assert (await introspect(held["refresh_token"]))["active"] is True
    assert await introspect(other["access_token"]) == {"active": False}
    assert await introspect("not-a-token") == {"active": False}
    # A public client may not introspect.
    public = await clients.add_client(name="Phone app", redirect_uris=[APP_CB], public=True)
    refused = await provider.client.post(
        "/oauth/introspect", data={"token": held["access_token"], "client_id": public.client.client_id}
    )
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"
    # Refreshed, the old refresh token is no longer active.
    await provider.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": held["refresh_token"]},
        auth=auth,
    )
    assert await introspect(held["refresh_token"]) == {"active": False}


async def test_an_app_signs_the_person_out_and_back_to_a_registered_uri(provider: Api) -> None:
    home = "https://ecf.mad.example/"
    client = await clients.add_client(
        name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB], post_logout_redirect_uris=[home]
    )
    held = await signed_in_tokens(provider, client)
    session_token = provider.client.cookies["NextGenCSO"]
    refused = await provider.client.get(
        "/oauth/end-session",
        params={"id_token_hint": held["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert refused.status_code == 400 and "location" not in refused.headers
    forged = await provider.client.get(
        "/oauth/end-session", params={"id_token_hint": held["id_token"][:-4] + "AAAA"}
    )
    assert forged.status_code == 400
    # The hint names this browser's session: signed out at once, back with the state.
    out = await provider.client.get(
        "/oauth/end-session",
        params={"id_token_hint": held["id_token"], "post_logout_redirect_uri": home, "state": "bye"},
    )
    assert out.status_code == 303 and out.headers["location"] == home + "?state=bye"
    assert (await Session.get(token_hash=token_hash(session_token))).revoked_at is not None
    bearer = {"authorization": f"Bearer {held['access_token']}"}
    assert (await provider.client.get("/oauth/userinfo", headers=bearer)).status_code == 401


async def test_a_hint_for_another_session_asks_the_person_first(provider: Api) -> None:
    client = await court_client()
    old = await signed_in_tokens(provider, client)
    provider.client.cookies.clear()
    await signed_in_tokens(provider, client)  # a new sign-in in this browser
    current = provider.client.cookies["NextGenCSO"]
    asked = await provider.client.get("/oauth/end-session", params={"id_token_hint": old["id_token"]})
    assert asked.status_code == 200 and "Sign out?" in asked.text
    assert (await Session.get(token_hash=token_hash(current))).revoked_at is None
    fields = form_fields(asked.text)
    done = await provider.client.post("/oauth/end-session", data=fields)
    assert done.status_code == 200 and "signed out" in done.text
    assert (await Session.get(token_hash=token_hash(current))).revoked_at is not None


async def test_maintenance_forgets_spent_codes_and_tokens_but_not_too_soon(provider: Api) -> None:
    import datetime as dt

    from nextgen_gql.models import OidcCode, OidcToken
    from nextgen_gql.services import clock, maintenance

    client = await court_client()
    held = await signed_in_tokens(provider, client)
    retention = maintenance.Retention()
    try:
        clock.set_now(clock.now() + dt.timedelta(days=2))
        report = await maintenance.run(retention, database_url=provider.settings.database_url)
        # The code is gone; the tokens are kept while the refresh token may still be used.
        assert report.deleted.get("oidc_codes") == 1 and not report.deleted.get("oidc_tokens")
        assert await OidcCode.all().count() == 0 and await OidcToken.all().count() == 1
        clock.set_now(clock.now() + dt.timedelta(days=60))
        await maintenance.run(retention, database_url=provider.settings.database_url)
        # Past every retention (the session's own too, which takes its tokens with it).
        assert await OidcToken.all().count() == 0
    finally:
        clock.reset()
    del held
