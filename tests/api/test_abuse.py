"""Credential stuffing, guessing, and requests riding the cookie from another site."""

from __future__ import annotations

import datetime as dt

import pytest

from nextgen_gql.models import AuditEvent, Throttle
from nextgen_gql.services import clock, throttle
from nextgen_gql.settings import Settings
from tests.api.mfa_helpers import code, enrol, next_step, stop_clock, verify
from tests.conftest import FILER, LEGACY_ECF_PASSWORD, Api, running_api

SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  token errors { code message } } }"""
LINK = """mutation($l: String!, $p: String!) { linkCmecfAccount(input: {login: $l, password: $p, confirm: true}) {
  errors { code message field } } }"""
SIGN_IN_MFA = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  token mfaChallenge { token } errors { code message } } }"""
WRONG = "Not-The-Password-At-All-1"


async def sign_in_codes(api: Api, username: str, password: str, **headers: str) -> list[str]:
    data = await api.data(SIGN_IN, {"u": username, "p": password}, headers=headers)
    return [e["code"] for e in data["signIn"]["errors"]]


async def test_wrong_passwords_lock_that_username_from_that_address(api: Api) -> None:
    for _ in range(throttle.PAIR_SIGN_IN.limit):
        assert await sign_in_codes(api, FILER[0], WRONG) == ["INVALID_CREDENTIALS"]
    assert await sign_in_codes(api, FILER[0], FILER[1]) == ["ACCOUNT_LOCKED"]
    data = await api.data(SIGN_IN, {"u": FILER[0], "p": FILER[1]})
    assert "try again in 15 minutes" in data["signIn"]["errors"][0]["message"]
    # The lock is a row, shared by every process; another account is unaffected.
    assert await Throttle.filter(kind="acct_addr", locked_until__isnull=False).count() == 1
    assert await sign_in_codes(api, "madclerk01", "Court-Docket-Review-2026!") == []
    actions = [e.action for e in await AuditEvent.filter(action__startswith="account.").order_by("id")]
    assert actions.count("account.sign_in_failed") == 5
    # Time unlocks it (the service's clock, moved on).
    clock.advance(throttle.PAIR_SIGN_IN.lock_for + dt.timedelta(seconds=1))
    assert await sign_in_codes(api, FILER[0], FILER[1]) == []


async def test_an_unknown_username_is_answered_exactly_like_a_known_one(api: Api) -> None:
    """Measured before: the sixth wrong password answered ACCOUNT_LOCKED for a known username
    and INVALID_CREDENTIALS for an unknown one, which told who has an account."""
    for _ in range(throttle.PAIR_SIGN_IN.limit + 2):
        known = await api.data(SIGN_IN, {"u": FILER[0], "p": WRONG})
        unknown = await api.data(SIGN_IN, {"u": "jmorgan2020", "p": WRONG})
        assert known == unknown
    assert [e["code"] for e in known["signIn"]["errors"]] == ["ACCOUNT_LOCKED"]


async def test_a_stranger_cannot_lock_the_owner_out_from_elsewhere(settings: Settings) -> None:
    async with running_api(settings) as api:
        stranger = {"X-Forwarded-For": "203.0.113.9"}
        for _ in range(throttle.PAIR_SIGN_IN.limit + 3):
            await sign_in_codes(api, FILER[0], WRONG, **stranger)
        assert await sign_in_codes(api, FILER[0], FILER[1], **stranger) == ["ACCOUNT_LOCKED"]
        assert await sign_in_codes(api, FILER[0], FILER[1], **{"X-Forwarded-For": "198.51.100.7"}) == []


