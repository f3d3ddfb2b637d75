"""The billing ledger and quarterly statements."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nextgen_gql.enums import UsageKind
from nextgen_gql.errors import DomainError
from nextgen_gql.models import Charge
from nextgen_gql.services.billing import Quarter, charge_cents, parse_quarter
from tests.api.firm_helpers import JAMES_NUMBER, firm_with_james
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api

RECORD = """mutation($i: RecordUsageInput!) { recordUsage(input: $i) {
  charge { at court { code } account { username } kind pages clientCode description amountCents }
  errors { code message field } } }"""
FIRM_STATEMENT = """query($q: String!) { me { firm { statement(quarter: $q) {
  quarter kind chargesCents waived amountDueCents
  charges { account { username } clientCode kind pages amountCents court { code } } } } } }"""
MY_STATEMENT = """query($q: String!) { me { statement(quarter: $q) {
  quarter kind chargesCents waived amountDueCents charges { amountCents clientCode } } } }"""


@pytest.mark.parametrize(
    ("kind", "pages", "cents"),
    [
        (UsageKind.DOCUMENT, 1, 10),
        (UsageKind.DOCUMENT, 30, 300),
        (UsageKind.DOCUMENT, 31, 300),
        (UsageKind.DOCUMENT, 500, 300),
        (UsageKind.DOCUMENT, 0, 0),
        (UsageKind.CASE_REPORT, 45, 300),
        (UsageKind.SEARCH, 0, 10),
        (UsageKind.SEARCH, 1, 10),
        (UsageKind.SEARCH, 50, 500),
        (UsageKind.TRANSCRIPT, 120, 1200),
        (UsageKind.OTHER_REPORT, 45, 450),
        (UsageKind.AUDIO, 1, 240),
        (UsageKind.AUDIO, 3, 720),
    ],
)
def test_fees_and_caps(kind: UsageKind, pages: int, cents: int) -> None:
    assert charge_cents(kind, pages) == cents


def test_quarters() -> None:
    q1 = parse_quarter("2026Q1")
    assert (q1.start, q1.end) == (
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
    )
    q4 = parse_quarter("2026Q4")
    assert (q4.start, q4.end) == (
        dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    assert Quarter(2026, 3).label == "2026Q3"
    for bad in ["2026Q5", "2026q1", "26Q1", "2026-Q1", "Q1 2026", "", "2026Q0", "0000Q1"]:
        with pytest.raises(DomainError) as caught:
            parse_quarter(bad)
        assert caught.value.field == "quarter"


async def record(api: Api, token: str | None, court: str | None = "ca1", **fields: Any) -> dict[str, Any]:
    data = await api.data(RECORD, {"i": {"accountNumber": JAMES_NUMBER, **fields}}, court=court, token=token)
    payload: dict[str, Any] = data["recordUsage"]
    return payload


async def move_charges_to(when: dt.datetime) -> None:
    await Charge.all().update(at=when)


async def test_a_members_charges_go_to_the_firm_with_the_session_client_code(api: Api) -> None:
    maria, _, _ = await firm_with_james(api)
    await api.data("mutation { setClientCodeRequired(required: true) { errors { code } } }", token=maria)
    await api.sign_in(FILER[0], FILER[1], clientCode="SMITH-V-JONES")
    clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    doc = await record(api, clerk, kind="DOCUMENT", pages=45, description="Brief")
    assert doc["errors"] == []
    assert doc["charge"]["amountCents"] == 300 and doc["charge"]["clientCode"] == "SMITH-V-JONES"
    assert doc["charge"]["court"] == {"code": "ca1"} and doc["charge"]["account"] == {"username": FILER[0]}
    explicit = await record(api, clerk, kind="SEARCH", pages=0, clientCode="OTHER-MATTER")
    assert explicit["charge"]["clientCode"] == "OTHER-MATTER" and explicit["charge"]["amountCents"] == 10
    quarter = parse_quarter(f"{dt.datetime.now(dt.UTC).year}Q{(dt.datetime.now(dt.UTC).month - 1) // 3 + 1}")
    statement = (await api.data(FIRM_STATEMENT, {"q": quarter.label}, token=maria))["me"]["firm"]["statement"]
    assert statement["chargesCents"] == 310 and statement["waived"] is True
    assert statement["amountDueCents"] == 0 and statement["kind"] == "STATEMENT_OF_ACCOUNT"
    assert [(c["clientCode"], c["amountCents"]) for c in statement["charges"]] == [
        ("OTHER-MATTER", 10),
        ("SMITH-V-JONES", 300),
    ]


async def test_the_30_dollar_edge_and_quarter_boundaries(api: Api) -> None:
    maria, _, _ = await firm_with_james(api)
    clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    for _ in range(10):  # ten capped documents: exactly $30.00
        assert (await record(api, clerk, kind="DOCUMENT", pages=100))["errors"] == []
    await move_charges_to(dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=dt.UTC))
    q1 = (await api.data(FIRM_STATEMENT, {"q": "2026Q1"}, token=maria))["me"]["firm"]["statement"]
    assert (q1["chargesCents"], q1["waived"], q1["amountDueCents"], q1["kind"]) == (
        3000,
        True,
        0,
        "STATEMENT_OF_ACCOUNT",
    )
    assert (await record(api, clerk, kind="SEARCH", pages=1))["errors"] == []  # one more dime ...
    await Charge.filter(amount_cents=10).update(at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    q1 = (await api.data(FIRM_STATEMENT, {"q": "2026Q1"}, token=maria))["me"]["firm"]["statement"]
    assert (q1["chargesCents"], q1["waived"], q1["amountDueCents"], q1["kind"]) == (
        3010,
        False,
        3010,
        "INVOICE",
    )
    # ... and a charge at the first instant of April belongs to the second quarter.
    await Charge.filter(amount_cents=10).update(at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    q2 = (await api.data(FIRM_STATEMENT, {"q": "2026Q2"}, token=maria))["me"]["firm"]["statement"]
    assert q2["chargesCents"] == 10 and q2["quarter"] == "2026Q2"
    q1 = (await api.data(FIRM_STATEMENT, {"q": "2026Q1"}, token=maria))["me"]["firm"]["statement"]
    assert q1["chargesCents"] == 3000


async def test_an_individuals_charges_are_their_own(api: Api) -> None:
    james = await api.sign_in(*FILER)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    for kind, pages in [("TRANSCRIPT", 200), ("AUDIO", 5), ("OTHER_REPORT", 12)]:
        assert (await record(api, clerk, court="mad", kind=kind, pages=pages))["errors"] == []
    await move_charges_to(dt.datetime(2026, 8, 15, tzinfo=dt.UTC))
    mine = (await api.data(MY_STATEMENT, {"q": "2026Q3"}, token=james))["me"]["statement"]
    assert mine["chargesCents"] == 2000 + 1200 + 120
    assert (mine["kind"], mine["waived"], mine["amountDueCents"]) == ("INVOICE", False, 3320)
    assert (await api.data(MY_STATEMENT, {"q": "2026Q2"}, token=james))["me"]["statement"][
        "chargesCents"
    ] == 0


async def test_outsiders_read_no_statement(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    member = await api.gql(FIRM_STATEMENT, {"q": "2026Q1"}, token=james)
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Another account's own statement, through node(id:), is refused even to its firm's admin.
    james_id = (await api.data("{ me { id } }", token=james))["me"]["id"]
    query = 'query($id: ID!) { node(id: $id) { ... on PacerAccount { statement(quarter: "2026Q1") { chargesCents } } } }'
    body = await api.gql(query, {"id": james_id}, token=maria)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    malformed = await api.gql(FIRM_STATEMENT, {"q": "2026-3"}, token=maria)
    assert malformed["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "quarter"}
    assert "YYYYQn" in malformed["errors"][0]["message"]


@pytest.mark.parametrize(
    ("who", "court", "fields", "code", "field"),
    [
        ("filer", "ca1", {}, "FORBIDDEN", None),
        ("mad clerk", "ca1", {}, "FORBIDDEN", None),
        ("anonymous", "ca1", {}, "UNAUTHENTICATED", None),
        ("ca1 clerk", None, {}, "COURT_REQUIRED", None),
        ("ca1 clerk", "ca1", {"accountNumber": "9999999"}, "NOT_FOUND", "accountNumber"),
        ("ca1 clerk", "ca1", {"pages": -1}, "INVALID_INPUT", "pages"),
        ("ca1 clerk", "ca1", {"clientCode": "with space"}, "INVALID_INPUT", "clientCode"),
    ],
)
async def test_record_usage_refusals(
    api: Api, who: str, court: str | None, fields: dict[str, Any], code: str, field: str | None
) -> None:
    tokens = {
        "filer": lambda: api.sign_in(*FILER),
        "mad clerk": lambda: api.sign_in(CLERKS["mad"], CLERK_PASSWORD),
        "ca1 clerk": lambda: api.sign_in(CLERKS["ca1"], CLERK_PASSWORD),
    }
    token = await tokens[who]() if who in tokens else None
    payload = await record(api, token, court=court, **{"kind": "DOCUMENT", "pages": 3, **fields})
    assert payload["charge"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await Charge.all().count() == 0


async def test_a_firm_member_leaving_pays_their_own_way_again(api: Api) -> None:
    _, james, _ = await firm_with_james(api)
    clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    await record(api, clerk, kind="DOCUMENT", pages=2)
    james_id = (await api.data("{ me { id } }", token=james))["me"]["id"]
    await api.data(
        "mutation($id: ID!) { removeFirmMember(accountId: $id) { errors { code } } }",
        {"id": james_id},
        token=james,
    )
    await record(api, clerk, kind="DOCUMENT", pages=4)
    billed = sorted((c.firm_id is not None, c.amount_cents) for c in await Charge.all())
    assert billed == [(False, 40), (True, 20)]


IDEMPOTENT = """mutation($i: RecordUsageInput!) { recordUsage(input: $i) {
  charge { at kind pages amountCents clientCode idempotencyKey } errors { code message field } } }"""


async def ledger() -> tuple[int, int]:
    from nextgen_gql.models import AuditEvent

    return await Charge.all().count(), await AuditEvent.filter(action="billing.charge").count()


async def test_a_retried_report_with_its_idempotency_key_bills_once(api: Api) -> None:
    clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    item = {
        "accountNumber": JAMES_NUMBER,
        "kind": "DOCUMENT",
        "pages": 45,
        "idempotencyKey": "ecf-ca1-000123",
    }
    first = (await api.data(IDEMPOTENT, {"i": item}, court="ca1", token=clerk))["recordUsage"]
    assert first["errors"] == [] and first["charge"]["idempotencyKey"] == "ecf-ca1-000123"
    before = await ledger()
    for _ in range(2):  # the court system retries: the first charge answers, nothing is recorded
        again = (await api.data(IDEMPOTENT, {"i": item}, court="ca1", token=clerk))["recordUsage"]
        assert again == first
    assert await ledger() == before
    # The same key with different usage is refused, and changes nothing.
    for changed in [{"pages": 46}, {"kind": "SEARCH"}, {"accountNumber": "5772156"}, {"description": "x"}]:
        refused = (await api.data(IDEMPOTENT, {"i": {**item, **changed}}, court="ca1", token=clerk))[
            "recordUsage"
        ]
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [
            ("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
        ], changed
        assert refused["charge"] is None
    assert await ledger() == before
    # A key is the court's: the same key at another court is another item.
    mad = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    other = (await api.data(IDEMPOTENT, {"i": item}, court="mad", token=mad))["recordUsage"]
    assert other["errors"] == [] and await Charge.filter(idempotency_key="ecf-ca1-000123").count() == 2
    # Without a key every report is a charge, as before.
    plain = {k: v for k, v in item.items() if k != "idempotencyKey"}
    for _ in range(2):
        assert (await api.data(IDEMPOTENT, {"i": plain}, court="ca1", token=clerk))["recordUsage"][
            "errors"
        ] == []
    assert await Charge.filter(court_id="ca1", idempotency_key__isnull=True).count() == 2


@pytest.mark.parametrize("key", ["", " ", "has space", "x" * 129, "tab\there", "é"])
async def test_a_malformed_idempotency_key_is_refused(api: Api, key: str) -> None:
    clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    before = await ledger()
    item = {"accountNumber": JAMES_NUMBER, "kind": "SEARCH", "pages": 1, "idempotencyKey": key}
    refused = (await api.data(IDEMPOTENT, {"i": item}, court="ca1", token=clerk))["recordUsage"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "idempotencyKey")]
    assert await ledger() == before


PAGED = """query($q: String!, $first: Int, $after: String) { me { firm { statement(quarter: $q) {
  chargesCents charges { pages }
  chargesConnection(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { pages } } } } } } }"""


async def test_a_statements_charges_page_by_time_and_id(api: Api) -> None:
    """chargesConnection walks the quarter's charges by time, ties by id, a page at a time;
    the pages add up to charges; the count and the sums are the database's."""
    maria, _, _ = await firm_with_james(api)
    clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    for pages in range(1, 8):
        assert (await record(api, clerk, kind="TRANSCRIPT", pages=pages))["errors"] == []
    # Times out of id order, two of them equal (ties go by id), and one in another quarter.
    ids = await Charge.all().order_by("id").values_list("id", flat=True)
    times = [dt.datetime(2026, 8, day, tzinfo=dt.UTC) for day in (20, 3, 3, 9, 1, 30)]
    for charge_id, at in zip(ids, times, strict=False):
        await Charge.filter(id=charge_id).update(at=at)
    await Charge.filter(id=ids[-1]).update(at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    expected = [p for _, p in sorted(zip(times, range(1, 7), strict=True), key=lambda t: (t[0], t[1]))]
    assert expected == [5, 2, 3, 4, 1, 6]
    seen, after, pages = [], None, 0
    while True:
        statement = (await api.data(PAGED, {"q": "2026Q3", "first": 4, "after": after}, token=maria))["me"][
            "firm"
        ]["statement"]
        page = statement["chargesConnection"]
        assert page["totalCount"] == 6 and statement["chargesCents"] == sum(range(1, 7)) * 10
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["pages"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected and pages == 2
    assert sorted(c["pages"] for c in statement["charges"]) == sorted(seen)
    # The next quarter holds the one charge moved there; an empty quarter pages to nothing.
    q4 = (await api.data(PAGED, {"q": "2026Q4"}, token=maria))["me"]["firm"]["statement"]["chargesConnection"]
    assert [e["node"]["pages"] for e in q4["edges"]] == [7] and q4["totalCount"] == 1
    q1 = (await api.data(PAGED, {"q": "2026Q1"}, token=maria))["me"]["firm"]["statement"]["chargesConnection"]
    assert q1 == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
        "edges": [],
    }


async def test_a_statements_page_refuses_bad_arguments(api: Api) -> None:
    maria, _, _ = await firm_with_james(api)
    roster_cursor = (
        await api.data(
            "{ cmecfAccounts(first: 1) { edges { cursor } } }",
            court="mad",
            token=await api.sign_in(CLERKS["mad"], CLERK_PASSWORD),
        )
    )["cmecfAccounts"]["edges"][0]["cursor"]
    for variables, field in [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": roster_cursor}, "after"),
    ]:
        answer = await api.gql(PAGED, {"q": "2026Q3", **variables}, token=maria)
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["INVALID_INPUT"], (variables, answer)
        assert answer["errors"][0]["extensions"].get("field") in (field, None)
