"""Per-court filing data: legacy CM/ECF accounts and filing privileges.

Plain attributes wherever the row has the answer; relations resolve synchronously when
the parent prefetched them (a roster page does, in one query per relation), through the
per-request loaders otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node, PageInfo
from nextgen_gql.api.types.courts import Court, FilerRoleEnum, court_node
from nextgen_gql.enums import PrivilegeSource
from nextgen_gql.models import CmecfAccount as CmecfAccountModel
from nextgen_gql.models import CmecfLink
from nextgen_gql.models import FilingPrivilege as FilingPrivilegeModel
from nextgen_gql.models import PacerAccount as PacerAccountModel

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = [
    "UNKNOWN",
    "CmecfAccount",
    "CmecfAccountConnection",
    "CmecfAccountEdge",
    "FilingPrivilege",
    "PrivilegeSourceEnum",
    "load_account",
]

PrivilegeSourceEnum = strawberry.enum(
    PrivilegeSource, name="PrivilegeSource", description="How a filing privilege was granted."
)
_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]
#: A relation the parent did not prefetch: resolve it through the loaders.
UNKNOWN: Any = object()


async def load_account(info: Info, account_id: int | None) -> PacerAccount | None:
    """The PacerAccount type for an id, through the per-request loader."""
    from nextgen_gql.api.types.accounts import PacerAccount

    if account_id is None:
        return None
    model = await info.context.loaders.account.load(account_id)
    return PacerAccount.of(model) if model else None


@strawberry.type(description="A legacy CM/ECF filer account of one court.")
class CmecfAccount(Node):
    model: strawberry.Private[CmecfAccountModel]
    link: strawberry.Private[Any]  # CmecfLink | None, or UNKNOWN
    owner: strawberry.Private[Any]  # PacerAccountModel | None, or UNKNOWN
    linker: strawberry.Private[Any]  # PacerAccountModel | None, or UNKNOWN
    owner_contact: strawberry.Private[bool | None]
    login: str = strawberry.field(description="The legacy CM/ECF login (matched regardless of case).")
    first_name: str
    last_name: str
    role: FilerRoleEnum  # type: ignore[valid-type]

    @classmethod
    def of(
        cls,
        model: CmecfAccountModel,
        *,
        link: CmecfLink | None = UNKNOWN,
        owner: PacerAccountModel | None = UNKNOWN,
        linker: PacerAccountModel | None = UNKNOWN,
        owner_contact: bool | None = None,
    ) -> CmecfAccount:
        return cls(
            model=model,
            link=link,
            owner=owner,
            linker=linker,
            owner_contact=owner_contact,
            id=strawberry.ID(encode_id("CmecfAccount", model.id)),
            login=model.login,
            first_name=model.first_name,
            last_name=model.last_name,
            role=model.role,
        )

    @strawberry.field(description="The court this legacy account belongs to.")
    def court(self, info: Info) -> Court:
        return court_node(info.context.courts.get(self.model.court_id))

    async def _link(self, info: Info) -> CmecfLink | None:
        if self.link is UNKNOWN:
            self.link = await info.context.loaders.link_of_cmecf.load(self.model.id)
        link: CmecfLink | None = self.link
        return link

    async def _linked_at(self, info: Info) -> dt.datetime | None:
        link = await self._link(info)
        return link.linked_at if link else None

    async def _person(self, info: Info, which: str) -> PacerAccount | None:
        link = await self._link(info)
        return await load_account(info, getattr(link, which) if link else None)

    @strawberry.field(description="Null until linked; once set, never changes.")
    def linked_at(self, info: Info) -> dt.datetime | None:
        if self.link is UNKNOWN:
            return self._linked_at(info)  # type: ignore[return-value]
        return self.link.linked_at if self.link else None

    @strawberry.field(description="The PACER account this legacy account is bound to.")
    def linked_account(self, info: Info) -> _PacerAccount | None:
        from nextgen_gql.api.types.accounts import PacerAccount

        if self.owner is UNKNOWN:
            return self._person(info, "account_id")  # type: ignore[return-value]
        return PacerAccount.of(self.owner, contact=self.owner_contact) if self.owner else None

    @strawberry.field(description="Who performed the link (differs when linked on someone's behalf).")
    def linked_by(self, info: Info) -> _PacerAccount | None:
        from nextgen_gql.api.types.accounts import PacerAccount

        if self.linker is UNKNOWN:
            return self._person(info, "linked_by_id")  # type: ignore[return-value]
        return PacerAccount.of(self.linker) if self.linker else None


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
    role: FilerRoleEnum  # type: ignore[valid-type]
    source: PrivilegeSourceEnum  # type: ignore[valid-type]
    granted_at: dt.datetime

    @classmethod
    def of(cls, model: FilingPrivilegeModel) -> FilingPrivilege:
        return cls(
            model=model,
            id=strawberry.ID(encode_id("FilingPrivilege", model.id)),
            role=model.role,
            source=model.source,
            granted_at=model.granted_at,
        )

    @strawberry.field
    def court(self, info: Info) -> Court:
        return court_node(info.context.courts.get(self.model.court_id))

    @strawberry.field
    async def account(self, info: Info) -> _PacerAccount:
        account = await load_account(info, self.model.account_id)
        assert account is not None  # a foreign key: the row exists
        return account
