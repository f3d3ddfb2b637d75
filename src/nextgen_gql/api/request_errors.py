"""Request errors get their code where they are raised.

A request error stops a request before any field runs: the document does not parse
(``GRAPHQL_PARSE_FAILED``) or has too many tokens (``TOO_MANY_TOKENS``), breaks a rule of
the specification (``GRAPHQL_VALIDATION_FAILED``) or of the service (``QUERY_TOO_DEEP``,
``TOO_MANY_ALIASES``, ``TOO_MANY_FRAGMENT_SPREADS``, ``TOO_MANY_REPEATED_FIELDS``: ``api.limits``;
``INTROSPECTION_DISABLED``), names no operation of the document
(``GRAPHQL_VALIDATION_FAILED``), or its variables do not fit their types
(``BAD_USER_INPUT``). Each error carries ``extensions.code`` from the place that makes
it: the parse below, validation rules wrapped to code what they report, and the
execution context that selects the operation and coerces the variables. The reference
executor (through Strawberry) and the compiled path use the same pieces.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    Source,
    parse,
)
from graphql.language import Lexer, TokenKind
from graphql.validation import (
    ASTValidationRule,
    NoSchemaIntrospectionCustomRule,
    ValidationContext,
    specified_rules,
)
from graphql.validation import validate as graphql_validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from nextgen_gql.api.by_identity import ByIdentity

__all__ = [
    "REQUEST_ERROR_CODES",
    "CodedExecutionContext",
    "CodedParser",
    "CodedValidation",
    "HideSuggestions",
    "RequestErrorCode",
    "coded",
    "hide_names",
    "parse_document",
    "service_rules",
    "validate",
    "with_code",
]


class RequestErrorCode(str, Enum):
    """Every value ``extensions.code`` of a GraphQL error may carry (a mutation's expected
    failures are data, coded by ``ErrorCode``). Every place that makes an error takes one of
    these (``with_code``, ``coded``, ``RequestRefused``, ``error_response``,
    ``api.errors.graphql_error``), and the view refuses to send any other
    (``api.view.error_code``): add a value here, described, before the service emits it."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    COURT_REQUIRED = "COURT_REQUIRED"
    UNKNOWN_COURT = "UNKNOWN_COURT"
    CASE_NUMBER_INVALID = "CASE_NUMBER_INVALID"
    MFA_ENROLLMENT_REQUIRED = "MFA_ENROLLMENT_REQUIRED"
    BAD_REQUEST = "BAD_REQUEST"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    TOO_MANY_FRAGMENT_SPREADS = "TOO_MANY_FRAGMENT_SPREADS"
    TOO_MANY_REPEATED_FIELDS = "TOO_MANY_REPEATED_FIELDS"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    RATE_LIMITED = "RATE_LIMITED"
    OVERLOADED = "OVERLOADED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    COMPILED_MISMATCH = "COMPILED_MISMATCH"


