"""Account security: the second factor, and the account's own sessions."""

from __future__ import annotations

import datetime as dt

import strawberry

from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node
from nextgen_gql.enums import MfaMethod
from nextgen_gql.models import Authenticator as AuthenticatorModel
from nextgen_gql.models import Session as SessionModel
from nextgen_gql.services.mfa import MfaState

__all__ = [
    "Authenticator",
    "AuthenticatorEnrollment",
    "MfaChallenge",
    "MfaMethodEnum",
    "MfaStatus",
    "Session",
]

MfaMethodEnum = strawberry.enum(MfaMethod, name="MfaMethod", description="A second factor at sign-in.")
for _value in MfaMethodEnum.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = {
        "TOTP": "A 6-digit code of an authenticator app (RFC 6238).",
        "BACKUP_CODE": "One of the account's single-use backup codes.",
    }[_value.name]


@strawberry.type(description="The second step of a sign-in: pass its token and a code to verifySignIn.")
class MfaChallenge:
    token: str = strawberry.field(description="Opaque and single use; it expires at expiresAt (5 minutes).")
    expires_at: dt.datetime
    methods: list[MfaMethodEnum] = strawberry.field(  # type: ignore[valid-type]
        description="The second factors this account may use."
    )


@strawberry.type(description="An authenticator app (TOTP, RFC 6238) of the account.")
class Authenticator(Node):
    model: strawberry.Private[AuthenticatorModel]

    @classmethod
    def of(cls, model: AuthenticatorModel) -> Authenticator:
        return cls(model=model, id=strawberry.ID(encode_id("Authenticator", model.id)))

    @strawberry.field(description="The name the owner gave it.")
    def name(self) -> str:
        return self.model.name

    @strawberry.field(description="When it was confirmed.")
    def created_at(self) -> dt.datetime:
        return self.model.confirmed_at or self.model.created_at

    @strawberry.field(description="When one of its codes was last accepted.")
    def last_used_at(self) -> dt.datetime | None:
        return self.model.last_used_at


@strawberry.type(description="The account's multi-factor authentication (the account itself only).")
class MfaStatus:
    state: strawberry.Private[MfaState]

    @strawberry.field(description="At least one authenticator app is enrolled.")
    def enabled(self) -> bool:
        return self.state.enabled

    @strawberry.field(description="MFA is required: filers (a live privilege in any court) and court staff.")
    def required(self) -> bool:
        return self.state.required

    @strawberry.field(
        description="Sign-ins without an app left before they are restricted to enrolment, counting the "
        "one in progress (3, 2, 1; 0 once restricted); null when MFA is not required."
    )
    def skips_left(self) -> int | None:
        return self.state.skips_left

    @strawberry.field(description="The enrolled authenticator apps (at most 5).")
    def authenticators(self) -> list[Authenticator]:
        return [Authenticator.of(a) for a in self.state.authenticators]

    @strawberry.field(description="Unused backup codes.")
    def backup_codes_left(self) -> int:
        return self.state.backup_codes_left


@strawberry.type(
    description="A started enrolment: what the authenticator app needs, shown once. Confirm it with "
    "the security code mailed to you and a first code of the app."
)
class AuthenticatorEnrollment:
    id: strawberry.ID = strawberry.field(description="Pass it to confirmAuthenticatorEnrollment.")
    secret: str = strawberry.field(description="The app's secret, base32, for typing it in by hand.")
    otpauth_uri: str = strawberry.field(description="The otpauth:// URI the QR code carries.")
    qr_code_svg: str = strawberry.field(description="The QR code of otpauthUri, an SVG document.")
    expires_at: dt.datetime = strawberry.field(description="Confirm before then (10 minutes).")


@strawberry.type(description="A sign-in (token) of the account itself.")
class Session(Node):
    model: strawberry.Private[SessionModel]
    current_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, model: SessionModel, current_id: int | None = None) -> Session:
        return cls(model=model, current_id=current_id, id=strawberry.ID(encode_id("Session", model.id)))

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.model.created_at

    @strawberry.field(description="Within a minute.")
    def last_used_at(self) -> dt.datetime | None:
        return self.model.last_used_at

    @strawberry.field(description="The address it signed in from.")
    def address(self) -> str | None:
        return self.model.address

    @strawberry.field(description="The browser or program it signed in with, as it said.")
    def user_agent(self) -> str | None:
        return self.model.user_agent

    @strawberry.field(description="This request's own session.")
    def current(self) -> bool:
        return self.model.id == self.current_id
