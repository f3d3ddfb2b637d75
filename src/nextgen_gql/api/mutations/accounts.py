"""signIn, signOut, registerPacerAccount, upgradePacerAccount."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.api.types.security import MfaChallenge
from nextgen_gql.errors import Unauthenticated
from nextgen_gql.services import accounts, auth
from nextgen_gql.services.visibility import FULL_ACCESS

__all__ = ["AccountMutations"]


@strawberry.input(description="Credentials of a PACER account.")
class SignInInput:
    username: str = strawberry.field(description="Matched regardless of case.")
    password: str = strawberry.field(description="The account's password.")
    client_code: str | None = strawberry.field(
        default=None, description="Required when the firm requires one."
    )
    redaction_acknowledged: bool | None = strawberry.field(
        default=None, description="Filers must acknowledge the redaction rules to sign in."
    )


@strawberry.type(description="A sign-in: the token, and the account signed in.")
class SignInPayload:
    token: str | None = strawberry.field(
        default=None,
        description="Send as `Authorization: Bearer <token>`; also set as the NextGenCSO cookie.",
    )
    account: PacerAccount | None = strawberry.field(default=None, description="The account signed in.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)
    mfa_challenge: MfaChallenge | None = strawberry.field(
        default=None,
        description="Set (and token null) when the password was right and a second factor is due: "
        "pass it to verifySignIn.",
    )


@strawberry.type(description="A sign-out.")
class SignOutPayload:
    ok: bool = strawberry.field(default=False, description="True when the token was revoked, in every court.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.input(description="A new PACER account (born upgraded).")
class RegisterPacerAccountInput:
    username: str = strawberry.field(description="At least 8 characters: letters, digits, '.', '_', '-'.")
    password: str = strawberry.field(
        description="14 to 45 characters, lower and upper case, a special character, no part of your name, username or email."
    )
    first_name: str = strawberry.field(description="Your first name, 1 to 100 characters.")
    last_name: str = strawberry.field(description="Your last name, 1 to 100 characters.")
    email: str = strawberry.field(description="Where the service mails you (password resets, decisions).")


@strawberry.type(description="An account made or changed.")
class PacerAccountPayload:
    account: PacerAccount | None = strawberry.field(default=None, description="The account, as it is now.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.input(description="What upgrading a legacy PACER account asks for.")
class UpgradePacerAccountInput:
    email: str = strawberry.field(description="The email to keep on file (a legacy account may have none).")
    new_username: str | None = strawberry.field(
        default=None, description="Required when the legacy username is shorter than 8."
    )
    new_password: str | None = strawberry.field(
        default=None, description="Required when the current password fails today's policy."
    )


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="Sign in with one PACER account for every court (Central Sign-On). An account with "
        "MFA gets an mfaChallenge instead of a token: finish with verifySignIn."
    )
    @payload_errors(SignInPayload)
    async def sign_in(
        self,
        info: Info,
        input: Annotated[
            SignInInput,
            strawberry.argument(description="Your username, password and what sign-in asks of filers."),
        ],
    ) -> SignInPayload:
        ttl = info.context.settings.session_ttl_seconds
        signed = await auth.sign_in(
            username=input.username,
            password=input.password,
            client_code=input.client_code,
            redaction_acknowledged=bool(input.redaction_acknowledged),
            ttl_seconds=ttl,
            source=info.context.source_address,
            user_agent=info.context.user_agent,
        )
        if isinstance(signed, auth.Challenge):
            return SignInPayload(
                mfa_challenge=MfaChallenge(
                    token=signed.token, expires_at=signed.expires_at, methods=list(signed.methods)
                )
            )
        info.context.set_token_cookie(signed.token, ttl)
        info.context.owner_proved(signed.account.id)
        return SignInPayload(token=signed.token, account=PacerAccount.of(signed.account, FULL_ACCESS))

    @strawberry.mutation(description="Revoke this sign-in's token, in every court.")
    @payload_errors(SignOutPayload)
    async def sign_out(self, info: Info) -> SignOutPayload:
        session = await info.context.session()
        if session is None:
            raise Unauthenticated("You are not signed in.")
        await auth.sign_out(session)
        info.context.forget_session()
        info.context.clear_token_cookie()
        return SignOutPayload(ok=True)

    @strawberry.mutation(
        description="Register a new PACER account (born upgraded); its email is held unverified until "
        "confirmed with the token mailed to it (verifyEmail)."
    )
    @payload_errors(PacerAccountPayload)
    async def register_pacer_account(
        self,
        info: Info,
        input: Annotated[
            RegisterPacerAccountInput, strawberry.argument(description="The new account's details.")
        ],
    ) -> PacerAccountPayload:
        account = await accounts.register(
            username=input.username,
            password=input.password,
            first_name=input.first_name,
            last_name=input.last_name,
            email=input.email,
            source=info.context.source_address,
            mailer=info.context.mailer,
        )
        info.context.owner_proved(account.id)
        return PacerAccountPayload(account=PacerAccount.of(account, FULL_ACCESS))

    @strawberry.mutation(
        description="Upgrade the signed-in legacy PACER account, once; a new email is held unverified "
        "until confirmed with the token mailed to it (verifyEmail)."
    )
    @payload_errors(PacerAccountPayload)
    async def upgrade_pacer_account(
        self,
        info: Info,
        input: Annotated[
            UpgradePacerAccountInput,
            strawberry.argument(
                description="Your email, and a new username or password where the old one fails today's rules."
            ),
        ],
    ) -> PacerAccountPayload:
        viewer = await info.context.require_viewer()
        account = await accounts.upgrade(
            viewer,
            email=input.email,
            new_username=input.new_username,
            new_password=input.new_password,
            mailer=info.context.mailer,
        )
        return PacerAccountPayload(account=PacerAccount.of(account, FULL_ACCESS))