#: What each code means, for a court integrator reading GraphiQL's docs pane (the schema's
#: ``RequestErrorCode`` carries them).
REQUEST_ERROR_CODES: dict[str, str] = {
    "UNAUTHENTICATED": "No one is signed in where the field needs an account; or (HTTP 401, no data) the bearer "
    "token or service key sent is malformed, expired, revoked or signed out: sign in again.",
    "FORBIDDEN": "The caller may not see this: not the court's clerk, not the firm's administrator, a service key "
    "outside its scopes; or (HTTP 403, no data) a service key sent to another court or the national endpoint, or a "
    "cookie request a cross-site page could have sent.",
    "NOT_FOUND": "The thing named does not exist, or is not the caller's to see (the two are not told apart).",
    "INVALID_INPUT": "An argument is out of its range (first/last, a search, a cursor of another order, an audit "
    "filter), or (HTTP 400) the X-Court header is malformed. extensions.field names the argument.",
    "COURT_REQUIRED": "A court's field sent to the national endpoint: send it to /courts/{code}/graphql or name the "
    "court in an X-Court header.",
    "UNKNOWN_COURT": "HTTP 404: the path, X-Court header or host names no court this service serves.",
    "CASE_NUMBER_INVALID": "A case number that is not one of the court's kind; the message names the form.",
    "MFA_ENROLLMENT_REQUIRED": "The account must enrol an authenticator app before doing anything else "
    "(multi-factor sign-in; emitted once that is served).",
    "BAD_REQUEST": "The HTTP request is not GraphQL over HTTP: a body that is not a JSON object, a parameter of the "
    "wrong type, a media type (406, 415) or charset not served, a NUL character.",
    "BAD_USER_INPUT": "The variables do not fit their declared types: nothing ran.",
    "METHOD_NOT_ALLOWED": "HTTP 405: a method other than GET and POST, or a mutation sent over GET.",
    "PAYLOAD_TOO_LARGE": "HTTP 413: the request body is larger than NEXTGEN_GQL_MAX_BODY_BYTES.",
    "GRAPHQL_PARSE_FAILED": "The document is not GraphQL (a syntax error): nothing ran.",
    "GRAPHQL_VALIDATION_FAILED": "The document is not valid against the schema (an unknown field, argument or enum "
    "value, a missing argument), or names no operation of the document: nothing ran.",
    "QUERY_TOO_DEEP": "The document nests deeper than NEXTGEN_GQL_MAX_DEPTH: nothing ran.",
    "TOO_MANY_ALIASES": "The document has more aliases than NEXTGEN_GQL_MAX_ALIASES: nothing ran.",
    "TOO_MANY_TOKENS": "The document has more tokens than NEXTGEN_GQL_MAX_TOKENS: nothing ran.",
    "TOO_MANY_FRAGMENT_SPREADS": "The document's operations reach more fragment spreads than "
    "NEXTGEN_GQL_MAX_FRAGMENT_SPREADS (a fragment's own spreads counted wherever it is spread): nothing ran.",
    "TOO_MANY_REPEATED_FIELDS": "One response key merges more fields (repeated, or through fragments) than "
    "NEXTGEN_GQL_MAX_FIELD_REPEATS: nothing ran; the message names the key's path. Select each field once.",
    "INTROSPECTION_DISABLED": "Introspection is turned off on this service (NEXTGEN_GQL_INTROSPECTION=false).",
    "PERSISTED_QUERY_NOT_FOUND": "The persisted document's hash or id is not known here: send the query text with "
    "its hash (automatic persisted queries), or register the document.",
    "PERSISTED_QUERY_REQUIRED": "The service runs registered documents only (NEXTGEN_GQL_TRUSTED_DOCUMENTS=only): "
    "send a registered document's id.",
    "QUERY_TOO_COSTLY": "The operation may return more list items (nodes) than NEXTGEN_GQL_MAX_NODES allows: "
    "nothing ran; the message gives the count and the limit. Ask for fewer (smaller first/last, fewer lists).",
    "RATE_LIMITED": "HTTP 429: the caller spent its points for the hour (NEXTGEN_GQL_RATE_LIMIT_POINTS; see "
    "Query.rateLimit); nothing ran. Retry after Retry-After seconds.",
    "OVERLOADED": "HTTP 503: shed under load (NEXTGEN_GQL_MAX_IN_FLIGHT, or a wait for the database past "
    "NEXTGEN_GQL_DB_ACQUIRE_TIMEOUT_MS) before anything was written; retry after Retry-After seconds. As a "
    "mutation's field error (HTTP 200): the database stayed busy after the mutation may have written; read "
    "before retrying.",
    "DATABASE_UNAVAILABLE": "HTTP 503: the database cannot be reached now (refused, restarting, the connection "
    "lost) and nothing was written; retry after Retry-After seconds. As a mutation's field error (HTTP 200): the "
    "database was lost after the mutation may have written; read before retrying, or resend with the same "
    "idempotencyKey (recordUsage).",
    "INTERNAL_ERROR": "An unexpected failure: the message names a request id (the X-Request-ID header) to quote to "
    "the help desk; nothing more is told.",
    "COMPILED_MISMATCH": "HTTP 500, only with NEXTGEN_GQL_COMPILED_CHECK=true (the test suite): the compiled "
    "answer differed from the reference executor's.",
}


def with_code(error: GraphQLError, code: RequestErrorCode) -> GraphQLError:
    """The error, with ``extensions.code`` set unless it has one."""
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", code.value)
    error.extensions = extensions
    return error


class _Coding:
    """A validation context whose reported errors carry a code (rules report through it)."""

    def __init__(self, context: ValidationContext, code: RequestErrorCode) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(with_code(error, self._code))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded(rule: type[ASTValidationRule], code: RequestErrorCode) -> type[ASTValidationRule]:
    """The validation rule, reporting its errors with ``code``."""

    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_Coding(context, code))

    Coded.__name__ = Coded.__qualname__ = rule.__name__
    return Coded


#: The specification's rules, coded. They replace ``specified_rules`` wherever we validate.
SPECIFIED_RULES: tuple[type[ASTValidationRule], ...] = tuple(
    coded(rule, RequestErrorCode.GRAPHQL_VALIDATION_FAILED) for rule in specified_rules
)


def service_rules(
    *,
    max_depth: int,
    max_aliases: int,
    introspection: bool,
    max_fragment_spreads: int = 100,
    max_field_repeats: int = 20,
) -> tuple[type[ASTValidationRule], ...]:
    """Every rule a document must pass: the specification's, then the service's limits
    (``api.limits``: measured once per fragment, linear in the document)."""
    from nextgen_gql.api.limits import document_limits  # it codes with this module's codes

    rules: list[type[ASTValidationRule]] = [
        *SPECIFIED_RULES,
        *document_limits(
            max_depth=max_depth,
            max_aliases=max_aliases,
            max_fragment_spreads=max_fragment_spreads,
            max_field_repeats=max_field_repeats,
        ),
    ]
    if not introspection:
        rules.append(coded(NoSchemaIntrospectionCustomRule, RequestErrorCode.INTROSPECTION_DISABLED))
        rules.append(HideSuggestions)
    return tuple(rules)


