"""Verified email addresses (issue 32, finding 6): an address counts once its owner confirmed it
with the mailed token; until then it receives no other mail and blocks nobody."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from nextgen_gql.models import PacerAccount
from nextgen_gql.services import clock
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api

PASSWORD = "Maple-Lantern-Quiet-77"
JAMES_EMAIL = "james.morgan@morganlegal.example"
MARIA_EMAIL = "maria.lopez@lopezlaw.example"
REGISTER = """mutation($i: RegisterPacerAccountInput!) { registerPacerAccount(input: $i) {
  account { username email emailVerified } errors { code field } } }"""
VERIFY = """mutation($t: String!) { verifyEmail(input: {token: $t}) {
  account { username email emailVerified } errors { code field } } }"""
RESEND = "mutation { resendEmailVerification { ok errors { code } } }"
REQUEST_EMAIL = """mutation($e: String!, $p: String!) { requestEmailChange(input: {newEmail: $e, password: $p}) {
  ok errors { code field } } }"""
CONFIRM_EMAIL = """mutation($t: String!) { confirmEmailChange(input: {token: $t}) {
  account { email emailVerified } errors { code field } } }"""
RESET = (
    """mutation($v: String!) { requestPasswordReset(input: {usernameOrEmail: $v}) { ok errors { code } } }"""
)


async def register(api: Api, username: str, email: str) -> dict[str, object]:
    data = await api.data(
        REGISTER,
        {
            "i": {
                "username": username,
                "password": PASSWORD,
                "firstName": "Sam",
                "lastName": "Quatter",
                "email": email,
            }
        },
    )
    payload: dict[str, object] = data["registerPacerAccount"]
    return payload


def token_in(api: Api, to: str, label: str = "Email verification token:") -> str:
    mails = api.mails(to)
    assert mails, f"no mail to {to}"
    found = re.search(re.escape(label) + r" (\S+)", mails[-1].get_content())
    assert found, mails[-1].get_content()
    return found.group(1)


async def test_someone_elses_address_is_held_unverified_and_blocks_nobody(api: Api) -> None:
    # Someone registers with James's new address before he uses it: accepted, unverified.
    new = "james@morgan-appeals.example"
    squat = await register(api, "squatter01", new)
    assert squat == {
        "account": {"username": "squatter01", "email": new, "emailVerified": False},
        "errors": [],
    }
    squatter_token = token_in(api, new)  # lands in James's mailbox, which the squatter cannot read
    assert [m["Subject"] for m in api.mails(new)] == ["PACER: verify your email"]
    squatter = await api.sign_in("squatter01", PASSWORD)
    assert (await api.data("{ me { email emailVerified } }", token=squatter))["me"] == {
        "email": new,
        "emailVerified": False,
    }

    # James's change to that address goes through.
    james = await api.sign_in(*FILER)
    asked = await api.data(REQUEST_EMAIL, {"e": new.upper(), "p": FILER[1]}, token=james)
    assert asked["requestEmailChange"] == {"ok": True, "errors": []}
    done = await api.data(
        CONFIRM_EMAIL, {"t": token_in(api, new.upper(), "Email change token:")}, token=james
    )
    assert done["confirmEmailChange"] == {
        "account": {"email": new.upper(), "emailVerified": True},
        "errors": [],
    }

    # The squatter's token now claims an address another account verified first.
    late = await api.data(VERIFY, {"t": squatter_token})
    assert late["verifyEmail"] == {"account": None, "errors": [{"code": "EMAIL_TAKEN", "field": "token"}]}
    assert not (await PacerAccount.get(username_key="squatter01")).email_verified

    # A password reset asked by that address reaches James only.
    before = len(api.mails())
    assert (await api.data(RESET, {"v": new}))["requestPasswordReset"]["ok"] is True
    sent = api.mails()[before:]
    assert [m["To"] for m in sent] == [new.upper()] and "Reset token:" in sent[0].get_content()
    assert "squatter01" not in sent[0].get_content()


async def test_registering_with_a_verified_address_tells_its_owner_and_mails_no_token(api: Api) -> None:
    before = len(api.mails(MARIA_EMAIL))
    squat = await register(api, "squatter02", MARIA_EMAIL.upper())
    assert squat["errors"] == [] and squat["account"] == {
        "username": "squatter02",
        "email": MARIA_EMAIL.upper(),
        "emailVerified": False,
    }
    # The notice goes to the owner's address as she keeps it; no token is made.
    told = api.mails(MARIA_EMAIL)[before:]
    assert len(told) == 1 and api.mails(MARIA_EMAIL.upper()) == []
    assert "another account gave your email" in told[0]["Subject"]
    assert "squatter02" in told[0].get_content() and "verification token" not in told[0].get_content()
    # Maria keeps her address, and her reset mail.
    assert (await api.data(RESET, {"v": MARIA_EMAIL}))["requestPasswordReset"]["ok"] is True
    assert "Reset token:" in api.mails(MARIA_EMAIL)[-1].get_content()


async def test_verify_email_with_a_good_bad_expired_and_used_token(api: Api) -> None:
    start = dt.datetime.now(dt.UTC)
    clock.set_now(start)
    address = "sam@quatter.example"
    await register(api, "samquatter", address)
    first = token_in(api, address)
    bad = await api.data(VERIFY, {"t": "guess"})
    assert bad["verifyEmail"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]
    empty = await api.data(VERIFY, {"t": ""})
    assert empty["verifyEmail"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]
    clock.advance(dt.timedelta(hours=24, seconds=1))
    expired = await api.data(VERIFY, {"t": first})
    assert expired["verifyEmail"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]

    token = await api.sign_in("samquatter", PASSWORD)
    assert (await api.data(RESEND, token=token))["resendEmailVerification"] == {"ok": True, "errors": []}
    second = token_in(api, address)
    assert second != first
    # Signed in or not: the token names the account.
    good = await api.data(VERIFY, {"t": f" {second} "})
    assert good["verifyEmail"] == {
        "account": {"username": "samquatter", "email": address, "emailVerified": True},
        "errors": [],
    }
    used = await api.data(VERIFY, {"t": second})
    assert used["verifyEmail"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]
    assert (await api.data("{ me { emailVerified } }", token=token))["me"]["emailVerified"] is True
    again = await api.data(RESEND, token=token)
    assert again["resendEmailVerification"]["errors"] == [{"code": "INVALID_INPUT"}]
    # An email change's token is no verification token.
    await api.data(REQUEST_EMAIL, {"e": "sam@elsewhere.example", "p": PASSWORD}, token=token)
    change = token_in(api, "sam@elsewhere.example", "Email change token:")
    wrong_kind = await api.data(VERIFY, {"t": change})
    assert wrong_kind["verifyEmail"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]


async def test_a_password_reset_to_an_unverified_address_sends_only_the_verification(api: Api) -> None:
    address = "pat@unverified.example"
    await register(api, "patunverified", address)
    for asked in (address, address.upper(), "patunverified"):
        before = len(api.mails(address))
        assert (await api.data(RESET, {"v": asked}))["requestPasswordReset"] == {"ok": True, "errors": []}
        sent = api.mails(address)[before:]
        assert [m["Subject"] for m in sent] == ["PACER: verify your email"], asked
        assert "Reset token:" not in sent[0].get_content()
    # Verified, the same request sends the reset token.
    await api.data(VERIFY, {"t": token_in(api, address)})
    await api.data(RESET, {"v": "patunverified"})
    assert "Reset token:" in api.mails(address)[-1].get_content()


async def test_an_unverified_address_receives_no_other_mail(api: Api) -> None:
    address = "una@unverified.example"
    await register(api, "unaverified", address)
    token = await api.sign_in("unaverified", PASSWORD)
    before = len(api.mails(address))
    changed = await api.data(
        """mutation { changePassword(input: {currentPassword: "Maple-Lantern-Quiet-77",
        newPassword: "Copper-Kettle-Evening-31"}) { ok } }""",
        token=token,
    )
    assert changed["changePassword"]["ok"] is True
    asked = await api.data(
        REQUEST_EMAIL, {"e": "una@new.example", "p": "Copper-Kettle-Evening-31"}, token=token
    )
    assert asked["requestEmailChange"]["ok"] is True
    app = await api.data(
        'mutation { startAuthenticatorEnrollment(input: {name: "Phone"}) { errors { code message } } }',
        token=token,
    )
    assert app["startAuthenticatorEnrollment"]["errors"][0]["code"] == "INVALID_INPUT"
    assert "verified" in app["startAuthenticatorEnrollment"]["errors"][0]["message"]
    assert api.mails(address)[before:] == []


async def test_resending_the_verification_is_throttled(api: Api) -> None:
    address = "rae@unverified.example"
    await register(api, "raeresend", address)
    token = await api.sign_in("raeresend", PASSWORD)
    answers = [(await api.data(RESEND, token=token))["resendEmailVerification"] for _ in range(6)]
    assert answers[:5] == [{"ok": True, "errors": []}] * 5
    assert answers[5] == {"ok": False, "errors": [{"code": "RATE_LIMITED"}]}
    assert len(api.mails(address)) == 6  # at registration, and five asked for
    anonymous = await api.data(RESEND)
    assert anonymous["resendEmailVerification"]["errors"] == [{"code": "UNAUTHENTICATED"}]


async def test_two_accounts_verifying_one_address_at_once_one_wins(api: Api) -> None:
    address = "race@shared-inbox.example"
    await register(api, "racerone1", address)
    first = token_in(api, address)
    await register(api, "racertwo2", address.upper())
    second = token_in(api, address.upper())
    answers = await asyncio.gather(api.data(VERIFY, {"t": first}), api.data(VERIFY, {"t": second}))
    codes = sorted(str([e["code"] for e in a["verifyEmail"]["errors"]]) for a in answers)
    assert codes == ["['EMAIL_TAKEN']", "[]"]
    verified = await PacerAccount.filter(username_key__in=["racerone1", "racertwo2"], email_verified=True)
    assert len(verified) == 1


async def test_the_clerks_queue_shows_whether_an_applicants_email_is_verified(api: Api) -> None:
    await register(api, "queuesquat", JAMES_EMAIL.upper())
    applicant = await api.sign_in("queuesquat", PASSWORD)
    submitted = await api.data(
        "mutation { submitRegistration(input: {role: MEDIA}) { errors { code } } }",
        court="mad",
        token=applicant,
    )
    assert submitted["submitRegistration"]["errors"] == []
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    queue = await api.data(
        """{ registrations(status: PENDING, first: 50) { edges { node { account {
          username email emailVerified } } } } }""",
        court="mad",
        token=clerk,
    )
    accounts = {
        e["node"]["account"]["username"]: e["node"]["account"] for e in queue["registrations"]["edges"]
    }
    assert accounts["queuesquat"] == {
        "username": "queuesquat",
        "email": JAMES_EMAIL.upper(),
        "emailVerified": False,
    }
