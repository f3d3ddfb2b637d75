"""A signed-in account's self-service: password, email, sessions (issue 15, item 5)."""

from __future__ import annotations

import datetime as dt
import re

from nextgen_gql.models import AuditEvent, PacerAccount
from nextgen_gql.services import clock
from tests.conftest import FILER, Api

JAMES_EMAIL = "james.morgan@morganlegal.example"
CHANGE_PASSWORD = """mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) {
  ok errors { code field } } }"""
REQUEST_EMAIL = """mutation($e: String!, $p: String!) { requestEmailChange(input: {newEmail: $e, password: $p}) {
  ok errors { code field } } }"""
CONFIRM_EMAIL = """mutation($t: String!) { confirmEmailChange(input: {token: $t}) {
  account { email } errors { code field } } }"""
SESSIONS = "{ me { sessions { id createdAt lastUsedAt address userAgent current } } }"
NEW_PASSWORD = "Quartz-Lantern-Evening-93"


async def actions(username: str) -> list[str]:
    account = await PacerAccount.get(username_key=username)
    return [e.action for e in await AuditEvent.filter(subject_id=account.id).order_by("id")]


async def me(api: Api, token: str) -> str | None:
    """The token's account; None when the token no longer holds (it is then refused: 401,
    ``tests/api/test_tokens.py``)."""
    response = await api.post("{ me { username } }", token=token)
    if response.status_code == 401:
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
        return None
    assert response.status_code == 200, response.text
    found = response.json()["data"]["me"]
    return found["username"] if found else None


