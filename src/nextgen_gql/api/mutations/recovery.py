"""Login retrieval: requestPasswordReset, resetPassword, retrieveCmecfLogin.

The requests answer ``ok: true`` whether or not an account matched.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.services import recovery
from nextgen_gql.services.courts import require_court

__all__ = ["RecoveryMutations"]


@strawberry.input(description="Who forgot a password.")
class RequestPasswordResetInput:
    username_or_email: str = strawberry.field(description="The account's username or email, in any case.")


@strawberry.input(description="A mailed reset token and the new password.")
class ResetPasswordInput:
    token: str = strawberry.field(description="The token mailed after `Reset token:`.")
    new_password: str = strawberry.field(
        description="14 to 45 characters, lower and upper case, a special character, no part of your name, "
        "username or email."
    )


@strawberry.input(description="Whose legacy logins to mail.")
class RetrieveCmecfLoginInput:
    email: str = strawberry.field(description="The email the court's legacy roster has for you.")


@strawberry.type(description="A request accepted (or refused, with its errors).")
class AcceptedPayload:
    ok: bool = strawberry.field(default=False, description="True when the request was accepted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.type
class RecoveryMutations:
    @strawberry.mutation(description="Mail a password-reset token, if the account exists. Always answers ok.")
    @payload_errors(AcceptedPayload)
    async def request_password_reset(
        self,
        info: Info,
        input: Annotated[
            RequestPasswordResetInput, strawberry.argument(description="Your username or email.")
        ],
    ) -> AcceptedPayload:
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
    async def reset_password(
        self,
        info: Info,
        input: Annotated[
            ResetPasswordInput, strawberry.argument(description="The mailed token and your new password.")
        ],
    ) -> AcceptedPayload:
        await recovery.reset_password(input.token, input.new_password, source=info.context.source_address)
        return AcceptedPayload(ok=True)

    @strawberry.mutation(
        description="Mail the addressed court's legacy login(s) registered to this email. Always ok."
    )
    @payload_errors(AcceptedPayload)
    async def retrieve_cmecf_login(
        self,
        info: Info,
        input: Annotated[
            RetrieveCmecfLoginInput,
            strawberry.argument(description="The email the court's roster has for you."),
        ],
    ) -> AcceptedPayload:
        court = require_court(info.context.court)
        await recovery.retrieve_cmecf_login(
            court, input.email, mailer=info.context.mailer, source=info.context.source_address
        )
        return AcceptedPayload(ok=True)
