"""Who a live connection is: the credentials of a subscription, checked by the rules a query's
are (``Context.admit``), on both live transports.

Over server-sent events the request's own ``Authorization`` header or ``NextGenCSO`` cookie;
over a WebSocket ``connection_init``'s ``authorization``, else the handshake's header, else the
cookie (``api.live.websocket``). Either way:

- an ``Authorization`` value that is not ``Bearer <token>``, or a bearer token that names no
  live session (malformed, expired, revoked, signed out) or key: refused, ``UNAUTHENTICATED``
  (401 with ``WWW-Authenticate`` before a stream starts; a WebSocket closes ``4403``);
- a court's service key away from its court (another court, the national endpoint):
  ``FORBIDDEN`` (403; ``4403``), as for a query; at its court too, since no subscription is
  within a key's scopes (its systems read with queries);
- a ``NextGenCSO`` cookie that names no live session: anonymous (and cleared, over HTTP);
- no credentials: anonymous.

Nothing is charged and no stream opens for a refused connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from nextgen_gql.api.context import Context, InvalidToken, KeyElsewhere
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.models import Session

__all__ = ["LiveRefused", "admit"]


@dataclass
class LiveRefused(Exception):
    """A live connection's credentials do not hold: the status and code a query would get."""

    status: int
    code: RequestErrorCode
    message: str
    #: ``WWW-Authenticate`` (RFC 6750) for a 401.
    challenge: str | None = None

    def __str__(self) -> str:
        return self.message

    @property
    def headers(self) -> dict[str, str]:
        return {"www-authenticate": self.challenge} if self.challenge else {}


async def admit(context: Context) -> Session | None:
    """The session a subscription runs as (None: anonymous); ``LiveRefused`` when the
    credentials do not hold here (see the module's docstring)."""
    try:
        session = await context.admit()
    except InvalidToken as refused:
        raise LiveRefused(
            401,
            RequestErrorCode.UNAUTHENTICATED,
            refused.message,
            f'Bearer error="{refused.error}", error_description="{refused.message}"',
        ) from None
    except KeyElsewhere as refused:
        raise LiveRefused(403, RequestErrorCode.FORBIDDEN, refused.message) from None
    key = context.service_key
    if key is not None:
        raise LiveRefused(
            403,
            RequestErrorCode.FORBIDDEN,
            f"The service key {key.prefix} may not subscribe: no subscription is within a key's "
            "scopes. Read with queries, or subscribe signed in as a person.",
        )
    return session
