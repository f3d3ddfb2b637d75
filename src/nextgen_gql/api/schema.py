"""The schema: root types and the operation limits, built in one place from the settings."""

from __future__ import annotations

import datetime as dt
import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult

from nextgen_gql.api.compiled import tenant_only
from nextgen_gql.api.enrolment import EnrolmentGate
from nextgen_gql.api.errors import RequestErrorCodeEnum
from nextgen_gql.api.live.sharing import LiveExecutionContext
from nextgen_gql.api.mutations import Mutation
from nextgen_gql.api.queries import Query
from nextgen_gql.api.request_errors import (
    CodedParser,
    CodedValidation,
    RequestErrorCode,
    parse_document,
    service_rules,
    with_code,
)
from nextgen_gql.api.subscriptions import Subscription
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.api.types.audit import AuditEvent
from nextgen_gql.api.types.courts import Court
from nextgen_gql.api.types.filing import CmecfAccount, FilingPrivilege
from nextgen_gql.api.types.firms import Firm, FirmInvitation
from nextgen_gql.api.types.keys import CourtServiceKey
from nextgen_gql.api.types.registrations import Registration
from nextgen_gql.settings import Settings

__all__ = ["Schema", "build_schema", "schema"]


@functools.lru_cache(maxsize=256)
def _tenant_only(query: str, operation_name: str | None) -> bool:
    """Whether the request runs a tenant-only query (``compiled.tenant_only``), alone in its document."""
    try:
        document = parse(query, no_location=True, max_tokens=10_000)
    except GraphQLError:
        return False
    if len(document.definitions) != 1 or not isinstance(document.definitions[0], OperationDefinitionNode):
        return False
    operation = document.definitions[0]
    if operation_name is not None and (operation.name is None or operation.name.value != operation_name):
        return False
    return tenant_only(operation)


def _operations(query: str, max_tokens: int) -> int:
    """How many operations the document defines (0 when it does not parse: Strawberry says why)."""
    try:
        document = parse_document(query, max_tokens)
    except GraphQLError:
        return 0
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)


class Schema(strawberry.Schema):
    """The service's schema: errors are logged once, by the HTTP view, with the request id
    (``api/view.py``); answers made only of tenant data are reused."""

    #: Every validation rule, coded (``request_errors.service_rules``), for the compiled path.
    service_rules: tuple[type[ASTValidationRule], ...] = ()
    max_tokens: int = Settings.max_tokens

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Any = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # Court answers change only with the court catalog (its version) and, for isNextgen,
        # the date: reuse such answers, keyed by catalog version, court and day.
        if operation_name is None and query and _operations(query, self.max_tokens) > 1:
            # The specification's rule, which Strawberry relaxes (it runs the first operation).
            error = GraphQLError("Must provide operation name if query contains multiple operations.")
            return ExecutionResult(
                data=None, errors=[with_code(error, RequestErrorCode.GRAPHQL_VALIDATION_FAILED)]
            )
        key: tuple[object, ...] | None = None
        # Only for callers without a token: a session restricted to MFA enrolment is refused
        # even public answers (``api.enrolment``).
        if (
            query
            and not variable_values
            and len(query) < 4096
            and not getattr(context_value, "token", None)
            and _tenant_only(query, operation_name)
        ):
            court = getattr(context_value, "court", None)
            version = getattr(getattr(context_value, "courts", None), "version", None)
            key = (
                query,
                operation_name,
                version,
                court.code if court else None,
                dt.datetime.now(dt.UTC).date(),
            )
            cached = _TENANT_ANSWERS.get(key)
            if cached is not None and cached[0] is self:
                return cached[1]
        result = await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed_operation_types,
            operation_extensions=operation_extensions,
        )
        if key is not None and not result.errors:
            _TENANT_ANSWERS[key] = (self, result)
            if len(_TENANT_ANSWERS) > 256:
                _TENANT_ANSWERS.popitem(last=False)
        return result


_TENANT_ANSWERS: OrderedDict[tuple[object, ...], tuple[Schema, ExecutionResult]] = OrderedDict()


def limits(
    max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> list[Callable[[], SchemaExtension]]:
    """Refuse query bombs before execution: tokens, depth, aliases, fragment spreads, repeated
    fields (``api.limits``); introspection if turned off;
    and whatever a session restricted to MFA enrolment may not run (``api.enrolment``).
    Parsed and validated documents are kept: front ends send the same few operations.

    Factories, so that each request gets fresh extension instances.
    """
    return [lambda: CodedParser(max_tokens), lambda: CodedValidation(rules), EnrolmentGate]


class _HidingExecutionContext(LiveExecutionContext):
    """Introspection off: variables that do not coerce are told without the schema's names."""

    hides_schema = True


def build_schema(settings: Settings | None = None) -> Schema:
    """The schema for these settings' limits. One is built per set of limits and process (a
    worker builds one; the suite's many apps share it): building takes about 0.2 s, and the
    validation kept per document (``request_errors.validate``) is kept per schema, so that a
    document a worker validated once is not validated again by the next app of the process."""
    settings = settings or Settings()
    return _schema(
        settings.max_tokens,
        settings.max_depth,
        settings.max_aliases,
        settings.introspection,
        settings.max_fragment_spreads,
        settings.max_field_repeats,
    )


@functools.lru_cache(maxsize=8)
def _schema(
    max_tokens: int,
    max_depth: int,
    max_aliases: int,
    introspection: bool,
    max_fragment_spreads: int,
    max_field_repeats: int,
) -> Schema:
    rules = service_rules(
        max_depth=max_depth,
        max_aliases=max_aliases,
        introspection=introspection,
        max_fragment_spreads=max_fragment_spreads,
        max_field_repeats=max_field_repeats,
    )
    built = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Court,
            PacerAccount,
            CmecfAccount,
            FilingPrivilege,
            Registration,
            AuditEvent,
            Firm,
            FirmInvitation,
            CourtServiceKey,
            RequestErrorCodeEnum,  # referenced by no field: in the schema for clients to generate from
        ],
        extensions=limits(max_tokens, rules),
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=LiveExecutionContext if introspection else _HidingExecutionContext,
    )
    built.service_rules = rules
    built.max_tokens = max_tokens
    return built


#: The schema with default settings (for ``export-schema`` and tools); the app builds its own.
schema = build_schema()
