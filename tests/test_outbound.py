"""Outbound calls (``nextgen_gql.outbound``): which addresses may be called, and a client that
connects only to the address it checked.

No test here opens a socket to anything but loopback: resolvers are injected, and the
connections are made by a recording backend that dials only 127.0.0.1 (and refuses the
rest without a socket), so that a check that let a private address through would show as a
recorded attempt, not as a call into the machine's network.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import pytest

from nextgen_gql.outbound import (
    AddressRefused,
    GuardedBackend,
    Reach,
    check_address,
    check_url,
    guarded_pool,
    parse_networks,
    resolve_and_check,
)

LOOPBACK = parse_networks("127.0.0.1/32")

#: One address of every class the rule refuses, and what the refusal calls it.
REFUSED = [
    ("0.0.0.0", "'this network'"),
    ("10.1.2.3", "private (10.0.0.0/8)"),
    ("100.64.0.1", "shared address space"),
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("169.254.169.254", "link-local"),
    ("172.16.5.4", "private (172.16.0.0/12)"),
    ("172.31.255.255", "private (172.16.0.0/12)"),
    ("192.0.0.9", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("192.168.1.1", "private (192.168.0.0/16)"),
    ("198.18.0.1", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:8.8.8.8", "IPv4-mapped"),  # a public IPv4 address, in an IPv6 form: refused all the same
    ("::7f00:1", "IPv4-compatible"),
    ("::ffff:0:a00:1", "IPv4-translated"),
    ("64:ff9b::a00:1", "NAT64"),
    ("64:ff9b::808:808", "NAT64"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("2002:7f00:1::1", "6to4"),
    ("2002:808:808::1", "6to4"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001:db8::1", "documentation"),
    ("fc00::1", "unique local"),
    ("fd00:ec2::254", "unique local"),  # a cloud's IPv6 metadata service
    ("fe80::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e"]


@pytest.mark.parametrize(("address", "what"), REFUSED)
def test_every_class_of_non_public_address_is_refused_and_named(address: str, what: str) -> None:
    with pytest.raises(AddressRefused, match="the service calls only public addresses") as refused:
        check_address(ipaddress.ip_address(address))
    assert str(refused.value).startswith(f"{ipaddress.ip_address(address)} is ")
    assert what in str(refused.value)


def test_the_list_refuses_what_python_calls_global() -> None:
    """``ipaddress`` calls some of these ranges global: the explicit list is what decides."""
    called_global = [a for a, _ in REFUSED if ipaddress.ip_address(a).is_global]
    assert called_global  # e.g. the NAT64 and 6to4 forms of public IPv4 addresses
    for address in called_global:
        with pytest.raises(AddressRefused):
            check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_may_be_called(address: str) -> None:
    check_address(ipaddress.ip_address(address))


def test_allowed_networks_let_their_addresses_through_and_only_those() -> None:
    allow = parse_networks(" 127.0.0.1/32 , 10.20.0.0/16,::1")
    check_address(ipaddress.ip_address("127.0.0.1"), allow)
    check_address(ipaddress.ip_address("10.20.3.4"), allow)
    check_address(ipaddress.ip_address("::1"), allow)
    with pytest.raises(AddressRefused, match="loopback"):
        check_address(ipaddress.ip_address("127.0.0.2"), allow)
    with pytest.raises(AddressRefused, match="private"):
        check_address(ipaddress.ip_address("10.21.0.1"), allow)
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not a network"):
        parse_networks("127.0.0.1/32,10.0.0.0/33")
    assert parse_networks(None) == parse_networks("") == ()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://hooks.example.org/x", "must start with https:// (not ftp:)"),
        ("hooks.example.org/x", "must start with https:// (not nothing:)"),
        ("https:///x", "has no host"),
        ("https://user:pw@hooks.example.org/x", "must not hold a user name or password"),
        ("https://hooks.example.org/x#frag", "must not hold a fragment"),
        ("https://hooks.example.org/a b", "spaces or control characters"),
        ("https://hooks.example.org/\x00", "spaces or control characters"),
        ("https://hooks.example.org:99999/x", "not valid"),
        ("https://hooks.example.org/" + "x" * 2048, "longer than 2048 characters"),
    ],
)
def test_a_url_of_the_wrong_form_is_refused_with_what_is_wrong(url: str, problem: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_url(url)
    assert problem in str(refused.value)


def resolver_of(table: dict[str, list[list[str]]]) -> Any:
    """A resolver answering each name from its list of answers in turn (the last repeats),
    counting the questions."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        answers = table[host]
        return answers[min(asked.count(host), len(answers)) - 1]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


async def test_every_address_a_name_resolves_to_must_be_public() -> None:
    resolve = resolver_of(
        {"split.example.org": [["93.184.216.34", "10.0.0.7"]], "ok.example.org": [["8.8.8.8"]]}
    )
    with pytest.raises(AddressRefused) as refused:
        await resolve_and_check(check_url("https://split.example.org/hook"), (), resolve)
    assert str(refused.value) == (
        "split.example.org resolves to 10.0.0.7, which is private (10.0.0.0/8): "
        "the service calls only public addresses"
    )
    found = await resolve_and_check(check_url("https://ok.example.org/hook"), (), resolve)
    assert found == [ipaddress.ip_address("8.8.8.8")]
    # An address literal is checked as it is, without asking the resolver.
    with pytest.raises(AddressRefused, match=r"^169\.254\.169\.254 is link-local"):
        await resolve_and_check(check_url("https://169.254.169.254/latest/meta-data/"), (), resolve)
    with pytest.raises(AddressRefused, match=r"^::1 is loopback"):
        await resolve_and_check(check_url("https://[::1]:8443/hook"), (), resolve)
    assert resolve.asked == ["split.example.org", "ok.example.org"]


