"""Verified email addresses: verifyEmail, resendEmailVerification."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import payload_errors
from nextgen_gql.api.mutations.accounts import PacerAccountPayload
from nextgen_gql.api.mutations.recovery import AcceptedPayload
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.services import email_addresses

__all__ = ["EmailVerificationMutations"]


@strawberry.input(description="The token mailed to an account's address.")
class VerifyEmailInput:
    token: str = strawberry.field(description="The token mailed after `Email verification token:`.")


@strawberry.type
class EmailVerificationMutations:
    @strawberry.mutation(
        description="Confirm an account's email with the token mailed to it (once, within 24 hours), signed "
        "in or not: the token names the account. EMAIL_TAKEN when another account verified the address first."
    )
    @payload_errors(PacerAccountPayload)
    async def verify_email(
        self,
        info: Info,
        input: Annotated[VerifyEmailInput, strawberry.argument(description="The mailed token.")],
    ) -> PacerAccountPayload:
        account = await email_addresses.verify_email(input.token, source=info.context.source_address)
        # The token proves its holder reads the address, not that they are the account: they
        # see its email (and number) as the mail showed them; the rest as the caller sees it.
        return PacerAccountPayload(account=PacerAccount.of(account, contact=True))

    @strawberry.mutation(
        description="Mail your unverified email a new verification token (the last one stops working); "
        "at most 5 an hour."
    )
    @payload_errors(AcceptedPayload)
    async def resend_email_verification(self, info: Info) -> AcceptedPayload:
        ctx = info.context
        await email_addresses.resend_verification(await ctx.require_viewer(), mailer=ctx.mailer)
        return AcceptedPayload(ok=True)
