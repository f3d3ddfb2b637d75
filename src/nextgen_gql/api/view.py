"""The HTTP face of the schema: GraphQL over HTTP by its specification, persisted documents,
the compiled path, and the reference executor (Strawberry's schema) behind them; and
subscriptions, as server-sent events on the same routes (``api.live.sse``) and over
WebSockets (``graphql-transport-ws``, ``api.live.websocket``).

A request reaches the view already addressed and checked by ``api.http.GraphQLGate``; the
protocol (media types, parameters, status codes) is ``api.graphql_http``'s, persisted and
trusted documents ``api.persisted``'s.
Errors leave in one shape: every GraphQL error carries ``extensions.code``; an unexpected
exception is logged with the request id and answered with a generic message that names
only that id (no stack trace, SQL or path reaches a client).
The view tells the request's record (``observability.requests``) what it ran and which
codes it answered, on both execution paths, and traces the operation when tracing is on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, print_ast
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from nextgen_gql.api.charging import Charging
from nextgen_gql.api.compiled import CompiledQueries, tenant_only
from nextgen_gql.api.context import COOKIE_NAME, Context, InvalidToken, credentials_from_request
from nextgen_gql.api.cost import cost_function, dry_run, rate_limit_only
from nextgen_gql.api.graphql_http import (
    APPLICATION_JSON,
    DOCUMENT_ID_PARAMETERS,
    GRAPHQL_RESPONSE_JSON,
    TEXT_EVENT_STREAM,
    GraphQLParams,
    RequestErrors,
    RequestRefused,
    accepts_event_stream,
    content_type_header,
    negotiate,
    params_from_body,
    params_from_query_string,
    request_error_status,
)
from nextgen_gql.api.http import (
    COURT_SCOPE_KEY,
    COURTS_SCOPE_KEY,
    REQUEST_ID_KEY,
    WRITING_KEY,
    error_response,
)
from nextgen_gql.api.live import sse
from nextgen_gql.api.live.connections import LiveConnection, LiveConnections
from nextgen_gql.api.live.websocket import LiveSocket, LiveWebSocketHandler
from nextgen_gql.api.outages import database_code
from nextgen_gql.api.persisted import SHA256_HEX, DocumentStore, introspection_only, sha256_hex
from nextgen_gql.api.reads import decide_for, routed
from nextgen_gql.api.request_errors import RequestErrorCode, parse_document, validate, with_code
from nextgen_gql.api.schema import Schema
from nextgen_gql.db import statement_timed_out
from nextgen_gql.db_backends import deadline as db_deadline
from nextgen_gql.observability import tracing
from nextgen_gql.observability.requests import note_error, note_execution, note_operation, note_persisted
from nextgen_gql.outbound.addresses import Reach
from nextgen_gql.services.budgets import Budgets
from nextgen_gql.services.court_catalog import LiveCourts
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from nextgen_gql.web import GRAPHIQL_CSP, graphiql_page

__all__ = ["GraphQLView", "Prepared", "error_code"]

log = logging.getLogger("nextgen_gql.errors")


def error_code(error: GraphQLError) -> RequestErrorCode | None:
    """The code of an expected error; None for an unexpected exception (to be masked).

    Request errors carry their code from where they are raised (``api.request_errors``);
    a refusal of the domain from ``graphql_error``; Strawberry's own validation rules set
    none, and are validation failures. A code that is not a ``RequestErrorCode`` never
    leaves: the error is masked, and logged, as an unexpected one."""
    original = error.original_error
    if original is None:
        given = (error.extensions or {}).get("code")
        default = RequestErrorCode.GRAPHQL_VALIDATION_FAILED
    elif (database := database_code(original)) is not None:
        return database  # OVERLOADED, DATABASE_UNAVAILABLE (api.outages)
    elif isinstance(original, GraphQLError):
        given = (original.extensions or {}).get("code")
        default = RequestErrorCode.BAD_USER_INPUT
    else:
        return None
    if not given:
        return default
    try:
        return RequestErrorCode(given)
    except ValueError:
        log.error("an error coded %r, which is no RequestErrorCode: masked", given)
        return None


def _error_order(error: GraphQLError) -> tuple[tuple[int, int], tuple[tuple[int, str], ...]]:
    """Where an error stands in the answer: its first location in the document, then its path
    (list indexes as numbers)."""
    where = error.locations[0] if error.locations else None
    position = (where.line, where.column) if where is not None else (0, 0)
    path = tuple((1, str(p).zfill(12)) if isinstance(p, int) else (0, str(p)) for p in error.path or ())
    return position, path


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs, if the document and name select one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name is not None and op.name.value == operation_name), None)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class Prepared(NamedTuple):
    """A request's document, ready to run (``GraphQLView.prepare``)."""

    query: str
    document: DocumentNode
    operation: OperationDefinitionNode
    #: An automatic persisted query to keep once the request was charged and ran.
    remember: bool
    #: The most list items it may return with these variables (``node_count``).
    nodes: int = 0


