"""Subscriptions over plain HTTP, as server-sent events (graphql-sse's "distinct connections"
mode), for clients that cannot open a WebSocket.

``POST`` (or ``GET``, as ``EventSource`` sends it) to either GraphQL route with
``Accept: text/event-stream``: the answer is ``200 text/event-stream``, each result an
``event: next`` whose data is the result's JSON, then ``event: complete``. Request errors of
a client that accepts nothing but the stream travel in it too (a ``next`` with ``errors``),
as the protocol asks. A comment line every ``NEXTGEN_GQL_KEEPALIVE_SECONDS`` keeps proxies
from closing a quiet stream. The stream is a live connection like a WebSocket
(``LiveConnections``): the same limits, and it ends (with an error saying why, then
``complete``) when its session ends, when it reads too slowly, or when the service stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from nextgen_gql.api.context import COOKIE_NAME
from nextgen_gql.api.graphql_http import GraphQLParams, RequestRefused
from nextgen_gql.api.http import REQUEST_ID_KEY
from nextgen_gql.api.live.admission import LiveRefused, admit
from nextgen_gql.api.live.connections import CLOSE
from nextgen_gql.api.request_errors import RequestErrorCode

if TYPE_CHECKING:
    from graphql import DocumentNode, OperationDefinitionNode

    from nextgen_gql.api.view import GraphQLView

__all__ = ["one_result_response", "subscription_response"]

log = logging.getLogger("nextgen_gql.live")

_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}
_MEDIA_TYPE = "text/event-stream; charset=utf-8"
_COMPLETE = b"event: complete\ndata:\n\n"
#: What a stream says when its connection ends for a reason other than its own end.
_ENDINGS = {
    CLOSE.UNAUTHORIZED: RequestErrorCode.UNAUTHENTICATED,
    CLOSE.TRY_AGAIN_LATER: RequestErrorCode.OVERLOADED,
    CLOSE.GOING_AWAY: RequestErrorCode.OVERLOADED,
}


def _next(body: bytes) -> bytes:
    return b"event: next\ndata: " + body + b"\n\n"


def one_result_response(body: bytes) -> Response:
    """One result (a query's or mutation's answer, or request errors) as a complete stream."""
    return Response(_next(body) + _COMPLETE, media_type=_MEDIA_TYPE, headers=_HEADERS)


def _error(message: str, code: RequestErrorCode) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


async def subscription_response(
    view: GraphQLView,
    request: Request,
    query: str,
    params: GraphQLParams,
    document: DocumentNode,
    operation: OperationDefinitionNode,
) -> StreamingResponse:
    """The subscription's results as they come, until it completes, the client goes away, or
    its connection is ended. Its credentials are checked first, as a query's are
    (``api.live.admission``: ``RequestRefused``, 401 or 403), then its start is charged
    (``RequestRefused``, 429, over the caller's budget): either way no stream is opened."""
    assert view.connections is not None
    registry = view.connections
    request_id = request.scope.get(REQUEST_ID_KEY, "-")
    context = await view.get_context(request, Response())
    try:
        session = await admit(context)
    except LiveRefused as refused:
        raise RequestRefused(refused.status, refused.message, refused.code, refused.headers) from None
    view.charge_subscription(
        session.account_id if session is not None else None,
        context.source_address,
        document,
        operation,
        params.variables,
    )
    ended: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()

    def on_end(code: int, reason: str) -> None:
        if not ended.done():
            ended.set_result((code, reason))

    connection = registry.open(context.source_address, on_end, request_id)
    await registry.sign_in(connection, session)
    refusal = registry.acquire(connection)

    def result_body(result: ExecutionResult) -> bytes:
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [view.format_error(error, request_id) for error in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        return orjson.dumps(body)

    async def results() -> AsyncGenerator[bytes, None]:
        if refusal is not None:
            yield _next(_error(refusal, RequestErrorCode.RATE_LIMITED))
            return
        context = view.live_context(request, connection)
        source = await view.schema.stream(
            query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
            operation_extensions=params.extensions,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(source))
                done, _ = await asyncio.wait(
                    {pending, ended},
                    timeout=registry.settings.keepalive_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if ended in done:
                    code, reason = ended.result()
                    if code in _ENDINGS:
                        yield _next(_error(reason, _ENDINGS[code]))
                    return
                if not done:
                    yield b": keep-alive\n\n"
                    continue
                try:
                    result = pending.result()
                except StopAsyncIteration:
                    return
                pending = None
                if not isinstance(result, ExecutionResult):  # incremental delivery: not for subscriptions
                    yield _next(_error("Incremental delivery is not served.", RequestErrorCode.BAD_REQUEST))
                    return
                yield _next(result_body(result))
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            with contextlib.suppress(Exception):
                await source.aclose()
            for stream in context.live_streams:  # also those of a generator that never started
                stream.close()

    async def stream() -> AsyncIterator[bytes]:
        try:
            async with contextlib.aclosing(results()) as chunks:
                async for chunk in chunks:
                    yield chunk
            yield _COMPLETE
        finally:
            registry.close(connection)

    response = StreamingResponse(stream(), media_type=_MEDIA_TYPE, headers=_HEADERS)
    if context.cookie_stale:  # a cookie that names no live session: anonymous, and cleared
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response
