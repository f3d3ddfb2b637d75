"""The HTTP face of the schema: Strawberry's ASGI view with our context and orjson.

A request reaches the view already addressed: ``CourtAddressing`` has resolved its court
(path, ``X-Court`` or ``Host``) into the ASGI scope, or answered 404 ``UNKNOWN_COURT``.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from nextgen_gql.api.context import Context, token_from_request
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import CourtRegistry, UnknownCourt

__all__ = ["COURT_SCOPE_KEY", "CourtAddressing", "GraphQLView"]

COURT_SCOPE_KEY = "nextgen_gql.court"


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, *, settings: Settings, courts: CourtRegistry) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql else None)
        self.settings = settings
        self.courts = courts
        self.mailer = Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from)

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

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def _error_response(status: int, message: str, code: str) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class CourtAddressing:
    """Resolve the addressed court before GraphQL runs; unknown courts get 404."""

    def __init__(self, app: ASGIApp, courts: CourtRegistry) -> None:
        self.app = app
        self.courts = courts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        try:
            court = self.courts.resolve(
                path_code=scope.get("path_params", {}).get("code"),
                header_code=request.headers.get("x-court"),
                host=request.headers.get("host"),
            )
        except UnknownCourt as exc:
            await _error_response(404, str(exc), "UNKNOWN_COURT")(scope, receive, send)
            return
        except ValueError as exc:
            await _error_response(400, str(exc), "INVALID_INPUT")(scope, receive, send)
            return
        scope[COURT_SCOPE_KEY] = court
        await self.app(scope, receive, send)
