"""createFirm, inviteFirmMember, accept/decline/cancelFirmInvitation, removeFirmMember, setFirmAdmin,
setClientCodeRequired."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.ids import decode_int_id, encode_id
from nextgen_gql.api.types.firms import Firm, FirmInvitation
from nextgen_gql.errors import NotFound
from nextgen_gql.services import firms

__all__ = ["FirmMutations"]


@strawberry.input(description="A new firm (PACER Administrative Account).")
class CreateFirmInput:
    name: str = strawberry.field(description="The firm's name, 1 to 200 characters.")


@strawberry.input(
    description="An existing PACER account, named by its account number and last name (any case)."
)
class InviteFirmMemberInput:
    account_number: str = strawberry.field(description="The account's 7-digit PACER account number.")
    last_name: str = strawberry.field(
        description="Its holder's last name, in any case (a wrong pair does not say which half was wrong)."
    )


@strawberry.type(description="A firm made or changed.")
class FirmPayload:
    firm: Firm | None = strawberry.field(default=None, description="The firm, as it is now.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.type(description="An invitation sent, answered or cancelled.")
class FirmInvitationPayload:
    invitation: FirmInvitation | None = strawberry.field(
        default=None, description="The invitation, as it is now."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


def _key(value: str, type_name: str, field: str) -> int:
    key = decode_int_id(value, type_name)
    if key is None:
        raise NotFound(f"No {type_name} has that id.", field)
    return key


@strawberry.type
class FirmMutations:
    @strawberry.mutation(description="Create a firm (PAA); you become its administrator.")
    @payload_errors(FirmPayload)
    async def create_firm(
        self,
        info: Info,
        input: Annotated[CreateFirmInput, strawberry.argument(description="The firm's name.")],
    ) -> FirmPayload:
        firm = await firms.create_firm(await info.context.require_viewer(), name=input.name)
        return FirmPayload(firm=Firm.of(firm))

    @strawberry.mutation(description="Invite an existing PACER account to your firm (administrators).")
    @payload_errors(FirmInvitationPayload)
    async def invite_firm_member(
        self,
        info: Info,
        input: Annotated[
            InviteFirmMemberInput,
            strawberry.argument(description="The account to invite: its account number and last name."),
        ],
    ) -> FirmInvitationPayload:
        invitation = await firms.invite_member(
            await info.context.require_viewer(),
            account_number=input.account_number,
            last_name=input.last_name,
            mailer=info.context.mailer,
            public_id=lambda key: encode_id("FirmInvitation", key),
        )
        return FirmInvitationPayload(invitation=FirmInvitation.of(invitation))

    @strawberry.mutation(description="Accept an invitation addressed to you.")
    @payload_errors(FirmPayload)
    async def accept_firm_invitation(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description='The FirmInvitation\'s id (from me.invitations, or the mail after "Invitation id:").'
            ),
        ],
    ) -> FirmPayload:
        firm = await firms.accept_invitation(
            await info.context.require_viewer(), _key(id, "FirmInvitation", "id"), mailer=info.context.mailer
        )
        return FirmPayload(firm=Firm.of(firm))

    @strawberry.mutation(description="Decline an invitation addressed to you.")
    @payload_errors(FirmInvitationPayload)
    async def decline_firm_invitation(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description='The FirmInvitation\'s id (from me.invitations, or the mail after "Invitation id:").'
            ),
        ],
    ) -> FirmInvitationPayload:
        invitation = await firms.decline_invitation(
            await info.context.require_viewer(), _key(id, "FirmInvitation", "id"), mailer=info.context.mailer
        )
        return FirmInvitationPayload(invitation=FirmInvitation.of(invitation))

    @strawberry.mutation(
        description="Cancel an invitation of your firm that is still pending; the invitee is mailed "
        "(the firm's administrators). Another firm's invitation is NOT_FOUND, an answered or cancelled "
        "one ALREADY_DECIDED."
    )
    @payload_errors(FirmInvitationPayload)
    async def cancel_firm_invitation(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The FirmInvitation's id (from your firm's invitations)."),
        ],
    ) -> FirmInvitationPayload:
        invitation = await firms.cancel_invitation(
            await info.context.require_viewer(), _key(id, "FirmInvitation", "id"), mailer=info.context.mailer
        )
        return FirmInvitationPayload(invitation=FirmInvitation.of(invitation))

    @strawberry.mutation(
        description="Make a member of your firm an administrator (admin: true), or step down yourself "
        "(admin: false; FORBIDDEN on another administrator). The firm's last administrator cannot step "
        "down or leave while it has members (LAST_ADMIN). Audited, and mailed to the administrators."
    )
    @payload_errors(FirmPayload)
    async def set_firm_admin(
        self,
        info: Info,
        account_id: Annotated[
            strawberry.ID, strawberry.argument(description="The PacerAccount's id: a member of your firm.")
        ],
        admin: Annotated[
            bool,
            strawberry.argument(description="true: make an administrator; false: step down (yourself only)."),
        ],
    ) -> FirmPayload:
        firm = await firms.set_admin(
            await info.context.require_viewer(),
            _key(account_id, "PacerAccount", "accountId"),
            admin,
            mailer=info.context.mailer,
        )
        return FirmPayload(firm=Firm.of(firm))

    @strawberry.mutation(description="An administrator removes a member, or a member (your own id) leaves.")
    @payload_errors(FirmPayload)
    async def remove_firm_member(
        self,
        info: Info,
        account_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The PacerAccount's id: a member of your firm, or your own to leave."
            ),
        ],
    ) -> FirmPayload:
        firm = await firms.remove_member(
            await info.context.require_viewer(),
            _key(account_id, "PacerAccount", "accountId"),
            mailer=info.context.mailer,
        )
        return FirmPayload(firm=Firm.of(firm))

    @strawberry.mutation(
        description="Make a client code mandatory at sign-in for every member (administrators)."
    )
    @payload_errors(FirmPayload)
    async def set_client_code_required(
        self,
        info: Info,
        required: Annotated[
            bool,
            strawberry.argument(
                description="true: every member signs in with a client code; false: no need."
            ),
        ],
    ) -> FirmPayload:
        firm = await firms.set_client_code_required(await info.context.require_viewer(), required)
        return FirmPayload(firm=Firm.of(firm))
