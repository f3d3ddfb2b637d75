"""submitRegistration, withdrawRegistration, decideRegistration: addressed to a court."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.ids import decode_int_id
from nextgen_gql.api.types.courts import FilerRoleEnum
from nextgen_gql.api.types.filing import FilingPrivilege
from nextgen_gql.api.types.registrations import Registration
from nextgen_gql.errors import NotFound
from nextgen_gql.services import registrations
from nextgen_gql.services.courts import require_clerk, require_court

__all__ = ["RegistrationMutations"]


@strawberry.input(description="An e-file registration for the addressed court.")
class SubmitRegistrationInput:
    role: FilerRoleEnum = strawberry.field(
        description="The role asked for: one the court accepts (Court.acceptedRoles)."
    )
    pro_hac_vice: bool | None = strawberry.field(
        default=None, description="An attorney admitted for one case."
    )
    case_number: str | None = strawberry.field(
        default=None, description="Required for PRO_SE and pro hac vice."
    )
    bar_number: str | None = strawberry.field(default=None, description="Required for ATTORNEY.")
    bar_state: str | None = strawberry.field(default=None, description="Two letters, e.g. MA.")


@strawberry.input(description="A clerk's decision on a pending registration.")
class DecideRegistrationInput:
    id: strawberry.ID = strawberry.field(
        description="The Registration's id (pending, in the addressed court)."
    )
    approve: bool = strawberry.field(
        description="true approves (a filing privilege is granted); false rejects."
    )
    reason: str | None = strawberry.field(default=None, description="Required when approve is false.")
    link_cmecf_login: str | None = strawberry.field(
        default=None, description="On approval, link this legacy account of the court to the applicant."
    )


@strawberry.type(description="A registration sent, withdrawn or decided.")
class RegistrationPayload:
    registration: Registration | None = strawberry.field(
        default=None, description="The registration, as it is now."
    )
    privilege: FilingPrivilege | None = strawberry.field(
        default=None, description="On approval: the privilege granted (or that the case was added to)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


def _registration_id(value: str) -> int:
    key = decode_int_id(value, "Registration")
    if key is None:
        raise NotFound("No registration has that id.", "id")
    return key


@strawberry.type
class RegistrationMutations:
    @strawberry.mutation(description="Ask the addressed court for a filing privilege.")
    @payload_errors(RegistrationPayload)
    async def submit_registration(
        self,
        info: Info,
        input: Annotated[
            SubmitRegistrationInput,
            strawberry.argument(description="The role asked for, and the case or bar number it needs."),
        ],
    ) -> RegistrationPayload:
        court = require_court(info.context.court)
        viewer = await info.context.require_viewer()
        registration = await registrations.submit_registration(
            viewer,
            court,
            role=input.role,
            pro_hac_vice=bool(input.pro_hac_vice),
            case_number=input.case_number,
            bar_number=input.bar_number,
            bar_state=input.bar_state,
        )
        return RegistrationPayload(registration=Registration.of(registration))

    @strawberry.mutation(description="Withdraw your own pending registration in the addressed court.")
    @payload_errors(RegistrationPayload)
    async def withdraw_registration(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The Registration's id (yours, pending).")
        ],
    ) -> RegistrationPayload:
        court = require_court(info.context.court)
        viewer = await info.context.require_viewer()
        registration = await registrations.withdraw_registration(viewer, court, _registration_id(id))
        return RegistrationPayload(registration=Registration.of(registration))

    @strawberry.mutation(
        description="Approve or reject a pending registration (the addressed court's clerks)."
    )
    @payload_errors(RegistrationPayload)
    async def decide_registration(
        self,
        info: Info,
        input: Annotated[
            DecideRegistrationInput, strawberry.argument(description="Which registration, and the decision.")
        ],
    ) -> RegistrationPayload:
        viewer = await info.context.viewer()
        court = await require_clerk(viewer, info.context.court)
        assert viewer is not None  # require_clerk refuses the anonymous
        decision = await registrations.decide_registration(
            viewer,
            court,
            _registration_id(input.id),
            approve=input.approve,
            reason=input.reason,
            link_cmecf_login=input.link_cmecf_login,
            mailer=info.context.mailer,
        )
        if decision.link:
            info.context.loaders.link_of_cmecf.prime(decision.link.cmecf_account.id, decision.link.link)
        return RegistrationPayload(
            registration=Registration.of(decision.registration),
            privilege=FilingPrivilege.of(decision.privilege) if decision.privilege else None,
        )
