"""Tokens refused, not ignored (docs/front-ends.md, "Endpoints"): a bearer token that is malformed,
expired, revoked or signed out is answered 401 with ``WWW-Authenticate: Bearer
error="invalid_token"`` (RFC 6750) and a GraphQL error coded ``UNAUTHENTICATED``, for
queries and mutations alike, before anything runs; a stale ``NextGenCSO`` cookie is treated
as no cookie and cleared in the same answer; no credentials at all is anonymous. On the
compiled path and on the reference executor alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nextgen_gql.api.context import COOKIE_NAME as COOKIE
from nextgen_gql.models import AuditEvent, Session
from nextgen_gql.services.clock import now
from nextgen_gql.settings import Settings
from tests.conftest import FILER, Api, running_api

ME = "{ me { username } }"
SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  token errors { code } } }"""


@pytest.fixture(params=["compiled", "reference"])
async def api(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Api]:
    """The same rules whichever executor answers (the compiled one is also checked against the
    reference on every query: the suite's ``compiled_check``)."""
    async with running_api(settings.with_(compiled=request.param == "compiled")) as running:
        yield running


def refused(response: httpx.Response, error: str = "invalid_token") -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith(f'Bearer error="{error}"')
    body: dict[str, Any] = response.json()
    assert "data" not in body, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    return body


async def stale_tokens(api: Api) -> dict[str, str]:
    """A token of each kind that no longer holds."""
    signed_out = await api.sign_in(*FILER)
    await api.data("mutation { signOut { ok } }", token=signed_out)
    expired = await api.sign_in(*FILER)
    await Session.filter(account__username_key=FILER[0], revoked_at__isnull=True).update(
        expires_at=now() - dt.timedelta(seconds=1)
    )
    return {
        "garbage": "garbage",
        "malformed": "x" * 600,
        "signed out": signed_out,
        "expired": expired,
    }


@pytest.mark.parametrize("court", [None, "mad"])
async def test_a_bad_bearer_token_is_refused_for_queries_and_mutations(api: Api, court: str | None) -> None:
    tokens = await stale_tokens(api)
    sessions, events = await Session.all().count(), await AuditEvent.all().count()
    for kind, token in tokens.items():
        for query in [ME, "{ courts { code } }", "{ __typename }", "{ cmecfAccounts { totalCount } }"]:
            refused(await api.post(query, court=court, token=token))
        for accept in ["application/json", "application/graphql-response+json"]:
            response = await api.post(ME, court=court, token=token, headers={"accept": accept})
            refused(response)
            assert response.headers["content-type"].startswith(accept), kind
        get = await api.client.get(
            f"/courts/{court}/graphql" if court else "/graphql",
            params={"query": ME},
            headers={"authorization": f"Bearer {token}"},
        )
        refused(get)
        # Mutations too, before anything runs: even signIn, and nothing is written.
        refused(await api.post(SIGN_IN, {"u": FILER[0], "p": FILER[1]}, court=court, token=token))
        refused(await api.post("mutation { signOut { ok } }", court=court, token=token))
    assert (await Session.all().count(), await AuditEvent.all().count()) == (sessions, events)


async def test_an_authorization_header_of_another_scheme_is_refused(api: Api) -> None:
    for header in ["Basic bG9naW46cGFzcw==", "Bearer", "Bearer   ", "Token abc"]:
        response = await api.client.post("/graphql", json={"query": ME}, headers={"authorization": header})
        refused(response, "invalid_request")


async def test_no_credentials_is_anonymous_and_a_live_token_signs_in(api: Api) -> None:
    assert (await api.data(ME))["me"] is None
    token = await api.sign_in(*FILER)
    assert (await api.data(ME, token=token))["me"] == {"username": FILER[0]}
    assert (await api.data(ME, court="mab", token=token))["me"] == {"username": FILER[0]}


def cleared(response: httpx.Response) -> bool:
    """Whether the answer tells the browser to drop the NextGenCSO cookie."""
    return any(
        header.startswith(f"{COOKIE}=")
        and ("max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower())
        for header in response.headers.get_list("set-cookie")
    )


async def test_a_stale_cookie_is_no_cookie_and_is_cleared_so_the_next_sign_in_works(api: Api) -> None:
    tokens = await stale_tokens(api)
    for kind, token in tokens.items():
        for query in [ME, "{ courts { code } }"]:
            api.client.cookies.set(COOKIE, token)
            response = await api.client.post("/graphql", json={"query": query})
            assert response.status_code == 200, (kind, response.text)
            assert "errors" not in response.json()
            if query == ME:
                assert response.json()["data"] == {"me": None}
            assert cleared(response), (kind, response.headers.get_list("set-cookie"))
            api.client.cookies.clear()
    # A browser still holding a stale cookie signs in: the new cookie replaces it.
    api.client.cookies.set(COOKIE, tokens["signed out"])
    signed = await api.client.post(
        "/graphql", json={"query": SIGN_IN, "variables": {"u": FILER[0], "p": FILER[1]}}
    )
    assert signed.status_code == 200 and signed.json()["data"]["signIn"]["errors"] == []
    token = signed.json()["data"]["signIn"]["token"]
    assert any(h.startswith(f"{COOKIE}={token};") for h in signed.headers.get_list("set-cookie"))
    api.client.cookies.clear()  # the browser replaces its cookie with the new one
    api.client.cookies.set(COOKIE, token)
    assert (await api.client.post("/graphql", json={"query": ME})).json()["data"] == {
        "me": {"username": FILER[0]}
    }


async def test_a_live_cookie_is_not_cleared(api: Api) -> None:
    token = await api.sign_in(*FILER)
    api.client.cookies.set(COOKIE, token)
    response = await api.client.post("/graphql", json={"query": ME})
    assert response.json()["data"] == {"me": {"username": FILER[0]}}
    assert not cleared(response)
