"""A court's legacy roster, for that court's clerks only."""

from __future__ import annotations

from typing import Any

import pytest

from nextgen_gql.models import CmecfAccount
from nextgen_gql.services.demo import MOVE_ROSTER
from tests import databases
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, LEGACY_ECF_PASSWORD, MOVE_LOGIN_PREFIX, Api

#: mad's demo roster in login order: the documented accounts and its move to NextGen's.
MAD_ROSTER = [
    "aobrien",
    "jmorgan",
    "kchen",
    "lperez",
    *(f"{MOVE_LOGIN_PREFIX}{i:04}" for i in range(1, MOVE_ROSTER + 1)),
    "tnguyen",
]

ROSTER = """
query($first: Int, $after: String, $search: String, $linked: Boolean) {
  cmecfAccounts(first: $first, after: $after, search: $search, linked: $linked) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { login role court { code } linkedAt linkedAccount { username email } linkedBy { username } } }
  }
}"""


async def clerk(api: Api, court: str) -> str:
    return await api.sign_in(CLERKS[court], CLERK_PASSWORD)


def logins(data: dict[str, Any]) -> list[str]:
    return [e["node"]["login"] for e in data["cmecfAccounts"]["edges"]]


async def test_a_clerk_sees_the_roster_in_login_order(api: Api) -> None:
    token = await clerk(api, "mad")
    data = await api.data(ROSTER, court="mad", token=token)
    assert logins(data) == MAD_ROSTER[: len(logins(data))] and len(logins(data)) >= 5
    assert data["cmecfAccounts"]["totalCount"] == len(MAD_ROSTER)
    assert {e["node"]["court"]["code"] for e in data["cmecfAccounts"]["edges"]} == {"mad"}


async def test_keyset_pages_walk_the_whole_roster(api: Api) -> None:
    token = await clerk(api, "mad")
    seen: list[str] = []
    after = None
    while True:
        data = await api.data(ROSTER, {"first": 20, "after": after}, court="mad", token=token)
        seen += logins(data)
        info = data["cmecfAccounts"]["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == MAD_ROSTER


async def test_search_and_linked_filters(api: Api) -> None:
    james = await api.sign_in(*FILER)
    linked = await api.data(
        "mutation($i: LinkCmecfAccountInput!) { linkCmecfAccount(input: $i) { errors { code } } }",
        {"i": {"login": "jmorgan", "password": LEGACY_ECF_PASSWORD, "confirm": True}},
        court="mad",
        token=james,
    )
    assert linked["linkCmecfAccount"]["errors"] == []
    token = await clerk(api, "mad")
    assert logins(await api.data(ROSTER, {"search": "NGUYEN"}, court="mad", token=token)) == ["tnguyen"]
    # The demo's move to NextGen (mv... logins) is in both lists; the documented accounts are these.
    only_linked = await api.data(ROSTER, {"linked": True, "first": 100}, court="mad", token=token)
    assert [login for login in logins(only_linked) if not login.startswith(MOVE_LOGIN_PREFIX)] == ["jmorgan"]
    node = next(e["node"] for e in only_linked["cmecfAccounts"]["edges"] if e["node"]["login"] == "jmorgan")
    assert node["linkedAccount"] == {"username": FILER[0], "email": "james.morgan@morganlegal.example"}
    assert node["linkedBy"] == {"username": FILER[0]} and node["linkedAt"]
    unlinked = await api.data(ROSTER, {"linked": False, "first": 100}, court="mad", token=token)
    documented = [login for login in logins(unlinked) if not login.startswith(MOVE_LOGIN_PREFIX)]
    assert documented == ["aobrien", "kchen", "lperez", "tnguyen"]
    moving = await CmecfAccount.filter(
        court_id="mad", login_key__startswith=MOVE_LOGIN_PREFIX, linked_at__isnull=True
    ).count()
    assert unlinked["cmecfAccounts"]["totalCount"] == 4 + moving == len(logins(unlinked))
    assert only_linked["cmecfAccounts"]["totalCount"] == 1 + MOVE_ROSTER - moving


@pytest.mark.parametrize(
    ("who", "court", "code"),
    [
        ("anonymous", "mad", "UNAUTHENTICATED"),
        ("filer", "mad", "FORBIDDEN"),
        ("mab clerk", "mad", "FORBIDDEN"),
        ("ca1 clerk", "mad", "FORBIDDEN"),
        ("mad clerk", None, "COURT_REQUIRED"),
    ],
)
async def test_nobody_else_sees_a_roster(api: Api, who: str, court: str | None, code: str) -> None:
    tokens = {
        "anonymous": None,
        "filer": await api.sign_in(*FILER) if who == "filer" else None,
        "mab clerk": await clerk(api, "mab") if who == "mab clerk" else None,
        "ca1 clerk": await clerk(api, "ca1") if who == "ca1 clerk" else None,
        "mad clerk": await clerk(api, "mad") if who == "mad clerk" else None,
    }
    body = await api.gql(ROSTER, court=court, token=tokens[who])
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert "lperez" not in str(body)


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, "first"), ({"first": 101}, "first"), ({"after": "bm9wZQ"}, "after")],
)
async def test_bad_paging_arguments_are_clear_errors(api: Api, variables: dict[str, Any], field: str) -> None:
    token = await clerk(api, "mad")
    body = await api.gql(ROSTER, variables, court="mad", token=token)
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": field}


