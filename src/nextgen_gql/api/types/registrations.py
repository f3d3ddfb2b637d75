"""E-file registrations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node, PageInfo, describe_values
from nextgen_gql.api.types.courts import Court, FilerRoleEnum, court_node
from nextgen_gql.api.types.filing import (
    CURSOR_HELP,
    PAGE_INFO_HELP,
    TOTAL_HELP,
    FilingPrivilege,
    load_account,
)
from nextgen_gql.enums import RegistrationStatus
from nextgen_gql.models import Registration as RegistrationModel

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = ["Registration", "RegistrationConnection", "RegistrationEdge", "RegistrationStatusEnum"]

RegistrationStatusEnum = describe_values(
    strawberry.enum(
        RegistrationStatus, name="RegistrationStatus", description="Where an e-file registration stands."
    ),
    {
        "PENDING": "Waiting for the court's clerk: the queue.",
        "APPROVED": "Approved: it granted a filing privilege (or added its case to one).",
        "REJECTED": "Rejected by the clerk, with a reason.",
        "WITHDRAWN": "Withdrawn by the applicant before a decision.",
    },
)
_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]


@strawberry.type(description="A request to a court for a filing privilege in one role.")
class Registration(Node):
    model: strawberry.Private[RegistrationModel]

    @classmethod
    def of(cls, model: RegistrationModel) -> Registration:
        return cls(model=model, id=strawberry.ID(encode_id("Registration", model.id)))

    @strawberry.field(description="The court asked.")
    def court(self, info: Info) -> Court:
        return court_node(info.context.courts.get(self.model.court_id))

    @strawberry.field(description="The applicant.")
    async def account(self, info: Info) -> _PacerAccount:
        account = await load_account(info, self.model.account_id)
        assert account is not None  # a foreign key: the row exists
        return account

    @strawberry.field(description="The role asked for.")
    def role(self) -> FilerRoleEnum:
        return self.model.role

    @strawberry.field(description="An attorney admitted for one case only.")
    def pro_hac_vice(self) -> bool:
        return self.model.pro_hac_vice

    @strawberry.field(description="The case (canonical) of a pro se or pro hac vice registration.")
    def case_number(self) -> str | None:
        return self.model.case_number

    @strawberry.field(description="An attorney's bar number.")
    def bar_number(self) -> str | None:
        return self.model.bar_number

    @strawberry.field(description="The two-letter state of the attorney's bar, e.g. MA.")
    def bar_state(self) -> str | None:
        return self.model.bar_state

    @strawberry.field(description="Where it stands.")
    def status(self) -> RegistrationStatusEnum:  # type: ignore[valid-type]
        return self.model.status

    @strawberry.field(description="When the applicant sent it.")
    def submitted_at(self) -> dt.datetime:
        return self.model.submitted_at

    @strawberry.field(description="When it was decided or withdrawn.")
    def decided_at(self) -> dt.datetime | None:
        return self.model.decided_at

    @strawberry.field(description="The clerk who decided.")
    async def decided_by(self, info: Info) -> _PacerAccount | None:
        return await load_account(info, self.model.decided_by_id)

    @strawberry.field(description="The clerk's reason on rejection.")
    def reason(self) -> str | None:
        return self.model.reason

    @strawberry.field(
        description="What an approval granted, or added the registration's case to; null unless approved."
    )
    async def privilege(self, info: Info) -> FilingPrivilege | None:
        if self.model.privilege_id is None:
            return None
        row = await info.context.loaders.privilege.load(self.model.privilege_id)
        return FilingPrivilege.of(row) if row else None


@strawberry.type(description="A registration in a page of a court's registrations, with its place.")
class RegistrationEdge:
    cursor: str = strawberry.field(description=CURSOR_HELP)
    node: Registration = strawberry.field(description="The registration.")


@strawberry.type(description="A page of e-file registrations.")
class RegistrationConnection:
    edges: list[RegistrationEdge] = strawberry.field(
        description="The page's registrations, in the list's order."
    )
    page_info: PageInfo = strawberry.field(description=PAGE_INFO_HELP)
    total_count: int = strawberry.field(description=TOTAL_HELP)
