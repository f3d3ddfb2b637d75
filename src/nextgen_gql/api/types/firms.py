"""Firms (PACER Administrative Accounts) and their invitations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.pagination import decode_id_cursor, encode_cursor, page_info
from nextgen_gql.api.types.billing import Statement
from nextgen_gql.api.types.common import Node, PageInfo, describe_values
from nextgen_gql.api.types.filing import CURSOR_HELP, PAGE_INFO_HELP, TOTAL_HELP, load_account
from nextgen_gql.enums import InvitationStatus
from nextgen_gql.errors import DomainError
from nextgen_gql.models import Firm as FirmModel
from nextgen_gql.models import FirmInvitation as FirmInvitationModel
from nextgen_gql.models import PacerAccount as PacerAccountModel
from nextgen_gql.services import billing, firms

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = ["Firm", "FirmInvitation", "InvitationStatusEnum", "PacerAccountConnection", "PacerAccountEdge"]

InvitationStatusEnum = describe_values(
    strawberry.enum(InvitationStatus, name="InvitationStatus", description="Where an invitation stands."),
    {
        "PENDING": "Waiting for the invitee's answer (the firm's administrators may cancel it).",
        "ACCEPTED": "The invitee joined the firm.",
        "DECLINED": "The invitee declined.",
        "CANCELLED": "An administrator cancelled it, or the firm was left with no member.",
    },
)
_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]


async def _require_admin(info: Info, firm: FirmModel) -> None:
    role = await info.context.firm_role()  # None when signed out
    try:
        firms.check_admin_of(firm, role.firm.id if role is not None and role.is_admin else None)
    except DomainError as exc:
        raise graphql_error(exc) from None


@strawberry.type(description="A PACER account in a page of accounts, with its place.")
class PacerAccountEdge:
    cursor: str = strawberry.field(description=CURSOR_HELP)
    node: _PacerAccount = strawberry.field(description="The account.")


@strawberry.type(description="A page of PACER accounts.")
class PacerAccountConnection:
    edges: list[PacerAccountEdge] = strawberry.field(description="The page's accounts, by account.")
    page_info: PageInfo = strawberry.field(description=PAGE_INFO_HELP)
    total_count: int = strawberry.field(description=TOTAL_HELP)


@strawberry.type(
    description="A PACER Administrative Account: a firm that manages its users and pays their fees."
)
class Firm(Node):
    model: strawberry.Private[FirmModel]

    @classmethod
    def of(cls, model: FirmModel) -> Firm:
        return cls(model=model, id=strawberry.ID(encode_id("Firm", model.id)))

    @strawberry.field(description="7 digits.")
    def account_number(self) -> str:
        return self.model.account_number

    @strawberry.field(description="The firm's name.")
    def name(self) -> str:
        return self.model.name

    @strawberry.field(description="Whether members must give a client code at sign-in.")
    def client_code_required(self) -> bool:
        return self.model.client_code_required

    @strawberry.field(description="The firm's administrators.")
    async def admins(self) -> list[_PacerAccount]:
        from nextgen_gql.api.types.accounts import PacerAccount

        rows = await PacerAccountModel.filter(
            membership__firm_id=self.model.id, membership__is_admin=True
        ).order_by("id")
        return [PacerAccount.of(row) for row in rows]

    @strawberry.field(description="Every member, administrators included (the firm's administrators only).")
    async def members(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="At most this many (1 to 100; default 50).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The members after this cursor (an edge's cursor).")
        ] = None,
    ) -> PacerAccountConnection:
        from nextgen_gql.api.types.accounts import PacerAccount

        await _require_admin(info, self.model)
        try:
            page = await firms.list_members(self.model, first=first, after=decode_id_cursor(after))
        except DomainError as exc:
            raise graphql_error(exc) from None
        edges = [PacerAccountEdge(cursor=encode_cursor(r.id), node=PacerAccount.of(r)) for r in page.rows]
        return PacerAccountConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges]), total_count=page.total_count
        )

    @strawberry.field(description="Pending invitations (the firm's administrators only).")
    async def invitations(self, info: Info) -> list[FirmInvitation]:
        await _require_admin(info, self.model)
        return [FirmInvitation.of(row) for row in await firms.pending_invitations(self.model.id)]

    @strawberry.field(description="The quarter's charges, as \"2026Q3\" (the firm's administrators only).")
    async def statement(
        self,
        info: Info,
        quarter: Annotated[str, strawberry.argument(description='The quarter, as "2026Q3".')],
    ) -> Statement:
        await _require_admin(info, self.model)
        try:
            value = await billing.firm_statement(self.model, billing.parse_quarter(quarter))
        except DomainError as exc:
            raise graphql_error(exc) from None
        return Statement(value=value)


@strawberry.type(description="An invitation to join a firm.")
class FirmInvitation(Node):
    model: strawberry.Private[FirmInvitationModel]

    @classmethod
    def of(cls, model: FirmInvitationModel) -> FirmInvitation:
        return cls(model=model, id=strawberry.ID(encode_id("FirmInvitation", model.id)))

    @strawberry.field(description="The firm inviting.")
    async def firm(self, info: Info) -> Firm:
        firm = await info.context.loaders.firm.load(self.model.firm_id)
        assert firm is not None  # a foreign key: the row exists
        return Firm.of(firm)

    @strawberry.field(description="The invited account.")
    async def account(self, info: Info) -> _PacerAccount:
        account = await load_account(info, self.model.account_id)
        assert account is not None  # a foreign key: the row exists
        return account

    @strawberry.field(description="Where it stands.")
    def status(self) -> InvitationStatusEnum:  # type: ignore[valid-type]
        return self.model.status

    @strawberry.field(description="When it was sent.")
    def created_at(self) -> dt.datetime:
        return self.model.created_at

    @strawberry.field(description="The administrator who sent it.")
    async def invited_by(self, info: Info) -> _PacerAccount | None:
        return await load_account(info, self.model.invited_by_id)

    @strawberry.field(description="When it was accepted, declined or cancelled; null while pending.")
    def decided_at(self) -> dt.datetime | None:
        return self.model.answered_at
