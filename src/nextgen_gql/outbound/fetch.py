"""One guarded ``GET`` of a small JSON document from another server (a client's JWKS): the
address rules of every outbound call (``Reach``: public addresses only, checked before and at
connecting), a short timeout, a bounded body, no redirects. Raises ``FetchFailed`` saying
what went wrong, in words a client's administrator can act on.
"""

from __future__ import annotations

from typing import Any

import httpcore
import orjson

from nextgen_gql.outbound.addresses import AddressRefused, Reach

__all__ = ["FETCH_TIMEOUT_S", "MAX_DOCUMENT_BYTES", "FetchFailed", "get_json"]

#: A server answers within this many seconds (connecting included).
FETCH_TIMEOUT_S = 5.0
#: The largest document read (a JWKS of a few keys is a few kilobytes).
MAX_DOCUMENT_BYTES = 65_536


class FetchFailed(Exception):
    """The document could not be had: why, in words."""


async def get_json(
    pool: httpcore.AsyncConnectionPool,
    url: str,
    reach: Reach,
    *,
    timeout_s: float = FETCH_TIMEOUT_S,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Any:
    """The JSON document at ``url``, fetched through ``pool`` (connections to checked addresses
    only) once the URL and its addresses were checked (``Reach.check``)."""
    try:
        await reach.check(url)
    except AddressRefused as exc:
        raise FetchFailed(f"address not allowed: {exc}") from None
    timeouts = {"connect": timeout_s, "read": timeout_s, "write": timeout_s, "pool": timeout_s}
    body = bytearray()
    try:
        async with pool.stream(
            "GET", url, headers=[(b"accept", b"application/json")], extensions={"timeout": timeouts}
        ) as response:
            status = response.status
            async for chunk in response.aiter_stream():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchFailed(f"the document is larger than {max_bytes} bytes")
    except AddressRefused as exc:
        raise FetchFailed(f"address not allowed: {exc}") from None
    except httpcore.TimeoutException:
        raise FetchFailed(f"no answer within {timeout_s:g} s") from None
    except (httpcore.ConnectError, OSError) as exc:
        raise FetchFailed(f"could not connect: {str(exc)[:200] or type(exc).__name__}") from None
    except (httpcore.ProtocolError, httpcore.NetworkError) as exc:
        raise FetchFailed(f"the connection failed: {str(exc)[:200] or type(exc).__name__}") from None
    if status != 200:
        raise FetchFailed(
            f"answered {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FetchFailed("the answer is not JSON") from None
