"""Which addresses the service may call, and the check of a URL against them.

The rule: an outbound call goes to ``https://`` URLs whose every resolved address is public.
Refused, by an explicit list (``BLOCKED_NETWORKS``) rather than by ``ipaddress``'s
``is_global`` alone, which calls several of these global: the unspecified and "this network"
addresses, loopback, the private ranges (RFC 1918, IPv6 unique local), link-local (where
cloud metadata services answer: 169.254.169.254, ``fd00:ec2::254``), shared address space
(100.64.0.0/10, carrier-grade NAT), multicast, reserved and documentation ranges, benchmarking
(198.18.0.0/15), and every IPv6 form that carries an IPv4 address (IPv4-mapped
``::ffff:0:0/96``, IPv4-compatible ``::/96``, IPv4-translated, NAT64 ``64:ff9b::/96`` and
``64:ff9b:1::/48``, 6to4 ``2002::/16``, Teredo ``2001::/32``): through any of those, a public
looking IPv6 address reaches an IPv4 one the list refuses. And whatever is not in the list
but that ``ipaddress`` does not call global is refused too.

``NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS`` (networks, comma-separated; default none) lets a
closed network or a test suite call addresses the rule refuses, and ``http://`` to them.

A host is resolved once per call and every address it resolves to must pass: a name that
resolves to one public and one private address is refused (an attacker's DNS may answer
either at connect time). The caller then connects to an address it checked
(``outbound.client``), never to the name again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "BLOCKED_NETWORKS",
    "PUBLIC_ONLY",
    "AddressRefused",
    "IPAddress",
    "IPNetwork",
    "Reach",
    "Resolver",
    "Target",
    "check_address",
    "check_url",
    "parse_networks",
    "resolve_and_check",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: (host, port) -> the addresses the host resolves to, as text.
Resolver = Callable[[str, int], Awaitable[list[str]]]


def _nets(*pairs: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(net), reason) for net, reason in pairs)


#: Every range the service never calls unless allowed, with what it is (said in refusals); the
#: first that holds an address names it.
BLOCKED_NETWORKS: tuple[tuple[IPNetwork, str], ...] = _nets(
    ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
    ("10.0.0.0/8", "private (10.0.0.0/8)"),
    ("100.64.0.0/10", "shared address space (100.64.0.0/10)"),
    ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
    ("169.254.0.0/16", "link-local (169.254.0.0/16, where cloud metadata services answer)"),
    ("172.16.0.0/12", "private (172.16.0.0/12)"),
    ("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
    ("192.0.2.0/24", "documentation (192.0.2.0/24)"),
    ("192.88.99.0/24", "6to4 relay anycast (192.88.99.0/24)"),
    ("192.168.0.0/16", "private (192.168.0.0/16)"),
    ("198.18.0.0/15", "benchmarking (198.18.0.0/15)"),
    ("198.51.100.0/24", "documentation (198.51.100.0/24)"),
    ("203.0.113.0/24", "documentation (203.0.113.0/24)"),
    ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
    ("::/128", "unspecified (::)"),
    ("::1/128", "loopback (::1)"),
    ("::ffff:0:0/96", "IPv4-mapped (::ffff:0:0/96)"),
    ("::/96", "IPv4-compatible (::/96)"),
    ("::ffff:0:0:0/96", "IPv4-translated (::ffff:0:0:0/96)"),
    ("64:ff9b::/96", "NAT64 (64:ff9b::/96)"),
    ("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"),
    ("100::/64", "discard-only (100::/64)"),
    ("2001::/32", "Teredo (2001::/32)"),
    ("2001::/23", "IETF protocol assignments (2001::/23)"),
    ("2001:db8::/32", "documentation (2001:db8::/32)"),
    ("2002::/16", "6to4 (2002::/16)"),
    ("3fff::/20", "documentation (3fff::/20)"),
    ("5f00::/16", "segment routing (5f00::/16)"),
    ("fc00::/7", "unique local (fc00::/7, private)"),
    ("fe80::/10", "link-local (fe80::/10)"),
    ("fec0::/10", "site-local (fec0::/10)"),
    ("ff00::/8", "multicast (ff00::/8)"),
)


class AddressRefused(Exception):
    """The URL, or an address its host resolves to, may not be called. The message says why."""


@dataclass(frozen=True)
class Target:
    """A URL that passed ``check_url``: its scheme, host (without brackets) and port."""

    scheme: str
    host: str
    port: int


def parse_networks(text: str | None) -> tuple[IPNetwork, ...]:
    """``NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS``: networks, comma-separated (an address alone is
    its /32 or /128). ``ValueError`` naming the entry that is not one."""
    found: list[IPNetwork] = []
    for part in (text or "").split(","):
        entry = part.strip()
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not a network (for example 10.0.0.0/8 or 127.0.0.1/32)") from None
    return tuple(found)


def _allowed(address: IPAddress, allow: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in allow)


def _refusal(address: IPAddress, allow: Iterable[IPNetwork]) -> str | None:
    """What ``address`` is, when it may not be called; None when it may."""
    if _allowed(address, allow):
        return None
    for network, what in BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return what
    return None if address.is_global else "not a public address"


_ONLY_PUBLIC = "the service calls only public addresses"


def check_address(address: IPAddress, allow: Iterable[IPNetwork] = ()) -> None:
    """``AddressRefused`` unless ``address`` is public, or in an allowed network."""
    what = _refusal(address, allow)
    if what is not None:
        raise AddressRefused(f"{address} is {what}: {_ONLY_PUBLIC}")


def check_url(url: str, *, max_length: int = 2048) -> Target:
    """The form of a URL the service may call: ``https://`` (or ``http://``, which
    ``resolve_and_check`` lets through only to allowed networks), a host, no user name or
    password, no fragment. ``AddressRefused`` naming what is wrong."""
    if len(url) > max_length:
        raise AddressRefused(f"the URL is longer than {max_length} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise AddressRefused("the URL holds spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"the URL is not valid: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise AddressRefused(f"the URL must start with https:// (not {parts.scheme or 'nothing'}:)")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("the URL must not hold a user name or password")
    if parts.fragment:
        raise AddressRefused("the URL must not hold a fragment (#...)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise AddressRefused("the URL has no host")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for ``host`` (TCP), in its order, once each."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AddressRefused(f"{host} cannot be resolved: {exc.strerror or exc}") from None
    found: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # an IPv6 scope (fe80::1%eth0): refused anyway
        if text not in found:
            found.append(text)
    return found


async def resolve_and_check(
    target: Target, allow: Sequence[IPNetwork], resolver: Resolver = system_resolver
) -> list[IPAddress]:
    """The addresses of ``target``'s host, every one checked (``check_address``); an
    ``http://`` target only when every one is in an allowed network. An address literal is
    not resolved."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        texts = await resolver(target.host, target.port)
        if not texts:
            raise AddressRefused(f"{target.host} resolves to no address")
        try:
            addresses = [ipaddress.ip_address(text) for text in texts]
        except ValueError as exc:
            raise AddressRefused(
                f"{target.host} resolves to something that is not an address: {exc}"
            ) from None
    for address in addresses:
        what = _refusal(address, allow)
        if what is not None:
            said = (
                f"{address} is" if literal is not None else f"{target.host} resolves to {address}, which is"
            )
            raise AddressRefused(f"{said} {what}: {_ONLY_PUBLIC}")
    if target.scheme == "http" and not all(_allowed(a, allow) for a in addresses):
        raise AddressRefused("the URL must start with https:// (http:// only to the allowed networks)")
    return addresses


@dataclass(frozen=True)
class Reach:
    """Which addresses the service may call and how it resolves names: one value, made once
    from the settings (``NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS``) and held by whatever calls out
    (a court's webhook endpoints when they are made or changed, the webhook worker at every
    attempt, its connection pool at every connection). Tests give it a resolver of their own."""

    allow: tuple[IPNetwork, ...] = ()
    resolver: Resolver = system_resolver

    async def check(self, url: str, *, max_length: int = 2048) -> Target:
        """The URL's target, if the service may call it: its form (``check_url``), ``https://``
        (``http://`` only where networks are allowed, and only to them), and every address
        its host resolves to now (``resolve_and_check``); else ``AddressRefused``."""
        target = check_url(url, max_length=max_length)
        if target.scheme != "https" and not self.allow:
            raise AddressRefused(f"the URL must start with https:// (not {target.scheme}:)")
        await resolve_and_check(target, self.allow, self.resolver)
        return target


#: Public addresses only, resolved by the system (no network allowed by setting).
PUBLIC_ONLY = Reach()
