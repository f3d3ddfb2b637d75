"""An app's access token at the GraphQL endpoints (``oidc.access``): ``api`` acts as the person at
its court's endpoint, but never on how the person signs in; ``api.read`` runs queries anywhere;
nothing else is served. Tokens come from the real authorization code flow; every query also
runs on both execution paths (the suite's ``compiled_check``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nextgen_gql.models import Session
from nextgen_gql.oidc import clients
from nextgen_gql.services.auth import token_hash
from nextgen_gql.settings import Settings
from tests.api.test_oidc_flow import (
    APP_CB,
    COURT_CB,
    ISSUER,
    authorize,
    exchange,
    pkce,
    query,
    sign_in_page,
    submit,
)
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, LEGACY_ECF_PASSWORD, Api, running_api

ME = "{ me { username accountNumber } }"


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings.with_(public_url=ISSUER)) as running:
        yield running


async def court_tokens(api: Api, scope: str, user: tuple[str, str] = FILER) -> dict[str, Any]:
    """Tokens a court's own system (mad's) gets for ``user`` with ``scope``."""
    client = await clients.add_client(name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB])
    verifier, challenge = pkce()
    page = await authorize(api, client.client.client_id, challenge, scope=scope)
    back = await sign_in_page(api, page, user)
    assert back.status_code == 303, back.text
    answer = await exchange(api, client, query(back.headers["location"])["code"], verifier)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    tokens["cookie"] = back.cookies["NextGenCSO"]
    tokens["client"] = client
    api.client.cookies.clear()
    return tokens


async def app_tokens(api: Api, scope: str) -> dict[str, Any]:
    """Tokens a national third-party app gets for the filer, who consents."""
    app = await clients.add_client(name="Docketing Pro", redirect_uris=[APP_CB])
    verifier, challenge = pkce()
    page = await authorize(api, app.client.client_id, challenge, redirect_uri=APP_CB, scope=scope)
    consent = await sign_in_page(api, page)
    allowed = await submit(api, consent, action="allow")
    assert allowed.status_code == 303, allowed.text
    answer = await exchange(
        api, app, query(allowed.headers["location"])["code"], verifier, redirect_uri=APP_CB
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    api.client.cookies.clear()
    return tokens


def refused(answer: httpx.Response, status: int, code: str, words: str) -> None:
    assert answer.status_code == status, answer.text
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == code and words in error["message"], error


async def test_a_court_systems_api_token_acts_as_the_person_at_its_court_only(provider: Api) -> None:
    tokens = await court_tokens(provider, "openid api")
    access = tokens["access_token"]
    assert access.startswith("nga_")
    me = await provider.data(ME, court="mad", token=access)
    assert me["me"]["username"] == FILER[0]
    # A mutation of the court's work: as the person.
    linked = await provider.data(
        """mutation($p: String!) { linkCmecfAccount(input: {login: "jmorgan", password: $p, confirm: true}) {
          errors { code } } }""",
        {"p": LEGACY_ECF_PASSWORD},
        court="mad",
        token=access,
    )
    assert linked["linkCmecfAccount"]["errors"] == []
    # Never how the person signs in, even hidden in a fragment.
    for document in (
        'mutation { changePassword(input: {currentPassword: "x", newPassword: "y"}) { errors { code } } }',
        "mutation { signOut { errors { code } } }",
        "mutation { ...Out } fragment Out on Mutation { signOutOtherSessions { errors { code } } }",
        'mutation { revokeAppGrant(id: "QXBwR3JhbnQ6MQ==") { errors { code } } }',
    ):
        refused(await provider.post(document, court="mad", token=access), 403, "FORBIDDEN", "signs in")
    # Elsewhere: another court, the national endpoint.
    refused(await provider.post(ME, court="mab", token=access), 403, "FORBIDDEN", "/courts/mad/graphql")
    refused(await provider.post(ME, token=access), 403, "FORBIDDEN", "/courts/mad/graphql")
    # The person's session still holds: the refused mutations changed nothing.
    assert (await Session.get(token_hash=token_hash(tokens["cookie"]))).revoked_at is None


async def test_api_read_runs_queries_anywhere_and_nothing_else(provider: Api) -> None:
    tokens = await app_tokens(provider, "openid api.read")
    access = tokens["access_token"]
    for court in (None, "mad", "ca1"):
        assert (await provider.data(ME, court=court, token=access))["me"]["username"] == FILER[0]
    refused(
        await provider.post(
            "mutation { submitRegistration(input: {role: CREDITOR}) { errors { code } } }",
            court="mad",
            token=access,
        ),
        403,
        "FORBIDDEN",
        "queries only",
    )
    # A subscription: not over server-sent events, not over a WebSocket's first message either.
    sse = await provider.client.post(
        "/courts/mad/graphql",
        json={"query": "subscription { myEvents { __typename } }"},
        headers={"authorization": f"Bearer {access}", "accept": "text/event-stream"},
    )
    assert sse.status_code == 403 and "subscribe with the person's own session token" in sse.text, sse.text


async def test_a_token_for_other_things_or_no_longer_live_is_refused(provider: Api) -> None:
    plain = await court_tokens(provider, "openid profile")
    refused(
        await provider.post(ME, court="mad", token=plain["access_token"]),
        403,
        "FORBIDDEN",
        "not issued for the GraphQL endpoints",
    )
    tokens = await court_tokens(provider, "openid api")
    access, client = tokens["access_token"], tokens["client"]
    # Sent as the cookie, an access token is no session: anonymous.
    as_cookie = await provider.client.post(
        "/courts/mad/graphql", json={"query": ME}, headers={"cookie": f"NextGenCSO={access}"}
    )
    assert as_cookie.status_code == 200 and as_cookie.json()["data"]["me"] is None
    # Revoked (RFC 7009): refused at once, as a bearer token that names nothing.
    revoked = await provider.client.post(
        "/oauth/revoke", data={"token": access}, auth=(client.client.client_id, client.secret)
    )
    assert revoked.status_code == 200
    answer = await provider.post(ME, court="mad", token=access)
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert "access token is not valid" in answer.json()["errors"][0]["message"]
    # The person signs out: every token of the session ends with it.
    second = await court_tokens(provider, "openid api")
    assert (await provider.data(ME, court="mad", token=second["access_token"]))["me"] is not None
    await provider.data("mutation { signOut { errors { code } } }", token=second["cookie"])
    answer = await provider.post(ME, court="mad", token=second["access_token"])
    assert answer.status_code == 401
    # A made-up one: the same.
    answer = await provider.post(ME, court="mad", token="nga_" + "x" * 43)
    assert answer.status_code == 401


async def test_a_clerks_api_token_reads_and_acts_at_the_clerks_court(provider: Api) -> None:
    tokens = await court_tokens(provider, "openid api", (CLERKS["mad"], CLERK_PASSWORD))
    access = tokens["access_token"]
    page = await provider.data(
        "{ cmecfAccounts(first: 2) { totalCount edges { node { login } } } }", court="mad", token=access
    )
    assert page["cmecfAccounts"]["totalCount"] > 0
    refused(
        await provider.post(
            'mutation { createCourtServiceKey(input: {name: "x", scopes: [READ_ROSTER]}) { secret } }',
            court="mad",
            token=access,
        ),
        403,
        "FORBIDDEN",
        "createCourtServiceKey",
    )


@pytest.mark.parametrize("scope", ["openid api", "openid api.read"])
async def test_the_rate_limit_charges_the_person(provider: Api, scope: str) -> None:
    tokens = await court_tokens(provider, scope)
    access, session = tokens["access_token"], tokens["cookie"]
    spent = "{ rateLimit { used } }"
    before = (await provider.data(spent, court="mad", token=session))["rateLimit"]["used"]
    after = (await provider.data(spent, court="mad", token=access))["rateLimit"]["used"]
    assert after > before  # one budget: the person's, whichever credential they come with


async def test_the_roster_export_takes_a_clerks_api_token_at_the_court_only(provider: Api) -> None:
    tokens = await court_tokens(provider, "openid api", (CLERKS["mad"], CLERK_PASSWORD))
    headers = {"authorization": f"Bearer {tokens['access_token']}"}
    export = await provider.client.get("/courts/mad/exports/unlinked.csv", headers=headers)
    assert export.status_code == 200 and export.text.startswith("login,"), export.text[:200]
    elsewhere = await provider.client.get("/courts/mab/exports/unlinked.csv", headers=headers)
    assert elsewhere.status_code == 403 and "/courts/mad/graphql" in elsewhere.text
    made_up = await provider.client.get(
        "/courts/mad/exports/unlinked.csv", headers={"authorization": "Bearer nga_nothing"}
    )
    assert made_up.status_code == 401 and "access token is not valid" in made_up.text
