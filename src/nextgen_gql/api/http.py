"""HTTP hardening around the GraphQL endpoint.

- ``SecurityHeaders`` (the whole app): security headers on every response, and the request
  id (decided by ``observability.requests``) as ``X-Request-ID``.
- ``GraphQLGate`` (the GraphQL routes): the request body limit, the refusal of requests
  that a cross-site form could send riding the ``NextGenCSO`` cookie, and addressing the
  request to its court (path, ``X-Court`` or ``Host``; unknown courts get 404). A WebSocket
  handshake is addressed the same way (refused with the same answer before it is accepted);
  whether it may sign in with the cookie is decided at ``connection_init``
  (``api.live.websocket``), where it is known whether it uses the cookie.

Refusals are GraphQL-shaped JSON with ``extensions.code``, never a bare 4xx page.
"""

from __future__ import annotations

import secrets

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nextgen_gql.api.context import COOKIE_NAME
from nextgen_gql.api.graphql_http import APPLICATION_JSON, content_type_header, negotiate
from nextgen_gql.api.live.sockets import SocketsPerAddress
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.observability.requests import REQUEST_ID_KEY, note_court, note_error
from nextgen_gql.services.court_catalog import LiveCourts
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import UnknownCourt

__all__ = [
    "COURTS_SCOPE_KEY",
    "COURT_SCOPE_KEY",
    "REQUEST_ID_KEY",
    "WRITING_KEY",
    "GraphQLGate",
    "SecurityHeaders",
    "error_response",
    "refuse",
]

COURT_SCOPE_KEY = "nextgen_gql.court"
#: The registry of courts a request started with: it keeps it to its end, whatever changes.
COURTS_SCOPE_KEY = "nextgen_gql.courts"
JSON_TYPES = {"application/json"}

_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-site"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
# JSON answers load nothing; HTML pages (GraphiQL) set their own policy.
_JSON_CSP = b"default-src 'none'; frame-ancestors 'none'"
_JSON_MEDIA = (b"application/json", b"application/graphql-response+json")


