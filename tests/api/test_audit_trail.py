"""The audit trail: a court's events for its clerks, an account's own for itself."""

from __future__ import annotations

from typing import Any

from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, MOVE_FILER_PREFIX, Api

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

    async def walk(first: int) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        after = None
        while True:
            page = (
                await api.data(COURT_EVENTS, {"first": first, "after": after}, court="mad", token=madclerk)
            )["auditEvents"]
            seen += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return seen
            after = page["pageInfo"]["endCursor"]

    everything = await walk(100)
    assert len(everything) == events["totalCount"]
    assert [n["id"] for n in everything[: len(nodes)]] == [n["id"] for n in nodes]
    assert [n["id"] for n in await walk(7)] == [n["id"] for n in everything]
    # Newest first (by when each was written): the demo's import and clerk grant are mad events
    # too, oldest last.
    assert [n["action"] for n in everything][-2:] == ["clerk.grant", "import.cmecf_accounts"]

    # Their times run backwards too, but for the demo's move to NextGen, written at start-up with
    # the clock set to moments since mad's NextGen date (its filers' links and approvals).
    def of_the_move(n: dict[str, Any]) -> bool:
        return any(
            (n[who] or {}).get("username", "").startswith(MOVE_FILER_PREFIX) for who in ("actor", "subject")
        )

    moved = [n for n in everything if of_the_move(n)]
    assert len(moved) > 50 and min(n["at"] for n in moved) < "2022"
    stamps = [n["at"] for n in everything if not of_the_move(n)]
    assert stamps == sorted(stamps, reverse=True)


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
