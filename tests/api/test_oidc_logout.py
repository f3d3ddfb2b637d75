"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0) over real HTTP to a local
receiver: the logout tokens a session's end owes, written with the change, signed at each
attempt, retried on the webhooks' schedule."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from nextgen_gql.models import OidcLogout
from nextgen_gql.oidc import clients, logouts
from nextgen_gql.outbound.addresses import Reach
from nextgen_gql.settings import Settings
from tests import databases
from tests.api.test_oidc_flow import (
    COURT_CB,
    ISSUER,
    authorize,
    exchange,
    id_claims,
    pkce,
    query,
    sign_in_page,
)
from tests.conftest import FILER, Api, running_api
from tests.webhook_receiver import Receiver


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[Api]:
    # No worker of the app's own: the tests run the rounds.
    changed = dataclasses.replace(
        settings, public_url=ISSUER, webhook_allow_networks="127.0.0.1/32", webhook_interval_s=0
    )
    async with running_api(changed) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


def sender(api: Api) -> logouts.Sender:
    return logouts.Sender(ISSUER, api.app.state.view.sealer, reach=Reach(api.settings.webhook_networks))


async def a_round(api: Api) -> int:
    send = sender(api)
    try:
        return await logouts.run_round(send)
    finally:
        await send.close()


async def signed_in(api: Api, client: clients.NewClient) -> dict[str, Any]:
    verifier, challenge = pkce()
    page = await authorize(api, client.client.client_id, challenge)
    back = await sign_in_page(api, page) if 'name="password"' in page.text else page
    tokens: dict[str, Any] = (
        await exchange(api, client, query(back.headers["location"])["code"], verifier)
    ).json()
    return tokens


async def logout_claims(api: Api, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    (token,) = parse_qs(body.decode())["logout_token"]
    keys = KeySet.import_key_set((await api.client.get("/oauth/jwks")).json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    return dict(decoded.header), dict(decoded.claims)


async def test_signing_out_tells_every_app_that_asked_with_a_signed_logout_token(
    provider: Api, receiver: Receiver
) -> None:
    told = await clients.add_client(
        name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB], backchannel_logout_uri=receiver.url
    )
    silent = await clients.add_client(name="MAB CM/ECF", court_code="mab", redirect_uris=[COURT_CB])
    tokens = await signed_in(provider, told)
    await signed_in(provider, silent)
    session = provider.client.cookies["NextGenCSO"]
    assert await a_round(provider) == 0  # nothing owed while the session lives
    await provider.data("mutation { signOut { errors { code } } }", token=session)
    (owed,) = await OidcLogout.all()
    assert owed.client_id == told.client.id and owed.outcome == "pending"
    assert await a_round(provider) == 1
    (got,) = await receiver.wait_for(1)
    assert got.method == "POST" and got.headers["content-type"] == "application/x-www-form-urlencoded"
    header, claims = await logout_claims(provider, got.body)
    id_token = (await id_claims(provider, tokens["id_token"]))[1]
    assert header["typ"] == "logout+jwt" and header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == told.client.client_id
    assert claims["sub"] == id_token["sub"] and claims["sid"] == id_token["sid"]
    assert claims["events"] == {logouts.EVENT: {}} and claims["jti"] and "nonce" not in claims
    assert claims["exp"] > claims["iat"]
    assert (await OidcLogout.get(id=owed.id)).outcome == "delivered"
    assert await a_round(provider) == 0


async def test_a_receiver_that_fails_is_tried_again_on_the_schedule(
    provider: Api, receiver: Receiver
) -> None:
    from nextgen_gql.services import clock

    told = await clients.add_client(
        name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB], backchannel_logout_uri=receiver.url
    )
    await signed_in(provider, told)
    session = provider.client.cookies["NextGenCSO"]
    await provider.data("mutation { signOut { errors { code } } }", token=session)
    receiver.answers.extend([503, 500])
    assert await a_round(provider) == 1
    row = await OidcLogout.get()
    assert row.outcome == "pending" and row.attempts_made == 1 and row.last_status == 503
    assert await a_round(provider) == 0  # not due yet
    try:
        clock.set_now(clock.now() + dt.timedelta(seconds=10))
        assert await a_round(provider) == 1
        clock.set_now(clock.now() + dt.timedelta(minutes=10))
        assert await a_round(provider) == 1
    finally:
        clock.reset()
    row = await OidcLogout.get()
    assert row.outcome == "delivered" and row.attempts_made == 3
    assert len(receiver.received) == 3
    jtis = {(await logout_claims(provider, r.body))[1]["jti"] for r in receiver.received}
    assert len(jtis) == 3  # signed anew at each attempt


async def test_revoking_an_apps_grant_tells_it_and_a_password_change_tells_every_app(
    provider: Api, receiver: Receiver
) -> None:
    told = await clients.add_client(
        name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB], backchannel_logout_uri=receiver.url
    )
    await signed_in(provider, told)
    token = await provider.sign_in(*FILER)
    (grant,) = (await provider.data("{ me { appGrants { id } } }", token=token))["me"]["appGrants"]
    await provider.data(
        "mutation($id: ID!) { revokeAppGrant(id: $id) { errors { code } } }", {"id": grant["id"]}, token=token
    )
    assert await a_round(provider) == 1
    await receiver.wait_for(1)
    # Signed in again (a new session and grant): "sign out everywhere else" tells the app of it.
    provider.client.cookies.clear()
    await signed_in(provider, told)
    data = await provider.data("mutation { signOutOtherSessions { errors { code } } }", token=token)
    assert data["signOutOtherSessions"]["errors"] == []
    assert await a_round(provider) == 1
    await receiver.wait_for(2)
    assert await OidcLogout.filter(outcome="delivered").count() == 2


@pytest.mark.skipif(databases.backend() != "postgres", reason="NOTIFY is PostgreSQL's")
async def test_a_logout_owed_by_any_process_wakes_the_worker_at_once(
    settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker looks once a minute here; the logout is owed with no wake of this process's
    own (as another process or machine would owe it): only the NOTIFY at commit can wake it."""
    changed = dataclasses.replace(
        settings, public_url=ISSUER, webhook_allow_networks="127.0.0.1/32", webhook_interval_s=60
    )
    async with running_api(changed) as api:
        told = await clients.add_client(
            name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB], backchannel_logout_uri=receiver.url
        )
        await signed_in(api, told)
        session = api.client.cookies["NextGenCSO"]
        monkeypatch.setattr(logouts, "_wake", [])
        await api.data("mutation { signOut { errors { code } } }", token=session)
        (got,) = await receiver.wait_for(1, timeout=10)
        assert got.method == "POST"


async def test_a_removed_client_is_told_nothing_more(provider: Api, receiver: Receiver) -> None:
    told = await clients.add_client(
        name="MAD CM/ECF", court_code="mad", redirect_uris=[COURT_CB], backchannel_logout_uri=receiver.url
    )
    await signed_in(provider, told)
    await provider.data(
        "mutation { signOut { errors { code } } }", token=provider.client.cookies["NextGenCSO"]
    )
    await clients.remove_client(told.client.client_id)
    assert await a_round(provider) == 1
    row = await OidcLogout.get()
    assert row.outcome == "failed" and row.ended_at is not None and receiver.received == []
