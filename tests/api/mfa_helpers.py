"""Builders for the multi-factor tests: enrolment through the API, codes at the service's clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pyotp

from nextgen_gql.services import clock
from tests.conftest import Api

START = """mutation($n: String!) { startAuthenticatorEnrollment(input: {name: $n}) {
  enrollment { id secret otpauthUri qrCodeSvg expiresAt } errors { code message field } } }"""
CONFIRM = """mutation($i: ConfirmAuthenticatorEnrollmentInput!) { confirmAuthenticatorEnrollment(input: $i) {
  authenticator { id name createdAt lastUsedAt } backupCodes errors { code message field } } }"""
SIGN_IN = """mutation($i: SignInInput!) { signIn(input: $i) {
  token account { username mfa { skipsLeft required enabled } } mfaChallenge { token expiresAt methods }
  errors { code message field } } }"""
VERIFY = """mutation($i: VerifySignInInput!) { verifySignIn(input: $i) {
  token account { username } mfaChallenge { token } errors { code message field } } }"""
MFA = "{ me { mfa { enabled required skipsLeft backupCodesLeft authenticators { id name } } } }"


@dataclass
class Enrolled:
    secret: str
    authenticator_id: str
    backup_codes: list[str] | None


def stop_clock() -> dt.datetime:
    """Stop the service's clock at the start of a 30-second step, so codes are predictable."""
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.set_now(at - dt.timedelta(seconds=at.second % 30))
    return clock.now()


def next_step() -> None:
    """Move the service's clock to the next 30-second step: a new code."""
    clock.advance(dt.timedelta(seconds=30))


def code(secret: str) -> str:
    """The app's code now, by the service's clock."""
    return pyotp.TOTP(secret).at(clock.now())


def security_code(api: Api, to: str) -> str:
    body = api.mails(to)[-1].get_content()
    found = re.search(r"Security code: (\d+)", body)
    assert found, body
    return found.group(1)


async def start(api: Api, token: str, name: str) -> dict[str, Any]:
    data = await api.data(START, {"n": name}, token=token)
    assert data["startAuthenticatorEnrollment"]["errors"] == [], data
    enrollment: dict[str, Any] = data["startAuthenticatorEnrollment"]["enrollment"]
    return enrollment


async def confirm(api: Api, token: str, enrollment_id: str, security: str, totp: str) -> dict[str, Any]:
    data = await api.data(
        CONFIRM,
        {"i": {"enrollmentId": enrollment_id, "securityCode": security, "totpCode": totp}},
        token=token,
    )
    payload: dict[str, Any] = data["confirmAuthenticatorEnrollment"]
    return payload


async def enrol(api: Api, token: str, email: str, name: str = "Work phone") -> Enrolled:
    """Add an app through the API (the clock must be stopped: ``stop_clock``)."""
    enrollment = await start(api, token, name)
    payload = await confirm(
        api, token, enrollment["id"], security_code(api, email), code(enrollment["secret"])
    )
    assert payload["errors"] == [], payload
    next_step()  # the code just used works no more
    return Enrolled(enrollment["secret"], payload["authenticator"]["id"], payload["backupCodes"])


async def sign_in(api: Api, username: str, password: str, **extra: Any) -> dict[str, Any]:
    data = await api.data(SIGN_IN, {"i": {"username": username, "password": password, **extra}})
    api.client.cookies.clear()
    payload: dict[str, Any] = data["signIn"]
    return payload


async def verify(
    api: Api, challenge: str, value: str, method: str = "TOTP", **headers: str
) -> dict[str, Any]:
    data = await api.data(
        VERIFY, {"i": {"challenge": challenge, "code": value, "method": method}}, headers=headers
    )
    api.client.cookies.clear()
    payload: dict[str, Any] = data["verifySignIn"]
    return payload


async def sign_in_with_code(api: Api, username: str, password: str, secret: str, **extra: Any) -> str:
    """The whole two-step sign-in with the app's current code; the token."""
    first = await sign_in(api, username, password, **extra)
    assert first["token"] is None and first["mfaChallenge"], first
    second = await verify(api, first["mfaChallenge"]["token"], code(secret))
    assert second["errors"] == [], second
    next_step()
    token: str = second["token"]
    return token
