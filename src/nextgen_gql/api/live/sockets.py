"""WebSockets open at once per address, on one worker (``NEXTGEN_GQL_MAX_WEBSOCKETS_PER_ADDRESS``).

The address is the caller as the throttles and budgets see it: the peer, or behind a trusted
proxy the hop ``api.proxies`` settled on, and an IPv6 /64 counts as one address
(``services.budgets.address_caller``). A handshake past the limit is accepted and closed at
once with ``4429`` (a close code needs an accepted socket: a handshake refused with an HTTP
answer reaches a browser's script as a bare ``1006``), before anything is read from it; the
WebSocket ends there, so it holds no place. Signed in or not makes no difference: the
connection is counted before its ``connection_init`` says who it is.
"""

from __future__ import annotations

import collections

from starlette.types import Receive, Scope, Send

from nextgen_gql.api.live.connections import safe_reason
from nextgen_gql.services.budgets import address_caller

__all__ = ["TOO_MANY_SOCKETS", "SocketsPerAddress"]

#: The close code of a handshake past the limit (graphql-transport-ws's "too many" code).
TOO_MANY_SOCKETS = 4429


class SocketsPerAddress:
    """Counts the open WebSockets of each address (one instance per worker).

    Example:
        sockets = SocketsPerAddress(50)
        address = sockets.address_of(scope)
        if not sockets.enter(address):
            await sockets.refuse(scope, receive, send)
            return
        try:
            ...  # the socket's life
        finally:
            sockets.leave(address)
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: collections.Counter[str] = collections.Counter()

    def __len__(self) -> int:
        return sum(self._open.values())

    @staticmethod
    def address_of(scope: Scope) -> str:
        client = scope.get("client")
        return address_caller(client[0] if client else "unknown")

    def count(self, address: str) -> int:
        return self._open.get(address, 0)

    def enter(self, address: str) -> bool:
        """Count one more socket of ``address``; False (nothing counted) past the limit."""
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        return True

    def leave(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Accept the handshake (with the subprotocol the client asked for first, so that a
        browser keeps the close code) and close it ``4429`` with a reason saying why."""
        message = await receive()
        if message["type"] != "websocket.connect":
            return  # the client went away first
        offered = scope.get("subprotocols") or []
        await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
        reason = (
            f"Too many WebSockets from this address: at most {self.limit} at once. "
            "Close one (a socket carries many subscriptions)."
        )
        await send({"type": "websocket.close", "code": TOO_MANY_SOCKETS, "reason": safe_reason(reason)})
