"""The audit trail: a court's events for its clerks, an account's own for itself."""

from __future__ import annotations

from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api

COURT_EVENTS = """query($first: Int, $after: String) { auditEvents(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id action actor { username } subject { username } court { code } detail at } } } }"""
MY_EVENTS = """{ me { auditEvents(first: 50) { totalCount edges { node { action court { code } } } } } }"""
LINK = """mutation($l: String!) { linkCmecfAccount(input: {login: $l, password: "legacy-ecf-pass", confirm: true})
  { errors { code } } }"""


async def test_a_clerk_sees_the_courts_events_newest_first_and_only_those(api: Api) -> None:
    james = await api.sign_in(*FILER)
    assert (await api.data(LINK, {"l": "jmorgan"}, court="mad", token=james))["linkCmecfAccount"][
        "errors"
    ] == []
    assert (await api.data(LINK, {"l": "jmorgan"}, court="mab", token=james))["linkCmecfAccount"][
        "errors"
    ] == []
    await api.data(
        "mutation { submitRegistration(input: {role: MEDIA}) { errors { code } } }", court="mad", token=james
    )
    madclerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    events = (await api.data(COURT_EVENTS, court="mad", token=madclerk))["auditEvents"]
    nodes = [e["node"] for e in events["edges"]]
    assert {n["court"]["code"] for n in nodes} == {"mad"}
    assert [n["action"] for n in nodes][:2] == ["registration.submit", "cmecf.link"]
    link = nodes[1]
    assert link["actor"] == link["subject"] == {"username": FILER[0]}
    assert link["detail"] == "login jmorgan"
    # The demo's import and clerk grant are mad events too, oldest last.
    assert [n["action"] for n in nodes][-2:] == ["clerk.grant", "import.cmecf_accounts"]
    stamps = [n["at"] for n in nodes]
    assert stamps == sorted(stamps, reverse=True)

    seen, after = [], None
    while True:
        page = (await api.data(COURT_EVENTS, {"first": 2, "after": after}, court="mad", token=madclerk))[
            "auditEvents"
        ]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [n["id"] for n in nodes]


async def test_an_account_sees_its_own_national_and_court_events(api: Api) -> None:
    james = await api.sign_in(*FILER)
    await api.data(LINK, {"l": "jmorgan"}, court="mad", token=james)
    events = (await api.data(MY_EVENTS, token=james))["me"]["auditEvents"]
    actions = [(e["node"]["action"], (e["node"]["court"] or {}).get("code")) for e in events["edges"]]
    assert actions == [("cmecf.link", "mad"), ("account.sign_in", None)]


async def test_nobody_else_sees_an_accounts_trail(api: Api) -> None:
    james = await api.sign_in(*FILER)
    await api.data(LINK, {"l": "jmorgan"}, court="mad", token=james)
    madclerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    query = """{ cmecfAccounts(linked: true) { edges { node { linkedAccount { username auditEvents { totalCount } } } } } }"""
    body = await api.gql(query, court="mad", token=madclerk)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "account.sign_in" not in str(body)
