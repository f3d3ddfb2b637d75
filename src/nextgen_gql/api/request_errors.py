"""Request errors get their code where they are raised.

A request error stops a request before any field runs: the document does not parse
(``GRAPHQL_PARSE_FAILED``) or has too many tokens (``TOO_MANY_TOKENS``), breaks a rule of
the specification (``GRAPHQL_VALIDATION_FAILED``) or of the service (``QUERY_TOO_DEEP``,
``TOO_MANY_ALIASES``, ``INTROSPECTION_DISABLED``), names no operation of the document
(``GRAPHQL_VALIDATION_FAILED``), or its variables do not fit their types
(``BAD_USER_INPUT``). Each error carries ``extensions.code`` from the place that makes
it: the parse below, validation rules wrapped to code what they report, and the
execution context that selects the operation and coerces the variables. The reference
executor (through Strawberry) and the compiled path use the same pieces.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
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
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document

__all__ = [
    "CodedExecutionContext",
    "CodedParser",
    "CodedValidation",
    "coded",
    "parse_document",
    "service_rules",
    "validate",
    "with_code",
]


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """The error, with ``extensions.code`` set unless it has one."""
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", code)
    error.extensions = extensions
    return error


class _Coding:
    """A validation context whose reported errors carry a code (rules report through it)."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(with_code(error, self._code))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """The validation rule, reporting its errors with ``code``."""

    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_Coding(context, code))

    Coded.__name__ = Coded.__qualname__ = rule.__name__
    return Coded


#: The specification's rules, coded. They replace ``specified_rules`` wherever we validate.
SPECIFIED_RULES: tuple[type[ASTValidationRule], ...] = tuple(
    coded(rule, "GRAPHQL_VALIDATION_FAILED") for rule in specified_rules
)


def service_rules(
    *, max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """Every rule a document must pass: the specification's, then the service's limits."""
    rules = [
        *SPECIFIED_RULES,
        *(coded(r, "QUERY_TOO_DEEP") for r in QueryDepthLimiter(max_depth=max_depth).validation_rules),
        *(
            coded(r, "TOO_MANY_ALIASES")
            for r in MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules
        ),
    ]
    if not introspection:
        rules.append(coded(NoSchemaIntrospectionCustomRule, "INTROSPECTION_DISABLED"))
    return tuple(rules)


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
            error, "TOO_MANY_TOKENS" if _too_many_tokens(query, max_tokens) else "GRAPHQL_PARSE_FAILED"
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


@functools.lru_cache(maxsize=1024)
def validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """Strawberry's validation (the rules given, and Strawberry's own), kept per document."""
    return validate_document(schema, document, rules)


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

    @classmethod
    def build(cls, schema: Any, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        built = super().build(schema, document, *args, **kwargs)
        if isinstance(built, Sequence):
            operation_name = kwargs.get("operation_name", args[3] if len(args) > 3 else None)
            code = (
                "BAD_USER_INPUT"
                if _selects_an_operation(document, operation_name)
                else "GRAPHQL_VALIDATION_FAILED"
            )
            for error in built:
                with_code(error, code)
        return built
