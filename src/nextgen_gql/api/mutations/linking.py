"""linkCmecfAccount: bind a court's legacy CM/ECF account to a PACER account, for good."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.ids import decode_int_id
from nextgen_gql.api.types.filing import CmecfAccount, FilingPrivilege
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services import linking
from nextgen_gql.services.courts import require_court

__all__ = ["LinkingMutations"]


@strawberry.input(description="The legacy CM/ECF credentials of the addressed court.")
class LinkCmecfAccountInput:
    login: str = strawberry.field(description="The legacy login, in any case.")
    password: str = strawberry.field(description="The legacy CM/ECF password (it is retired once linked).")
    confirm: bool = strawberry.field(description="Must be true: linking can never be undone.")
    on_behalf_of: strawberry.ID | None = strawberry.field(
        default=None, description="Link for another PACER account (its firm's admin)."
    )


@strawberry.type(description="A link made, for good, and the privilege it granted.")
class LinkCmecfAccountPayload:
    cmecf_account: CmecfAccount | None = strawberry.field(
        default=None, description="The legacy account, now linked."
    )
    privilege: FilingPrivilege | None = strawberry.field(
        default=None, description="The filing privilege the link granted, in the legacy account's role."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.type
class LinkingMutations:
    @strawberry.mutation(
        description="Link My Filer Account to My PACER Account, in the addressed court. Irreversible."
    )
    @payload_errors(LinkCmecfAccountPayload)
    async def link_cmecf_account(
        self,
        info: Info,
        input: Annotated[
            LinkCmecfAccountInput,
            strawberry.argument(
                description="The legacy CM/ECF login and password of the addressed court, confirmed."
            ),
        ],
    ) -> LinkCmecfAccountPayload:
        court = require_court(info.context.court)
        viewer = await info.context.require_viewer()
        on_behalf_of = None
        if input.on_behalf_of is not None:
            on_behalf_of = decode_int_id(input.on_behalf_of, "PacerAccount")
            if on_behalf_of is None:
                raise DomainError(
                    ErrorCode.INVALID_INPUT, "onBehalfOf is not a PacerAccount id.", "onBehalfOf"
                )
        result = await linking.link_cmecf_account(
            viewer,
            court,
            login=input.login,
            password=input.password,
            confirm=input.confirm,
            on_behalf_of=on_behalf_of,
        )
        info.context.loaders.link_of_cmecf.prime(result.cmecf_account.id, result.link)
        return LinkCmecfAccountPayload(
            cmecf_account=CmecfAccount.of(result.cmecf_account),
            privilege=FilingPrivilege.of(result.privilege),
        )
