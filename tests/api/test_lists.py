"""Clerk lists a person can work (issue 20, item 6): backward pages (``last``/``before``),
orders (``orderBy: {field, direction}``), the registrations' search and the audit trail's
filters. Orders are the same on SQLite and PostgreSQL (this file runs on both): names on a
case-folded key compared byte for byte, rows without a value last in either direction, ties
by id. Every page costs a fixed number of statements."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.enums import FilerRole, RegistrationStatus
from nextgen_gql.models import AuditEvent, CmecfAccount, CmecfLink, PacerAccount, Registration
from nextgen_gql.services.clock import now
from nextgen_gql.services.imports import import_cmecf_accounts
from nextgen_gql.services.ordering import fold, search_copy
from nextgen_gql.tenancy import CourtRegistry, load_courts
from tests.api.firm_helpers import register
from tests.api.test_batching import counting_sql
from tests.conftest import CLERK_PASSWORD, CLERKS, Api

ROSTER = """query($first: Int, $after: String, $last: Int, $before: String, $order: CmecfAccountOrder,
  $linked: Boolean, $search: String) {
  cmecfAccounts(first: $first, after: $after, last: $last, before: $before, orderBy: $order, linked: $linked,
    search: $search) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { login lastName linkedAt } } } }"""
QUEUE = """query($first: Int, $after: String, $last: Int, $before: String, $order: RegistrationOrder,
  $search: String, $status: RegistrationStatus) {
  registrations(first: $first, after: $after, last: $last, before: $before, orderBy: $order, search: $search,
    status: $status) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id barNumber submittedAt account { username lastName } } } } }"""
TRAIL = """query($first: Int, $after: String, $last: Int, $before: String, $action: String, $actor: ID,
  $since: DateTime, $until: DateTime) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, action: $action, actor: $actor,
    since: $since, until: $until) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id at action actor { username } } } } }"""

# Legacy accounts of mad whose last names test case folding: case, accents, ß, spaces, quotes.
NAMES = ["Zeta", "avery", "Ávila", "de la Cruz", "DAVIS", "ßauer", "Sauer", "müller", "Muller", "MÜLLER"]


def court(api: Api, code: str) -> Any:
    return CourtRegistry(load_courts(api.settings.tenants_dir)).get(code)


async def roster_world(api: Api, tmp_path: Path) -> str:
    """mad's roster with NAMES added (through the importer), three of them linked, in an
    order that is neither by login nor by name; returns a clerk's token."""
    rows = "".join(f"legacy{i:02},First,{name},,attorney,legacy-pass-{i}\n" for i, name in enumerate(NAMES))
    path = tmp_path / "roster.csv"
    path.write_text("login,first_name,last_name,email,role,password\n" + rows, encoding="utf-8")
    await import_cmecf_accounts(court(api, "mad"), path)
    for n, i in enumerate([7, 0, 4]):
        token, _ = await register(api, f"linker{n}xx", "Lin", f"Ker{n}")
        linked = await api.data(
            """mutation($l: String!, $p: String!) { linkCmecfAccount(input: {login: $l, password: $p, confirm: true}) {
              errors { code } } }""",
            {"l": f"legacy{i:02}", "p": f"legacy-pass-{i}"},
            court="mad",
            token=token,
        )
        assert linked["linkCmecfAccount"]["errors"] == []
    return await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)


async def expected_roster(field: str, descending: bool) -> list[str]:
    """The order, computed here from the sources (``cmecf_links`` for the dates)."""
    rows = await CmecfAccount.filter(court_id="mad").order_by("id")
    links = {link.cmecf_account_id: link.linked_at for link in await CmecfLink.filter(court_id="mad")}
    if field == "LOGIN":
        ordered = sorted(rows, key=lambda r: (r.login_key.encode(), r.id), reverse=descending)
    elif field == "LAST_NAME":
        ordered = sorted(rows, key=lambda r: (fold(r.last_name).encode(), r.id), reverse=descending)
    else:  # LINKED_AT: the linked by date, then the unlinked by id, in either direction
        linked = sorted(
            (r for r in rows if r.id in links), key=lambda r: (links[r.id], r.id), reverse=descending
        )
        unlinked = sorted((r for r in rows if r.id not in links), key=lambda r: r.id, reverse=descending)
        ordered = linked + unlinked
    return [r.login for r in ordered]


