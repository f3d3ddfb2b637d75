"""The schema: root types, scalars and extensions, built in one place."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from nextgen_gql.api.mutations import Mutation
from nextgen_gql.api.queries import Query
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.api.types.courts import Court
from nextgen_gql.api.types.filing import CmecfAccount, FilingPrivilege

__all__ = ["build_schema", "schema"]


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Court, PacerAccount, CmecfAccount, FilingPrivilege],
        config=StrawberryConfig(auto_camel_case=True),
    )


schema = build_schema()