class GraphQLView(GraphQL[Context, None]):
    """GraphQL over HTTP (``api.graphql_http``), persisted and trusted documents
    (``api.persisted``), the compiled path for queries and the reference executor for the rest;
    subscriptions as server-sent events and over WebSockets."""

    #: How long a browser or CDN may reuse a public answer (``courts``, ``court``) unchecked.
    PUBLIC_MAX_AGE = 60
    #: graphql-transport-ws only (the legacy graphql-ws protocol is not served), our handler.
    graphql_transport_ws_handler_class = LiveWebSocketHandler
    websocket_adapter_class = LiveSocket

    def __init__(
        self,
        schema: Schema,
        *,
        settings: Settings,
        courts: LiveCourts,
        sealer: Sealer,
        connections: LiveConnections | None = None,
        reach: Reach | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=10),
            max_subscriptions_per_connection=None,  # LiveConnections counts (per connection and account)
        )
        self.service_schema = schema
        self.settings = settings
        self.courts = courts
        #: The live connections (subscriptions); None where nothing is streamed (tools).
        self.connections = connections
        self.mailer = Mailer(settings.mail_dir, settings.smtp_url, settings.mail_from)
        self.sealer = sealer
        #: Where the service may call out (webhook URLs are checked by it).
        self.reach = reach or Reach(settings.webhook_networks)
        self.compiled = (
            CompiledQueries(schema._schema, schema.service_rules, max_tokens=settings.max_tokens)
            if settings.compiled
            else None
        )
        #: Points per hour per caller (``services.budgets``), shared through PostgreSQL on a
        #: connection of the budgets' own, made to the database itself (behind PgBouncer in
        #: transaction mode, its cached statements would not survive the pooler).
        self.budgets = Budgets(
            settings.rate_limit_points, database_url=settings.direct_url if settings.is_postgres else None
        )
        #: Who pays for each request, and when (``api.charging``).
        self.charging = Charging(self.budgets)
        self.documents = DocumentStore(
            trusted_only=settings.trusted_documents == "only", max_tokens=settings.max_tokens
        )

    async def get_context(self, request: Any, response: Any) -> Context:
        credentials = credentials_from_request(request)
        return Context(
            request=request,
            response=response if isinstance(response, Response) else Response(),
            settings=self.settings,
            courts=request.scope.get(COURTS_SCOPE_KEY) or self.courts.current,
            court=request.scope.get(COURT_SCOPE_KEY),
            token=credentials.token,
            mailer=self.mailer,
            credentials=credentials,
            sealer=self.sealer,
            reach=self.reach,
        )

    def live_context(self, request: HTTPConnection, connection: LiveConnection) -> Context:
        """The context of one subscription on a live connection (each has its own: its events
        replace the loaders and facts of the one before, ``Context.begin_event``)."""
        return Context(
            request=request,
            response=Response(),
            settings=self.settings,
            courts=self.courts.current,
            court=request.scope.get(COURT_SCOPE_KEY),
            token=None,
            mailer=self.mailer,
            sealer=self.sealer,
            reach=self.reach,
            live=connection,
        )

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # Any page may open a socket and sign in with a token of its own; the NextGenCSO
        # cookie is taken only from the service's own pages and the allowed origins, which
        # connection_init checks (``api.live.websocket``) as GraphQLGate does for HTTP.
        return True

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        """GraphiQL from the service's own files (``nextgen_gql.web``), with a strict policy."""
        court = request.scope.get(COURT_SCOPE_KEY)
        page = graphiql_page(request.url.path, court.code if court else None, demo=self.settings.demo)
        return HTMLResponse(page, headers={"content-security-policy": GRAPHIQL_CSP})

    async def compile_ahead(self, limit: int = 500) -> int:
        """Plan the trusted documents now, so that none pays parsing, validation or planning
        on its first request. Returns how many operations were planned."""
        if self.compiled is None:
            return 0
        planned = 0
        for row in await self.documents.trusted(limit):
            names: list[str | None] = [*row.operation_names.split()] or [None]
            for name in names:
                self.compiled.entry(row.document, name)
                planned += 1
        return planned

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.handle(Request(scope=scope, receive=receive))
        except ClientDisconnect:
            return  # gone before its request was read: no one to answer (the request log's 499)
        await response(scope, receive, send)

    def _wants_ide(self, request: Request) -> bool:
        if TEXT_EVENT_STREAM in request.headers.get("accept", ""):
            return False
        if (
            not self.graphql_ide
            or request.method != "GET"
            or "text/html" not in request.headers.get("accept", "")
        ):
            return False
        return not any(name in request.query_params for name in ("query", *DOCUMENT_ID_PARAMETERS))

    async def handle(self, request: Request) -> Response:
        """One HTTP request to the GraphQL endpoint, answered (never raises for a client's input)."""
        if self._wants_ide(request):
            return await self.render_graphql_ide(request)
        accept = request.headers.get("accept")
        media_type = negotiate(accept)
        streams = accepts_event_stream(accept)
        try:
            if request.method not in ("GET", "POST"):
                raise RequestRefused(
                    405,
                    "GraphQL is served over GET (queries) and POST.",
                    RequestErrorCode.METHOD_NOT_ALLOWED,
                    {"allow": "GET, POST"},
                )
            if media_type is None and not streams:
                raise RequestRefused(
                    406,
                    f"Cannot answer in {accept}: accept {GRAPHQL_RESPONSE_JSON}, {APPLICATION_JSON} "
                    f"or (subscriptions) {TEXT_EVENT_STREAM}.",
                    RequestErrorCode.BAD_REQUEST,
                )
            if request.method == "GET":
                params = params_from_query_string(request.scope.get("query_string", b""))
            else:
                params = params_from_body(request.headers.get("content-type"), await request.body())
            if _has_nul(
                [params.query, params.operation_name, params.variables, params.extensions, params.document_id]
            ):
                raise RequestRefused(
                    400, "Text may not contain the NUL character (U+0000).", RequestErrorCode.BAD_REQUEST
                )
            return await self._answer(request, params, media_type, streams)
        except RequestRefused as refused:
            return error_response(refused.status, refused.message, refused.code, media_type, refused.headers)

    async def _document(self, params: GraphQLParams, media_type: str) -> tuple[str, bool, bool]:
        """The text to run, whether to keep it as an automatic persisted query, and whether it
        came from the persisted documents (so is registered already)."""
        persisted_query = (params.extensions or {}).get("persistedQuery")
        not_found = request_error_status(media_type)
        if params.document_id is not None:
            if persisted_query is not None:
                raise RequestRefused(
                    400, "Name a persisted document once: an id or a hash.", RequestErrorCode.BAD_REQUEST
                )
            found = await self.documents.find(params.document_id)
            note_persisted(found is not None)
            if found is None:
                raise RequestRefused(
                    not_found,
                    f"No persisted document has the id {params.document_id!r}.",
                    RequestErrorCode.PERSISTED_QUERY_NOT_FOUND,
                )
            return found.text, False, True
        if persisted_query is not None:
            digest = persisted_query.get("sha256Hash") if isinstance(persisted_query, dict) else None
            if (
                not isinstance(persisted_query, dict)
                or persisted_query.get("version") != 1
                or not isinstance(digest, str)
                or not SHA256_HEX.fullmatch(digest)
            ):
                raise RequestRefused(
                    400,
                    'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 lowercase hex digits>"}.',
                    RequestErrorCode.BAD_REQUEST,
                )
            if params.query is not None and sha256_hex(params.query) != digest:
                raise RequestRefused(
                    400,
                    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query text.",
                    RequestErrorCode.BAD_REQUEST,
                )
            found = await self.documents.find(digest)
            note_persisted(found is not None)
            if found is not None:
                return found.text, False, True
            if params.query is None:
                raise RequestRefused(
                    not_found,
                    "PersistedQueryNotFound: the service does not know this hash; send it again with the query.",
                    RequestErrorCode.PERSISTED_QUERY_NOT_FOUND,
                )
            return params.query, True, False
        if params.query is None:
            raise RequestRefused(
                400,
                "The request has no query: send query, or name a persisted document "
                "(documentId, doc_id or extensions.persistedQuery).",
                RequestErrorCode.BAD_REQUEST,
            )
        return params.query, False, False

    async def _trusted(self, query: str) -> bool:
        """Under NEXTGEN_GQL_TRUSTED_DOCUMENTS=only, whether a document sent as text may run:
        a registered one, or (introspection on) one that asks introspection only (GraphiQL)."""
        if await self.documents.is_trusted_text(query):
            return True
        if not self.settings.introspection:
            return False
        try:
            return introspection_only(parse_document(query, self.settings.max_tokens))
        except GraphQLError:
            return False

    async def document_text(self, params: GraphQLParams, media_type: str) -> tuple[str, bool]:
        """The text of the document a request names (as text, by id or by hash), and whether
        to keep it as an automatic persisted query; under trusted documents, refused unless
        registered (or introspection only)."""
        query, remember, persisted = await self._document(params, media_type)
        if self.documents.trusted_only and not persisted and not await self._trusted(query):
            raise RequestRefused(
                400,
                "This service runs registered operations only (trusted documents): "
                "send a registered document's id, or register it with nextgen-gql operations add.",
                RequestErrorCode.PERSISTED_QUERY_REQUIRED,
            )
        return query, remember

    async def prepare(self, params: GraphQLParams, media_type: str) -> Prepared:
        """The request's document, parsed and validated, the operation it runs, and whether
        to keep it as an automatic persisted query once it was charged and ran
        (``DocumentStore.remember``); every transport (HTTP, server-sent events, WebSocket)
        takes a request through here. Raises ``RequestRefused`` (a refusal of the request
        itself) or ``RequestErrors``."""
        query, remember = await self.document_text(params, media_type)
        try:
            document = parse_document(query, self.settings.max_tokens)
        except GraphQLError as error:
            raise RequestErrors([error]) from None
        errors = validate(self.service_schema._schema, document, self.service_schema.service_rules)
        if errors:
            raise RequestErrors(errors)
        operation = _operation(document, params.operation_name)
        if operation is None:
            message = (
                f"Unknown operation named '{params.operation_name}'."
                if params.operation_name
                else "Must provide operation name if query contains multiple operations."
            )
            raise RequestErrors(
                [with_code(GraphQLError(message), RequestErrorCode.GRAPHQL_VALIDATION_FAILED)]
            )
        nodes = self.node_count(document, operation, params.variables)
        if nodes > self.settings.max_nodes:
            refusal = GraphQLError(
                f"This operation may return up to {nodes} nodes, over the limit of {self.settings.max_nodes}: "
                "ask for fewer (smaller first or last, fewer aliased or nested lists)."
            )
            raise RequestErrors([with_code(refusal, RequestErrorCode.QUERY_TOO_COSTLY)])
        return Prepared(query, document, operation, remember, nodes)

    def node_count(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any] | None
    ) -> int:
        """The most list items the operation may return with these variables (``api.cost``;
        built once per document, evaluated per request with the courts served now)."""
        count = cost_function(self.service_schema._schema, document, operation)
        return count.evaluate(variables, len(self.courts.current))

    def _answer_errors(
        self, request: Request, errors: Sequence[GraphQLError], media_type: str | None
    ) -> Response:
        """Errors before execution: in the stream for a client that takes nothing else
        (graphql-sse), else as GraphQL over HTTP says."""
        if media_type is None:
            return sse.one_result_response(self._errors_body(request, errors))
        return self._request_errors(request, errors, media_type)

    async def _answer(
        self, request: Request, params: GraphQLParams, media_type: str | None, streams: bool
    ) -> Response:
        """``media_type`` None: the client accepts server-sent events only (graphql-sse)."""
        json_type = media_type or APPLICATION_JSON
        try:
            query, document, operation, remember, nodes = await self.prepare(params, json_type)
        except RequestErrors as failed:
            await self.charging.charge_refusal(await self.get_context(request, Response()))
            return self._answer_errors(request, failed.errors, media_type)
        operation_type = operation.operation.value
        operation_name = operation.name.value if operation.name is not None else None
        note_operation(operation_name, operation_type)
        if operation.operation is OperationType.SUBSCRIPTION:
            if not streams:
                raise RequestRefused(
                    406,
                    f"A subscription is answered as a stream: send Accept: {TEXT_EVENT_STREAM} (server-sent "
                    "events), or subscribe over a WebSocket (graphql-transport-ws) on this URL.",
                    RequestErrorCode.BAD_REQUEST,
                )
            if self.connections is None:
                raise RequestRefused(
                    501, "This service does not stream subscriptions.", RequestErrorCode.BAD_REQUEST
                )
            streamed = await sse.subscription_response(self, request, query, params, document, operation)
            if remember and streamed.status_code == 200:
                await self.documents.remember(query, document)
            return streamed
        if request.method == "GET" and operation.operation is not OperationType.QUERY:
            raise RequestRefused(
                405,
                f"A {operation.operation.value} cannot be sent over GET: use POST.",
                RequestErrorCode.METHOD_NOT_ALLOWED,
                {"allow": "POST"},
            )
        if operation.operation is OperationType.MUTATION:
            request.scope[WRITING_KEY] = True  # from here, a client that leaves does not cancel it
            db_deadline.writing()  # and a database wait past the deadline is its field's error, not a 503
        sub_response = Response()
        context = await self.get_context(request, sub_response)
        court = context.court_code
        with tracing.operation_span(operation_type, operation_name, court):
            try:
                async with routed(context, operation.operation):  # a read replica's part (api.reads)
                    payload = await self._execute(request, context, query, params, operation, document, nodes)
            except InvalidToken as refused:
                self.charging.charge_address(context)  # the address pays, never an account
                raise RequestRefused(
                    401,
                    refused.message,
                    RequestErrorCode.UNAUTHENTICATED,
                    {
                        "www-authenticate": f'Bearer error="{refused.error}", error_description="{refused.message}"'
                    },
                ) from None
            except RequestErrors as failed:
                return self._answer_errors(request, failed.errors, media_type)
        if remember:  # charged and ran: kept (a refused request keeps nothing)
            await self.documents.remember(query, document)
        if media_type is None:  # graphql-sse: the one result, then complete
            response = sse.one_result_response(payload)
        else:
            response = Response(payload, status_code=200, media_type=content_type_header(media_type))
        if context.cookie_stale:
            context.clear_token_cookie()
        response.raw_headers.extend(
            (name, value) for name, value in sub_response.raw_headers if name not in (b"content-length",)
        )
        if media_type is not None:
            self._cache_headers(request, response, operation)
        return response

    async def _execute(
        self,
        request: Request,
        context: Context,
        query: str,
        params: GraphQLParams,
        operation: OperationDefinitionNode,
        document: DocumentNode,
        nodes: int,
    ) -> bytes:
        """The answer's body: compiled for a query the compiler takes, else the reference
        executor's; ``RequestErrors`` for errors before execution (variables that do not fit).
        The credentials are checked before either runs anything (``InvalidToken``). ``nodes``:
        the operation's node count (``prepare``'s)."""
        if context.credentials.refused is not None:
            await context.check_credentials()  # refuses
        elsewhere = await context.authenticate_key()
        if elsewhere is not None:
            raise RequestRefused(403, elsewhere, RequestErrorCode.FORBIDDEN)
        beyond = await context.authenticate_app(document, operation)  # an app's access token
        if beyond is not None:
            raise RequestRefused(403, beyond, RequestErrorCode.FORBIDDEN)
        if dry_run(self.service_schema._schema, document, operation, params.variables):
            caller = await self.charging.caller(context)
            await self.charging.budgets.recall(caller)
            self.charging.charge(context, caller, nodes, dry=True)
            return await self._dry_run(request, context, document, operation, params.variables)
        await self.charging.before_execution(context, nodes)
        if self.compiled is not None and operation.operation is OperationType.QUERY:
            # The compiled path reads the viewer first (with what its plan needs of it).
            data = await self.compiled.execute(context, query, params.operation_name, params.variables)
            if data is not None:
                note_execution("compiled")
                tracing.note_span_execution("compiled")
                payload = orjson.dumps({"data": data})
                if self.settings.compiled_check:
                    await self._check_compiled(request, query, params, payload)
                return payload
        await context.check_credentials()
        await decide_for(context)
        await self.charging.before_reference(context, nodes)
        note_execution("reference")
        tracing.note_span_execution("reference")
        result = await self.schema.execute(
            query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
            operation_extensions=params.extensions,
        )
        if result.errors and result.data is None and all(error.path is None for error in result.errors):
            raise RequestErrors(list(result.errors))
        return orjson.dumps(await self.process_result(request, result))

    def charge_subscription(
        self,
        account: int | None,
        address: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
    ) -> None:
        """A subscription's start costs points as a query does (by its node count), charged to
        the signed-in account, else the address; over the budget ``RequestRefused``
        (``RATE_LIMITED``), which each transport answers in its protocol's way (a WebSocket's
        ``error`` message, an HTTP 429 before a stream of server-sent events starts)."""
        nodes = self.node_count(document, operation, variables) if self.budgets.enabled else 0
        self.charging.charge_live(account, address, nodes, "this subscription")

    async def _dry_run(
        self,
        request: Request,
        context: Context,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
    ) -> bytes:
        """``rateLimit(dryRun: true)``: the operation's root ``rateLimit`` fields alone run."""
        only, used = rate_limit_only(self.service_schema._schema, document, operation, variables)
        result = await self.schema.execute(print_ast(only), variable_values=used, context_value=context)
        return orjson.dumps(await self.process_result(request, result))

    def _cache_headers(
        self, request: Request, response: Response, operation: OperationDefinitionNode | None
    ) -> None:
        """Public answers of a GET (``courts``, ``court``) carry an ETag and may be cached;
        anything a signed-in caller gets is private and never stored."""
        signed_in = "authorization" in request.headers or f"{COOKIE_NAME}=" in request.headers.get(
            "cookie", ""
        )
        if signed_in:
            response.headers["cache-control"] = "private, no-store"
            return
        if request.method != "GET" or operation is None or not tenant_only(operation):
            response.headers["cache-control"] = "no-store"
            return
        # One strong ETag per representation: the media type is part of it (RFC 9110, 8.8.3).
        representation = response.headers["content-type"].encode() + b"\n" + response.body
        etag = '"' + hashlib.sha256(representation).hexdigest()[:32] + '"'
        response.headers["etag"] = etag
        response.headers["cache-control"] = f"public, max-age={self.PUBLIC_MAX_AGE}"
        response.headers["vary"] = "Accept, X-Court, Authorization, Cookie"
        if _etag_matches(request.headers.get("if-none-match", ""), etag):
            response.status_code = 304
            response.body = b""
            del response.headers["content-length"]

    async def _check_compiled(
        self, request: Request, query: str, params: GraphQLParams, payload: bytes
    ) -> None:
        """Tests: the reference executor must give the compiled answer, byte for byte."""
        context = await self.get_context(request, Response())
        await context.authenticate_key()
        await context.check_credentials()
        reference = await self.schema.execute(
            query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
        )
        expected = orjson.dumps({"data": reference.data}) if not reference.errors else b"(errors)"
        if expected != payload:
            log.error("compiled and reference answers differ for %r: %s / %s", query, payload, expected)
            raise RequestRefused(
                500,
                "The compiled answer differs from the reference answer.",
                RequestErrorCode.COMPILED_MISMATCH,
            )

    def _errors_body(self, request: HTTPConnection, errors: Sequence[GraphQLError]) -> bytes:
        request_id = request.scope.get(REQUEST_ID_KEY, "-")
        return orjson.dumps({"errors": [self.format_error(error, request_id) for error in errors]})

    def _request_errors(self, request: Request, errors: Sequence[GraphQLError], media_type: str) -> Response:
        """An answer to a request that failed before execution: errors, no data."""
        return Response(
            self._errors_body(request, errors),
            status_code=request_error_status(media_type),
            media_type=content_type_header(media_type),
            headers={"cache-control": "no-store"},
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        request_id = request.scope.get(REQUEST_ID_KEY, "-")
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            # Fields run concurrently, so errors are raised in no fixed order: answer them in
            # the document's order (then by path), the same for the same request every time.
            errors = sorted(result.errors, key=_error_order)
            response["errors"] = [self.format_error(error, request_id) for error in errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    def format_error(self, error: GraphQLError, request_id: str) -> dict[str, Any]:
        """An error as a client gets it: with its code; an unexpected one masked (and logged)."""
        formatted = dict(error.formatted)
        code = error_code(error)
        if code is None and statement_timed_out(error.original_error):
            # A runaway statement cancelled by the request pool's statement timeout: said as such.
            limit = self.settings.statement_timeout_ms
            log.warning("statement timeout (%d ms, request id %s) at %s", limit, request_id, error.path)
            formatted["message"] = (
                f"The database did not answer within the statement timeout ({limit} ms) and the statement"
                " was cancelled. Narrow the request (a filter, a smaller page) or try again later; quote"
                f" request id {request_id} to the help desk if it persists."
            )
            code = RequestErrorCode.INTERNAL_ERROR
            formatted["extensions"] = {"code": code.value, "requestId": request_id}
        elif code is None:
            log.error(
                "unexpected error (request id %s) at %s",
                request_id,
                error.path,
                exc_info=error.original_error,
            )
            formatted["message"] = f"Internal server error. Quote request id {request_id} to the help desk."
            code = RequestErrorCode.INTERNAL_ERROR
            formatted["extensions"] = {"code": code.value, "requestId": request_id}
        else:
            extensions = formatted.get("extensions")
            formatted["extensions"] = {
                **(extensions if isinstance(extensions, dict) else {}),
                "code": code.value,
            }
        note_error(code.value)
        return formatted