async def test_changing_the_password_ends_every_other_session(api: Api) -> None:
    other = await api.sign_in(*FILER)
    token = await api.sign_in(*FILER)
    wrong = await api.data(CHANGE_PASSWORD, {"c": "Not-It-At-All-123!", "n": NEW_PASSWORD}, token=token)
    assert wrong["changePassword"]["errors"] == [{"code": "INVALID_CREDENTIALS", "field": "currentPassword"}]
    weak = await api.data(CHANGE_PASSWORD, {"c": FILER[1], "n": "short"}, token=token)
    assert weak["changePassword"]["errors"] == [{"code": "PASSWORD_POLICY", "field": "newPassword"}]
    named = await api.data(CHANGE_PASSWORD, {"c": FILER[1], "n": "Morgan-Harbor-Evening-42"}, token=token)
    assert named["changePassword"]["errors"] == [{"code": "PASSWORD_POLICY", "field": "newPassword"}]
    # Refusals change nothing.
    assert await me(api, other) == "jmorgan2019"
    sent = len(api.mails(JAMES_EMAIL))
    ok = await api.data(CHANGE_PASSWORD, {"c": FILER[1], "n": NEW_PASSWORD}, token=token)
    assert ok["changePassword"] == {"ok": True, "errors": []}
    assert await me(api, token) == "jmorgan2019"
    assert await me(api, other) is None
    notice = api.mails(JAMES_EMAIL)[sent:]
    assert len(notice) == 1 and "password was changed" in notice[0]["Subject"]
    assert NEW_PASSWORD not in notice[0].get_content()
    old = await api.data(
        'mutation { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88"}) { errors { code } } }'
    )
    assert old["signIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert await api.sign_in("jmorgan2019", NEW_PASSWORD)
    assert "account.password_change" in await actions("jmorgan2019")


async def test_a_legacy_account_upgrades_before_changing_its_details(api: Api) -> None:
    token = await api.sign_in("lp1234", "Boston2011!")
    data = await api.data(CHANGE_PASSWORD, {"c": "Boston2011!", "n": NEW_PASSWORD}, token=token)
    assert data["changePassword"]["errors"] == [{"code": "UPGRADE_REQUIRED", "field": None}]
    data = await api.data(REQUEST_EMAIL, {"e": "laura@example.org", "p": "Boston2011!"}, token=token)
    assert data["requestEmailChange"]["errors"] == [{"code": "UPGRADE_REQUIRED", "field": None}]
    anonymous = await api.data(CHANGE_PASSWORD, {"c": "x", "n": NEW_PASSWORD})
    assert anonymous["changePassword"]["errors"] == [{"code": "UNAUTHENTICATED", "field": None}]


def mailed_token(api: Api, to: str) -> str:
    body = api.mails(to)[-1].get_content()
    found = re.search(r"Email change token: (\S+)", body)
    assert found, body
    return found.group(1)


async def test_changing_the_email_is_confirmed_from_the_new_address(api: Api) -> None:
    token = await api.sign_in(*FILER)
    new = "james@morgan-appeals.example"
    wrong = await api.data(REQUEST_EMAIL, {"e": new, "p": "Not-It-At-All-123!"}, token=token)
    assert wrong["requestEmailChange"]["errors"] == [{"code": "INVALID_CREDENTIALS", "field": "password"}]
    # Another account's verified address: the same answer, no token; its owner is told instead.
    taken = await api.data(REQUEST_EMAIL, {"e": "Maria.Lopez@lopezlaw.example", "p": FILER[1]}, token=token)
    assert taken["requestEmailChange"] == {"ok": True, "errors": []}
    told = api.mails("maria.lopez@lopezlaw.example")[-1]
    assert "another account gave your email" in told["Subject"]
    assert "jmorgan2019" in told.get_content() and "Email change token:" not in told.get_content()
    invalid = await api.data(REQUEST_EMAIL, {"e": "not an email", "p": FILER[1]}, token=token)
    assert invalid["requestEmailChange"]["errors"] == [{"code": "INVALID_INPUT", "field": "newEmail"}]
    assert api.mails(new) == []

    ok = await api.data(REQUEST_EMAIL, {"e": new, "p": FILER[1]}, token=token)
    assert ok["requestEmailChange"] == {"ok": True, "errors": []}
    email_token = mailed_token(api, new)
    notice = api.mails(JAMES_EMAIL)[-1]
    assert new in notice.get_content() and email_token not in notice.get_content()
    # Nothing changes until it is confirmed.
    assert (await api.data("{ me { email } }", token=token))["me"]["email"] == JAMES_EMAIL
    # Another account cannot use the token; a wrong token is refused.
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    stolen = await api.data(CONFIRM_EMAIL, {"t": email_token}, token=maria)
    assert stolen["confirmEmailChange"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]
    bad = await api.data(CONFIRM_EMAIL, {"t": "guess"}, token=token)
    assert bad["confirmEmailChange"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]

    done = await api.data(CONFIRM_EMAIL, {"t": email_token}, token=token)
    assert done["confirmEmailChange"] == {"account": {"email": new}, "errors": []}
    assert "now " + new in api.mails(JAMES_EMAIL)[-1].get_content().replace("\n", " ")
    again = await api.data(CONFIRM_EMAIL, {"t": email_token}, token=token)
    assert again["confirmEmailChange"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]
    assert {"account.email_change_request", "account.email_change"} <= set(await actions("jmorgan2019"))


async def test_an_email_change_token_lasts_one_hour_and_the_address_must_still_be_free(api: Api) -> None:
    token = await api.sign_in(*FILER)
    clock.set_now(dt.datetime.now(dt.UTC))
    await api.data(REQUEST_EMAIL, {"e": "late@example.org", "p": FILER[1]}, token=token)
    late = mailed_token(api, "late@example.org")
    clock.advance(dt.timedelta(hours=1, seconds=1))
    expired = await api.data(CONFIRM_EMAIL, {"t": late}, token=token)
    assert expired["confirmEmailChange"]["errors"] == [{"code": "INVALID_INPUT", "field": "token"}]

    await api.data(REQUEST_EMAIL, {"e": "shared@example.org", "p": FILER[1]}, token=token)
    shared = mailed_token(api, "shared@example.org")
    # Meanwhile another account takes the address.
    await PacerAccount.filter(username_key="mlopez2018").update(email="Shared@example.org")
    taken = await api.data(CONFIRM_EMAIL, {"t": shared}, token=token)
    assert taken["confirmEmailChange"]["errors"] == [{"code": "EMAIL_TAKEN", "field": "token"}]
    assert (await api.data("{ me { email } }", token=token))["me"]["email"] == JAMES_EMAIL


async def test_my_sessions_and_ending_them(api: Api) -> None:
    laptop = await api.sign_in(*FILER, **{})
    response = await api.client.post(
        "/graphql",
        json={
            "query": 'mutation { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88"}) { token } }'
        },
        headers={"user-agent": "Phone Browser/1.0"},
    )
    phone = response.json()["data"]["signIn"]["token"]
    api.client.cookies.clear()
    sessions = (await api.data(SESSIONS, token=laptop))["me"]["sessions"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions] == [False, True] or [s["current"] for s in sessions] == [
        True,
        False,
    ]
    mine = next(s for s in sessions if s["current"])
    theirs = next(s for s in sessions if not s["current"])
    assert theirs["userAgent"] == "Phone Browser/1.0" and theirs["address"] == "127.0.0.1"
    assert mine["lastUsedAt"] is not None and mine["createdAt"]
    # Another account sees none of them, and cannot end them.
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    revoke = "mutation($id: ID!) { revokeSession(id: $id) { ok errors { code field } } }"
    refused = await api.data(revoke, {"id": theirs["id"]}, token=maria)
    assert refused["revokeSession"] == {"ok": False, "errors": [{"code": "NOT_FOUND", "field": "id"}]}
    assert await me(api, phone) == "jmorgan2019"
    ended = await api.data(revoke, {"id": theirs["id"]}, token=laptop)
    assert ended["revokeSession"] == {"ok": True, "errors": []}
    assert await me(api, phone) is None
    again = await api.data(revoke, {"id": theirs["id"]}, token=laptop)
    assert again["revokeSession"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    assert "account.session_revoke" in await actions("jmorgan2019")

    others = [await api.sign_in(*FILER) for _ in range(2)]
    out = await api.data("mutation { signOutOtherSessions { ok errors { code } } }", token=laptop)
    assert out["signOutOtherSessions"] == {"ok": True, "errors": []}
    assert [await me(api, t) for t in others] == [None, None]
    assert await me(api, laptop) == "jmorgan2019"
    assert len((await api.data(SESSIONS, token=laptop))["me"]["sessions"]) == 1
    assert (await api.data(SESSIONS, token=maria))["me"]["sessions"][0]["current"] is True
    assert "account.sessions_revoke_others" in await actions("jmorgan2019")


async def test_a_session_shows_when_it_was_last_used(api: Api) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock.set_now(start)
    token = await api.sign_in(*FILER)
    clock.advance(dt.timedelta(seconds=30))
    await me(api, token)  # within the minute: not written
    clock.advance(dt.timedelta(minutes=5))
    await me(api, token)
    clock.advance(dt.timedelta(seconds=10))
    sessions = (await api.data(SESSIONS, token=token))["me"]["sessions"]
    assert dt.datetime.fromisoformat(sessions[0]["lastUsedAt"]) == start + dt.timedelta(minutes=5, seconds=30)
