"""National PACER accounts."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import raise_for_query
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.pagination import decode_id_cursor
from nextgen_gql.api.types.common import Node
from nextgen_gql.errors import DomainError, Forbidden, NotFound
from nextgen_gql.models import PacerAccount as PacerAccountModel
from nextgen_gql.services import audit, billing
from nextgen_gql.tenancy import UnknownCourt

if TYPE_CHECKING:
    from nextgen_gql.api.types.audit import AuditEventConnection
    from nextgen_gql.api.types.billing import Statement
    from nextgen_gql.api.types.filing import CmecfAccount, FilingPrivilege
    from nextgen_gql.api.types.firms import Firm
    from nextgen_gql.api.types.registrations import Registration

__all__ = ["PacerAccount"]


@strawberry.type(description="A national PACER account (Central Sign-On): one login for every NextGen court.")
class PacerAccount(Node):
    model: strawberry.Private[PacerAccountModel]

    @strawberry.field(description="Opaque global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("PacerAccount", self.model.id))

    @strawberry.field(
        description="7 digits, fixed for life. Empty unless you are the account, its firm's "
        "administrator, or a clerk of a court it files or asks to file in."
    )
    async def account_number(self, info: Info) -> str:
        access = await info.context.account_access(self.model.id)
        return self.model.account_number if access.sees_contact else ""

    @strawberry.field(description="The sign-in name (matched regardless of case).")
    def username(self) -> str:
        return self.model.username

    @strawberry.field
    def first_name(self) -> str:
        return self.model.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.model.last_name

    @strawberry.field(
        description="Empty for a legacy account that never gave one, and unless you are the account, its "
        "firm's administrator, or a clerk of a court it files or asks to file in."
    )
    async def email(self, info: Info) -> str:
        access = await info.context.account_access(self.model.id)
        return self.model.email if access.sees_contact else ""

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.model.created_at

    @strawberry.field(description="Created before 2014-08-11 and not upgraded: may search, not link or file.")
    def is_legacy(self) -> bool:
        return self.model.is_legacy

    @strawberry.field(description="When the legacy account was upgraded; null if never (or born upgraded).")
    def upgraded_at(self) -> dt.datetime | None:
        return self.model.upgraded_at

    @strawberry.field(description="A shared office account: research only, never used to link or file.")
    def is_shared(self) -> bool:
        return self.model.is_shared

    @strawberry.field(
        description="Legacy CM/ECF accounts this account linked, in every court (to a court's clerks, theirs)."
    )
    async def cmecf_accounts(
        self, info: Info
    ) -> list[Annotated[CmecfAccount, strawberry.lazy("nextgen_gql.api.types.filing")]]:
        from nextgen_gql.api.types.filing import CmecfAccount

        access = await info.context.account_access(self.model.id)
        links = [
            link
            for link in await info.context.loaders.links_of_account.load(self.model.id)
            if access.sees_court(link.court_id)
        ]
        for link in links:
            info.context.loaders.link_of_cmecf.prime(link.cmecf_account_id, link)
        return [CmecfAccount(model=link.cmecf_account) for link in links]

    @strawberry.field(
        description="Where this account may file, in every court (to a court's clerks, theirs)."
    )
    async def privileges(
        self, info: Info
    ) -> list[Annotated[FilingPrivilege, strawberry.lazy("nextgen_gql.api.types.filing")]]:
        from nextgen_gql.api.types.filing import FilingPrivilege

        access = await info.context.account_access(self.model.id)
        rows = await info.context.loaders.privileges.load(self.model.id)
        return [FilingPrivilege(model=row) for row in rows if access.sees_court(row.court_id)]

    @strawberry.field(description="Whether this account may file in the court with this code now.")
    async def can_file(self, info: Info, court: str) -> bool:
        try:
            target = info.context.courts.get(court)
        except UnknownCourt as exc:
            raise raise_for_query(NotFound(str(exc), "court")) from None
        access = await info.context.account_access(self.model.id)
        if not access.sees_court(target.code):
            raise raise_for_query(Forbidden(f"You may not see where this account files in {target.code}."))
        if self.model.is_legacy or self.model.is_shared or not target.is_nextgen():
            return False
        rows = await info.context.loaders.privileges.load(self.model.id)
        return any(row.court_id == target.code for row in rows)

    @strawberry.field(
        description="Its e-file requests, in every court (to a court's clerks, only those in their courts)."
    )
    async def registrations(
        self, info: Info
    ) -> list[Annotated[Registration, strawberry.lazy("nextgen_gql.api.types.registrations")]]:
        from nextgen_gql.api.types.registrations import Registration

        access = await info.context.account_access(self.model.id)
        rows = await info.context.loaders.registrations.load(self.model.id)
        return [Registration(model=r) for r in rows if access.sees_court(r.court_id)]

    @strawberry.field(
        description="The account's own audit trail, newest first: sign-ins, upgrade, links, decisions. "
        "Visible to the account itself only."
    )
    async def audit_events(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated[AuditEventConnection, strawberry.lazy("nextgen_gql.api.types.audit")]:
        from nextgen_gql.api.types.audit import audit_connection

        try:
            viewer = await info.context.viewer()
            if viewer is None or viewer.id != self.model.id:
                raise Forbidden("Only the account itself sees its audit trail.")
            page = await audit.account_events(self.model.id, first=first, after=decode_id_cursor(after))
        except DomainError as exc:
            raise raise_for_query(exc) from None
        return audit_connection(page)

    @strawberry.field(
        description="The PAA whose member this account is, if any (to the account itself and its firm's admins)."
    )
    async def firm(
        self, info: Info
    ) -> Annotated[Firm, strawberry.lazy("nextgen_gql.api.types.firms")] | None:
        from nextgen_gql.api.types.firms import Firm

        membership = await info.context.loaders.membership.load(self.model.id)
        if membership is None or not (await info.context.account_access(self.model.id)).full:
            return None
        firm = await info.context.loaders.firm.load(membership.firm_id)
        return Firm(model=firm) if firm else None

    @strawberry.field(
        description='The account\'s own quarterly statement, as "2026Q3": the charges billed to it rather than '
        "to a firm. Visible to the account itself only."
    )
    async def statement(
        self, info: Info, quarter: str
    ) -> Annotated[Statement, strawberry.lazy("nextgen_gql.api.types.billing")]:
        from nextgen_gql.api.types.billing import Statement

        try:
            viewer = await info.context.viewer()
            if viewer is None or viewer.id != self.model.id:
                raise Forbidden("Only the account itself sees its statement.")
            value = await billing.account_statement(self.model, billing.parse_quarter(quarter))
        except DomainError as exc:
            raise raise_for_query(exc) from None
        return Statement(value=value)
