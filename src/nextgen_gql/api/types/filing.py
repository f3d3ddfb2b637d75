"""Per-court filing data: legacy CM/ECF accounts and filing privileges."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node, PageInfo
from nextgen_gql.api.types.courts import Court, FilerRoleEnum
from nextgen_gql.enums import PrivilegeSource
from nextgen_gql.models import CmecfAccount as CmecfAccountModel
from nextgen_gql.models import FilingPrivilege as FilingPrivilegeModel

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = [
    "CmecfAccount",
    "CmecfAccountConnection",
    "CmecfAccountEdge",
    "FilingPrivilege",
    "PrivilegeSourceEnum",
]

PrivilegeSourceEnum = strawberry.enum(
    PrivilegeSource, name="PrivilegeSource", description="How a filing privilege was granted."
)
_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]


async def load_account(info: Info, account_id: int | None) -> PacerAccount | None:
    """The PacerAccount type for an id, through the per-request loader."""
    from nextgen_gql.api.types.accounts import PacerAccount

    if account_id is None:
        return None
    model = await info.context.loaders.account.load(account_id)
    return PacerAccount(model=model) if model else None


@strawberry.type(description="A legacy CM/ECF filer account of one court.")
class CmecfAccount(Node):
    model: strawberry.Private[CmecfAccountModel]

    @strawberry.field(description="Opaque global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("CmecfAccount", self.model.id))

    @strawberry.field(description="The court this legacy account belongs to.")
    def court(self, info: Info) -> Court:
        return Court(value=info.context.courts.get(self.model.court_id))

    @strawberry.field(description="The legacy CM/ECF login (matched regardless of case).")
    def login(self) -> str:
        return self.model.login

    @strawberry.field
    def first_name(self) -> str:
        return self.model.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.model.last_name

    @strawberry.field
    def role(self) -> FilerRoleEnum:  # type: ignore[valid-type]
        return self.model.role

    @strawberry.field(description="Null until linked; once set, never changes.")
    async def linked_at(self, info: Info) -> dt.datetime | None:
        link = await info.context.loaders.link_of_cmecf.load(self.model.id)
        return link.linked_at if link else None

    @strawberry.field(description="The PACER account this legacy account is bound to.")
    async def linked_account(self, info: Info) -> _PacerAccount | None:
        link = await info.context.loaders.link_of_cmecf.load(self.model.id)
        return await load_account(info, link.account_id if link else None)

    @strawberry.field(description="Who performed the link (differs when linked on someone's behalf).")
    async def linked_by(self, info: Info) -> _PacerAccount | None:
        link = await info.context.loaders.link_of_cmecf.load(self.model.id)
        return await load_account(info, link.linked_by_id if link else None)


@strawberry.type
class CmecfAccountEdge:
    cursor: str
    node: CmecfAccount


@strawberry.type(description="A page of legacy CM/ECF accounts.")
class CmecfAccountConnection:
    edges: list[CmecfAccountEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="Permission for a PACER account to file in one court, in one role.")
class FilingPrivilege(Node):
    model: strawberry.Private[FilingPrivilegeModel]

    @strawberry.field(description="Opaque global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("FilingPrivilege", self.model.id))

    @strawberry.field
    def court(self, info: Info) -> Court:
        return Court(value=info.context.courts.get(self.model.court_id))

    @strawberry.field
    async def account(self, info: Info) -> _PacerAccount:
        account = await load_account(info, self.model.account_id)
        assert account is not None  # a foreign key: the row exists
        return account

    @strawberry.field
    def role(self) -> FilerRoleEnum:  # type: ignore[valid-type]
        return self.model.role

    @strawberry.field
    def source(self) -> PrivilegeSourceEnum:  # type: ignore[valid-type]
        return self.model.source

    @strawberry.field
    def granted_at(self) -> dt.datetime:
        return self.model.granted_at
