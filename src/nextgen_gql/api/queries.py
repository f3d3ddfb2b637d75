"""Root query fields."""

from __future__ import annotations

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import raise_for_query
from nextgen_gql.api.ids import decode_id
from nextgen_gql.api.pagination import decode_cursor, encode_cursor
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.api.types.common import Node, PageInfo
from nextgen_gql.api.types.courts import Court
from nextgen_gql.api.types.filing import (
    CmecfAccount,
    CmecfAccountConnection,
    CmecfAccountEdge,
    FilingPrivilege,
)
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services import courts as court_service
from nextgen_gql.services import nodes, roster

__all__ = ["Query"]


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by its global id, subject to the same access rules; null if unseen."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        decoded = decode_id(id)
        if decoded is None:
            return None
        type_name, key = decoded
        ctx = info.context
        if type_name == "Court":
            return Court(value=ctx.courts.get(key)) if key in ctx.courts else None
        if not key.isdigit():
            return None
        found = await nodes.visible_node(await ctx.viewer(), type_name, int(key), ctx.courts)
        if found is None:
            return None
        kind = {
            "PacerAccount": PacerAccount,
            "CmecfAccount": CmecfAccount,
            "FilingPrivilege": FilingPrivilege,
        }
        return kind[type_name](model=found)  # type: ignore[no-any-return]

    @strawberry.field(description="The court this request is addressed to; null on the national endpoint.")
    def court(self, info: Info) -> Court | None:
        return Court(value=info.context.court) if info.context.court else None

    @strawberry.field(description="Every court served, by code.")
    def courts(self, info: Info) -> list[Court]:
        return [Court(value=c) for c in info.context.courts]

    @strawberry.field(description="The signed-in account; null when not signed in.")
    async def me(self, info: Info) -> PacerAccount | None:
        viewer = await info.context.viewer()
        return PacerAccount(model=viewer) if viewer else None

    @strawberry.field(description="The addressed court's legacy CM/ECF roster (its clerks only).")
    async def cmecf_accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        linked: bool | None = None,
    ) -> CmecfAccountConnection:
        try:
            court = await court_service.require_clerk(await info.context.viewer(), info.context.court)
            key = None
            if after is not None:
                raw = decode_cursor(after)
                if len(raw) != 2 or not isinstance(raw[0], str) or not isinstance(raw[1], int):
                    raise DomainError(
                        ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", "after"
                    )
                key = (raw[0], raw[1])
            page = await roster.list_cmecf_accounts(
                court, first=first, after=key, search=search, linked=linked
            )
        except DomainError as exc:
            raise raise_for_query(exc) from None
        edges = [
            CmecfAccountEdge(cursor=encode_cursor(r.login_key, r.id), node=CmecfAccount(model=r))
            for r in page.rows
        ]
        return CmecfAccountConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total_count,
        )
