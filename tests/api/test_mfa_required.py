"""MFA required of filers and clerks: three sign-ins without it, then sessions restricted to
enrolment, the same on the compiled path and on the reference executor (issue 15, item 4).

Every query here runs both ways (the ``settings`` fixture's differential check): a compiled
answer that ignored the restriction would differ from the reference's refusal and fail the
request with COMPILED_MISMATCH.
"""

from __future__ import annotations

from typing import Any

import pytest

from nextgen_gql.models import PacerAccount, Session
from tests.api.mfa_helpers import SIGN_IN, enrol, stop_clock
from tests.conftest import CLERK_PASSWORD, FILER, LEGACY_ECF_PASSWORD, Api

CLERK = ("madclerk01", CLERK_PASSWORD)
CLERK_EMAIL = "dana.whitfield@mad.courts.example"
ROSTER = "{ cmecfAccounts(first: 2) { totalCount edges { node { login } } } }"


async def sign_in(api: Api, username: str, password: str, **extra: Any) -> dict[str, Any]:
    data = await api.data(SIGN_IN, {"i": {"username": username, "password": password, **extra}})
    api.client.cookies.clear()
    payload: dict[str, Any] = data["signIn"]
    assert payload["errors"] == [], payload
    return payload


async def refused(api: Api, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> None:
    response = await api.post(query, variables, **kw)
    body = response.json()
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["MFA_ENROLLMENT_REQUIRED"], body


async def test_three_sign_ins_then_a_session_restricted_to_enrolment(api: Api) -> None:
    skips = []
    for _ in range(3):
        signed = await sign_in(api, *CLERK)
        skips.append(signed["account"]["mfa"]["skipsLeft"])
        assert signed["account"]["mfa"]["required"] is True
    assert skips == [3, 2, 1]
    normal = signed["token"]
    restricted = await sign_in(api, *CLERK)
    assert restricted["account"]["mfa"]["skipsLeft"] == 0
    token = restricted["token"]
    assert await Session.filter(mfa_restricted=True).count() == 1

    # It reads me (on the compiled path, checked against the reference) ...
    me = await api.data("{ me { username mfa { required enabled skipsLeft } } }", court="mad", token=token)
    assert me["me"] == {"username": "madclerk01", "mfa": {"required": True, "enabled": False, "skipsLeft": 0}}
    assert (await api.data("{ me { username clerkOf { code } } }", court="mad", token=token))["me"]["clerkOf"]
    # ... and nothing else: the court's lists, node, even public fields, and mutations.
    await refused(api, ROSTER, court="mad", token=token)
    await refused(api, "{ registrations(first: 1) { totalCount } }", court="mad", token=token)
    await refused(api, "{ me { username } courts { code } }", token=token)
    await refused(api, "{ courts { code } }", token=token)
    await refused(api, "{ court { code name } }", court="mad", token=token)
    account = await PacerAccount.get(username_key="madclerk01")
    own_id = (await api.data("{ me { id } }", token=token))["me"]["id"]
    await refused(api, "query($id: ID!) { node(id: $id) { id } }", {"id": own_id}, token=token)
    await refused(api, "query { ...F } fragment F on Query { courts { code } }", token=token)
    assert (await api.data("query { ...F } fragment F on Query { me { username } }", token=token))["me"]
    await refused(
        api,
        'mutation { revokeFilingPrivilege(input: {id: "x", reason: "r"}) { errors { code } } }',
        court="mad",
        token=token,
    )
    await refused(api, "mutation { signOutOtherSessions { ok } }", token=token)
    # The session from before the skips ran out is not restricted.
    assert (await api.data(ROSTER, court="mad", token=normal))["cmecfAccounts"]["totalCount"] > 0
    # Anonymous callers are not affected.
    assert (await api.data("{ courts { code } }"))["courts"]

    # Enrolling lifts the restriction of every session of the account, at once.
    stop_clock()
    await enrol(api, token, CLERK_EMAIL)
    assert (await api.data(ROSTER, court="mad", token=token))["cmecfAccounts"]["totalCount"] > 0
    assert (await api.data("{ courts { code } }", token=token))["courts"]
    assert await Session.filter(account_id=account.id, mfa_restricted=True).count() == 0


async def test_a_restricted_session_may_sign_out(api: Api) -> None:
    for _ in range(3):
        await sign_in(api, *CLERK)
    token = (await sign_in(api, *CLERK))["token"]
    out = await api.data("mutation { signOut { ok errors { code } } }", token=token)
    assert out["signOut"] == {"ok": True, "errors": []}
    assert (await api.data("{ me { username } }", token=token))["me"] is None
    # Still restricted at the next sign-in: the skips do not come back.
    again = await sign_in(api, *CLERK)
    assert again["account"]["mfa"]["skipsLeft"] == 0
    await refused(api, ROSTER, court="mad", token=again["token"])


async def test_becoming_a_filer_starts_the_count(api: Api) -> None:
    first = await sign_in(api, *FILER)
    assert first["account"]["mfa"] == {"skipsLeft": None, "required": False, "enabled": False}
    link = await api.data(
        'mutation($p: String!) { linkCmecfAccount(input: {login: "jmorgan", password: $p, confirm: true}) { errors { code } } }',
        {"p": LEGACY_ECF_PASSWORD},
        court="mad",
        token=first["token"],
    )
    assert link["linkCmecfAccount"]["errors"] == []
    mfa = (await api.data("{ me { mfa { required skipsLeft } } }", token=first["token"]))["me"]["mfa"]
    assert mfa == {"required": True, "skipsLeft": 3}
    skips = [
        (await sign_in(api, *FILER, redactionAcknowledged=True))["account"]["mfa"]["skipsLeft"]
        for _ in range(3)
    ]
    assert skips == [3, 2, 1]
    token = (await sign_in(api, *FILER, redactionAcknowledged=True))["token"]
    await refused(api, '{ me { canFile(court: "mad") } courts { code } }', token=token)
    assert (await api.data('{ me { canFile(court: "mad") } }', token=token))["me"]["canFile"] is True


@pytest.mark.parametrize("username", ["nreyes2021", "dwalsh2022"])
async def test_every_holder_of_a_live_privilege_must_enrol(api: Api, username: str) -> None:
    """Pro se and media accounts too (DOMAIN: media sign in to CM/ECF)."""
    passwords = {"nreyes2021": "Cedar-Window-Quiet-31!", "dwalsh2022": "Copper-Press-Morning-17"}
    signed = await sign_in(api, username, passwords[username], redactionAcknowledged=True)
    assert signed["account"]["mfa"]["required"] is True


async def test_an_account_with_mfa_is_never_restricted(api: Api) -> None:
    stop_clock()
    token = (await sign_in(api, *CLERK))["token"]
    app = await enrol(api, token, CLERK_EMAIL)
    from tests.api.mfa_helpers import sign_in_with_code

    for _ in range(5):
        token = await sign_in_with_code(api, *CLERK, app.secret)
    assert (await api.data(ROSTER, court="mad", token=token))["cmecfAccounts"]["totalCount"] > 0
