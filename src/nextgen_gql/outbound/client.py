"""An HTTP client that connects only to addresses it checked (``outbound.addresses``).

Checking a URL's host and then letting an HTTP client resolve it again would leave a gap: a
name that resolves to a public address for the check and to 127.0.0.1 for the connection
(DNS rebinding) would pass. So the check is in the connection itself: ``GuardedBackend`` is
an ``httpcore`` network backend whose ``connect_tcp`` resolves the host once, checks every
address, and opens the TCP connection to a checked address, never to the name. TLS still
verifies the certificate against the URL's host name (``httpcore`` passes it as the server
name). httpx's transport takes no network backend, so ``guarded_pool`` is an
``httpcore.AsyncConnectionPool``: no redirects are followed, no proxy or ``.netrc`` is read
from the environment, nothing is retried by the client.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore

from nextgen_gql.outbound.addresses import PUBLIC_ONLY, Reach, Target, resolve_and_check

__all__ = ["Caller", "GuardedBackend", "guarded_pool"]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects to a host's checked addresses only (see the module); ``inner`` makes the
    connections (the default: ``httpcore``'s own)."""

    def __init__(self, reach: Reach = PUBLIC_ONLY, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.reach = reach
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # The scheme's rule (https, or http to allowed networks) is the caller's: httpcore asks
        # for a TCP connection before it starts TLS. The address rule is here, at every one.
        addresses = await resolve_and_check(
            Target("https", host.strip("[]"), port), self.reach.allow, self.reach.resolver
        )
        failed: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failed = exc
        assert failed is not None
        raise failed

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound calls go over TCP to checked addresses, not to local sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_pool(
    reach: Reach = PUBLIC_ONLY,
    *,
    inner: httpcore.AsyncNetworkBackend | None = None,
    ssl_context: ssl.SSLContext | None = None,
    max_connections: int = 20,
    keepalive_expiry: float = 30.0,
) -> httpcore.AsyncConnectionPool:
    """A connection pool whose every connection goes to a checked address (HTTP/1.1, no
    retries, no redirects, nothing from the environment)."""
    return httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=max_connections,
        keepalive_expiry=keepalive_expiry,
        http1=True,
        http2=False,
        retries=0,
        network_backend=GuardedBackend(reach, inner),
    )


@dataclass(kw_only=True)
class Caller:
    """What calls out holds: where it may call (``Reach``) and its guarded connection pool
    (made from the reach unless given). A worker's sender extends it with what it needs."""

    reach: Reach = PUBLIC_ONLY
    pool: httpcore.AsyncConnectionPool | None = None

    def __post_init__(self) -> None:
        if self.pool is None:
            self.pool = guarded_pool(self.reach)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()
