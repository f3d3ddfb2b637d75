"""Login retrieval: password reset by mailed token, CM/ECF login reminders."""

from __future__ import annotations

import asyncio
import re
import threading
from email.message import EmailMessage

import pytest

from nextgen_gql.models import PasswordReset, Throttle
from nextgen_gql.services.clock import now
from nextgen_gql.services.mail import Mailer
from tests.conftest import FILER, Api

REQUEST = (
    """mutation($v: String!) { requestPasswordReset(input: {usernameOrEmail: $v}) { ok errors { code } } }"""
)
RESET = """mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) {
  ok errors { code message field } } }"""
REMIND = """mutation($e: String!) { retrieveCmecfLogin(input: {email: $e}) { ok errors { code } } }"""
JAMES_EMAIL = "james.morgan@morganlegal.example"
NEW_PASSWORD = "Copper-Kettle-Evening-31"


def token_in(api: Api, to: str) -> str:
    mails = api.mails(to)
    assert mails, f"no mail to {to}"
    match = re.search(r"Reset token: (\S+)", mails[-1].get_content())
    assert match, mails[-1].get_content()
    return match.group(1)


@pytest.mark.parametrize("name", [FILER[0], FILER[0].upper(), JAMES_EMAIL, JAMES_EMAIL.upper()])
async def test_reset_by_username_or_email_works_once_and_signs_out_everywhere(api: Api, name: str) -> None:
    session = await api.sign_in(*FILER)
    assert (await api.data(REQUEST, {"v": name}))["requestPasswordReset"] == {"ok": True, "errors": []}
    token = token_in(api, JAMES_EMAIL)
    weak = await api.data(RESET, {"t": token, "p": "Morgan-Granite-Falcon-1"})
    assert [(e["code"], e["field"]) for e in weak["resetPassword"]["errors"]] == [
        ("PASSWORD_POLICY", "newPassword")
    ]
    done = await api.data(RESET, {"t": token, "p": NEW_PASSWORD})
    assert done["resetPassword"] == {"ok": True, "errors": []}
    assert (await api.post("{ me { username } }", token=session)).status_code == 401  # signed out
    await api.sign_in(FILER[0], NEW_PASSWORD)
    again = await api.data(RESET, {"t": token, "p": "Another-Fine-Password-2"})
    assert [(e["code"], e["field"]) for e in again["resetPassword"]["errors"]] == [("INVALID_INPUT", "token")]
    old = await api.data(
        'mutation($p: String!) { signIn(input: {username: "jmorgan2019", password: $p}) { errors { code } } }',
        {"p": FILER[1]},
    )
    assert old["signIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]


async def test_unknown_accounts_get_the_same_answer_and_no_mail(api: Api) -> None:
    for name in ["nobody-at-all", "ghost@example.org", ""]:
        assert (await api.data(REQUEST, {"v": name}))["requestPasswordReset"] == {"ok": True, "errors": []}
    assert api.mails() == []


async def test_a_legacy_account_without_email_cannot_be_mailed(api: Api) -> None:
    assert (await api.data(REQUEST, {"v": "lp1234"}))["requestPasswordReset"]["ok"] is True
    assert api.mails() == []


async def test_expired_and_made_up_tokens_are_refused(api: Api) -> None:
    await api.data(REQUEST, {"v": FILER[0]})
    token = token_in(api, JAMES_EMAIL)
    await PasswordReset.all().update(expires_at=now())
    expired = await api.data(RESET, {"t": token, "p": NEW_PASSWORD})
    assert expired["resetPassword"]["errors"][0]["code"] == "INVALID_INPUT"
    made_up = await api.data(RESET, {"t": "x" * 43, "p": NEW_PASSWORD})
    assert made_up["resetPassword"]["errors"][0]["code"] == "INVALID_INPUT"
    await api.sign_in(*FILER)  # nothing changed


async def test_a_reset_kills_the_other_outstanding_tokens(api: Api) -> None:
    await api.data(REQUEST, {"v": FILER[0]})
    first = token_in(api, JAMES_EMAIL)
    await api.data(REQUEST, {"v": JAMES_EMAIL})
    second = token_in(api, JAMES_EMAIL)
    assert first != second
    assert (await api.data(RESET, {"t": second, "p": NEW_PASSWORD}))["resetPassword"]["ok"] is True
    stale = await api.data(RESET, {"t": first, "p": "Another-Fine-Password-2"})
    assert stale["resetPassword"]["errors"][0]["code"] == "INVALID_INPUT"


async def test_the_reset_token_is_stored_only_hashed(api: Api) -> None:
    await api.data(REQUEST, {"v": FILER[0]})
    token = token_in(api, JAMES_EMAIL)
    assert token not in str(await PasswordReset.all().values())


async def test_cmecf_login_reminder_names_the_courts_logins_only(api: Api) -> None:
    ok = await api.data(REMIND, {"e": JAMES_EMAIL.upper()}, court="mab")
    assert ok["retrieveCmecfLogin"] == {"ok": True, "errors": []}
    [mail] = await api.wait_mails(JAMES_EMAIL)
    body = mail.get_content()
    assert "CM/ECF login: jmorgan (ATTORNEY)" in body and "mab" in mail["Subject"]
    assert "jmorgan1" not in body  # the ca1 login belongs to another court


async def test_cmecf_login_reminder_does_not_disclose(api: Api) -> None:
    ok = await api.data(REMIND, {"e": "ghost@example.org"}, court="mad")
    assert ok["retrieveCmecfLogin"] == {"ok": True, "errors": []}
    await api.no_more_mail()
    assert api.mails() == []
    national = await api.data(REMIND, {"e": JAMES_EMAIL})
    assert national["retrieveCmecfLogin"] == {"ok": False, "errors": [{"code": "COURT_REQUIRED"}]}


async def test_cmecf_login_reminders_stop_at_ten_from_one_address(api: Api) -> None:
    """Each address (any court) asks ten times in 15 minutes; then nothing is mailed, and
    the answer stays the same."""
    for n in range(12):
        ok = await api.data(REMIND, {"e": f"someone{n}@example.org"}, court="mad")
        assert ok["retrieveCmecfLogin"] == {"ok": True, "errors": []}
    ok = await api.data(REMIND, {"e": JAMES_EMAIL}, court="mab")
    assert ok["retrieveCmecfLogin"] == {"ok": True, "errors": []}
    await api.no_more_mail()
    assert api.mails(JAMES_EMAIL) == []
    assert await Throttle.filter(kind="retrieve", failures=10).exists()


async def test_cmecf_login_reminders_to_one_email_stop_at_five_whoever_asks(api: Api) -> None:
    """A mailbox gets five reminders an hour, though the requests come from many addresses."""
    for n in range(7):
        forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
        ok = await api.data(REMIND, {"e": JAMES_EMAIL}, court="mab", headers=forwarded)
        assert ok["retrieveCmecfLogin"] == {"ok": True, "errors": []}
    mails = await api.wait_mails(JAMES_EMAIL, count=5)
    await api.no_more_mail()
    assert len(api.mails(JAMES_EMAIL)) == len(mails) == 5


async def test_cmecf_login_reminder_is_mailed_after_the_answer(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail is handed to a task: the answer does not wait for its delivery, whether or
    not the roster holds the address (the request takes the same steps either way)."""
    release = threading.Event()
    real = Mailer._deliver

    def slow(self: Mailer, message: EmailMessage) -> None:
        release.wait(10)
        real(self, message)

    monkeypatch.setattr(Mailer, "_deliver", slow)
    ok = await asyncio.wait_for(api.data(REMIND, {"e": JAMES_EMAIL}, court="mab"), 5)
    assert ok["retrieveCmecfLogin"] == {"ok": True, "errors": []}
    assert api.mails(JAMES_EMAIL) == []  # answered while the delivery still waits
    release.set()
    [mail] = await api.wait_mails(JAMES_EMAIL)
    assert "CM/ECF login: jmorgan" in mail.get_content()
