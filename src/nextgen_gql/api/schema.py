"""The schema: root types, scalars and extensions, built in one place."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
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

__all__ = ["build_schema", "schema"]


log = logging.getLogger("nextgen_gql.graphql")


class Schema(strawberry.Schema):
    """Logs only what went wrong unexpectedly: refusals with a code are the client's business."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            expected = original is None or (
                isinstance(original, GraphQLError) and bool((original.extensions or {}).get("code"))
            )
            if not expected:
                log.error("unexpected error in %s", error.path, exc_info=original)


def build_schema() -> Schema:
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
        config=StrawberryConfig(auto_camel_case=True),
    )


schema = build_schema()
