"""E-file registrations and clerk decisions, scoped to the addressed court."""

from __future__ import annotations

from typing import Any

import pytest

from nextgen_gql.models import CmecfLink, FilingPrivilege, Registration
from tests.api.firm_helpers import verify_address
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, LEGACY, SHARED, Api, not_demo

SUBMIT = """mutation($i: SubmitRegistrationInput!) { submitRegistration(input: $i) {
  registration { id role status proHacVice caseNumber barNumber barState court { code } account { username } }
  errors { code message field } } }"""
WITHDRAW = """mutation($id: ID!) { withdrawRegistration(id: $id) {
  registration { id status decidedAt } errors { code message field } } }"""
DECIDE = """mutation($i: DecideRegistrationInput!) { decideRegistration(input: $i) {
  registration { id status reason decidedAt decidedBy { username } }
  privilege { role source court { code } account { username } }
  errors { code message field } } }"""
QUEUE = """query($status: RegistrationStatus, $first: Int, $after: String) {
  registrations(status: $status, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id role status account { username } court { code } } } } }"""
MINE = """{ me { registrations { id role status court { code } reason }
  mad: canFile(court: "mad") mab: canFile(court: "mab") ca1: canFile(court: "ca1")
  inCase: canFile(court: "mad", caseNumber: "1:26-cv-10001-ABC")
  privileges { court { code } role source } } }"""
PRO_SE_PASSWORD = "Maple-Lantern-Quiet-77"


async def new_filer(api: Api, username: str = "kimpro2026", last: str = "Pro") -> str:
    data = await api.data(
        """mutation($i: RegisterPacerAccountInput!) { registerPacerAccount(input: $i) { errors { code } } }""",
        {
            "i": {
                "username": username,
                "password": PRO_SE_PASSWORD,
                "firstName": "Kim",
                "lastName": last,
                "email": f"{username}@example.org",
            }
        },
    )
    assert data["registerPacerAccount"]["errors"] == []
    await verify_address(api, f"{username}@example.org")  # decisions are mailed to verified addresses only
    return await api.sign_in(username, PRO_SE_PASSWORD)


async def clerk(api: Api, court: str) -> str:
    """The court's clerk, signed in once per test: a clerk without MFA has three sign-ins
    before the next is restricted to enrolment."""
    if court not in api.sessions:
        api.sessions[court] = await api.sign_in(CLERKS[court], CLERK_PASSWORD)
    return api.sessions[court]


async def submit(api: Api, token: str | None, court: str | None = "mad", **fields: Any) -> dict[str, Any]:
    data = await api.data(SUBMIT, {"i": fields}, court=court, token=token)
    payload: dict[str, Any] = data["submitRegistration"]
    return payload