async def test_plain_http_only_to_allowed_networks() -> None:
    resolve = resolver_of({"hooks.example.org": [["8.8.8.8"]], "local.test": [["127.0.0.1"]]})
    with pytest.raises(
        AddressRefused, match=r"must start with https:// \(http:// only to the allowed networks\)"
    ):
        await resolve_and_check(check_url("http://hooks.example.org/x"), LOOPBACK, resolve)
    assert await resolve_and_check(check_url("http://local.test:8080/x"), LOOPBACK, resolve) == [
        ipaddress.ip_address("127.0.0.1")
    ]
    with pytest.raises(AddressRefused, match="loopback"):
        await resolve_and_check(check_url("http://local.test:8080/x"), (), resolve)


class Recording(httpcore.AsyncNetworkBackend):
    """Records every connection asked of it; dials 127.0.0.1 only (the test's own receiver),
    and refuses anything else without opening a socket."""

    def __init__(self) -> None:
        self.dialled: list[tuple[str, int]] = []
        self.real = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, **kw: Any) -> Any:  # noqa: ASYNC109
        self.dialled.append((host, port))
        if host != "127.0.0.1":
            raise httpcore.ConnectError(f"the test does not dial {host}")
        return await self.real.connect_tcp(host, port, timeout=timeout, **kw)

    async def connect_unix_socket(self, path: str, timeout: float | None = None, **kw: Any) -> Any:  # noqa: ASYNC109
        raise AssertionError("no local sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A local HTTP server answering 204 to anything; the requests' first lines."""
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b"\r\n", 1)[0])
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, seen


async def post(pool: httpcore.AsyncConnectionPool, url: str) -> int:
    response = await pool.request("POST", url, headers={"content-type": "application/json"}, content=b"{}")
    return response.status


async def test_the_connection_goes_to_the_checked_address_not_the_name(receiver: Any) -> None:
    port, seen = receiver
    inner = Recording()
    resolve = resolver_of({"hooks.court.test": [["127.0.0.1"]]})
    async with guarded_pool(Reach(LOOPBACK, resolve), inner=inner) as pool:
        assert await post(pool, f"http://hooks.court.test:{port}/deliveries") == 204
    assert inner.dialled == [("127.0.0.1", port)]
    assert seen == [b"POST /deliveries HTTP/1.1"]


async def test_a_name_rebound_to_a_private_address_after_the_check_is_never_dialled(receiver: Any) -> None:
    """DNS rebinding: the name is public when the endpoint is created, loopback when it is
    called. The check at the connection refuses it; nothing is dialled."""
    port, seen = receiver
    resolve = resolver_of({"rebind.example.org": [["93.184.216.34"], ["127.0.0.1"]]})
    target = check_url(f"https://rebind.example.org:{port}/hook")
    assert await resolve_and_check(target, (), resolve) == [
        ipaddress.ip_address("93.184.216.34")
    ]  # at creation
    inner = Recording()
    async with guarded_pool(Reach((), resolve), inner=inner) as pool:
        with pytest.raises(
            AddressRefused, match=r"rebind\.example\.org resolves to 127\.0\.0\.1, which is loopback"
        ):
            await post(pool, f"https://rebind.example.org:{port}/hook")
    assert inner.dialled == []
    assert seen == []


async def test_each_private_answer_is_refused_before_any_connection() -> None:
    inner = Recording()
    names = {f"h{i}.example.org": [[address]] for i, (address, _) in enumerate(REFUSED)}
    resolve = resolver_of(names)
    async with guarded_pool(Reach((), resolve), inner=inner) as pool:
        for name in names:
            with pytest.raises(AddressRefused):
                await post(pool, f"https://{name}/hook")
    assert inner.dialled == []


async def test_a_public_name_is_dialled_at_its_checked_address() -> None:
    inner = Recording()
    resolve = resolver_of({"hooks.example.org": [["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]]})
    async with guarded_pool(Reach((), resolve), inner=inner) as pool:
        with pytest.raises(httpcore.ConnectError, match="does not dial"):
            await post(pool, "https://hooks.example.org/hook")
    # Every checked address was tried in turn, by address: the name was never given to a resolver
    # of the connection's own.
    assert inner.dialled == [("93.184.216.34", 443), ("2606:2800:220:1:248:1893:25c8:1946", 443)]


async def test_local_sockets_are_refused() -> None:
    with pytest.raises(httpcore.ConnectError, match="not to local sockets"):
        await GuardedBackend(Reach(LOOPBACK)).connect_unix_socket("/var/run/docker.sock")


async def test_a_reach_checks_form_scheme_and_addresses_together() -> None:
    """``Reach.check``: what a webhook URL must pass when it is given and at every attempt."""

    async def resolve(host: str, port: int) -> list[str]:
        return {"hooks.example.org": ["93.184.216.34"], "inside.example.org": ["10.0.0.7"]}.get(
            host, ["127.0.0.1"]
        )

    public = Reach((), resolve)
    assert (await public.check("https://hooks.example.org/in")).host == "hooks.example.org"
    with pytest.raises(AddressRefused, match="must start with https://"):
        await public.check("http://hooks.example.org/in")
    with pytest.raises(AddressRefused, match="private"):
        await public.check("https://inside.example.org/in")
    with pytest.raises(AddressRefused, match="user name or password"):
        await public.check("https://me:pw@hooks.example.org/in")
    with pytest.raises(AddressRefused, match="longer than 200"):
        await public.check("https://hooks.example.org/" + "x" * 300, max_length=200)
    local = Reach(LOOPBACK, resolve)
    assert (await local.check("http://receiver.test:8080/in")).port == 8080
    with pytest.raises(AddressRefused, match="http:// only to the allowed networks"):
        await local.check("http://hooks.example.org/in")
