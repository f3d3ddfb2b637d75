"""recordUsage: the court's CM/ECF reports PACER usage, addressed to that court."""

from __future__ import annotations

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import UserError, payload_errors
from nextgen_gql.api.types.billing import Charge, UsageKindEnum
from nextgen_gql.services import billing
from nextgen_gql.services.courts import require_clerk

__all__ = ["BillingMutations"]


@strawberry.input(description="One item of usage, sent by the court's CM/ECF.")
class RecordUsageInput:
    account_number: str
    kind: UsageKindEnum  # type: ignore[valid-type]
    pages: int = strawberry.field(description="Pages; files for AUDIO.")
    client_code: str | None = strawberry.field(
        default=None, description="Defaults to the client code of the account's sign-in."
    )
    description: str | None = None


@strawberry.type
class ChargePayload:
    charge: Charge | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BillingMutations:
    @strawberry.mutation(
        description="Record PACER usage in the addressed court (its clerks or service accounts)."
    )
    @payload_errors(ChargePayload)
    async def record_usage(self, info: Info, input: RecordUsageInput) -> ChargePayload:
        viewer = await info.context.viewer()
        court = await require_clerk(viewer, info.context.court)
        assert viewer is not None  # require_clerk refuses the anonymous
        charge = await billing.record_usage(
            viewer,
            court,
            account_number=input.account_number,
            kind=input.kind,
            pages=input.pages,
            client_code=input.client_code,
            description=input.description,
        )
        return ChargePayload(charge=Charge(model=charge))
