"""GraphQL over HTTP, as the GraphQL Foundation's specification says (the draft of
"GraphQL over HTTP", media type ``application/graphql-response+json``).

This module reads a request into ``GraphQLParams`` and decides the media type and status
of the answer; ``api.view`` runs the operation. What the specification asks, and what
this does:

- **Media types** (``negotiate``): ``application/graphql-response+json`` when the client
  names it (preferred on a tie), ``application/json`` for ``application/json``, ``*/*`` or
  no ``Accept`` at all; anything else 406.
- **Requests**: ``GET`` with the parameters in the URL (queries only: a mutation is 405),
  ``POST`` with an ``application/json`` body in UTF-8 (anything else 415). ``query`` must
  be a string, ``operationName`` a string or null, ``variables`` and ``extensions``
  objects or null (in a URL, JSON text of one); otherwise 400.
- **Status codes** (``request_error_status``): an error that stops the request before
  execution (it does not parse or validate, its variables do not coerce) is answered with
  ``errors`` and no ``data``: 400 under ``application/graphql-response+json``, 200 under
  ``application/json`` (where older clients expect it). Field errors during execution: 200
  with ``data``.

Every refusal is a GraphQL-shaped body with ``extensions.code`` (``RequestRefused``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import GraphQLError

from nextgen_gql.api.request_errors import RequestErrorCode

__all__ = [
    "APPLICATION_JSON",
    "GRAPHQL_RESPONSE_JSON",
    "TEXT_EVENT_STREAM",
    "GraphQLParams",
    "RequestErrors",
    "RequestRefused",
    "accepts_event_stream",
    "content_type_header",
    "negotiate",
    "params_from_body",
    "params_from_mapping",
    "params_from_query_string",
    "request_error_status",
]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
#: Server-sent events: subscriptions (and, for clients that accept nothing else, any operation)
#: as graphql-sse's "distinct connections" mode streams them (``api.live.sse``).
TEXT_EVENT_STREAM = "text/event-stream"
#: Parameters a client may name a persisted document by: the specification's appendix
#: (``documentId``), Relay's (``doc_id``) and express-graphql's (``id``).
DOCUMENT_ID_PARAMETERS = ("documentId", "doc_id", "id")


class RequestRefused(Exception):
    """A request the service will not run, with the status, message and code of its answer."""

    def __init__(
        self, status: int, message: str, code: RequestErrorCode, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


class RequestErrors(Exception):
    """A request that failed before execution (parse, validation, operation selection): its errors."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message if errors else "request errors")
        self.errors = errors


@dataclass(frozen=True)
class GraphQLParams:
    """The GraphQL request of one HTTP request."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    document_id: str | None


def negotiate(accept: str | None) -> str | None:
    """The media type of the answer, from the ``Accept`` header; None when none can be served."""
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    best: tuple[float, int] = (0.0, -1)
    chosen: str | None = None
    for part in accept.split(","):
        media, *parameters = part.split(";")
        media = media.strip().lower()
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        # On equal weight: graphql-response+json, then application/json named, then a wildcard.
        preference = {GRAPHQL_RESPONSE_JSON: 2, APPLICATION_JSON: 1, "application/*": 0, "*/*": 0}.get(media)
        if preference is None or q <= 0 or (q, preference) <= best:
            continue
        best = (q, preference)
        chosen = GRAPHQL_RESPONSE_JSON if preference == 2 else APPLICATION_JSON
    return chosen


def accepts_event_stream(accept: str | None) -> bool:
    """Whether the ``Accept`` header names ``text/event-stream`` (with a weight above 0)."""
    if not accept:
        return False
    for part in accept.split(","):
        media, *parameters = part.split(";")
        if media.strip().lower() != TEXT_EVENT_STREAM:
            continue
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value.strip()) > 0
                except ValueError:
                    return False
        return True
    return False


def content_type_header(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE_JSON else media_type


def request_error_status(media_type: str) -> int:
    """The status of an answer to a well-formed request that failed before execution."""
    return 400 if media_type == GRAPHQL_RESPONSE_JSON else 200


def _bad(message: str) -> RequestRefused:
    return RequestRefused(400, message, RequestErrorCode.BAD_REQUEST)


def params_from_mapping(data: object) -> GraphQLParams:
    """The parameters of a GraphQL request given as a decoded JSON object (a WebSocket
    ``subscribe`` message's payload); the same rules as a POST body's."""
    if not isinstance(data, dict):
        raise _bad('The request must be a JSON object: {"query": ..., "variables": ...}.')
    return _params(data)


def _params(data: dict[str, Any]) -> GraphQLParams:
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        raise _bad(f"The query parameter must be a string (the GraphQL document); got {_kind(query)}.")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _bad(f"The operationName parameter must be a string or null; got {_kind(operation_name)}.")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise _bad(f"The variables parameter must be an object (or null); got {_kind(variables)}.")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise _bad(f"The extensions parameter must be an object (or null); got {_kind(extensions)}.")
    document_id = None
    for name in DOCUMENT_ID_PARAMETERS:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise _bad(
                f"The {name} parameter must be a persisted document's id (a string); got {_kind(value)}."
            )
        if document_id is not None:
            raise _bad("Name a persisted document once: documentId, doc_id or id.")
        document_id = value
    if document_id is not None and query is not None:
        raise _bad("Send either the query or a persisted document's id, not both.")
    return GraphQLParams(query, operation_name or None, variables, extensions, document_id)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def params_from_query_string(query_string: bytes) -> GraphQLParams:
    """The parameters of a GET: each at most once; ``variables`` and ``extensions`` as JSON text."""
    try:
        pairs = parse_qsl(query_string.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise _bad("The URL's parameters are not UTF-8.") from None
    data: dict[str, Any] = {}
    for name, value in pairs:
        if name in data:
            raise _bad(f"The {name} parameter is given more than once.")
        data[name] = value
    for name in ("variables", "extensions"):
        if name in data:
            if data[name] == "":
                data[name] = None
                continue
            try:
                data[name] = orjson.loads(data[name])
            except orjson.JSONDecodeError as exc:
                raise _bad(f"The {name} parameter is not valid JSON: {exc}.") from None
    if data.get("operationName") == "":
        data["operationName"] = None
    return _params(data)


def params_from_body(content_type: str | None, body: bytes) -> GraphQLParams:
    """The parameters of a POST: a JSON object in UTF-8."""
    if not content_type:
        raise RequestRefused(
            415,
            "Send the request as Content-Type: application/json.",
            RequestErrorCode.BAD_REQUEST,
            {"accept-post": APPLICATION_JSON},
        )
    media, *parameters = content_type.split(";")
    media = media.strip().lower()
    if media != APPLICATION_JSON:
        raise RequestRefused(
            415,
            f"The content type {media} is not supported: send application/json.",
            RequestErrorCode.BAD_REQUEST,
            {"accept-post": APPLICATION_JSON},
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in {"utf-8", "utf8"}:
            raise RequestRefused(
                415,
                f"The charset {value.strip()} is not supported: send UTF-8.",
                RequestErrorCode.BAD_REQUEST,
            )
    if not body.strip():
        raise _bad('The request body is empty: send a JSON object, {"query": "..."}.')
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"The request body is not valid JSON: {exc}.") from None
    if isinstance(data, list):
        raise _bad("Batched requests (a JSON array) are not supported: send one operation per request.")
    if not isinstance(data, dict):
        raise _bad('The request body must be a JSON object: {"query": ..., "variables": ...}.')
    return _params(data)
