"""Per-court filing data: legacy CM/ECF accounts and filing privileges (what each permits,
its cases, its revocation).

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
from nextgen_gql.api.types.common import Node, PageInfo, describe_values
from nextgen_gql.api.types.courts import Court, FilerRoleEnum, court_node
from nextgen_gql.enums import FilerPermission, PrivilegeSource
from nextgen_gql.models import CmecfAccount as CmecfAccountModel
from nextgen_gql.models import CmecfLink
from nextgen_gql.models import FilingPrivilege as FilingPrivilegeModel
from nextgen_gql.models import PacerAccount as PacerAccountModel
from nextgen_gql.services.permissions import permissions_of
from nextgen_gql.services.visibility import sees_revocation_detail

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = [
    "UNKNOWN",
    "CmecfAccount",
    "CmecfAccountConnection",
    "CmecfAccountEdge",
    "FilerPermissionEnum",
    "FilingPrivilege",
    "FilingPrivilegeConnection",
    "FilingPrivilegeEdge",
    "PrivilegeSourceEnum",
    "load_account",
]

PrivilegeSourceEnum = describe_values(
    strawberry.enum(
        PrivilegeSource, name="PrivilegeSource", description="How a filing privilege was granted."
    ),
    {
        "LINKED_LEGACY_ACCOUNT": "Linking the court's legacy CM/ECF account (its role, and for pro se its cases).",
        "REGISTRATION": "The court's clerk approving an e-file registration.",
    },
)
FilerPermissionEnum = describe_values(
    strawberry.enum(
        FilerPermission,
        name="FilerPermission",
        description="What a filing privilege lets its holder do in its court, as CM/ECF grants it by role.",
    ),
    {
        "FILE_IN_ANY_CASE": "File in any case of the court.",
        "FILE_IN_LISTED_CASES": "File only in the privilege's cases (pro se, pro hac vice).",
        "OPEN_NEW_CASES": "Open new cases.",
        "FILE_CLAIMS": "File proofs of claim and related documents (bankruptcy creditors).",
        "RECEIVE_NOTICES": "Receive notices of electronic filing in designated cases.",
    },
)
_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]
#: A relation the parent did not prefetch: resolve it through the loaders.
UNKNOWN: Any = object()
#: The descriptions every connection shares.
CURSOR_HELP = "This row's place in the list: pass it as after (or before) to page on from here."
PAGE_INFO_HELP = "Whether rows lie before or after this page, and the cursors to reach them."
TOTAL_HELP = "How many rows the whole list holds (with its filters), across every page."


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
    first_name: str = strawberry.field(description="The filer's first name, as the court's roster has it.")
    last_name: str = strawberry.field(description="The filer's last name, as the court's roster has it.")
    role: FilerRoleEnum = strawberry.field(
        description="The role it files in; a link grants a privilege in this role."
    )

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


@strawberry.type(description="A legacy CM/ECF account in a page of the roster, with its place.")
class CmecfAccountEdge:
    cursor: str = strawberry.field(description=CURSOR_HELP)
    node: CmecfAccount = strawberry.field(description="The legacy account.")


@strawberry.type(description="A page of legacy CM/ECF accounts.")
class CmecfAccountConnection:
    edges: list[CmecfAccountEdge] = strawberry.field(description="The page's accounts, in the list's order.")
    page_info: PageInfo = strawberry.field(description=PAGE_INFO_HELP)
    total_count: int = strawberry.field(description=TOTAL_HELP)


@strawberry.type(
    description="Permission for a PACER account to file in one court, in one role: what it permits, "
    "in which cases, and whether the court revoked it."
)
class FilingPrivilege(Node):
    model: strawberry.Private[FilingPrivilegeModel]
    role: FilerRoleEnum = strawberry.field(description="The role it was granted in.")
    source: PrivilegeSourceEnum = strawberry.field(  # type: ignore[valid-type]
        description="How it was granted: a linked legacy account, or an approved registration."
    )
    granted_at: dt.datetime = strawberry.field(description="When it was granted.")
    permissions: list[FilerPermissionEnum] = strawberry.field(  # type: ignore[valid-type]
        description="What the holder may do in the court now; none once revoked."
    )
    pro_hac_vice: bool = strawberry.field(description="An attorney admitted for its listed cases only.")
    revoked_at: dt.datetime | None = strawberry.field(
        description="When the court revoked it; null while it is live. A revoked privilege grants nothing."
    )

    @classmethod
    def of(cls, model: FilingPrivilegeModel) -> FilingPrivilege:
        return cls(
            model=model,
            id=strawberry.ID(encode_id("FilingPrivilege", model.id)),
            role=model.role,
            source=model.source,
            granted_at=model.granted_at,
            permissions=permissions_of(model),
            pro_hac_vice=model.pro_hac_vice,
            revoked_at=model.revoked_at,
        )

    @strawberry.field(description="The court it permits filing in.")
    def court(self, info: Info) -> Court:
        return court_node(info.context.courts.get(self.model.court_id))

    @strawberry.field(description="Its holder.")
    async def account(self, info: Info) -> _PacerAccount:
        account = await load_account(info, self.model.account_id)
        assert account is not None  # a foreign key: the row exists
        return account

    @strawberry.field(
        description="Case numbers (canonical) of a case-restricted privilege; empty when court-wide. "
        "A revoked privilege keeps them for the record."
    )
    async def cases(self, info: Info) -> list[str]:
        return await info.context.loaders.cases.load(self.model.id)

    async def _sees_detail(self, info: Info) -> bool:
        viewer = await info.context.viewer()
        return sees_revocation_detail(
            viewer_id=viewer.id if viewer else None,
            holder_id=self.model.account_id,
            court_code=self.model.court_id,
            viewer_clerk_courts=await info.context.clerk_courts(),
        )

    async def _revoker(self, info: Info) -> PacerAccount | None:
        return await load_account(info, self.model.revoked_by_id) if await self._sees_detail(info) else None

    async def _reason(self, info: Info) -> str | None:
        return self.model.revoked_reason if await self._sees_detail(info) else None

    @strawberry.field(
        description="The clerk who revoked it: shown to the holder and the court's clerks only."
    )
    def revoked_by(self, info: Info) -> _PacerAccount | None:
        if self.model.revoked_at is None:
            return None
        return self._revoker(info)  # type: ignore[return-value]

    @strawberry.field(
        description="Why the court revoked it: shown to the holder and the court's clerks only."
    )
    def revoked_reason(self, info: Info) -> str | None:
        if self.model.revoked_at is None:
            return None
        return self._reason(info)  # type: ignore[return-value]


@strawberry.type(description="A filing privilege in a page of a court's privileges, with its place.")
class FilingPrivilegeEdge:
    cursor: str = strawberry.field(description=CURSOR_HELP)
    node: FilingPrivilege = strawberry.field(description="The privilege.")


@strawberry.type(description="A page of a court's filing privileges.")
class FilingPrivilegeConnection:
    edges: list[FilingPrivilegeEdge] = strawberry.field(description="The page's privileges, oldest first.")
    page_info: PageInfo = strawberry.field(description=PAGE_INFO_HELP)
    total_count: int = strawberry.field(description=TOTAL_HELP)