async def walk(
    api: Api, query: str, field: str, variables: dict[str, Any], token: str, *, size: int
) -> tuple[list[Any], list[Any]]:
    """Every edge, paging forward with first/after, and paging backward with last/before
    (re-ordered to read forward); each page's pageInfo is checked on the way."""
    forward: list[Any] = []
    after = None
    while True:
        page = (
            await api.data(query, {**variables, "first": size, "after": after}, court="mad", token=token)
        )[field]
        forward += page["edges"]
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if page["edges"]:
            assert (
                info["startCursor"] == page["edges"][0]["cursor"]
                and info["endCursor"] == page["edges"][-1]["cursor"]
            )
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    backward: list[Any] = []
    before = None
    while True:
        page = (
            await api.data(query, {**variables, "last": size, "before": before}, court="mad", token=token)
        )[field]
        backward = page["edges"] + backward
        info = page["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert len(forward) == page["totalCount"]
    return forward, backward


@pytest.mark.parametrize("field", ["LOGIN", "LAST_NAME", "LINKED_AT"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_the_roster_in_each_order_forward_and_backward(
    api: Api, tmp_path: Path, field: str, direction: str
) -> None:
    clerk = await roster_world(api, tmp_path)
    expected = await expected_roster(field, direction == "DESC")
    order = {"field": field, "direction": direction}
    forward, backward = await walk(api, ROSTER, "cmecfAccounts", {"order": order}, clerk, size=3)
    assert [e["node"]["login"] for e in forward] == expected
    assert [e["node"]["login"] for e in backward] == expected
    assert [e["cursor"] for e in forward] == [e["cursor"] for e in backward]
    if field == "LINKED_AT":  # the unlinked come last either way
        dates = [e["node"]["linkedAt"] for e in forward]
        assert dates[-1] is None
        linked_part = [d for d in dates if d is not None]
        assert linked_part == sorted(linked_part, reverse=direction == "DESC")
        assert dates.index(None) == len(linked_part)
    # A window in the middle: the rows just before a cursor, and just after.
    middle = forward[len(forward) // 2]["cursor"]
    before = (
        await api.data(ROSTER, {"order": order, "last": 2, "before": middle}, court="mad", token=clerk)
    )["cmecfAccounts"]
    assert [e["node"]["login"] for e in before["edges"]] == expected[
        len(forward) // 2 - 2 : len(forward) // 2
    ]
    assert before["pageInfo"]["hasNextPage"] is True


async def test_names_order_case_insensitively_on_the_folded_key(api: Api, tmp_path: Path) -> None:
    clerk = await roster_world(api, tmp_path)
    order = {"field": "LAST_NAME", "direction": "ASC"}
    # Every page: the demo's roster (its move to NextGen) has more than one page of names.
    forward, _ = await walk(api, ROSTER, "cmecfAccounts", {"order": order}, clerk, size=100)
    names = [e["node"]["lastName"] for e in forward]
    mine = [n for n in names if n in NAMES]
    # Case does not count ("avery" < "DAVIS" < "de la Cruz"); "ß" folds to "ss"; names equal once
    # folded ("müller", "MÜLLER") keep their id order; bytes decide ("muller" < "müller", "Ávila" last).
    assert mine == [
        "avery",
        "DAVIS",
        "de la Cruz",
        "Muller",
        "müller",
        "MÜLLER",
        "Sauer",
        "ßauer",
        "Zeta",
        "Ávila",
    ]
    assert mine == [n for _, _, n in sorted((fold(n).encode(), i, n) for i, n in enumerate(NAMES))]
    stored = {r.last_name: r.last_name_key for r in await CmecfAccount.filter(court_id="mad")}
    assert all(stored[n] == fold(n) for n in NAMES)
    # The roster's copy of the link's date is its source's, written with the link.
    links = {link.cmecf_account_id: link.linked_at for link in await CmecfLink.filter(court_id="mad")}
    for row in await CmecfAccount.filter(court_id="mad"):
        assert row.linked_at == links.get(row.id), row.login


async def test_bad_list_arguments_get_their_code_and_change_nothing(api: Api, tmp_path: Path) -> None:
    clerk = await roster_world(api, tmp_path)
    page = (await api.data(ROSTER, {"first": 2}, court="mad", token=clerk))["cmecfAccounts"]
    login_cursor = page["pageInfo"]["endCursor"]
    by_name = {"field": "LAST_NAME", "direction": "ASC"}
    for variables, field in [
        ({"first": 2, "last": 2}, "last"),
        ({"after": login_cursor, "last": 2}, "last"),
        ({"first": 2, "before": login_cursor}, "before"),
        ({"last": 0}, "last"),
        ({"last": 101}, "last"),
        ({"order": by_name, "after": login_cursor}, "after"),  # a cursor of another order
        ({"before": "junk"}, "before"),
    ]:
        body = await api.gql(ROSTER, variables, court="mad", token=clerk)
        assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
            ("INVALID_INPUT", field)
        ], variables
    unknown = await api.gql(
        "{ cmecfAccounts(orderBy: {field: EMAIL, direction: ASC}) { totalCount } }", court="mad", token=clerk
    )
    assert [e["extensions"]["code"] for e in unknown["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" not in unknown
    unknown = await api.gql(
        "{ registrations(orderBy: {field: LOGIN, direction: UP}) { totalCount } }", court="mad", token=clerk
    )
    assert [e["extensions"]["code"] for e in unknown["errors"]] == ["GRAPHQL_VALIDATION_FAILED"] * 2


async def applicants(api: Api) -> dict[str, str]:
    """Registrations at mad by applicants named to test the search and the LAST_NAME order."""
    made = {}
    for username, first, last, role, bar in [
        ("zoeyadams1", "Zoey", "adams", "ATTORNEY", "MA-778899"),
        ("bobbyBRUNO", "Bobby", "BRUNO", "MEDIA", None),
        ("carlaczech", "Carla", "Čech", "MEDIA", None),
        ("dannyduval", "Danny", "Duval", "ATTORNEY", "NY-100200"),
    ]:
        token, _ = await register(api, username, first, last)
        submitted = await api.data(
            """mutation($i: SubmitRegistrationInput!) { submitRegistration(input: $i) {
              registration { id } errors { code } } }""",
            {"i": {"role": role, **({"barNumber": bar, "barState": bar[:2]} if bar else {})}},
            court="mad",
            token=token,
        )
        assert submitted["submitRegistration"]["errors"] == [], submitted
        made[username] = submitted["submitRegistration"]["registration"]["id"]
    return made


async def test_registrations_search_order_and_page_backward(api: Api) -> None:
    await applicants(api)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)

    async def found(search: str, **extra: Any) -> list[str]:
        page = (await api.data(QUEUE, {"search": search, "first": 50, **extra}, court="mad", token=clerk))[
            "registrations"
        ]
        assert page["totalCount"] == len(page["edges"])
        return sorted(e["node"]["account"]["username"] for e in page["edges"])

    assert await found("ZOEY") == ["zoeyadams1"]  # first name, in any case
    assert await found("bruno") == ["bobbyBRUNO"]  # last name
    assert await found("čech") == await found("ČECH") == ["carlaczech"]  # case folding beyond ASCII
    assert await found("dannydu") == ["dannyduval"]  # username
    assert await found("ZOEYADAMS1@example") == ["zoeyadams1"]  # email
    assert set(await found("@example.org")) >= {"bobbyBRUNO", "carlaczech", "dannyduval", "zoeyadams1"}
    assert await found("ma-778") == ["zoeyadams1"]  # the bar number
    assert await found("100%") == [] and await found("_") == []  # no wildcards
    assert await found("bruno", status="APPROVED") == []
    assert await found("bruno", status="PENDING") == ["bobbyBRUNO"]
    too_long = await api.gql(QUEUE, {"search": "x" * 101}, court="mad", token=clerk)
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in too_long["errors"]] == [
        ("INVALID_INPUT", "search")
    ]
    rows = await Registration.filter(court_id="mad").prefetch_related("account")
    for direction in ("ASC", "DESC"):
        expected = [
            r.id
            for r in sorted(
                rows, key=lambda r: (fold(r.account.last_name).encode(), r.id), reverse=direction == "DESC"
            )
        ]
        order = {"field": "LAST_NAME", "direction": direction}
        forward, backward = await walk(api, QUEUE, "registrations", {"order": order}, clerk, size=2)
        from nextgen_gql.api.ids import decode_int_id

        assert [decode_int_id(e["node"]["id"], "Registration") for e in forward] == expected
        assert [e["cursor"] for e in backward] == [e["cursor"] for e in forward]
        by_time = {"field": "SUBMITTED_AT", "direction": direction}
        forward, backward = await walk(api, QUEUE, "registrations", {"order": by_time}, clerk, size=3)
        times = [e["node"]["submittedAt"] for e in forward]
        assert times == sorted(times, reverse=direction == "DESC")
        assert [e["cursor"] for e in backward] == [e["cursor"] for e in forward]
    # The default order (as they arrived) pages backward too.
    forward, backward = await walk(api, QUEUE, "registrations", {}, clerk, size=2)
    assert [e["node"]["id"] for e in forward] == [e["node"]["id"] for e in backward]
    assert [decode_int_id(e["node"]["id"], "Registration") for e in forward] == sorted(r.id for r in rows)


async def test_the_registrations_copy_of_the_applicant_stays_in_step(api: Api) -> None:
    from nextgen_gql.services.registrations import applicant_keys

    await applicants(api)
    for registration in await Registration.all().prefetch_related("account"):
        keys = applicant_keys(registration.account, registration.bar_number)
        assert (registration.applicant_last_name_key, registration.search_text) == (
            keys["applicant_last_name_key"],
            keys["search_text"],
        )
    # The applicant changes the email (requestEmailChange, then the mailed token): the
    # registration's copy follows, in the same transaction.
    import re

    from tests.api.firm_helpers import PASSWORD

    bobby = await api.sign_in("bobbyBRUNO", PASSWORD)
    asked = await api.data(
        """mutation($e: String!, $p: String!) { requestEmailChange(input: {newEmail: $e, password: $p}) {
          errors { code } } }""",
        {"e": "bobby@newsroom.example", "p": PASSWORD},
        token=bobby,
    )
    assert asked["requestEmailChange"]["errors"] == []
    mailed = re.search(r"Email change token: (\S+)", api.mails("bobby@newsroom.example")[-1].get_content())
    assert mailed
    confirmed = await api.data(
        "mutation($t: String!) { confirmEmailChange(input: {token: $t}) { errors { code } } }",
        {"t": mailed.group(1)},
        token=bobby,
    )
    assert confirmed["confirmEmailChange"]["errors"] == []
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    page = (await api.data(QUEUE, {"search": "newsroom"}, court="mad", token=clerk))["registrations"]
    assert [e["node"]["account"]["username"] for e in page["edges"]] == ["bobbyBRUNO"]
    assert (await api.data(QUEUE, {"search": "bobbybruno@example.org"}, court="mad", token=clerk))[
        "registrations"
    ]["totalCount"] == 0


async def test_the_audit_trail_filtered_by_action_actor_and_time(api: Api) -> None:
    made = await applicants(api)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    everything = (await api.data(TRAIL, {"first": 100}, court="mad", token=clerk))["auditEvents"]
    ids = [e["node"]["id"] for e in everything["edges"]]
    assert len(ids) == min(100, everything["totalCount"]) and everything["totalCount"] > 4
    submits = (
        await api.data(TRAIL, {"first": 100, "action": "registration.submit"}, court="mad", token=clerk)
    )["auditEvents"]
    assert {e["node"]["action"] for e in submits["edges"]} == {"registration.submit"}
    assert (
        submits["totalCount"] == await AuditEvent.filter(court_id="mad", action="registration.submit").count()
    )
    zoey = await PacerAccount.get(username_key="zoeyadams1")
    from nextgen_gql.api.ids import encode_id

    mine = (
        await api.data(
            TRAIL, {"first": 100, "actor": encode_id("PacerAccount", zoey.id)}, court="mad", token=clerk
        )
    )["auditEvents"]
    assert [e["node"]["actor"]["username"] for e in mine["edges"]] == ["zoeyadams1"]
    # Time: at or after since, before until.
    events = await AuditEvent.filter(court_id="mad").order_by("id")
    middle = events[len(events) // 2].at
    later = (await api.data(TRAIL, {"first": 100, "since": middle.isoformat()}, court="mad", token=clerk))[
        "auditEvents"
    ]
    earlier = (await api.data(TRAIL, {"first": 100, "until": middle.isoformat()}, court="mad", token=clerk))[
        "auditEvents"
    ]
    assert later["totalCount"] == sum(e.at >= middle for e in events)
    assert earlier["totalCount"] == sum(e.at < middle for e in events)
    assert later["totalCount"] + earlier["totalCount"] == len(events)
    assert (
        await api.data(TRAIL, {"since": (now() + dt.timedelta(days=1)).isoformat()}, court="mad", token=clerk)
    )["auditEvents"]["totalCount"] == 0
    # Backward pages of the newest-first trail.
    forward, backward = await walk(
        api, TRAIL, "auditEvents", {"action": "registration.submit"}, clerk, size=2
    )
    assert [e["node"]["id"] for e in backward] == [e["node"]["id"] for e in forward]
    assert len(forward) == submits["totalCount"] >= len(made)
    # Bad filters get their code.
    for variables, field in [
        ({"actor": "garbage"}, "actor"),
        ({"actor": encode_id("Registration", 1)}, "actor"),
        ({"action": ""}, "action"),
        ({"since": middle.isoformat(), "until": middle.isoformat()}, "until"),
    ]:
        body = await api.gql(TRAIL, variables, court="mad", token=clerk)
        assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
            ("INVALID_INPUT", field)
        ], variables
    bad_time = await api.gql(TRAIL, {"since": "yesterday"}, court="mad", token=clerk)
    assert [e["extensions"]["code"] for e in bad_time["errors"]] == ["BAD_USER_INPUT"]


async def bulk_roster(size: int) -> None:
    """``size`` legacy accounts of mad, every other one linked, their keys as the services write them."""
    at = now()
    for i in range(size):
        account = await PacerAccount.create(
            account_number=f"{5_100_000 + i}",
            username=f"bulkpage{i:03}",
            username_key=f"bulkpage{i:03}",
            first_name="Bulk",
            last_name=f"Page{i}",
            email=f"bulkpage{i}@example.org",
            password_hash="x",
            created_at=at,
        )
        linked_at = at + dt.timedelta(seconds=i) if i % 2 else None
        legacy = await CmecfAccount.create(
            court_id="mad",
            login=f"bulkpage{i:03}",
            login_key=f"bulkpage{i:03}",
            first_name="Bulk",
            last_name=f"Page{i}",
            last_name_key=fold(f"Page{i}"),
            search_text=search_copy(f"bulkpage{i:03}", "Bulk", f"Page{i}"),
            linked_at=linked_at,
            role=FilerRole.ATTORNEY,
            password_hash=None,
            created_at=at,
        )
        if linked_at is not None:
            await CmecfLink.create(
                cmecf_account_id=legacy.id,
                court_id="mad",
                account_id=account.id,
                linked_by_id=account.id,
                linked_at=linked_at,
            )
        await Registration.create(
            court_id="mad",
            account_id=account.id,
            role=FilerRole.MEDIA,
            status=RegistrationStatus.PENDING,
            open_key=f"{account.id}:mad:media",
            submitted_at=at,
            applicant_last_name_key=fold(f"Page{i}"),
            search_text=fold(f"Bulk Page{i} bulkpage{i:03} bulkpage{i}@example.org"),
        )
        await AuditEvent.create(
            at=at, action="registration.submit", actor_id=account.id, subject_id=account.id, court_id="mad"
        )


# The lists alone (their rows' relations are batched, and counted, in tests/api/test_batching.py).
ROSTER_ROWS = """query($first: Int, $after: String, $last: Int, $before: String, $order: CmecfAccountOrder,
  $linked: Boolean, $search: String) {
  cmecfAccounts(first: $first, after: $after, last: $last, before: $before, orderBy: $order, linked: $linked,
    search: $search) { totalCount pageInfo { endCursor } edges { cursor node { login lastName linkedAt } } } }"""
QUEUE_ROWS = """query($first: Int, $after: String, $last: Int, $before: String, $order: RegistrationOrder,
  $search: String, $status: RegistrationStatus) {
  registrations(first: $first, after: $after, last: $last, before: $before, orderBy: $order, search: $search,
    status: $status) { totalCount pageInfo { endCursor } edges { cursor node { id barNumber submittedAt } } } }"""
TRAIL_ROWS = """query($first: Int, $after: String, $last: Int, $before: String, $action: String) {
  auditEvents(first: $first, after: $after, last: $last, before: $before, action: $action) {
    totalCount pageInfo { endCursor } edges { cursor node { id at action } } } }"""


@pytest.mark.parametrize(
    ("query", "field", "variables"),
    [
        (ROSTER_ROWS, "cmecfAccounts", {"order": {"field": "LAST_NAME", "direction": "DESC"}}),
        (ROSTER_ROWS, "cmecfAccounts", {"order": {"field": "LINKED_AT", "direction": "ASC"}}),
        (
            ROSTER_ROWS,
            "cmecfAccounts",
            {"order": {"field": "LINKED_AT", "direction": "DESC"}, "search": "bulk"},
        ),
        (ROSTER_ROWS, "cmecfAccounts", {"linked": False}),
        (
            QUEUE_ROWS,
            "registrations",
            {"order": {"field": "LAST_NAME", "direction": "ASC"}, "search": "bulk"},
        ),
        (
            QUEUE,
            "registrations",
            {"order": {"field": "SUBMITTED_AT", "direction": "DESC"}, "status": "PENDING"},
        ),
        (TRAIL_ROWS, "auditEvents", {"action": "registration.submit"}),
    ],
)
async def test_every_page_costs_a_fixed_number_of_statements(
    api: Api, query: str, field: str, variables: dict[str, Any]
) -> None:
    """Forward and backward, 2 rows or 30, and a page across the linked and unlinked rows.
    A filtered list read from its start counts its matches in its page's statement; after a
    cursor it counts them with one statement more."""
    await bulk_roster(64)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    counts = set()
    for size in (2, 30):
        for direction in ("first", "last"):
            with counting_sql() as statements:
                page = (await api.data(query, {**variables, direction: size}, court="mad", token=clerk))[
                    field
                ]
            assert len(page["edges"]) == size, (size, direction)
            counts.add(len(statements))
    # A page that starts in the middle (after a cursor: it may straddle the two segments).
    first = (await api.data(query, {**variables, "first": 19}, court="mad", token=clerk))[field]
    with counting_sql() as statements:
        await api.data(
            query,
            {**variables, "first": 5, "after": first["pageInfo"]["endCursor"]},
            court="mad",
            token=clerk,
        )
    assert len(counts) == 1, counts
    (start,) = counts
    filtered = any(key in variables for key in ("search", "linked", "status", "action"))
    # Unfiltered, or filtered on a kept count (linking, a status): the same statements after a
    # cursor. Counted by a statement: one more after a cursor on each executor (every query a
    # test sends runs on the compiled path and on the reference executor, tests/conftest.py).
    kept = "search" not in variables and "action" not in variables
    assert len(statements) == start + (2 if filtered and not kept else 0), (start, statements)
