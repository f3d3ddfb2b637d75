"""An account that must have an authenticator app, and used its three sign-ins without one,
adds it inside the OpenID sign-in (as the web app would have it do), then goes on to the app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from nextgen_gql.models import Authenticator, Session
from nextgen_gql.services.auth import token_hash
from nextgen_gql.settings import Settings
from tests.api.mfa_helpers import code, security_code, stop_clock
from tests.api.test_mfa_required import CLERK, CLERK_EMAIL, sign_in
from tests.api.test_oidc_flow import (
    ISSUER,
    authorize,
    court_client,
    exchange,
    form_fields,
    pkce,
    query,
    sign_in_page,
    submit,
)
from tests.conftest import Api, running_api


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings.with_(public_url=ISSUER)) as running:
        yield running


async def test_a_restricted_account_enrols_in_the_sign_in_then_goes_on(provider: Api) -> None:
    stop_clock()
    for _ in range(3):  # the three sign-ins allowed without an app
        await sign_in(provider, *CLERK)
    client = await court_client()
    verifier, challenge = pkce()
    page = await authorize(provider, client.client.client_id, challenge)
    asked = await sign_in_page(provider, page, CLERK)
    assert asked.status_code == 200 and "Add an authenticator app" in asked.text, asked.text
    assert form_fields(asked.text) and 'value="enrol_start"' in asked.text
    session = await Session.get(token_hash=token_hash(asked.cookies["NextGenCSO"]))
    assert session.mfa_restricted

    # prompt=none cannot show this page: the app hears interaction_required.
    _, quiet = pkce()
    silent = await authorize(provider, client.client.client_id, quiet, prompt="none")
    assert silent.status_code == 302 and query(silent.headers["location"])["error"] == "interaction_required"

    started = await submit(provider, asked, action="enrol_start", name="Work phone")
    assert started.status_code == 200 and "<svg" in started.text, started.text
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", started.text)
    assert secret, started.text
    mailed = security_code(provider, CLERK_EMAIL)

    wrong = await submit(provider, started, action="enrol_confirm", security_code="00000000", code="000000")
    assert wrong.status_code == 400 and "security code is not right" in wrong.text
    assert "<svg" not in wrong.text  # the secret is shown once

    added = await submit(
        provider, wrong, action="enrol_confirm", security_code=mailed, code=code(secret.group(1))
    )
    assert added.status_code == 200 and "backup codes" in added.text, added.text
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", added.text)
    assert len(codes) == 10
    assert await Authenticator.filter(confirmed_at__isnull=False).count() == 1
    assert not (await Session.get(id=session.id)).mfa_restricted

    back = await submit(provider, added, action="continue")
    assert back.status_code == 303, back.text
    got = query(back.headers["location"])
    tokens = await exchange(provider, client, got["code"], verifier)
    assert tokens.status_code == 200, tokens.text


async def test_enrolment_in_the_sign_in_says_what_is_wrong(provider: Api) -> None:
    for _ in range(3):
        await sign_in(provider, *CLERK)
    client = await court_client()
    _, challenge = pkce()
    asked = await sign_in_page(provider, await authorize(provider, client.client.client_id, challenge), CLERK)
    blank = await submit(provider, asked, action="enrol_start", name="   ")
    assert blank.status_code == 400 and "Name the app" in blank.text
    # An enrolment that is not the person's (or is gone): start again.
    gone = await submit(
        provider, asked, action="enrol_confirm", enrollment="999999", security_code="1", code="1"
    )
    assert gone.status_code == 400 and "start again" in gone.text and 'value="enrol_start"' in gone.text
    # A form without the page's CSRF cookie goes nowhere.
    provider.client.cookies.delete("ngc_oauth_csrf", path="/oauth/authorize")
    forged = await submit(provider, asked, action="enrol_start", name="Phone")
    assert forged.status_code == 403
    assert await Authenticator.all().count() == 0
