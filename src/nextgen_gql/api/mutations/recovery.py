"""Login retrieval: requestPasswordReset, resetPassword, retrieveCmecfLogin.

The requests answer ``ok: true`` whether or not an account matched.
"""

from __future__ import annotations

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import UserError, payload_errors
from nextgen_gql.services import recovery
from nextgen_gql.services.courts import require_court

__all__ = ["RecoveryMutations"]


@strawberry.input
class RequestPasswordResetInput:
    username_or_email: str


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="The token mailed after `Reset token:`.")
    new_password: str


@strawberry.input
class RetrieveCmecfLoginInput:
    email: str


@strawberry.type
class AcceptedPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecoveryMutations:
    @strawberry.mutation(description="Mail a password-reset token, if the account exists. Always answers ok.")
    @payload_errors(AcceptedPayload)
    async def request_password_reset(self, info: Info, input: RequestPasswordResetInput) -> AcceptedPayload:
        await recovery.request_password_reset(
            input.username_or_email,
            mailer=info.context.mailer,
            ttl_seconds=info.context.settings.password_reset_ttl_seconds,
            source=info.context.source_address,
        )
        return AcceptedPayload(ok=True)

    @strawberry.mutation(
        description="Set a new password with a mailed token; it works once, and signs out everywhere."
    )
    @payload_errors(AcceptedPayload)
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> AcceptedPayload:
        await recovery.reset_password(input.token, input.new_password, source=info.context.source_address)
        return AcceptedPayload(ok=True)

    @strawberry.mutation(
        description="Mail the addressed court's legacy login(s) registered to this email. Always ok."
    )
    @payload_errors(AcceptedPayload)
    async def retrieve_cmecf_login(self, info: Info, input: RetrieveCmecfLoginInput) -> AcceptedPayload:
        court = require_court(info.context.court)
        await recovery.retrieve_cmecf_login(court, input.email, mailer=info.context.mailer)
        return AcceptedPayload(ok=True)
