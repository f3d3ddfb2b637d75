"""The HTTP face of the schema: Strawberry's ASGI view with our context, error policy and orjson.

A request reaches the view already addressed and checked by ``api.http.GraphQLGate``.
Errors leave in one shape: every GraphQL error carries ``extensions.code``; an unexpected
exception is logged with the request id and answered with a generic message that names
only that id (no stack trace, SQL or path reaches a client).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from nextgen_gql.api.compiled import CompiledQueries
from nextgen_gql.api.context import Context, token_from_request
from nextgen_gql.api.http import COURT_SCOPE_KEY, REQUEST_ID_KEY, error_response
from nextgen_gql.api.schema import Schema
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import CourtRegistry
from nextgen_gql.web import GRAPHIQL_CSP, graphiql_page

__all__ = ["GraphQLView", "error_code"]

log = logging.getLogger("nextgen_gql.errors")


def error_code(error: GraphQLError) -> str | None:
    """The code of an expected error; None for an unexpected exception (to be masked).

    Request errors carry their code from where they are raised (``api.request_errors``);
    a refusal of the domain from ``graphql_error``; Strawberry's own validation rules set
    none, and are validation failures."""
    original = error.original_error
    if original is None:
        given = (error.extensions or {}).get("code")
        return str(given) if given else "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, GraphQLError):
        given = (original.extensions or {}).get("code")
        return str(given) if given else "BAD_USER_INPUT"
    return None


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: Schema, *, settings: Settings, courts: CourtRegistry) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings
        self.courts = courts
        self.mailer = Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from)
        self.compiled = (
            CompiledQueries(schema._schema, schema.service_rules, max_tokens=settings.max_tokens)
            if settings.compiled
            else None
        )

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            courts=self.courts,
            court=request.scope.get(COURT_SCOPE_KEY),
            token=token_from_request(request),
            mailer=self.mailer,
        )

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        """GraphiQL from the service's own files (``nextgen_gql.web``), with a strict policy."""
        court = request.scope.get(COURT_SCOPE_KEY)
        page = graphiql_page(request.url.path, court.code if court else None)
        return HTMLResponse(page, headers={"content-security-policy": GRAPHIQL_CSP})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        if self.compiled is not None and scope["method"] == "POST":
            compiled = await self._run_compiled(request)
            if compiled is not None:
                await compiled(scope, receive, send)
                return
        try:
            response = await self.run(request)
        except HTTPException as exc:  # malformed JSON, wrong method, ...: still GraphQL-shaped
            code = "METHOD_NOT_ALLOWED" if exc.status_code == 405 else "BAD_REQUEST"
            response = error_response(exc.status_code, exc.reason, code)
        await response(scope, receive, send)

    async def _run_compiled(self, request: Request) -> Response | None:
        """The lean path: a JSON POST of a query with a compiled plan, answered without the
        reference executor. None hands the request to ``run`` (the body stays readable)."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return None
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict):
            return None
        query, variables = body.get("query"), body.get("variables")
        operation_name = body.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(operation_name, str | None)
            or not isinstance(variables, dict | None)
            or _has_nul(body)
        ):
            return None
        assert self.compiled is not None
        context = await self.get_context(request, Response())
        data = await self.compiled.execute(context, query, operation_name, variables)
        if data is None:
            return None
        answer = orjson.dumps({"data": data})
        if self.settings.compiled_check:
            reference = await self.run(request)
            if reference.body != answer:
                log.error(
                    "compiled and reference answers differ for %r: %s / %s", query, answer, reference.body
                )
                return error_response(
                    500, "The compiled answer differs from the reference answer.", "COMPILED_MISMATCH"
                )
        return Response(answer, media_type="application/json")

    def decode_json(self, data: str | bytes) -> object:
        # orjson: fast, and bytes that are not UTF-8 are a JSONDecodeError (a 400), not a crash.
        value = orjson.loads(data)
        if not isinstance(value, dict):  # Strawberry would fail on `null`, `1` or `"x"` with a 500
            raise HTTPException(
                400, 'The request body must be a JSON object: {"query": ..., "variables": ...}.'
            )
        if _has_nul(value):  # no text of ours may hold it, and PostgreSQL refuses it outright
            raise HTTPException(400, "Text may not contain the NUL character (U+0000).")
        return value

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        request_id = request.scope.get(REQUEST_ID_KEY, "-")
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [self._format(error, request_id) for error in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    def _format(self, error: GraphQLError, request_id: str) -> dict[str, Any]:
        formatted = dict(error.formatted)
        code = error_code(error)
        if code is None:
            log.error(
                "unexpected error (request id %s) at %s",
                request_id,
                error.path,
                exc_info=error.original_error,
            )
            formatted["message"] = f"Internal server error. Quote request id {request_id} to the help desk."
            code = "INTERNAL_ERROR"
            formatted["extensions"] = {"code": code, "requestId": request_id}
        else:
            extensions = formatted.get("extensions")
            formatted["extensions"] = {**(extensions if isinstance(extensions, dict) else {}), "code": code}
        return formatted
