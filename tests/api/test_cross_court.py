"""The cross-court matrix: every clerk-only field and mutation, against a clerk of another
court, a plain filer, and nobody; none of them learns anything."""

from __future__ import annotations

from typing import Any

import pytest

from nextgen_gql.models import AuditEvent, Registration
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api

QUERIES = {
    "cmecfAccounts": "{ cmecfAccounts { totalCount edges { node { login } } } }",
    "registrations": "{ registrations { totalCount edges { node { id } } } }",
    "auditEvents": "{ auditEvents { totalCount edges { node { action } } } }",
    "privileges": "{ privileges { totalCount edges { node { id cases } } } }",
}
INTRUDERS = {"ca1 clerk": "ca1", "mab clerk": "mab", "filer": None, "anonymous": None}


async def intruder_token(api: Api, who: str) -> str | None:
    if who == "anonymous":
        return None
    if who == "filer":
        return await api.sign_in(*FILER)
    return await api.sign_in(CLERKS[INTRUDERS[who]], CLERK_PASSWORD)  # type: ignore[index]


@pytest.mark.parametrize("who", list(INTRUDERS))
@pytest.mark.parametrize("field", list(QUERIES))
async def test_clerk_queries_refuse_everyone_but_that_courts_clerks(api: Api, field: str, who: str) -> None:
    token = await intruder_token(api, who)
    body = await api.gql(QUERIES[field], court="mad", token=token)
    assert body["data"] is None
    expected = "UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"
    assert [e["extensions"]["code"] for e in body["errors"]] == [expected]
    assert "lperez" not in str(body) and "totalCount" not in str(body)
    # ... while the court's own clerk is served.
    madclerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    assert "errors" not in await api.gql(QUERIES[field], court="mad", token=madclerk)


async def pending_mad_registration(api: Api) -> tuple[str, str]:
    kim = await api.data(
        """mutation { registerPacerAccount(input: {username: "kimpro2026", password: "Maple-Lantern-Quiet-77",
        firstName: "Kim", lastName: "Pro", email: "kim@example.org"}) { errors { code } } }"""
    )
    assert kim["registerPacerAccount"]["errors"] == []
    token = await api.sign_in("kimpro2026", "Maple-Lantern-Quiet-77")
    data = await api.data(
        "mutation { submitRegistration(input: {role: MEDIA}) { registration { id } errors { code } } }",
        court="mad",
        token=token,
    )
    return data["submitRegistration"]["registration"]["id"], token


@pytest.mark.parametrize("who", list(INTRUDERS))
@pytest.mark.parametrize("addressed_to", ["mad", "own court"])
async def test_decide_registration_refuses_everyone_but_that_courts_clerks(
    api: Api, who: str, addressed_to: str
) -> None:
    registration_id, _ = await pending_mad_registration(api)
    token = await intruder_token(api, who)
    court = INTRUDERS[who] if addressed_to == "own court" and INTRUDERS[who] else "mad"
    events = await AuditEvent.all().count()
    data = await api.data(
        """mutation($id: ID!) { decideRegistration(input: {id: $id, approve: true}) {
          registration { id } privilege { id } errors { code message } } }""",
        {"id": registration_id},
        court=court,
        token=token,
    )
    payload: dict[str, Any] = data["decideRegistration"]
    assert payload["registration"] is None and payload["privilege"] is None
    [error] = payload["errors"]
    if who == "anonymous":
        assert error["code"] == "UNAUTHENTICATED"
    elif court != "mad":
        # A clerk deciding in their own court does not find another court's registration.
        assert error["code"] == "NOT_FOUND" and "mad" not in error["message"]
    else:
        assert error["code"] == "FORBIDDEN"
    assert (await Registration.get(account__username_key="kimpro2026")).status.value == "pending"
    assert await AuditEvent.all().count() == events


async def test_registration_nodes_of_another_court_are_invisible(api: Api) -> None:
    registration_id, owner = await pending_mad_registration(api)
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert (await api.data(query, {"id": registration_id}, token=owner))["node"] == {"id": registration_id}
    madclerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    assert (await api.data(query, {"id": registration_id}, token=madclerk))["node"] == {"id": registration_id}
    for who in INTRUDERS:
        token = await intruder_token(api, who)
        assert (await api.data(query, {"id": registration_id}, token=token))["node"] is None, who
