"""GraphQL over WebSocket: the ``graphql-transport-ws`` protocol (as the npm ``graphql-ws``
client speaks it), on both GraphQL routes, for subscriptions.

Strawberry's protocol handler, with what a court's service needs on top:

- **Signing in**: ``connection_init``'s payload ``{"authorization": "Bearer <token>"}``, else
  an ``Authorization`` header on the handshake, else the ``NextGenCSO`` cookie, taken only
  from the service's own pages and the allowed origins (``NEXTGEN_GQL_CORS_ORIGINS``), as
  HTTP takes it. Credentials are checked by the rules a query's are (``api.live.admission``):
  what a query answers 401 or 403 (a malformed header, a token that does not hold, a service
  key) closes the socket ``4403``; no credentials is anonymous (``courtsChanged``). When the session ends later, ``4401`` (``LiveConnections``).
- **Documents** as HTTP takes them (``GraphQLView.prepare``): text, a persisted document's
  id (``documentId``, ``doc_id``, ``id``) or an automatic persisted query's hash, under the
  same limits and trusted-documents rule. Subscriptions only: queries and mutations go
  over HTTP.
- **Errors** coded and masked as over HTTP (an unexpected one names a request id).
- **Limits**: subscriptions per connection and per account (an ``error`` message coded
  ``RATE_LIMITED``), a ``ping`` every ``NEXTGEN_GQL_KEEPALIVE_SECONDS`` (no ``pong`` by the next
  one: ``4408``), a slow reader closed ``1013`` (``EventHub``); a message that is not the
  protocol's gets the protocol's close code (``4400``, ``4401``, ``4409``, ``4429``), never a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from graphql import GraphQLError, OperationType
from starlette.datastructures import Headers
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    PongMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType as StreamedTypes
from strawberry.utils.aio import aclosing

from nextgen_gql.api.context import COOKIE_NAME, Context, credentials_from_header
from nextgen_gql.api.graphql_http import APPLICATION_JSON, RequestErrors, RequestRefused, params_from_mapping
from nextgen_gql.api.live.admission import LiveRefused, admit
from nextgen_gql.api.live.connections import CLOSE, LiveConnection, safe_reason
from nextgen_gql.api.request_errors import RequestErrorCode, with_code
from nextgen_gql.db_backends.outages import is_unavailable
from nextgen_gql.models import Session
from nextgen_gql.settings import Settings

if TYPE_CHECKING:
    from nextgen_gql.api.view import GraphQLView

__all__ = ["LiveSocket", "LiveWebSocketHandler", "cookie_origin_refusal"]

log = logging.getLogger("nextgen_gql.live")

_TYPES = {"connection_init", "ping", "pong", "subscribe", "complete"}


class LiveSocket(ASGIWebSocketAdapter):
    """Strawberry's socket adapter: messages as text frames (graphql-transport-ws is JSON text),
    closed once, and refusing to send after (an operation may still try while another task
    closes the socket)."""

    closed = False

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.closed or self.ws.application_state is WebSocketState.DISCONNECTED:
            raise WebSocketDisconnected
        # orjson gives bytes: sent as a text frame, as the protocol wants.
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except (RuntimeError, WebSocketDisconnect) as exc:  # the socket closed under us
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        if self.closed or self.ws.application_state is WebSocketState.DISCONNECTED:
            return
        self.closed = True
        with contextlib.suppress(RuntimeError):
            await self.ws.close(code=code, reason=safe_reason(reason))


def cookie_origin_refusal(scope: Mapping[str, Any], headers: Headers, settings: Settings) -> str | None:
    """Why a socket may not sign in with the ``NextGenCSO`` cookie: its page's ``Origin`` is
    neither the service's own nor allowed (``GraphQLGate``'s rule for HTTP). None: it may."""
    origin = headers.get("origin")
    if origin is None:
        return None  # not a browser: it carries no cookie of someone else's
    if origin == "null":
        return f"Forbidden: the {COOKIE_NAME} cookie is not accepted from an opaque origin"
    # The scheme as api.proxies settled it (a trusted proxy's X-Forwarded-Proto).
    secure = scope.get("scheme") in ("https", "wss")
    own = f"{'https' if secure else 'http'}://{headers.get('host', '')}"
    if origin == own or origin in settings.cors_origins:
        return None
    return f"Forbidden: the {COOKIE_NAME} cookie is not accepted from {origin}"


class _Refused(Exception):
    """connection_init refused: the socket closes 4403 with this reason."""


class LiveOperation(Operation[Context, None]):
    """An operation, holding its subscribe payload until its task reads it."""

    __slots__ = ("payload",)
    payload: dict[str, Any]


class LiveWebSocketHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """One WebSocket speaking graphql-transport-ws (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service = cast("GraphQLView", self.view)
        registry = self.service.connections
        assert registry is not None
        self.registry = registry
        self.request_id = secrets.token_hex(8)
        self.connection: LiveConnection = registry.open(
            self.context.source_address, self._end, self.request_id
        )
        self._closing: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._ping_sent: float | None = None
        self._pong_seen = 0.0

    # -- the connection's life ------------------------------------------------------------

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            if self._keepalive is not None:
                self._keepalive.cancel()
            self.registry.close(self.connection)

    def _end(self, code: int, reason: str) -> None:
        """``LiveConnection.end``: close the socket (from whichever task asks)."""
        self._closing = asyncio.get_running_loop().create_task(self.websocket.close(code, reason))

    async def _keep_alive(self) -> None:
        interval = self.registry.settings.keepalive_seconds
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            if self._ping_sent is not None and self._pong_seen < self._ping_sent:
                self.connection.end(CLOSE.TIMEOUT, f"Keep-alive: no pong within {interval} s")
                return
            self._ping_sent = loop.time()
            try:
                await self.send_message({"type": "ping"})
            except WebSocketDisconnected:
                return

    # -- messages -------------------------------------------------------------------------

    async def handle_message(self, message: Message) -> None:
        raw = cast(object, message)
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            await self.handle_invalid_message("Invalid message: a JSON object with a string type is expected")
            return
        kind = raw["type"]
        if kind not in _TYPES:
            await self.handle_invalid_message(f"Unknown message type: {kind[:40]}")
            return
        if kind in ("subscribe", "complete"):
            operation_id = raw.get("id")
            if not isinstance(operation_id, str) or not 0 < len(operation_id) <= 256:
                await self.handle_invalid_message(
                    f"Invalid {kind} message: id must be a string of 1 to 256 characters"
                )
                return
            if kind == "subscribe" and not isinstance(raw.get("payload"), dict):
                await self.handle_invalid_message("Invalid subscribe message: payload must be an object")
                return
        try:
            await super().handle_message(message)
        except WebSocketDisconnected:
            raise
        except Exception:
            log.exception("live: a %s message failed (request id %s)", kind, self.request_id)
            self.connection.end(1011, f"Internal error. Quote request id {self.request_id} to the help desk.")

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.websocket.close(code=CLOSE.BAD_REQUEST, reason=safe_reason(error_message))

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload")
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            await self.websocket.close(code=CLOSE.BAD_REQUEST, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        try:
            session = await self._session(payload)
        except _Refused as refused:
            await self.websocket.close(code=CLOSE.FORBIDDEN, reason=safe_reason(str(refused)))
            return
        await self.registry.sign_in(self.connection, session)
        if self.connection.ended:
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True
        self._keepalive = asyncio.create_task(self._keep_alive(), name="live-keepalive")

    async def _session(self, payload: dict[str, Any]) -> Session | None:
        """The session the connection signs in with: the payload's ``authorization``, else the
        handshake's ``Authorization`` header, else the cookie (from an allowed page); None:
        anonymous. Checked as a query's credentials are (``api.live.admission``): what a query
        answers 401 or 403 closes the socket ``4403`` (``_Refused``)."""
        request = self.context.request
        given = payload.get("authorization", payload.get("Authorization"))
        cookie = request.cookies.get(COOKIE_NAME)
        credentials = credentials_from_header(
            given if given is not None else request.headers.get("authorization"), cookie
        )
        if credentials.source == "cookie":
            refusal = cookie_origin_refusal(request.scope, request.headers, self.registry.settings)
            if refusal is not None:
                raise _Refused(refusal)
        context = self.service.live_context(request, self.connection)
        context.credentials = credentials
        context.token = credentials.token
        try:
            return await admit(context)  # a cookie that no longer holds: anonymous
        except LiveRefused as refused:
            raise _Refused(f"Forbidden: {refused.message}") from None

    async def handle_pong(self, message: PongMessage) -> None:
        self._pong_seen = asyncio.get_running_loop().time()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await self.websocket.close(code=CLOSE.UNAUTHORIZED, reason="Unauthorized")
            return
        operation_id = message["id"]
        if operation_id in self.operations:
            await self.websocket.close(
                code=4409, reason=safe_reason(f"Subscriber for {operation_id} already exists")
            )
            return
        operation = LiveOperation(self, operation_id, "", None, None)
        operation.payload = cast(dict[str, Any], message["payload"])
        refusal = self.registry.acquire(self.connection)
        if refusal is not None:
            self.operations[operation_id] = operation
            await self._errors(operation, [with_code(GraphQLError(refusal), RequestErrorCode.RATE_LIMITED)])
            return
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(lambda _task: self.registry.release(self.connection))
        operation.task.add_done_callback(self._task_done)
        self.operations[operation_id] = operation

    # -- running one subscription ---------------------------------------------------------

    async def _errors(self, operation: Operation[Context, None], errors: list[GraphQLError]) -> None:
        payload = [self.service.format_error(error, self.request_id) for error in errors]
        await operation.send_operation_message(
            cast(Message, {"id": operation.id, "type": "error", "payload": payload})
        )

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        context = self.service.live_context(self.context.request, self.connection)
        try:
            try:
                params = params_from_mapping(cast(LiveOperation, operation).payload)
                query, document, chosen, remember, _ = await self.service.prepare(params, APPLICATION_JSON)
                if chosen.operation is OperationType.SUBSCRIPTION:
                    self.service.charge_subscription(
                        self.connection.account_id,
                        self.connection.address,
                        document,
                        chosen,
                        params.variables,
                    )
                    if remember:  # charged: kept (a refused start keeps nothing)
                        await self.service.documents.remember(query, document)
            except RequestRefused as refused:
                await self._errors(operation, [with_code(GraphQLError(refused.message), refused.code)])
                return
            except RequestErrors as failed:
                try:  # a refused document costs its caller points too (``api.charging``)
                    self.service.charging.charge_live(
                        self.connection.account_id, self.connection.address, 0, "a refused document"
                    )
                except RequestRefused as refused:
                    await self._errors(operation, [with_code(GraphQLError(refused.message), refused.code)])
                    return
                await self._errors(operation, failed.errors)
                return
            if chosen.operation is not OperationType.SUBSCRIPTION:
                message = f"Only subscriptions are served over WebSocket: send this {chosen.operation.value} over HTTP."
                await self._errors(
                    operation, [with_code(GraphQLError(message), RequestErrorCode.BAD_REQUEST)]
                )
                return
            source = await self.schema.stream(
                query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                operation_extensions=params.extensions,
                allowed_operation_types=(StreamedTypes.SUBSCRIPTION,),
            )
            async with aclosing(source):
                first = True
                async for result in source:
                    if first and isinstance(result, PreExecutionError):
                        await self._errors(operation, list(result.errors or []))
                        return
                    first = False
                    if not isinstance(result, ExecutionResult):
                        await self._errors(operation, [GraphQLError("Incremental delivery is not served.")])
                        return
                    await operation.send_operation_message(
                        cast(Message, {"id": operation.id, "type": "next", "payload": self._result(result)})
                    )
            await operation.send_operation_message(cast(Message, {"id": operation.id, "type": "complete"}))
        except WebSocketDisconnected:
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_unavailable(exc):  # an `error` message with the code; the socket stays open
                lost = GraphQLError("The database cannot be reached now: subscribe again in a moment.")
                with contextlib.suppress(Exception):
                    await self._errors(operation, [with_code(lost, RequestErrorCode.DATABASE_UNAVAILABLE)])
                return
            log.exception("live: a subscription failed (request id %s)", self.request_id)
            with contextlib.suppress(Exception):
                await operation.send_operation_message(
                    cast(Message, {"id": operation.id, "type": "complete"})
                )
        finally:
            for stream in context.live_streams:  # also those of a generator that never started
                stream.close()

    def _result(self, result: ExecutionResult) -> dict[str, Any]:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [self.service.format_error(error, self.request_id) for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        return payload
