"""The second factor and the account's own details: verifySignIn, authenticator apps, backup
codes, changePassword, the email change, and the account's sessions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.ids import decode_int_id, encode_id
from nextgen_gql.api.mutations.accounts import PacerAccountPayload, SignInPayload
from nextgen_gql.api.mutations.recovery import AcceptedPayload
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.api.types.security import Authenticator, AuthenticatorEnrollment, MfaMethodEnum
from nextgen_gql.errors import Unauthenticated
from nextgen_gql.services import auth, mfa, profile
from nextgen_gql.services.visibility import FULL_ACCESS

__all__ = ["SecurityMutations"]


@strawberry.input(description="The second step of a sign-in.")
class VerifySignInInput:
    challenge: str = strawberry.field(description="mfaChallenge.token from signIn.")
    code: str = strawberry.field(description="A code of an authenticator app, or a backup code.")
    method: MfaMethodEnum = strawberry.field(  # type: ignore[valid-type]
        description="Which kind of code: TOTP (an app) or BACKUP_CODE."
    )


@strawberry.input(description="A new authenticator app, by name.")
class StartAuthenticatorEnrollmentInput:
    name: str = strawberry.field(description='What to call the app (1 to 64 characters), e.g. "Work phone".')


@strawberry.type(description="An enrolment started: the app's secret and QR code.")
class AuthenticatorEnrollmentPayload:
    enrollment: AuthenticatorEnrollment | None = strawberry.field(
        default=None, description="The secret to put in the app, and until when to confirm it."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.input(description="The codes that confirm an enrolment.")
class ConfirmAuthenticatorEnrollmentInput:
    enrollment_id: strawberry.ID = strawberry.field(description="AuthenticatorEnrollment.id.")
    security_code: str = strawberry.field(description="The code mailed after `Security code:`.")
    totp_code: str = strawberry.field(description="The code the app shows now.")


@strawberry.type(description="An authenticator app added.")
class AuthenticatorPayload:
    authenticator: Authenticator | None = strawberry.field(default=None, description="The app, now enrolled.")
    backup_codes: list[str] | None = strawberry.field(
        default=None, description="The first time only: 10 single-use codes, shown once. Keep them safe."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.input(description="The app to remove, and a current code that proves it is you.")
class RemoveAuthenticatorInput:
    id: strawberry.ID = strawberry.field(description="The Authenticator's id.")
    code: str = strawberry.field(description="A current code of any of your apps, or a backup code.")
    method: MfaMethodEnum = strawberry.field(  # type: ignore[valid-type]
        description="Which kind of code: TOTP (an app) or BACKUP_CODE."
    )


@strawberry.input(description="A current code that proves it is you.")
class RegenerateBackupCodesInput:
    code: str = strawberry.field(description="A current code of any of your apps, or a backup code.")
    method: MfaMethodEnum = strawberry.field(  # type: ignore[valid-type]
        description="Which kind of code: TOTP (an app) or BACKUP_CODE."
    )


@strawberry.type(description="New backup codes.")
class BackupCodesPayload:
    codes: list[str] | None = strawberry.field(
        default=None, description="10 new single-use codes, shown once."
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.input(description="The current password, and the new one.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="Your password now.")
    new_password: str = strawberry.field(
        description="14 to 45 characters, lower and upper case, a special character, no part of your name, username or email."
    )


@strawberry.input(description="The new email, and your password.")
class RequestEmailChangeInput:
    new_email: str = strawberry.field(description="Where the confirmation token is mailed.")
    password: str = strawberry.field(description="Your current password.")


@strawberry.input(description="The token that confirms a new email.")
class ConfirmEmailChangeInput:
    token: str = strawberry.field(
        description="The token mailed to the new address after `Email change token:`."
    )


@strawberry.type
class SecurityMutations:
    @strawberry.mutation(
        description="Finish a sign-in with a code of an authenticator app or a backup code: the token."
    )
    @payload_errors(SignInPayload)
    async def verify_sign_in(
        self,
        info: Info,
        input: Annotated[
            VerifySignInInput, strawberry.argument(description="The challenge from signIn, and a code.")
        ],
    ) -> SignInPayload:
        ctx = info.context
        ttl = ctx.settings.session_ttl_seconds
        signed = await auth.verify_sign_in(
            challenge=input.challenge,
            code=input.code,
            method=input.method,
            ttl_seconds=ttl,
            sealer=ctx.sealer,
            mailer=ctx.mailer,
            source=ctx.source_address,
            user_agent=ctx.user_agent,
        )
        ctx.set_token_cookie(signed.token, ttl)
        ctx.owner_proved(signed.account.id)
        return SignInPayload(token=signed.token, account=PacerAccount.of(signed.account, FULL_ACCESS))

    @strawberry.mutation(
        description="Begin adding an authenticator app: mails a security code to your email, and answers "
        "the app's secret and QR code."
    )
    @payload_errors(AuthenticatorEnrollmentPayload)
    async def start_authenticator_enrollment(
        self,
        info: Info,
        input: Annotated[
            StartAuthenticatorEnrollmentInput, strawberry.argument(description="What to call the app.")
        ],
    ) -> AuthenticatorEnrollmentPayload:
        ctx = info.context
        started = await mfa.start_enrollment(
            await ctx.require_viewer(), input.name, sealer=ctx.sealer, mailer=ctx.mailer
        )
        pending = started.authenticator
        assert pending.expires_at is not None
        return AuthenticatorEnrollmentPayload(
            enrollment=AuthenticatorEnrollment(
                id=strawberry.ID(encode_id("AuthenticatorEnrollment", pending.id)),
                secret=started.secret,
                otpauth_uri=started.otpauth_uri,
                qr_code_svg=started.qr_svg,
                expires_at=pending.expires_at,
            )
        )

    @strawberry.mutation(
        description="Finish adding an app with the mailed security code and a first code of the app "
        "(at most 5 apps). The first app also gives 10 backup codes, shown once."
    )
    @payload_errors(AuthenticatorPayload)
    async def confirm_authenticator_enrollment(
        self,
        info: Info,
        input: Annotated[
            ConfirmAuthenticatorEnrollmentInput,
            strawberry.argument(description="The enrolment, the mailed security code and the app's code."),
        ],
    ) -> AuthenticatorPayload:
        ctx = info.context
        app, codes = await mfa.confirm_enrollment(
            await ctx.require_viewer(),
            decode_int_id(input.enrollment_id, "AuthenticatorEnrollment"),
            input.security_code,
            input.totp_code,
            sealer=ctx.sealer,
            mailer=ctx.mailer,
        )
        return AuthenticatorPayload(authenticator=Authenticator.of(app), backup_codes=codes)

    @strawberry.mutation(description="Remove one of your authenticator apps, with a current code.")
    @payload_errors(AcceptedPayload)
    async def remove_authenticator(
        self,
        info: Info,
        input: Annotated[
            RemoveAuthenticatorInput, strawberry.argument(description="The app, and a current code.")
        ],
    ) -> AcceptedPayload:
        ctx = info.context
        await mfa.remove_authenticator(
            await ctx.require_viewer(),
            decode_int_id(input.id, "Authenticator"),
            input.code,
            input.method,
            sealer=ctx.sealer,
            mailer=ctx.mailer,
        )
        return AcceptedPayload(ok=True)

    @strawberry.mutation(description="Replace all your backup codes with 10 new ones, with a current code.")
    @payload_errors(BackupCodesPayload)
    async def regenerate_backup_codes(
        self,
        info: Info,
        input: Annotated[RegenerateBackupCodesInput, strawberry.argument(description="A current code.")],
    ) -> BackupCodesPayload:
        ctx = info.context
        codes = await mfa.regenerate_backup_codes(
            await ctx.require_viewer(), input.code, input.method, sealer=ctx.sealer, mailer=ctx.mailer
        )
        return BackupCodesPayload(codes=codes)

    @strawberry.mutation(
        description="Change your password (the current one, then a new one by the 2025 rules); every "
        "other session ends."
    )
    @payload_errors(AcceptedPayload)
    async def change_password(
        self,
        info: Info,
        input: Annotated[
            ChangePasswordInput, strawberry.argument(description="The current and the new password.")
        ],
    ) -> AcceptedPayload:
        ctx = info.context
        session = await ctx.session()
        if session is None:
            raise Unauthenticated()
        await profile.change_password(
            session.account,
            current_session_id=session.id,
            current_password=input.current_password,
            new_password=input.new_password,
            mailer=ctx.mailer,
            source=ctx.source_address,
        )
        return AcceptedPayload(ok=True)

    @strawberry.mutation(
        description="Ask to change your email: a token goes to the new address (one hour), a notice to the old "
        "(when verified). Answers ok whoever holds the new address: when another account verified it, that "
        "account is told instead and no token is sent."
    )
    @payload_errors(AcceptedPayload)
    async def request_email_change(
        self,
        info: Info,
        input: Annotated[
            RequestEmailChangeInput, strawberry.argument(description="The new email and your password.")
        ],
    ) -> AcceptedPayload:
        ctx = info.context
        await profile.request_email_change(
            await ctx.require_viewer(),
            new_email=input.new_email,
            password=input.password,
            mailer=ctx.mailer,
            source=ctx.source_address,
        )
        return AcceptedPayload(ok=True)

    @strawberry.mutation(description="Confirm the new email with the token mailed there (once).")
    @payload_errors(PacerAccountPayload)
    async def confirm_email_change(
        self,
        info: Info,
        input: Annotated[ConfirmEmailChangeInput, strawberry.argument(description="The mailed token.")],
    ) -> PacerAccountPayload:
        ctx = info.context
        account = await profile.confirm_email_change(
            await ctx.require_viewer(), input.token, mailer=ctx.mailer
        )
        return PacerAccountPayload(account=PacerAccount.of(account, FULL_ACCESS))

    @strawberry.mutation(description="End one of your sessions; its token stops working at once, everywhere.")
    @payload_errors(AcceptedPayload)
    async def revoke_session(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Session's id (from me.sessions).")],
    ) -> AcceptedPayload:
        ctx = info.context
        current = await ctx.session()
        if current is None:
            raise Unauthenticated()
        ended = await auth.revoke_session(current.account, decode_int_id(id, "Session"))
        if ended.id == current.id:
            ctx.forget_session()
            ctx.clear_token_cookie()
        return AcceptedPayload(ok=True)

    @strawberry.mutation(description="End every session of yours but this one.")
    @payload_errors(AcceptedPayload)
    async def sign_out_other_sessions(self, info: Info) -> AcceptedPayload:
        current = await info.context.session()
        if current is None:
            raise Unauthenticated()
        await auth.sign_out_other_sessions(current.account, current)
        return AcceptedPayload(ok=True)
