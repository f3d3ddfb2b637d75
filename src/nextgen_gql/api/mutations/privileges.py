"""addPrivilegeCase, removePrivilegeCase, revokeFilingPrivilege: a court's clerks manage its
filing privileges (the rules: ``services.privileges``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.ids import decode_int_id
from nextgen_gql.api.types.filing import FilingPrivilege
from nextgen_gql.errors import NotFound
from nextgen_gql.models import PacerAccount
from nextgen_gql.services import privileges
from nextgen_gql.services.courts import require_clerk
from nextgen_gql.tenancy import Court

__all__ = ["PrivilegeMutations"]


@strawberry.input(description="A case of a case-restricted privilege of the addressed court.")
class AddPrivilegeCaseInput:
    privilege_id: strawberry.ID = strawberry.field(description="The FilingPrivilege's id.")
    case_number: str = strawberry.field(
        description="As the court writes it (judges' initials may follow); kept in its canonical form."
    )


@strawberry.input(description="The privilege to revoke, and why (the holder is told).")
class RevokeFilingPrivilegeInput:
    id: strawberry.ID = strawberry.field(description="The FilingPrivilege's id.")
    reason: str = strawberry.field(description="Required: a sentence the holder can act on.")


@strawberry.type(description="A filing privilege changed by the court's clerk.")
class FilingPrivilegePayload:
    privilege: FilingPrivilege | None = strawberry.field(
        default=None, description="The privilege, as it is now."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


def _privilege_id(value: str, field: str) -> int:
    key = decode_int_id(value, "FilingPrivilege")
    if key is None:
        raise NotFound("No filing privilege has that id.", field)
    return key


async def _clerk(info: Info) -> tuple[PacerAccount, Court]:
    viewer = await info.context.viewer()
    court = await require_clerk(viewer, info.context.court)
    assert viewer is not None  # require_clerk refuses the anonymous
    return viewer, court


@strawberry.type
class PrivilegeMutations:
    @strawberry.mutation(
        description="List a case on a pro se or pro hac vice privilege (the addressed court's clerks)."
    )
    @payload_errors(FilingPrivilegePayload)
    async def add_privilege_case(
        self,
        info: Info,
        input: Annotated[
            AddPrivilegeCaseInput,
            strawberry.argument(description="The privilege, and the case to list on it."),
        ],
    ) -> FilingPrivilegePayload:
        clerk, court = await _clerk(info)
        privilege = await privileges.add_case(
            clerk, court, _privilege_id(input.privilege_id, "privilegeId"), input.case_number
        )
        return FilingPrivilegePayload(privilege=FilingPrivilege.of(privilege))

    @strawberry.mutation(description="Take a case off a privilege (the addressed court's clerks).")
    @payload_errors(FilingPrivilegePayload)
    async def remove_privilege_case(
        self,
        info: Info,
        input: Annotated[
            AddPrivilegeCaseInput,
            strawberry.argument(description="The privilege, and the case to take off it."),
        ],
    ) -> FilingPrivilegePayload:
        clerk, court = await _clerk(info)
        privilege = await privileges.remove_case(
            clerk, court, _privilege_id(input.privilege_id, "privilegeId"), input.case_number
        )
        return FilingPrivilegePayload(privilege=FilingPrivilege.of(privilege))

    @strawberry.mutation(
        description="Revoke a filing privilege, with a reason; final, and the holder is mailed "
        "(the addressed court's clerks)."
    )
    @payload_errors(FilingPrivilegePayload)
    async def revoke_filing_privilege(
        self,
        info: Info,
        input: Annotated[
            RevokeFilingPrivilegeInput, strawberry.argument(description="The privilege, and why.")
        ],
    ) -> FilingPrivilegePayload:
        clerk, court = await _clerk(info)
        privilege = await privileges.revoke(
            clerk, court, _privilege_id(input.id, "id"), input.reason, mailer=info.context.mailer
        )
        return FilingPrivilegePayload(privilege=FilingPrivilege.of(privilege))