def error_response(
    status: int,
    message: str,
    code: RequestErrorCode,
    media_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A refused request: a GraphQL error with ``extensions.code`` and no ``data`` (nothing ran),
    in the media type the client accepts (``application/json`` when it accepts neither)."""
    note_error(code.value)
    body = {"errors": [{"message": message, "extensions": {"code": code.value}}]}
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=content_type_header(media_type or APPLICATION_JSON),
        headers=headers,
    )


def refuse(scope: Scope, status: int, message: str, code: RequestErrorCode) -> Response:
    """``error_response`` for a request of ``scope``, in the media type its Accept asks for."""
    return error_response(status, message, code, negotiate(Headers(scope=scope).get("accept")))


def is_https(scope: Scope, settings: Settings) -> bool:
    """Served over HTTPS: the scheme as ``api.proxies.TrustedProxies`` settled it (a trusted
    proxy's single ``X-Forwarded-Proto``, or the connection's own)."""
    return scope.get("scheme") in ("https", "wss")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.get(REQUEST_ID_KEY) or secrets.token_hex(8)
        https = is_https(scope, self.settings)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Raw header pairs, not MutableHeaders: this runs on every response.
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                headers.append((b"x-request-id", request_id.encode()))
                headers += [(name, value) for name, value in _API_HEADERS if name not in present]
                if b"content-security-policy" not in present and not content_type.startswith(b"text/html"):
                    headers.append((b"content-security-policy", _JSON_CSP))
                if content_type.startswith(_JSON_MEDIA) and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TooLarge(Exception):
    pass


async def _deny(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    """Refuse a WebSocket handshake with an HTTP answer (where the server can send one: the
    ASGI denial response extension), else with a close before accepting (HTTP 403)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await response(scope, receive, send)
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": ""})


#: Set in a request's scope when a mutation starts running: a client that disconnects no
#: longer abandons it (``admission.stage``).
WRITING_KEY = "nextgen_gql.writing"


class GraphQLGate:
    def __init__(self, app: ASGIApp, courts: LiveCourts, settings: Settings) -> None:
        self.app = app
        self.courts = courts
        self.settings = settings
        #: Open WebSockets per address (``NEXTGEN_GQL_MAX_WEBSOCKETS_PER_ADDRESS``).
        self.sockets = SocketsPerAddress(settings.max_websockets_per_address)

    def _cross_site_refusal(self, scope: Scope, headers: Headers) -> str | None:
        """Why a cookie-authenticated request looks like one a cross-site page could send."""
        if headers.get("authorization", "").lower().startswith("bearer "):
            return None  # a Bearer token is never sent by a browser on its own
        if f"{COOKIE_NAME}=" not in headers.get("cookie", ""):
            return None
        if scope["method"] == "POST":
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type not in JSON_TYPES:
                return (
                    f"Requests signed in with the {COOKIE_NAME} cookie must be sent as application/json "
                    "(a form or text/plain post could come from another site)."
                )
        origin = headers.get("origin")
        if origin and origin != "null":
            own = f"{'https' if is_https(scope, self.settings) else 'http'}://{headers.get('host', '')}"
            if origin != own and origin not in self.settings.cors_origins:
                return f"Requests signed in with the {COOKIE_NAME} cookie are not accepted from {origin}."
        elif origin == "null":
            return f"Requests signed in with the {COOKIE_NAME} cookie are not accepted from an opaque origin."
        return None

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket: counted against its address's limit (past it, closed ``4429``:
        ``api.live.sockets``) for its whole life, then addressed to its court."""
        address = self.sockets.address_of(scope)
        if not self.sockets.enter(address):  # one address holds too many: closed 4429
            await self.sockets.refuse(scope, receive, send)
            return
        try:
            await self._addressed_websocket(scope, receive, send)
        finally:
            self.sockets.leave(address)

    async def _addressed_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        registry = self.courts.current
        scope[COURTS_SCOPE_KEY] = registry
        try:
            if b"%00" in scope.get("query_string", b""):
                raise ValueError("Text may not contain the NUL character.")
            court = registry.resolve(
                path_code=scope.get("path_params", {}).get("code"),
                header_code=headers.get("x-court"),
                host=headers.get("host"),
            )
        except UnknownCourt as exc:
            await _deny(scope, receive, send, refuse(scope, 404, str(exc), RequestErrorCode.UNKNOWN_COURT))
            return
        except ValueError as exc:
            await _deny(scope, receive, send, refuse(scope, 400, str(exc), RequestErrorCode.INVALID_INPUT))
            return
        scope[COURT_SCOPE_KEY] = court
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.settings.max_body_bytes
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await refuse(
                scope,
                413,
                f"The request body is larger than {limit} bytes.",
                RequestErrorCode.PAYLOAD_TOO_LARGE,
            )(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            await refuse(scope, 400, "Text may not contain the NUL character.", RequestErrorCode.BAD_REQUEST)(
                scope, receive, send
            )
            return
        refusal = self._cross_site_refusal(scope, headers)
        if refusal:
            await refuse(scope, 403, refusal, RequestErrorCode.FORBIDDEN)(scope, receive, send)
            return
        registry = self.courts.current
        scope[COURTS_SCOPE_KEY] = registry
        try:
            court = registry.resolve(
                path_code=scope.get("path_params", {}).get("code"),
                header_code=headers.get("x-court"),
                host=headers.get("host"),
            )
        except UnknownCourt as exc:
            await refuse(scope, 404, str(exc), RequestErrorCode.UNKNOWN_COURT)(scope, receive, send)
            return
        except ValueError as exc:
            await refuse(scope, 400, str(exc), RequestErrorCode.INVALID_INPUT)(scope, receive, send)
            return
        scope[COURT_SCOPE_KEY] = court
        note_court(court.code if court is not None else None)

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await refuse(
                scope,
                413,
                f"The request body is larger than {limit} bytes.",
                RequestErrorCode.PAYLOAD_TOO_LARGE,
            )(scope, receive, send)
