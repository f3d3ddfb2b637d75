"""The real caller behind a proxy: uvicorn's ``ProxyHeadersMiddleware``, with the service's rules.

Every request's ``scope["client"]`` and ``scope["scheme"]`` are settled here, once, before
anything reads them (the per-address limits, the request log, HTTPS detection, the cookie's
origin check), for in-process tests and every worker alike; ``serve`` runs uvicorn with its
own proxy handling off, so nothing else rewrites them.

The rules (``NEXTGEN_GQL_FORWARDED_ALLOW_IPS``, default loopback):

- ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are read only when the TCP peer is a
  trusted proxy; from anyone else they are ignored.
- The caller is the rightmost ``X-Forwarded-For`` hop that is not a trusted proxy
  (uvicorn's walk), so hops a client wrote to the left of what its proxy appended count
  for nothing. A hop there that is not an IP address leaves the peer as the caller.
- ``X-Forwarded-Proto`` counts only as the trusted peer's single value, ``http`` or
  ``https``: a list, a repeated header or anything else leaves the scheme as it was.
"""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

__all__ = ["TrustedProxies"]


def _is_ip(host: object) -> bool:
    if not isinstance(host, str):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_PEER = "nextgen_gql.peer"
#: The headers uvicorn's middleware reads; a request with neither is left as it came.
_FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto"})


class TrustedProxies:
    """ASGI middleware: uvicorn's ``ProxyHeadersMiddleware`` with the trusted proxies of the
    settings, plus the two rules it lacks (a hop that is no address; one exact proto)."""

    def __init__(self, app: ASGIApp, allow: tuple[str, ...]) -> None:
        # Settings has refused '*' and anything that is not an address or network.
        self.app = app
        self.proxy = ProxyHeadersMiddleware(cast(Any, self._settle), trusted_hosts=list(allow))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not any(name in _FORWARDED for name, _ in scope["headers"]):
            await self.app(scope, receive, send)  # nothing forwarded: nothing to settle
            return
        scope[_PEER] = (scope.get("client"), scope.get("scheme"))
        await self.proxy(cast(Any, scope), cast(Any, receive), cast(Any, send))

    async def _settle(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer, scheme = scope[_PEER]
        client = scope.get("client")
        if client != peer and not (client and _is_ip(client[0])):
            scope["client"] = peer
        if scope.get("scheme") != scheme:
            protos = [value for name, value in scope["headers"] if name == b"x-forwarded-proto"]
            if len(protos) != 1 or protos[0].strip() not in (b"http", b"https"):
                scope["scheme"] = scheme
        await self.app(scope, receive, send)