class HideSuggestions(ASTValidationRule):
    """In a rule set (introspection off): validation and execution say nothing of the schema
    that the document did not name (``hide_names``). It checks nothing itself."""


#: Messages that name what the document left out (a required argument or input field):
#: how a tool such as clairvoyance reads a hidden schema, with suggestions turned off.
_NAMES_WHAT_IS_MISSING = ("was not provided", "to include required field")
_HIDDEN = (
    "A required argument or input field is missing "
    "(the schema's details are not told while introspection is off)."
)


def hide_names(errors: Sequence[GraphQLError]) -> list[GraphQLError]:
    """Errors with suggestions already off (graphql-core's ``hide_suggestions``), and any
    message naming a required argument or input field the document did not write replaced."""
    hidden = []
    for error in errors:
        if any(text in error.message for text in _NAMES_WHAT_IS_MISSING):
            replaced = GraphQLError(_HIDDEN, error.nodes, extensions=error.extensions)
            error = replaced
        hidden.append(error)
    return hidden


def _too_many_tokens(query: str, max_tokens: int) -> bool:
    """Whether the lexer finds more than ``max_tokens`` tokens before any other problem."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > max_tokens:
                return True
    except GraphQLSyntaxError:
        return False
    return False


@functools.lru_cache(maxsize=1024)
def _parse(query: str, max_tokens: int) -> DocumentNode | GraphQLError:
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        return with_code(
            error,
            RequestErrorCode.TOO_MANY_TOKENS
            if _too_many_tokens(query, max_tokens)
            else RequestErrorCode.GRAPHQL_PARSE_FAILED,
        )


def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """The parsed document (kept for the next request of the same text), or a coded error."""
    parsed = _parse(query, max_tokens)
    if isinstance(parsed, GraphQLError):
        raise parsed
    return parsed


class CodedParser(SchemaExtension):
    """Strawberry's parse, cached and bounded in tokens, with coded errors."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = parse_document(context.query, self.max_tokens)
        yield


#: Validation results, by the document's identity (``by_identity``: a cache keyed on the
#: document itself would hash every node of it at every request).
_VALIDATED: ByIdentity[list[GraphQLError]] = ByIdentity(1024)


def validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """Strawberry's validation (the rules given, and Strawberry's own), kept per document;
    with ``HideSuggestions`` among the rules, no schema names in the messages."""
    return _VALIDATED.get(document, (schema, rules), lambda: _validate(schema, document, rules))


def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """Validate once (``validate`` keeps the result).

    The service's limits (``api.limits``) run first, without a visitor: a document over one
    is refused by the first it breaks alone, and the other rules do not run (graphql-core's
    ``OverlappingFieldsCanBeMergedRule`` is quadratic in what they bound)."""
    from nextgen_gql.api.limits import DocumentLimit

    hide = HideSuggestions in rules
    limits = [r for r in rules if issubclass(r, DocumentLimit)]
    others = tuple(r for r in rules if r not in limits)
    for limit in limits:  # the first limit broken is the answer
        refused = limit.refusals(document)
        if refused:
            return refused
    errors = graphql_validate(
        schema, document, (*others, MaybeNullValidationRule, OneOfInputValidationRule), hide_suggestions=hide
    )
    return hide_names(errors) if hide else errors


class CodedValidation(SchemaExtension):
    """Validation by the service's coded rules (``service_rules``), kept per document."""

    def __init__(self, rules: tuple[type[ASTValidationRule], ...]) -> None:
        self.rules = rules

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = validate(context.schema._schema, context.graphql_document, self.rules)
        yield


def _selects_an_operation(document: DocumentNode, operation_name: str | None) -> bool:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return len(operations) == 1
    return any(d.name is not None and d.name.value == operation_name for d in operations)


class CodedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution context: an operation that cannot be selected is a
    validation failure, variables that do not coerce are the caller's input error."""

    #: Introspection off: no suggestions, no names the document did not write (``hide_names``).
    hides_schema = False

    @classmethod
    def build(cls, schema: Any, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        if cls.hides_schema:
            kwargs["hide_suggestions"] = True
        built = super().build(schema, document, *args, **kwargs)
        if isinstance(built, Sequence):
            if cls.hides_schema:
                built = hide_names(built)
            operation_name = kwargs.get("operation_name", args[3] if len(args) > 3 else None)
            code = (
                RequestErrorCode.BAD_USER_INPUT
                if _selects_an_operation(document, operation_name)
                else RequestErrorCode.GRAPHQL_VALIDATION_FAILED
            )
            for error in built:
                with_code(error, code)
        return built