async def test_guessing_from_many_addresses_locks_the_password_alone(settings: Settings) -> None:
    """Spread over many addresses, guesses lock the username everywhere (known or not); an
    account with a second factor still signs in with it."""
    async with running_api(settings) as api:
        stop_clock()
        token = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
        app = await enrol(api, token, "maria.lopez@lopezlaw.example")
        for name in (FILER[0], "mlopez2018", "nobody2026"):
            for i in range(throttle.ACCOUNT_SIGN_IN.limit):
                await sign_in_codes(api, name, WRONG, **{"X-Forwarded-For": f"198.51.100.{i}"})
        owner = {"X-Forwarded-For": "192.0.2.44"}
        assert await sign_in_codes(api, FILER[0], FILER[1], **owner) == ["ACCOUNT_LOCKED"]
        assert await sign_in_codes(api, "nobody2026", WRONG, **owner) == ["ACCOUNT_LOCKED"]
        assert await sign_in_codes(api, "mlopez2018", WRONG, **owner) == ["ACCOUNT_LOCKED"]
        # Maria's password and her app's code still get her in.
        first = await api.data(
            SIGN_IN_MFA, {"u": "mlopez2018", "p": "Harbor-Signal-Evening-5"}, headers=owner
        )
        assert first["signIn"]["token"] is None and first["signIn"]["errors"] == []
        second = await verify(api, first["signIn"]["mfaChallenge"]["token"], code(app.secret), **owner)
        assert second["errors"] == [] and second["token"]


async def test_wrong_codes_count_toward_the_same_lockouts(settings: Settings) -> None:
    async with running_api(settings) as api:
        stop_clock()
        token = await api.sign_in(*FILER)
        app = await enrol(api, token, "james.morgan@morganlegal.example")
        here = {"X-Forwarded-For": "203.0.113.9"}
        first = await api.data(SIGN_IN_MFA, {"u": FILER[0], "p": FILER[1]}, headers=here)
        challenge = first["signIn"]["mfaChallenge"]["token"]
        wrong = "000000" if code(app.secret) != "000000" else "111111"
        for _ in range(throttle.PAIR_SIGN_IN.limit):
            assert [e["code"] for e in (await verify(api, challenge, wrong, **here))["errors"]] == [
                "INVALID_MFA_CODE"
            ]
        # That username is locked from that address, for codes and passwords alike.
        assert [e["code"] for e in (await verify(api, challenge, code(app.secret), **here))["errors"]] == [
            "ACCOUNT_LOCKED"
        ]
        assert await sign_in_codes(api, FILER[0], FILER[1], **here) == ["ACCOUNT_LOCKED"]
        # The owner elsewhere is not locked out.
        elsewhere = {"X-Forwarded-For": "198.51.100.7"}
        again = await api.data(SIGN_IN_MFA, {"u": FILER[0], "p": FILER[1]}, headers=elsewhere)
        ok = await verify(api, again["signIn"]["mfaChallenge"]["token"], code(app.secret), **elsewhere)
        assert ok["errors"] == []
        # Wrong codes from many addresses lock the second step of the account itself.
        next_step()
        for i in range(throttle.MFA_CODES.limit - throttle.PAIR_SIGN_IN.limit):
            at = {"X-Forwarded-For": f"192.0.2.{i}"}
            c = (await api.data(SIGN_IN_MFA, {"u": FILER[0], "p": FILER[1]}, headers=at))["signIn"]
            await verify(api, c["mfaChallenge"]["token"], wrong, **at)
        last = (await api.data(SIGN_IN_MFA, {"u": FILER[0], "p": FILER[1]}, headers=elsewhere))["signIn"]
        refused = await verify(api, last["mfaChallenge"]["token"], code(app.secret), **elsewhere)
        assert [e["code"] for e in refused["errors"]] == ["ACCOUNT_LOCKED"]