async def decide(api: Api, token: str | None, court: str, **fields: Any) -> dict[str, Any]:
    data = await api.data(DECIDE, {"i": fields}, court=court, token=token)
    payload: dict[str, Any] = data["decideRegistration"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_pro_se_registers_the_clerk_approves_and_the_party_files_at_mad_only(api: Api) -> None:
    kim = await new_filer(api)
    submitted = await submit(api, kim, role="PRO_SE", caseNumber="1:26-cv-10001")
    assert submitted["errors"] == []
    registration = submitted["registration"]
    assert registration["status"] == "PENDING" and registration["court"] == {"code": "mad"}
    mine = (await api.data(MINE, token=kim))["me"]
    assert [(r["role"], r["status"]) for r in mine["registrations"]] == [("PRO_SE", "PENDING")]
    assert mine["mad"] is False

    madclerk = await clerk(api, "mad")
    queue = (await api.data(QUEUE, {"status": "PENDING"}, court="mad", token=madclerk))["registrations"]
    assert [e["node"]["id"] for e in queue["edges"]] == [registration["id"]]
    assert queue["edges"][0]["node"]["account"] == {"username": "kimpro2026"}

    decided = await decide(api, madclerk, "mad", id=registration["id"], approve=True)
    assert decided["errors"] == []
    assert decided["registration"]["status"] == "APPROVED"
    assert decided["registration"]["decidedBy"] == {"username": CLERKS["mad"]}
    assert decided["privilege"] == {
        "role": "PRO_SE",
        "source": "REGISTRATION",
        "court": {"code": "mad"},
        "account": {"username": "kimpro2026"},
    }
    mine = (await api.data(MINE, token=kim))["me"]
    # A pro se party files in their own case at mad, and nowhere else.
    assert (mine["inCase"], mine["mad"], mine["mab"], mine["ca1"]) == (True, False, False, False)
    assert mine["registrations"][0]["status"] == "APPROVED"
    verification, mail = api.mails("kimpro2026@example.org")  # the address was verified first
    assert "Email verification token:" in verification.get_content()
    assert "approved" in mail["Subject"] and "mad" in mail["Subject"]
    assert "You may now file" in mail.get_content()
    # A decision is final.
    again = await decide(api, madclerk, "mad", id=registration["id"], approve=False, reason="changed my mind")
    assert codes(again) == [("ALREADY_DECIDED", None)]


async def test_an_attorney_who_lost_the_login_is_linked_on_approval(api: Api) -> None:
    laura = await api.sign_in(*LEGACY)
    await api.data(
        """mutation { upgradePacerAccount(input: {email: "laura@perezlaw.example", newUsername: "lauraperez",
        newPassword: "Blue-Harbor-Lantern-42"}) { errors { code } } }""",
        token=laura,
    )
    await verify_address(api, "laura@perezlaw.example")
    submitted = await submit(api, laura, role="ATTORNEY", barNumber="654321", barState="ma")
    assert submitted["errors"] == [] and submitted["registration"]["barState"] == "MA"
    madclerk = await clerk(api, "mad")
    decided = await decide(
        api, madclerk, "mad", id=submitted["registration"]["id"], approve=True, linkCmecfLogin="LPEREZ"
    )
    assert decided["errors"] == []
    roster = await api.data(
        '{ cmecfAccounts(search: "lperez") { edges { node { login linkedAccount { username } linkedBy { username } } } } }',
        court="mad",
        token=madclerk,
    )
    assert roster["cmecfAccounts"]["edges"][0]["node"] == {
        "login": "lperez",
        "linkedAccount": {"username": "lauraperez"},
        "linkedBy": {"username": CLERKS["mad"]},
    }
    mine = (await api.data(MINE, token=laura))["me"]
    assert mine["mad"] is True and mine["privileges"] == [
        {"court": {"code": "mad"}, "role": "ATTORNEY", "source": "REGISTRATION"}
    ]
    verification, mail = api.mails("laura@perezlaw.example")  # the address was verified first
    assert "Email verification token:" in verification.get_content()
    assert "'lperez' is now linked" in mail.get_content()


@pytest.mark.parametrize(
    ("fields", "court", "expected"),
    [
        ({"role": "CREDITOR"}, "mad", [("ROLE_NOT_ACCEPTED", "role")]),
        ({"role": "MEDIA"}, "mab", [("ROLE_NOT_ACCEPTED", "role")]),
        ({"role": "ATTORNEY"}, "mad", [("INVALID_INPUT", "barNumber")]),
        ({"role": "PRO_SE"}, "mad", [("INVALID_INPUT", "caseNumber")]),
        (
            {"role": "ATTORNEY", "barNumber": "1", "proHacVice": True},
            "mad",
            [("INVALID_INPUT", "caseNumber")],
        ),
        (
            {"role": "MEDIA", "proHacVice": True, "caseNumber": "1:26-cv-1"},
            "mad",
            [("INVALID_INPUT", "proHacVice")],
        ),
        (
            {"role": "ATTORNEY", "barNumber": "1", "barState": "Massachusetts"},
            "mad",
            [("INVALID_INPUT", "barState")],
        ),
        ({"role": "PRO_SE", "caseNumber": "x" * 65}, "mad", [("CASE_NUMBER_INVALID", "caseNumber")]),
        # A case number of another court kind: bankruptcy at a district court, district at an appellate one.
        ({"role": "PRO_SE", "caseNumber": "24-10001"}, "mad", [("CASE_NUMBER_INVALID", "caseNumber")]),
        ({"role": "PRO_SE", "caseNumber": "1:24-cv-10001"}, "ca1", [("CASE_NUMBER_INVALID", "caseNumber")]),
        ({"role": "MEDIA"}, None, [("COURT_REQUIRED", None)]),
    ],
)
async def test_submission_refusals_change_nothing(
    api: Api, fields: dict[str, Any], court: str | None, expected: list[tuple[str, str | None]]
) -> None:
    kim = await new_filer(api)
    before = await Registration.all().count()
    payload = await submit(api, kim, court=court, **fields)
    assert codes(payload) == expected and payload["registration"] is None
    assert await Registration.all().count() == before


@pytest.mark.parametrize(
    ("who", "code"),
    [("legacy", "UPGRADE_REQUIRED"), ("shared", "SHARED_ACCOUNT"), ("anonymous", "UNAUTHENTICATED")],
)
async def test_only_upgraded_unshared_accounts_register(api: Api, who: str, code: str) -> None:
    token = {"legacy": LEGACY, "shared": SHARED}.get(who)
    signed = await api.sign_in(*token) if token else None
    payload = await submit(api, signed, role="MEDIA")
    assert [c for c, _ in codes(payload)] == [code]


async def test_one_open_request_per_court_and_role(api: Api) -> None:
    kim = await new_filer(api)
    first = await submit(api, kim, role="MEDIA")
    assert first["errors"] == []
    assert codes(await submit(api, kim, role="MEDIA")) == [("REGISTRATION_PENDING", "role")]
    # Another role, or another court, is another request.
    assert (await submit(api, kim, role="PRO_SE", caseNumber="1:26-cv-2"))["errors"] == []
    assert (await submit(api, kim, court="ca1", role="PRO_SE", caseNumber="26-1001"))["errors"] == []
    # Once withdrawn, the role may be asked for again.
    withdrawn = await api.data(WITHDRAW, {"id": first["registration"]["id"]}, court="mad", token=kim)
    assert withdrawn["withdrawRegistration"]["registration"]["status"] == "WITHDRAWN"
    assert (await submit(api, kim, role="MEDIA"))["errors"] == []


async def test_already_privileged(api: Api) -> None:
    james = await api.sign_in(*FILER)
    linked = await api.data(
        'mutation { linkCmecfAccount(input: {login: "jmorgan", password: "legacy-ecf-pass", confirm: true}) { errors { code } } }',
        court="mad",
        token=james,
    )
    assert linked["linkCmecfAccount"]["errors"] == []
    assert codes(await submit(api, james, role="ATTORNEY", barNumber="99")) == [
        ("ALREADY_PRIVILEGED", "role")
    ]
    assert (await submit(api, james, role="MEDIA"))["errors"] == []


async def test_withdraw_by_its_owner_while_pending(api: Api) -> None:
    kim = await new_filer(api)
    registration_id = (await submit(api, kim, role="MEDIA"))["registration"]["id"]
    other = await new_filer(api, "otherfiler1", "Other")
    stranger = await api.data(WITHDRAW, {"id": registration_id}, court="mad", token=other)
    assert codes(stranger["withdrawRegistration"]) == [("NOT_FOUND", "id")]
    elsewhere = await api.data(WITHDRAW, {"id": registration_id}, court="mab", token=kim)
    assert codes(elsewhere["withdrawRegistration"]) == [("NOT_FOUND", "id")]
    done = await api.data(WITHDRAW, {"id": registration_id}, court="mad", token=kim)
    assert done["withdrawRegistration"]["errors"] == []
    again = await api.data(WITHDRAW, {"id": registration_id}, court="mad", token=kim)
    assert codes(again["withdrawRegistration"]) == [("ALREADY_DECIDED", None)]
    madclerk = await clerk(api, "mad")
    late = await decide(api, madclerk, "mad", id=registration_id, approve=True)
    assert codes(late) == [("ALREADY_DECIDED", None)]


async def test_rejection_needs_a_reason_and_mails_it(api: Api) -> None:
    kim = await new_filer(api)
    registration_id = (await submit(api, kim, role="PRO_SE", caseNumber="1:26-cv-3"))["registration"]["id"]
    madclerk = await clerk(api, "mad")
    assert codes(await decide(api, madclerk, "mad", id=registration_id, approve=False)) == [
        ("INVALID_INPUT", "reason")
    ]
    assert codes(
        await decide(
            api, madclerk, "mad", id=registration_id, approve=False, reason="x", linkCmecfLogin="kchen"
        )
    ) == [("INVALID_INPUT", "linkCmecfLogin")]
    rejected = await decide(
        api,
        madclerk,
        "mad",
        id=registration_id,
        approve=False,
        reason="No case 1:26-cv-3 is open in this court.",
    )
    assert rejected["errors"] == [] and rejected["privilege"] is None
    assert rejected["registration"]["status"] == "REJECTED"
    assert rejected["registration"]["reason"] == "No case 1:26-cv-3 is open in this court."
    verification, mail = api.mails("kimpro2026@example.org")  # the address was verified first
    assert "Email verification token:" in verification.get_content()
    assert "not approved" in mail["Subject"] and "No case 1:26-cv-3 is open" in mail.get_content()
    assert await not_demo(FilingPrivilege.all()).count() == 0


async def test_a_failed_link_on_approval_leaves_the_request_pending(api: Api) -> None:
    james = await api.sign_in(*FILER)
    await api.data(
        'mutation { linkCmecfAccount(input: {login: "jmorgan", password: "legacy-ecf-pass", confirm: true}) { errors { code } } }',
        court="mad",
        token=james,
    )
    kim = await new_filer(api)
    registration_id = (await submit(api, kim, role="PRO_SE", caseNumber="1:26-cv-4"))["registration"]["id"]
    madclerk = await clerk(api, "mad")
    taken = await decide(api, madclerk, "mad", id=registration_id, approve=True, linkCmecfLogin="jmorgan")
    assert codes(taken) == [("CMECF_ALREADY_LINKED", "linkCmecfLogin")]
    unknown = await decide(api, madclerk, "mad", id=registration_id, approve=True, linkCmecfLogin="rsilva")
    assert codes(unknown) == [("NOT_FOUND", "linkCmecfLogin")]  # a login of mab, not of mad
    assert (await not_demo(Registration.all()).get()).status.value == "pending"
    # Nothing decided, nothing mailed but the address's verification.
    assert await not_demo(CmecfLink.all()).count() == 1
    assert [m["Subject"] for m in api.mails("kimpro2026@example.org")] == ["PACER: verify your email"]


async def test_the_queue_pages_and_filters(api: Api) -> None:
    madclerk = await clerk(api, "mad")
    demo = (await api.data(QUEUE, court="mad", token=madclerk))["registrations"][
        "totalCount"
    ]  # approved ones
    ids = []
    for n in range(3):
        token = await new_filer(api, f"queuefiler{n}", f"Queue{n}")
        ids.append((await submit(api, token, role="MEDIA"))["registration"]["id"])
    await decide(api, madclerk, "mad", id=ids[1], approve=True)
    seen, after = [], None
    while True:
        page = (await api.data(QUEUE, {"first": 2, "after": after}, court="mad", token=madclerk))[
            "registrations"
        ]
        seen += [e["node"]["id"] for e in page["edges"]]
        assert page["totalCount"] == demo + 3
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen[demo:] == ids
    pending = (await api.data(QUEUE, {"status": "PENDING"}, court="mad", token=madclerk))["registrations"]
    assert [e["node"]["id"] for e in pending["edges"]] == [ids[0], ids[2]]
    approved = (await api.data(QUEUE, {"status": "APPROVED"}, court="mad", token=madclerk))["registrations"]
    assert [e["node"]["status"] for e in approved["edges"]] == ["APPROVED"] * (demo + 1)
    # Another court's queue is its own.
    mabclerk = await clerk(api, "mab")
    assert (await api.data(QUEUE, court="mab", token=mabclerk))["registrations"]["totalCount"] == 0


async def test_a_clerk_sees_only_registrations_of_their_court_on_an_account(api: Api) -> None:
    kim = await new_filer(api)
    await submit(api, kim, role="MEDIA")
    await submit(api, kim, court="ca1", role="PRO_SE", caseNumber="26-1002")
    query = "query($id: ID!) { node(id: $id) { ... on Registration { account { registrations { court { code } } } } } }"
    madclerk = await clerk(api, "mad")
    queue = (await api.data(QUEUE, court="mad", token=madclerk))["registrations"]["edges"]
    seen = await api.data(query, {"id": queue[0]["node"]["id"]}, token=madclerk)
    assert seen["node"]["account"]["registrations"] == [{"court": {"code": "mad"}}]