async def test_a_search_counts_its_matches_once_whatever_the_page(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``totalCount`` is every match, on every page. Read from its start, a search reads up to
    ``COUNTED_IN_PAGE`` matches with its page and counts them there (one statement); past
    that many matches, or after a cursor, it counts with a statement of its own."""
    from nextgen_gql.services import ordering

    statements: list[str] = []
    real = ordering.query

    async def recorded(sql: str, params: Any) -> Any:
        statements.append(sql)
        if databases.backend() == "postgres":
            # A search's statements are planned for their values (never a cached generic plan).
            mode = await real("SELECT current_setting('plan_cache_mode')", [])
            assert mode == [("force_custom_plan",)], sql
        return await real(sql, params)

    monkeypatch.setattr(ordering, "query", recorded)
    term = f"{MOVE_LOGIN_PREFIX}001"
    matches = [login for login in MAD_ROSTER if term in login]
    assert len(matches) == 10
    token = await clerk(api, "mad")

    def counted() -> bool:
        return any(s.lstrip().upper().startswith("SELECT COUNT(*)") for s in statements)

    for first, counted_in_page, counts in [
        (20, 1000, False),
        (9, 1000, False),
        (1, 1000, False),
        (9, 5, True),
    ]:
        monkeypatch.setattr(ordering, "COUNTED_IN_PAGE", counted_in_page)
        statements.clear()
        data = await api.data(ROSTER, {"first": first, "search": term}, court="mad", token=token)
        assert logins(data) == matches[:first]
        assert data["cmecfAccounts"]["totalCount"] == len(matches)
        assert data["cmecfAccounts"]["pageInfo"]["hasNextPage"] is (first < len(matches))
        assert counted() is counts, (first, counted_in_page, statements)
    monkeypatch.setattr(ordering, "COUNTED_IN_PAGE", 1000)
    # After a cursor the page cannot see the matches before it: it counts.
    first = await api.data(ROSTER, {"first": 3, "search": term}, court="mad", token=token)
    statements.clear()
    rest = await api.data(
        ROSTER,
        {"first": 20, "search": term, "after": first["cmecfAccounts"]["pageInfo"]["endCursor"]},
        court="mad",
        token=token,
    )
    assert logins(rest) == matches[3:]
    assert rest["cmecfAccounts"]["totalCount"] == len(matches)
    assert counted()
    # Backward from the end (last: N), the same.
    statements.clear()
    last = await api.data(
        "query($s: String) { cmecfAccounts(last: 20, search: $s) { totalCount edges { node { login } } } }",
        {"s": term},
        court="mad",
        token=token,
    )
    assert logins(last) == matches and last["cmecfAccounts"]["totalCount"] == len(matches)
    assert not counted()


async def test_a_statement_planned_for_its_values(api: Api) -> None:
    """``own_plans``: on PostgreSQL the statements inside run with ``plan_cache_mode`` at
    ``force_custom_plan`` (a search is planned for its court and term every time) and nothing
    else is; on SQLite, which plans every statement, the same rows."""
    from nextgen_gql.services import ordering

    async def planned(sql: str, params: list[Any]) -> Any:
        async with ordering.own_plans():
            return await ordering.query(sql, params)

    if databases.backend() == "postgres":
        sql = "SELECT current_setting('plan_cache_mode')"
        assert await planned(sql, []) == [("force_custom_plan",)]
        assert await ordering.query(sql, []) == [("auto",)]
    sql = "SELECT login FROM cmecf_accounts WHERE court_id = ? ORDER BY login_key LIMIT 2"
    assert await planned(sql, ["mad"]) == await ordering.query(sql, ["mad"])
