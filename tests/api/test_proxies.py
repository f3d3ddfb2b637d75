"""The real caller behind a proxy (``api.proxies``, ``NEXTGEN_GQL_FORWARDED_ALLOW_IPS``).

In-process, httpx's ASGI transport connects from ``127.0.0.1`` (a trusted proxy by default)
unless told otherwise; the real-server cases are in ``tests/test_server_proxies.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from nextgen_gql.services import throttle
from nextgen_gql.settings import Settings
from tests.conftest import FILER, Api, running_api

SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  token errors { code message } } }"""
WRONG = "Not-The-Password-At-All-1"


async def codes(client: httpx.AsyncClient, username: str, password: str, **headers: str) -> list[str]:
    response = await client.post(
        "/graphql", json={"query": SIGN_IN, "variables": {"u": username, "p": password}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [e["code"] for e in response.json()["data"]["signIn"]["errors"]]


@contextlib.asynccontextmanager
async def peer(api: Api, host: str, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """A client connecting to the running app from ``host``."""
    transport = httpx.ASGITransport(app=api.app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


async def test_spoofed_leftmost_hops_behind_an_appending_proxy_do_not_escape_the_address_limit(
    api: Api,
) -> None:
    """The proxy (the loopback peer) appends the address it saw; what the client wrote to the
    left counts for nothing, so 40 different spoofed hops are one address, limited after 20."""
    answers = []
    for i in range(2 * throttle.ADDRESS_SIGN_IN.limit):
        hops = f"198.51.100.{i}, 203.0.113.9"
        answers.append(await codes(api.client, f"nobody{i}", WRONG, **{"X-Forwarded-For": hops}))
    assert (
        answers[: throttle.ADDRESS_SIGN_IN.limit]
        == [["INVALID_CREDENTIALS"]] * throttle.ADDRESS_SIGN_IN.limit
    )
    assert answers[throttle.ADDRESS_SIGN_IN.limit :] == [["RATE_LIMITED"]] * throttle.ADDRESS_SIGN_IN.limit
    # The real caller is limited with or without spoofed hops; another address is not.
    assert await codes(api.client, *FILER, **{"X-Forwarded-For": "203.0.113.9"}) == ["RATE_LIMITED"]
    assert await codes(api.client, *FILER, **{"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}) == []


async def test_trusted_hops_are_skipped_from_the_right(settings: Settings) -> None:
    """Behind two proxies of the allow list, the caller is the hop before them."""
    async with running_api(settings.with_(forwarded_allow_ips=("127.0.0.1", "10.0.0.0/8"))) as api:
        for i in range(throttle.ADDRESS_SIGN_IN.limit):
            hops = f"192.0.2.{i}, 203.0.113.9, 10.1.1.1"
            assert await codes(api.client, f"nobody{i}", WRONG, **{"X-Forwarded-For": hops}) == [
                "INVALID_CREDENTIALS"
            ]
        assert await codes(api.client, *FILER, **{"X-Forwarded-For": "203.0.113.9, 10.2.2.2"}) == [
            "RATE_LIMITED"
        ]


async def test_with_a_non_loopback_allow_list_a_direct_client_cannot_pose_as_another_address(
    settings: Settings,
) -> None:
    async with running_api(settings.with_(forwarded_allow_ips=("10.0.0.5",))) as api:
        # The loopback client is no proxy here: its X-Forwarded-For is ignored, every guess
        # counts against 127.0.0.1 itself.
        for i in range(throttle.ADDRESS_SIGN_IN.limit):
            assert await codes(api.client, f"nobody{i}", WRONG, **{"X-Forwarded-For": f"198.51.100.{i}"}) == [
                "INVALID_CREDENTIALS"
            ]
        assert await codes(api.client, *FILER, **{"X-Forwarded-For": "192.0.2.200"}) == ["RATE_LIMITED"]
        # The listed proxy is believed: the caller it names is someone else, not limited.
        async with peer(api, "10.0.0.5") as proxy:
            assert await codes(proxy, *FILER, **{"X-Forwarded-For": "192.0.2.200"}) == []


@pytest.mark.parametrize(
    "hops",
    ["not-an-address", "203.0.113.9, unknown", "999.1.1.1", "[::1", ", ,", "\u00e9" * 300],
)
async def test_a_hop_that_is_not_an_address_leaves_the_peer_as_the_caller(api: Api, hops: str) -> None:
    """Malformed X-Forwarded-For is untrusted input: no 500, and the peer (here the proxy,
    127.0.0.1) is the caller, so such guesses share one address's limit."""
    for i in range(throttle.ADDRESS_SIGN_IN.limit):
        response = await api.client.post(
            "/graphql",
            json={"query": SIGN_IN, "variables": {"u": f"nobody{i}", "p": WRONG}},
            headers={"X-Forwarded-For": hops.encode("utf-8")},
        )
        assert response.status_code == 200, response.text
    assert await codes(api.client, *FILER) == ["RATE_LIMITED"]  # no header: the peer itself


async def test_https_detection_takes_only_the_trusted_peers_single_value(api: Api) -> None:
    mutation = f'mutation {{ signIn(input: {{username: "{FILER[0]}", password: "{FILER[1]}"}}) {{ token }} }}'

    async def hsts(client: httpx.AsyncClient, headers: list[tuple[str, str]]) -> tuple[bool, bool]:
        response = await client.post("/graphql", json={"query": mutation}, headers=httpx.Headers(headers))
        assert response.status_code == 200
        return "strict-transport-security" in response.headers, "Secure" in response.headers["set-cookie"]

    assert await hsts(api.client, [("X-Forwarded-Proto", "https")]) == (True, True)
    assert await hsts(api.client, [("X-Forwarded-Proto", "http")]) == (False, False)
    # A list (a client's value with the proxy's appended), a repeated header, or another word:
    # not the proxy's single value, so not believed.
    assert await hsts(api.client, [("X-Forwarded-Proto", "https, http")]) == (False, False)
    assert await hsts(api.client, [("X-Forwarded-Proto", "https"), ("X-Forwarded-Proto", "https")]) == (
        False,
        False,
    )
    assert await hsts(api.client, [("X-Forwarded-Proto", "wss")]) == (False, False)
    # From a peer that is no trusted proxy, the header means nothing.
    async with peer(api, "192.0.2.7") as direct:
        assert await hsts(direct, [("X-Forwarded-Proto", "https")]) == (False, False)


def test_star_and_non_addresses_are_refused_in_the_allow_list() -> None:
    with pytest.raises(ValueError, match=r"FORWARDED_ALLOW_IPS: '\*' is refused"):
        Settings.from_env({"NEXTGEN_GQL_FORWARDED_ALLOW_IPS": "*"})
    with pytest.raises(ValueError, match=r"FORWARDED_ALLOW_IPS: 'proxy\.example' is not an address"):
        Settings.from_env({"NEXTGEN_GQL_FORWARDED_ALLOW_IPS": "10.0.0.1,proxy.example"})
    assert Settings.from_env(
        {"NEXTGEN_GQL_FORWARDED_ALLOW_IPS": "10.0.0.1, 172.16.0.0/12"}
    ).forwarded_allow_ips == (
        "10.0.0.1",
        "172.16.0.0/12",
    )
    assert Settings.from_env({}).forwarded_allow_ips == ("127.0.0.1", "::1")


def test_trust_forwarded_without_the_allow_list_stops_the_start() -> None:
    with pytest.raises(ValueError, match="NEXTGEN_GQL_FORWARDED_ALLOW_IPS") as refused:
        Settings.from_env({"NEXTGEN_GQL_TRUST_FORWARDED": "true"})
    assert "TRUST_FORWARDED is retired" in str(refused.value)
    settings = Settings.from_env(
        {"NEXTGEN_GQL_TRUST_FORWARDED": "true", "NEXTGEN_GQL_FORWARDED_ALLOW_IPS": "10.0.0.1"}
    )
    assert settings.forwarded_allow_ips == ("10.0.0.1",)