async def test_nothing_before_the_right_password_tells_whether_an_account_has_mfa(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    await enrol(api, token, "james.morgan@morganlegal.example")
    with_mfa = await api.data(SIGN_IN_MFA, {"u": FILER[0], "p": WRONG})
    without = await api.data(SIGN_IN_MFA, {"u": "mlopez2018", "p": WRONG})
    assert with_mfa == without
    assert with_mfa["signIn"]["mfaChallenge"] is None


async def test_a_password_reset_unlocks_the_account(api: Api) -> None:
    import re

    for _ in range(throttle.PAIR_SIGN_IN.limit):
        await sign_in_codes(api, FILER[0], WRONG)
    assert await sign_in_codes(api, FILER[0], FILER[1]) == ["ACCOUNT_LOCKED"]
    await api.data('mutation { requestPasswordReset(input: {usernameOrEmail: "jmorgan2019"}) { ok } }')
    token = re.search(r"Reset token: (\S+)", api.mails()[-1].get_content()).group(1)  # type: ignore[union-attr]
    reset = await api.data(
        'mutation($t: String!) { resetPassword(input: {token: $t, newPassword: "Fresh-Start-Morning-77"}) { ok } }',
        {"t": token},
    )
    assert reset["resetPassword"]["ok"] is True
    assert await sign_in_codes(api, FILER[0], "Fresh-Start-Morning-77") == []


async def test_failures_from_one_address_slow_everyone_there_down(api: Api) -> None:
    for i in range(throttle.ADDRESS_SIGN_IN.limit):
        assert await sign_in_codes(api, f"nobody{i}", WRONG) == ["INVALID_CREDENTIALS"]
    assert await sign_in_codes(api, FILER[0], FILER[1]) == ["RATE_LIMITED"]
    # No username was locked by a stranger's guesses at other names.
    assert await Throttle.filter(locked_until__isnull=False).exclude(kind="address").count() == 0


async def test_forwarded_addresses_count_only_behind_a_trusted_proxy(settings: Settings) -> None:
    # The in-process client connects from 127.0.0.1, a trusted proxy by default
    # (NEXTGEN_GQL_FORWARDED_ALLOW_IPS); tests/api/test_proxies.py has the untrusted cases.
    async with running_api(settings) as api:
        for i in range(throttle.ADDRESS_SIGN_IN.limit):
            await sign_in_codes(api, f"nobody{i}", WRONG, **{"X-Forwarded-For": "203.0.113.9"})
        assert await sign_in_codes(api, FILER[0], FILER[1], **{"X-Forwarded-For": "203.0.113.9"}) == [
            "RATE_LIMITED"
        ]
        assert await sign_in_codes(api, FILER[0], FILER[1], **{"X-Forwarded-For": "198.51.100.7"}) == []


async def test_guessing_a_legacy_password_locks_that_login(api: Api) -> None:
    token = await api.sign_in(*FILER)
    for _ in range(throttle.CMECF_LOGIN.limit):
        data = await api.data(LINK, {"l": "kchen", "p": "guess"}, court="mad", token=token)
        assert data["linkCmecfAccount"]["errors"][0]["code"] == "INVALID_CMECF_CREDENTIALS"
    data = await api.data(LINK, {"l": "kchen", "p": LEGACY_ECF_PASSWORD}, court="mad", token=token)
    assert [(e["code"], e["field"]) for e in data["linkCmecfAccount"]["errors"]] == [
        ("ACCOUNT_LOCKED", "login")
    ]
    # The same login of another court is another login.
    ok = await api.data(LINK, {"l": "jmorgan", "p": LEGACY_ECF_PASSWORD}, court="mab", token=token)
    assert ok["linkCmecfAccount"]["errors"] == []


async def test_a_linker_guessing_many_logins_is_slowed_down(api: Api) -> None:
    token = await api.sign_in(*FILER)
    for i in range(throttle.LINK_ATTEMPTS.limit):
        await api.data(LINK, {"l": f"guess{i}", "p": "guess"}, court="mad", token=token)
    data = await api.data(LINK, {"l": "jmorgan", "p": LEGACY_ECF_PASSWORD}, court="mad", token=token)
    assert data["linkCmecfAccount"]["errors"][0]["code"] == "RATE_LIMITED"


async def test_guessing_reset_tokens_is_slowed_down(api: Api) -> None:
    import re

    await api.data('mutation { requestPasswordReset(input: {usernameOrEmail: "jmorgan2019"}) { ok } }')
    token = re.search(r"Reset token: (\S+)", api.mails()[-1].get_content()).group(1)  # type: ignore[union-attr]
    reset = 'mutation($t: String!) { resetPassword(input: {token: $t, newPassword: "Fresh-Start-Morning-77"}) { errors { code } } }'
    for i in range(throttle.RESET_TOKENS.limit):
        data = await api.data(reset, {"t": f"guess-{i}"})
        assert data["resetPassword"]["errors"] == [{"code": "INVALID_INPUT"}]
    data = await api.data(reset, {"t": token})
    assert data["resetPassword"]["errors"] == [{"code": "RATE_LIMITED"}]


async def test_reset_requests_cannot_bomb_a_mailbox(api: Api) -> None:
    request = (
        'mutation { requestPasswordReset(input: {usernameOrEmail: "jmorgan2019"}) { ok errors { code } } }'
    )
    for _ in range(throttle.RESET_REQUESTS.limit + 5):
        assert (await api.data(request))["requestPasswordReset"] == {"ok": True, "errors": []}
    assert len(api.mails()) == throttle.RESET_REQUESTS.limit


ME = '{"query": "{ me { username } }"}'


@pytest.mark.parametrize(
    ("content_type", "origin"),
    [
        ("text/plain", None),
        ("application/x-www-form-urlencoded", None),
        ("multipart/form-data; boundary=x", None),
        ("application/json", "https://evil.example"),
        ("application/json", "null"),
    ],
)
async def test_cookie_requests_a_cross_site_page_could_send_are_refused(
    api: Api, content_type: str, origin: str | None
) -> None:
    token = await api.sign_in(*FILER)
    headers = {"content-type": content_type, "cookie": f"NextGenCSO={token}"}
    if origin:
        headers["origin"] = origin
    response = await api.client.post("/graphql", content=ME, headers=headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert FILER[0] not in response.text


async def test_cookie_requests_from_the_page_itself_and_bearer_requests_pass(api: Api) -> None:
    token = await api.sign_in(*FILER)
    same = {
        "content-type": "application/json",
        "cookie": f"NextGenCSO={token}",
        "origin": "http://testserver",
    }
    response = await api.client.post("/graphql", content=ME, headers=same)
    assert response.json()["data"]["me"] == {"username": FILER[0]}
    no_origin = {"content-type": "application/json", "cookie": f"NextGenCSO={token}"}
    assert (await api.client.post("/graphql", content=ME, headers=no_origin)).json()["data"]["me"]
    bearer = {
        "content-type": "application/json",
        "authorization": f"Bearer {token}",
        "origin": "https://spa.example",
    }
    assert (await api.client.post("/graphql", content=ME, headers=bearer)).json()["data"]["me"]
    # A GET query rides the cookie harmlessly (its answer is unreadable cross-site); a GET mutation never runs.
    get = await api.client.get("/graphql", params={"query": "mutation { signOut { ok } }"}, headers=no_origin)
    assert get.status_code in (400, 405)
    assert (await api.data("{ me { username } }", token=token))["me"] == {"username": FILER[0]}


async def test_cors_allows_nothing_by_default(api: Api) -> None:
    response = await api.client.options(
        "/graphql", headers={"origin": "https://spa.example", "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in response.headers
    response = await api.post("{ courts { code } }", headers={"origin": "https://spa.example"})
    assert "access-control-allow-origin" not in response.headers


async def test_cors_allows_the_listed_origins_only(settings: Settings) -> None:
    async with running_api(settings.with_(cors_origins=("https://spa.example",))) as api:
        preflight = await api.client.options(
            "/graphql",
            headers={
                "origin": "https://spa.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization, x-court",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://spa.example"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        allowed = await api.post("{ courts { code } }", headers={"origin": "https://spa.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://spa.example"
        other = await api.client.options(
            "/graphql", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
        # The listed origin may also ride the cookie (an SPA on another host of the court).
        token = await api.sign_in(*FILER)
        headers = {
            "content-type": "application/json",
            "cookie": f"NextGenCSO={token}",
            "origin": "https://spa.example",
        }
        assert (await api.client.post("/graphql", content=ME, headers=headers)).json()["data"]["me"]
