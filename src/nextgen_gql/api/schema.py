"""The schema: root types and the operation limits, built in one place from the settings."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from nextgen_gql.api.mutations import Mutation
from nextgen_gql.api.queries import Query
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.api.types.audit import AuditEvent
from nextgen_gql.api.types.courts import Court
from nextgen_gql.api.types.filing import CmecfAccount, FilingPrivilege
from nextgen_gql.api.types.firms import Firm, FirmInvitation
from nextgen_gql.api.types.registrations import Registration
from nextgen_gql.settings import Settings

__all__ = ["Schema", "build_schema", "schema"]


class Schema(strawberry.Schema):
    """Errors are logged once, by the HTTP view, with the request id (``api/view.py``)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def limits(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Refuse query bombs before execution: depth, aliases, tokens; introspection if turned off.

    Factories, so that each request gets fresh extension instances; the validation rules
    themselves are built once, so that the validation cache (keyed by the rules) hits.
    """
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return [
        # Parsed and validated documents are cached: front ends send the same few operations.
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(rules),
    ]


def build_schema(settings: Settings | None = None) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[
            Court,
            PacerAccount,
            CmecfAccount,
            FilingPrivilege,
            Registration,
            AuditEvent,
            Firm,
            FirmInvitation,
        ],
        extensions=limits(settings or Settings()),
        config=StrawberryConfig(auto_camel_case=True),
    )


#: The schema with default settings (for ``export-schema`` and tools); the app builds its own.
schema = build_schema()
