"""Issue 32, findings 6 and 8 (email part), replayed as an attacker would, over HTTP against the
real app: squatting someone's address, probing who holds an address, replaying tokens."""

from __future__ import annotations

import re

from nextgen_gql.models import PacerAccount
from tests.conftest import FILER, Api

PASSWORD = "Maple-Lantern-Quiet-77"
MARIA = ("mlopez2018", "Harbor-Signal-Evening-5")
MARIA_EMAIL = "maria.lopez@lopezlaw.example"
REGISTER = """mutation($u: String!, $e: String!) { registerPacerAccount(input: {username: $u,
  password: "Maple-Lantern-Quiet-77", firstName: "Eve", lastName: "Attacker", email: $e}) {
  account { emailVerified } errors { code } } }"""
REQUEST_EMAIL = """mutation($e: String!, $p: String!) { requestEmailChange(input: {newEmail: $e, password: $p}) {
  ok errors { code field } } }"""
CONFIRM_EMAIL = """mutation($t: String!) { confirmEmailChange(input: {token: $t}) {
  account { email } errors { code field } } }"""
VERIFY = (
    """mutation($t: String!) { verifyEmail(input: {token: $t}) { account { username } errors { code } } }"""
)
RESET = """mutation($v: String!) { requestPasswordReset(input: {usernameOrEmail: $v}) { ok } }"""


def tokens(api: Api, to: str, label: str) -> list[str]:
    return [t for m in api.mails(to) for t in re.findall(re.escape(label) + r" (\S+)", m.get_content())]


async def test_a_squatted_address_blocks_nobody_and_reaches_nothing(api: Api) -> None:
    """Finding 6: registering with another person's address used to succeed and block them."""
    victim_new = "james@morgan-appeals.example"
    squat = await api.data(REGISTER, {"u": "evesquat1", "e": victim_new})
    assert squat["registerPacerAccount"] == {"account": {"emailVerified": False}, "errors": []}
    # The attacker asks for a reset of their own account: the address gets nothing but a verification.
    await api.data(RESET, {"v": "evesquat1"})
    assert tokens(api, victim_new, "Reset token:") == []
    # The person whose address it is changes to it, unblocked.
    james = await api.sign_in(*FILER)
    asked = await api.data(REQUEST_EMAIL, {"e": victim_new, "p": FILER[1]}, token=james)
    assert asked["requestEmailChange"] == {"ok": True, "errors": []}
    (change,) = tokens(api, victim_new, "Email change token:")
    done = await api.data(CONFIRM_EMAIL, {"t": change}, token=james)
    assert done["confirmEmailChange"] == {"account": {"email": victim_new}, "errors": []}


async def test_request_email_change_no_longer_tells_whose_an_address_is(api: Api) -> None:
    """Finding 8: ``EMAIL_TAKEN`` answered any signed-in caller who held an address."""
    attacker = await api.data(REGISTER, {"u": "eveprobe1", "e": "eve@attacker.example"})
    assert attacker["registerPacerAccount"]["errors"] == []
    await api.data(VERIFY, {"t": tokens(api, "eve@attacker.example", "Email verification token:")[-1]})
    token = await api.sign_in("eveprobe1", PASSWORD)
    held = await api.data(REQUEST_EMAIL, {"e": MARIA_EMAIL, "p": PASSWORD}, token=token)
    free = await api.data(REQUEST_EMAIL, {"e": "nobody-has-this@example.org", "p": PASSWORD}, token=token)
    assert held == {"requestEmailChange": {"ok": True, "errors": []}}
    assert free == held
    # Maria is told; no token exists for her address, so the attacker can confirm nothing.
    assert tokens(api, MARIA_EMAIL, "Email change token:") == []
    assert "eveprobe1" in api.mails(MARIA_EMAIL)[-1].get_content()
    maria = await api.sign_in(*MARIA)
    assert (await api.data("{ me { email emailVerified } }", token=maria))["me"] == {
        "email": MARIA_EMAIL,
        "emailVerified": True,
    }


async def test_verification_tokens_cannot_be_replayed_guessed_or_borrowed(api: Api) -> None:
    await api.data(REGISTER, {"u": "evereplay", "e": "replay@attacker.example"})
    (token,) = tokens(api, "replay@attacker.example", "Email verification token:")
    assert (await api.data(VERIFY, {"t": token}))["verifyEmail"]["errors"] == []
    assert (await api.data(VERIFY, {"t": token}))["verifyEmail"]["errors"] == [{"code": "INVALID_INPUT"}]
    # Another account's email-change token names an address that account does not hold yet.
    james = await api.sign_in(*FILER)
    await api.data(REQUEST_EMAIL, {"e": "james2@morgan.example", "p": FILER[1]}, token=james)
    (change,) = tokens(api, "james2@morgan.example", "Email change token:")
    borrowed = await api.data(VERIFY, {"t": change})
    assert borrowed["verifyEmail"]["errors"] == [{"code": "INVALID_INPUT"}]
    assert (await PacerAccount.get(username_key="jmorgan2019")).email == "james.morgan@morganlegal.example"
    # Guessing is throttled per source address.
    codes = [
        (await api.data(VERIFY, {"t": f"guess-{n}"}))["verifyEmail"]["errors"][0]["code"] for n in range(12)
    ]
    assert codes[:8] == ["INVALID_INPUT"] * 8 and codes[-1] == "RATE_LIMITED"
