"""Issue 35, item 1: PACER's authentication API (``POST /services/cso-auth`` and
``/services/cso-logout``) over HTTP, with signIn's rules. juriscraper, the real client, is in
tests/test_juriscraper.py."""

from __future__ import annotations

from typing import Any

from nextgen_gql.models import AuditEvent, Session
from nextgen_gql.services.auth import token_hash
from tests.api.mfa_helpers import code, enrol, next_step, stop_clock
from tests.conftest import CLERK_PASSWORD, FILER, Api

ME = "{ me { username } }"
JAMES_EMAIL = "james.morgan@morganlegal.example"


async def cso_auth(api: Api, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    response = await api.client.post("/services/cso-auth", json=body, headers=headers)
    api.client.cookies.clear()
    return response.status_code, response.json()


async def test_a_sign_in_gives_a_token_good_at_every_court(api: Api) -> None:
    status, body = await cso_auth(api, {"loginId": "JMorgan2019", "password": FILER[1]})
    assert status == 200 and body["loginResult"] == "0" and body["errorDescription"] == ""
    token = body["nextGenCSO"]
    for court in ("mad", "mab", "ca1"):
        data = await api.data(ME, court=court, token=token)
        assert data["me"] == {"username": "jmorgan2019"}
    # As the NextGenCSO cookie too.
    api.client.cookies.set("NextGenCSO", token)
    response = await api.client.post("/courts/mad/graphql", json={"query": ME})
    assert response.json()["data"]["me"] == {"username": "jmorgan2019"}
    api.client.cookies.clear()
    assert await AuditEvent.filter(action="account.sign_in").count() >= 1
    # cso-logout ends it everywhere; a second logout, or an unknown token, is 200 as well.
    out = await api.client.post("/services/cso-logout", json={"nextGenCSO": token})
    assert out.status_code == 200 and out.json()["loginResult"] == "0"
    gone = await api.post(ME, court="mad", token=token)
    assert gone.status_code == 401
    for again in ({"nextGenCSO": token}, {"nextGenCSO": "not-a-token"}):
        assert (await api.client.post("/services/cso-logout", json=again)).status_code == 200


async def test_wrong_password_and_unknown_user_get_the_same_words(api: Api) -> None:
    _, wrong = await cso_auth(api, {"loginId": FILER[0], "password": "nope-nope-nope"})
    _, unknown = await cso_auth(api, {"loginId": "nobody-here-77", "password": "nope-nope-nope"})
    assert wrong["loginResult"] == unknown["loginResult"] == "1"
    assert wrong["errorDescription"] == unknown["errorDescription"] != ""
    assert "nextGenCSO" not in wrong and "nextGenCSO" not in unknown


async def test_a_filer_acknowledges_the_redaction_rules_with_redact_flag(api: Api) -> None:
    # James files at mad once linked (tests/api/test_redaction.py): signIn asks the acknowledgement.
    token = await api.sign_in(*FILER)
    linked = await api.data(
        """mutation { linkCmecfAccount(input: {login: "jmorgan", password: "legacy-ecf-pass", confirm: true}) {
        errors { code } } }""",
        court="mad",
        token=token,
    )
    assert linked["linkCmecfAccount"]["errors"] == []
    sessions = await Session.all().count()
    _, refused = await cso_auth(api, {"loginId": FILER[0], "password": FILER[1]})
    assert refused["loginResult"] == "1" and "redact" in refused["errorDescription"].lower()
    assert await Session.all().count() == sessions
    _, accepted = await cso_auth(api, {"loginId": FILER[0], "password": FILER[1], "redactFlag": "1"})
    assert accepted["loginResult"] == "0" and accepted["nextGenCSO"]


async def test_the_second_factor_is_asked_only_after_the_password(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    app = await enrol(api, token, JAMES_EMAIL)
    _, wrong = await cso_auth(api, {"loginId": FILER[0], "password": "nope-nope-nope"})
    assert wrong["loginResult"] == "1" and "otpCode" not in wrong["errorDescription"]
    _, asked = await cso_auth(api, {"loginId": FILER[0], "password": FILER[1]})
    assert asked["loginResult"] == "1" and "otpCode" in asked["errorDescription"]
    _, bad = await cso_auth(api, {"loginId": FILER[0], "password": FILER[1], "otpCode": "000000"})
    assert bad["loginResult"] == "1" and "nextGenCSO" not in bad
    _, good = await cso_auth(api, {"loginId": FILER[0], "password": FILER[1], "otpCode": code(app.secret)})
    assert good["loginResult"] == "0" and good["nextGenCSO"]
    next_step()
    assert app.backup_codes
    _, spare = await cso_auth(
        api, {"loginId": FILER[0], "password": FILER[1], "otpCode": app.backup_codes[0]}
    )
    assert spare["loginResult"] == "0"
    assert (await api.data(ME, court="mab", token=good["nextGenCSO"]))["me"]["username"] == "jmorgan2019"


async def test_bad_requests_say_what_is_wrong(api: Api) -> None:
    form = await api.client.post("/services/cso-auth", data={"loginId": FILER[0], "password": FILER[1]})
    assert form.status_code == 415 and "application/json" in form.json()["errorDescription"]
    for body, status, said in [
        (b"{not json", 400, "not JSON"),
        (b"[]", 400, "object"),
        (b'{"loginId": 7, "password": "x"}', 400, "loginId must be a string"),
        (b'{"loginId": "jmorgan2019"}', 400, "required"),
        (b'{"loginId": "' + b"x" * 5000 + b'"}', 413, "larger"),
    ]:
        response = await api.client.post(
            "/services/cso-auth", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, (body[:30], response.text)
        assert response.json()["loginResult"] == "1" and said in response.json()["errorDescription"]
    assert (await api.client.get("/services/cso-auth")).status_code == 405


async def test_repeated_failures_lock_as_sign_in_does(api: Api) -> None:
    for _ in range(5):
        _, refused = await cso_auth(api, {"loginId": FILER[0], "password": "wrong-wrong-wrong"})
        assert refused["loginResult"] == "1"
    _, locked = await cso_auth(api, {"loginId": FILER[0], "password": FILER[1]})
    assert locked["loginResult"] == "1" and "locked" in locked["errorDescription"].lower()


async def test_an_account_that_must_enrol_gets_a_restricted_session_and_says_so(api: Api) -> None:
    """A clerk (MFA required) signs in three times without an app; the fourth sign-in is "0"
    with PACER's "pending actions": a session that may only enrol."""
    clerk = ("madclerk01", CLERK_PASSWORD)
    for _ in range(3):
        _, body = await cso_auth(api, {"loginId": clerk[0], "password": clerk[1]})
        assert body["loginResult"] == "0" and body["errorDescription"] == ""
    _, body = await cso_auth(api, {"loginId": clerk[0], "password": clerk[1]})
    assert body["loginResult"] == "0" and "authenticator app" in body["errorDescription"]
    session = await Session.get(token_hash=token_hash(body["nextGenCSO"]))
    assert session.mfa_restricted
    refused = await api.gql("{ registrations { totalCount } }", court="mad", token=body["nextGenCSO"])
    assert refused["errors"][0]["extensions"]["code"] == "MFA_ENROLLMENT_REQUIRED"
