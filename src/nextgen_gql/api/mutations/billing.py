"""recordUsage: the court's CM/ECF reports PACER usage, addressed to that court."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.types.billing import Charge, UsageKindEnum
from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.services import billing
from nextgen_gql.services.courts import require_reader

__all__ = ["BillingMutations"]


@strawberry.input(description="One item of usage, sent by the court's CM/ECF.")
class RecordUsageInput:
    account_number: str = strawberry.field(description="The 7-digit PACER account number of the user.")
    kind: UsageKindEnum = strawberry.field(description="What was used: it sets the price and the cap.")
    pages: int = strawberry.field(description="Pages; files for AUDIO.")
    client_code: str | None = strawberry.field(
        default=None, description="Defaults to the client code of the account's sign-in."
    )
    description: str | None = strawberry.field(
        default=None, description="What the item was, in words (at most 500 characters)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="The court system's own id of the item (1 to 128 characters): a retry with the same key "
        "at the same court records nothing new and answers the first charge; the same key with different "
        "usage is IDEMPOTENCY_KEY_REUSED.",
    )


@strawberry.type(description="A charge recorded (or, for a retried item, the first one).")
class ChargePayload:
    charge: Charge | None = strawberry.field(default=None, description="The charge, after the per-item cap.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.type
class BillingMutations:
    @strawberry.mutation(
        description="Record PACER usage in the addressed court: its clerks, or its service keys with "
        "RECORD_USAGE. With an idempotencyKey, a retried report bills once."
    )
    @payload_errors(ChargePayload, key_scope=CourtKeyScope.RECORD_USAGE)
    async def record_usage(
        self,
        info: Info,
        input: Annotated[
            RecordUsageInput,
            strawberry.argument(
                description="The item of usage: whose, what kind, how many pages, and the court system's id of it."
            ),
        ],
    ) -> ChargePayload:
        ctx = info.context
        viewer = await ctx.viewer()
        court = await require_reader(viewer, ctx.court, ctx.service_key, CourtKeyScope.RECORD_USAGE)
        charge = await billing.record_usage(
            billing.Recorder(viewer.id if viewer else None, ctx.service_key.id if ctx.service_key else None),
            court,
            account_number=input.account_number,
            kind=input.kind,
            pages=input.pages,
            client_code=input.client_code,
            description=input.description,
            idempotency_key=input.idempotency_key,
        )
        return ChargePayload(charge=Charge(model=charge))
