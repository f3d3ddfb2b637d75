"""Filer permissions as CM/ECF grants them, over HTTP: by role, by case, revocable.

Each refusal is checked to change nothing (cases, revocation, audit trail, mail).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.models import AuditEvent, FilingPrivilege, PrivilegeCase
from nextgen_gql.services.courts import grant_clerk
from nextgen_gql.services.imports import import_cmecf_accounts
from nextgen_gql.tenancy import CourtRegistry, load_courts
from tests.api.firm_helpers import create_firm, invite, register
from tests.api.test_registrations import clerk, codes, new_filer, submit
from tests.conftest import LEGACY_ECF_PASSWORD, MOVE_FILER_PREFIX, TENANTS, Api

PRIVILEGE = (
    "id role proHacVice permissions cases revokedAt revokedReason revokedBy { username } court { code }"
)
MINE = f"""query($court: String!, $case: String) {{ me {{
  any: canFile(court: $court) inCase: canFile(court: $court, caseNumber: $case)
  privileges {{ {PRIVILEGE} }} registrations {{ id status privilege {{ id }} }} }} }}"""
LIST = f"""query($role: FilerRole, $needs: Boolean, $revoked: Boolean, $first: Int, $after: String) {{
  privileges(role: $role, needsCases: $needs, revoked: $revoked, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {PRIVILEGE} account {{ username }} }} }} }} }}"""
ADD = f"""mutation($i: AddPrivilegeCaseInput!) {{ addPrivilegeCase(input: $i) {{
  privilege {{ {PRIVILEGE} }} errors {{ code message field }} }} }}"""
REMOVE = f"""mutation($i: AddPrivilegeCaseInput!) {{ removePrivilegeCase(input: $i) {{
  privilege {{ {PRIVILEGE} }} errors {{ code message field }} }} }}"""
REVOKE = f"""mutation($i: RevokeFilingPrivilegeInput!) {{ revokeFilingPrivilege(input: $i) {{
  privilege {{ {PRIVILEGE} }} errors {{ code message field }} }} }}"""
DECIDE = """mutation($i: DecideRegistrationInput!) { decideRegistration(input: $i) {
  registration { id status privilege { id } } privilege { id role proHacVice permissions cases }
  errors { code message field } } }"""
LINK = """mutation($l: String!, $p: String!) { linkCmecfAccount(input: {login: $l, password: $p, confirm: true}) {
  privilege { id role permissions cases } errors { code } } }"""
COURTS = CourtRegistry(load_courts(TENANTS))


async def mine(api: Api, token: str, court: str, case: str | None = None) -> dict[str, Any]:
    data = await api.data(MINE, {"court": court, "case": case}, token=token)
    me: dict[str, Any] = data["me"]
    return me


async def mutate(api: Api, op: str, token: str | None, court: str | None, **fields: Any) -> dict[str, Any]:
    data = await api.data(op, {"i": fields}, court=court, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


async def approved(api: Api, token: str, court: str, **fields: Any) -> dict[str, Any]:
    """Submit a registration and have the court's clerk approve it: the decision's payload."""
    submitted = await submit(api, token, court=court, **fields)
    assert submitted["errors"] == [], submitted
    decided = await decide(api, await clerk(api, court), court, submitted["registration"]["id"])
    assert decided["errors"] == [], decided
    assert decided["registration"]["privilege"] == {"id": decided["privilege"]["id"]}
    return decided


async def decide(api: Api, token: str, court: str, registration_id: str) -> dict[str, Any]:
    return await mutate(api, DECIDE, token, court, id=registration_id, approve=True)


async def state() -> tuple[list[tuple[int, str]], list[Any], int]:
    """What a refusal must leave as it was: cases, revocations, audit events."""
    cases = [(c.privilege_id, c.case_number) for c in await PrivilegeCase.all().order_by("id")]
    revoked = [p.revoked_at for p in await FilingPrivilege.all().order_by("id")]
    return cases, revoked, await AuditEvent.all().count()


async def test_a_pro_se_party_files_in_their_own_case_only(api: Api) -> None:
    kim = await new_filer(api)
    decided = await approved(api, kim, "mad", role="PRO_SE", caseNumber=" 1:26-CV-10001-abc ")
    me = await mine(api, kim, "mad", "1:26-cv-10001")
    [privilege] = me["privileges"]
    assert privilege == {
        "id": decided["privilege"]["id"],
        "role": "PRO_SE",
        "proHacVice": False,
        "permissions": ["FILE_IN_LISTED_CASES", "RECEIVE_NOTICES"],
        "cases": ["1:26-cv-10001"],
        "revokedAt": None,
        "revokedReason": None,
        "revokedBy": None,
        "court": {"code": "mad"},
    }
    assert (me["any"], me["inCase"]) == (False, True)
    assert me["registrations"][0]["privilege"] == {"id": privilege["id"]}
    for written, expected in [
        ("1:26-cv-10001-XYZ", True),
        ("1:26-cv-10002", False),
        ("1:26-cr-10001", False),
    ]:
        assert (await mine(api, kim, "mad", written))["inCase"] is expected, written
    assert (await mine(api, kim, "mab", "26-10001"))["inCase"] is False  # another court
    # The first mail verified the address she registered with; the decision follows it.
    [verification, mail] = api.mails("kimpro2026@example.org")
    assert "Email verification token:" in verification.get_content()
    assert "You may now file in case 1:26-cv-10001" in mail.get_content()


@pytest.mark.parametrize(
    ("court", "case"), [("mad", "26-10001"), ("mab", "1:26-cv-10001"), ("ca1", "1:26-cv-1"), ("mad", "")]
)
async def test_a_malformed_case_number_in_can_file_is_an_error_naming_the_form(
    api: Api, court: str, case: str
) -> None:
    kim = await new_filer(api)
    body = await api.gql(MINE, {"court": court, "case": case}, token=kim)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "CASE_NUMBER_INVALID", "field": "caseNumber"}
    kind = {"mad": "a district", "mab": "a bankruptcy", "ca1": "an appellate"}[court]
    assert f"is not {kind} court case number: write it as" in error["message"]
    assert error["path"] == ["me", "inCase"]


async def test_pro_hac_vice_admissions_add_cases_then_a_full_admission_makes_it_court_wide(api: Api) -> None:
    ann = await new_filer(api, "annphv2026", "Phv")
    first = await approved(
        api, ann, "mad", role="ATTORNEY", proHacVice=True, barNumber="NY123", caseNumber="1:26-cv-10001"
    )
    me = await mine(api, ann, "mad", "1:26-cv-10001")
    [privilege] = me["privileges"]
    assert (privilege["proHacVice"], privilege["cases"], me["any"], me["inCase"]) == (
        True,
        ["1:26-cv-10001"],
        False,
        True,
    )
    assert privilege["permissions"] == ["FILE_IN_LISTED_CASES", "RECEIVE_NOTICES"]
    # The same case again is already covered; another case is a new registration for the same privilege.
    again = await submit(
        api,
        ann,
        court="mad",
        role="ATTORNEY",
        proHacVice=True,
        barNumber="NY123",
        caseNumber="1:26-cv-10001-XY",
    )
    assert codes(again) == [("ALREADY_PRIVILEGED", "caseNumber")]
    second = await approved(
        api, ann, "mad", role="ATTORNEY", proHacVice=True, barNumber="NY123", caseNumber="1:26-cv-10002"
    )
    me = await mine(api, ann, "mad", "1:26-cv-10002")
    [privilege] = me["privileges"]
    assert privilege["id"] == first["privilege"]["id"] == second["privilege"]["id"]
    assert privilege["cases"] == ["1:26-cv-10001", "1:26-cv-10002"] and me["inCase"] is True
    assert [r["privilege"] for r in me["registrations"]] == [{"id": privilege["id"]}] * 2
    # Admitted to the court's bar: court-wide, and a court-wide privilege lists no case.
    await approved(api, ann, "mad", role="ATTORNEY", barNumber="NY123", barState="NY")
    me = await mine(api, ann, "mad", "1:26-cv-99999")
    [privilege] = me["privileges"]
    assert (privilege["id"], privilege["proHacVice"], privilege["cases"]) == (
        first["privilege"]["id"],
        False,
        [],
    )
    assert [r["privilege"] for r in me["registrations"]] == [{"id": privilege["id"]}] * 3
    assert privilege["permissions"] == ["FILE_IN_ANY_CASE", "OPEN_NEW_CASES", "RECEIVE_NOTICES"]
    assert (me["any"], me["inCase"]) == (True, True)
    assert codes(
        await submit(
            api, ann, court="mad", role="ATTORNEY", proHacVice=True, barNumber="1", caseNumber="1:26-cv-3"
        )
    ) == [("ALREADY_PRIVILEGED", "role")]


async def test_a_media_account_never_files(api: Api) -> None:
    reporter = await new_filer(api, "reporter26", "Reporter")
    linked = await api.data(LINK, {"l": "tnguyen", "p": LEGACY_ECF_PASSWORD}, court="mad", token=reporter)
    assert linked["linkCmecfAccount"]["privilege"]["permissions"] == ["RECEIVE_NOTICES"]
    me = await mine(api, reporter, "mad", "1:26-cv-10001")
    assert (me["any"], me["inCase"]) == (False, False)


async def test_creditors_file_claims_anywhere_in_their_court(api: Api) -> None:
    rosa = await new_filer(api, "rosasilva26", "Silva")
    await api.data(LINK, {"l": "rsilva", "p": LEGACY_ECF_PASSWORD}, court="mab", token=rosa)
    me = await mine(api, rosa, "mab", "24-10001")
    assert me["privileges"][0]["permissions"] == ["FILE_CLAIMS", "RECEIVE_NOTICES"]
    assert (me["any"], me["inCase"]) == (True, True)


async def test_a_linked_legacy_pro_se_account_keeps_its_cases(api: Api, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "login,first_name,last_name,email,role,cases,password\n"
        "prose01,Pat,Rowe,pat@example.org,pro_se, 1:25-cv-00042-FJB ; 1:25-CV-43 ,legacy-ecf-pass\n",
        encoding="utf-8",
    )
    await import_cmecf_accounts(COURTS.get("mad"), roster)
    pat = await new_filer(api, "patrowe2026", "Rowe")
    linked = (await api.data(LINK, {"l": "prose01", "p": "legacy-ecf-pass"}, court="mad", token=pat))[
        "linkCmecfAccount"
    ]
    assert linked["errors"] == []
    assert linked["privilege"]["cases"] == ["1:25-cv-00042", "1:25-cv-00043"]
    assert (await mine(api, pat, "mad", "1:25-cv-43"))["inCase"] is True
    event = await AuditEvent.filter(action="cmecf.link").order_by("-id").first()
    assert event is not None and "cases 1:25-cv-00042, 1:25-cv-00043" in (event.detail or "")


async def linked_pro_se_at_ca1(api: Api) -> tuple[str, str]:
    """Alan Pratt's legacy pro se account at ca1 has no case: linked, it files nowhere yet."""
    alan = await new_filer(api, "alanpratt26", "Pratt")
    linked = (await api.data(LINK, {"l": "apratt", "p": LEGACY_ECF_PASSWORD}, court="ca1", token=alan))[
        "linkCmecfAccount"
    ]
    assert linked["errors"] == [] and linked["privilege"]["cases"] == []
    return alan, linked["privilege"]["id"]


async def test_the_clerk_finds_a_pro_se_privilege_without_cases_and_completes_it(api: Api) -> None:
    alan, privilege_id = await linked_pro_se_at_ca1(api)
    assert (await mine(api, alan, "ca1", "24-1234"))["inCase"] is False
    ca1 = await clerk(api, "ca1")
    page = (await api.data(LIST, {"needs": True}, court="ca1", token=ca1))["privileges"]
    assert page["totalCount"] == 1
    assert [(e["node"]["id"], e["node"]["account"]["username"]) for e in page["edges"]] == [
        (privilege_id, "alanpratt26")
    ]
    added = await mutate(api, ADD, ca1, "ca1", privilegeId=privilege_id, caseNumber="2024-1234-cv")
    assert added["errors"] == [] and added["privilege"]["cases"] == ["24-1234"]
    assert (await mine(api, alan, "ca1", "24-1234"))["inCase"] is True
    assert (await api.data(LIST, {"needs": True}, court="ca1", token=ca1))["privileges"]["totalCount"] == 0
    assert (await api.data(LIST, {"needs": False}, court="ca1", token=ca1))["privileges"]["totalCount"] == 1
    event = await AuditEvent.filter(action="privilege.case.add").first()
    assert event is not None and event.court_id == "ca1" and "case 24-1234" in (event.detail or "")
    removed = await mutate(api, REMOVE, ca1, "ca1", privilegeId=privilege_id, caseNumber="24-1234")
    assert removed["errors"] == [] and removed["privilege"]["cases"] == []
    assert (await mine(api, alan, "ca1", "24-1234"))["inCase"] is False
    again = await mutate(api, REMOVE, ca1, "ca1", privilegeId=privilege_id, caseNumber="24-1234")
    assert codes(again) == [("NOT_FOUND", "caseNumber")]


async def test_the_privileges_list_pages_and_filters(api: Api) -> None:
    ids = []
    for n in range(3):
        token = await new_filer(api, f"mediafiler{n}", f"Media{n}")
        ids.append((await approved(api, token, "mad", role="MEDIA"))["privilege"])
    kim = await new_filer(api)
    await approved(api, kim, "mad", role="PRO_SE", caseNumber="1:26-cv-10001")
    mad = await clerk(api, "mad")
    # The demo's media privileges: dwalsh2022's, and those of its move to NextGen's filers.
    moved = await FilingPrivilege.filter(
        court_id="mad", role="media", account__username_key__startswith=MOVE_FILER_PREFIX
    ).count()

    async def walk(variables: dict[str, Any], size: int) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        after = None
        while True:
            page = (
                await api.data(LIST, {**variables, "first": size, "after": after}, court="mad", token=mad)
            )["privileges"]
            if variables:
                assert page["totalCount"] == 4 + moved
            seen += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return seen
            after = page["pageInfo"]["endCursor"]

    media = await walk({"role": "MEDIA"}, 2)
    assert len(media) == 4 + moved
    mine = [
        n["account"]["username"] for n in media if not n["account"]["username"].startswith(MOVE_FILER_PREFIX)
    ]
    assert mine == ["dwalsh2022", "mediafiler0", "mediafiler1", "mediafiler2"]
    everything = await walk({}, 100)
    assert [n["role"] for n in everything][-4:] == ["MEDIA", "MEDIA", "MEDIA", "PRO_SE"]
    assert (await api.data(LIST, {"revoked": True}, court="mad", token=mad))["privileges"]["totalCount"] == 0
    body = await api.gql(LIST, {"after": "not-a-cursor"}, court="mad", token=mad)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]
    body = await api.gql(LIST, {"first": 101}, court="mad", token=mad)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]


async def test_revocation_stops_every_permission_at_once_and_is_told_to_the_holder_only(api: Api) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    kim = await new_filer(api)
    invitation = await invite(
        api, maria, (await api.data("{ me { accountNumber } }", token=kim))["me"]["accountNumber"], "Pro"
    )
    await api.data(
        "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }",
        {"id": invitation["invitation"]["id"]},
        token=kim,
    )
    privilege_id = (await approved(api, kim, "mad", role="PRO_SE", caseNumber="1:26-cv-10001"))["privilege"][
        "id"
    ]
    assert (await mine(api, kim, "mad", "1:26-cv-10001"))["inCase"] is True
    mad = await clerk(api, "mad")
    revoked = await mutate(
        api, REVOKE, mad, "mad", id=privilege_id, reason="  Filed abusively in 1:26-cv-10001.  "
    )
    assert revoked["errors"] == []
    shown = revoked["privilege"]
    assert shown["revokedAt"] and shown["permissions"] == [] and shown["cases"] == ["1:26-cv-10001"]
    assert (shown["revokedReason"], shown["revokedBy"]) == (
        "Filed abusively in 1:26-cv-10001.",
        {"username": "madclerk01"},
    )
    # The very next request of the holder: nothing is permitted, the reason is shown.
    me = await mine(api, kim, "mad", "1:26-cv-10001")
    assert (me["any"], me["inCase"]) == (False, False)
    [privilege] = me["privileges"]
    assert privilege["revokedReason"] == "Filed abusively in 1:26-cv-10001." and privilege["revokedBy"] == {
        "username": "madclerk01"
    }
    # The holder's firm administrator sees that it was revoked, not why or by whom.
    query = "query($id: ID!) { node(id: $id) { ... on FilingPrivilege { revokedAt revokedReason revokedBy { username } } } }"
    assert (await api.data(query, {"id": privilege_id}, token=maria))["node"] == {
        "revokedAt": shown["revokedAt"],
        "revokedReason": None,
        "revokedBy": None,
    }
    assert (await api.data(query, {"id": privilege_id}, token=mad))["node"][
        "revokedReason"
    ] == "Filed abusively in 1:26-cv-10001."
    [mail] = [m for m in api.mails("kimpro2026@example.org") if "revoked" in m["Subject"]]
    assert mail["Subject"] == "mad: your pro se filing privilege is revoked"
    assert "Reason: Filed abusively in 1:26-cv-10001." in mail.get_content()
    event = await AuditEvent.filter(action="privilege.revoke").first()
    assert event is not None and event.court_id == "mad" and "Filed abusively" in (event.detail or "")
    # Once is final.
    before = await state()
    assert codes(await mutate(api, REVOKE, mad, "mad", id=privilege_id, reason="again")) == [
        ("PRIVILEGE_REVOKED", "id")
    ]
    assert codes(await mutate(api, ADD, mad, "mad", privilegeId=privilege_id, caseNumber="1:26-cv-2")) == [
        ("PRIVILEGE_REVOKED", "privilegeId")
    ]
    assert await state() == before
    # No longer a filer: no redaction acknowledgement needed. A new registration is the way back.
    await api.sign_in("kimpro2026", "Maple-Lantern-Quiet-77")
    again = await approved(api, kim, "mad", role="PRO_SE", caseNumber="1:26-cv-10001")
    assert again["privilege"]["id"] != privilege_id
    me = await mine(api, kim, "mad", "1:26-cv-10001")
    assert me["inCase"] is True
    assert [p["revokedAt"] is None for p in me["privileges"]] == [
        False,
        True,
    ]  # the revoked one stays as history


@pytest.mark.parametrize(
    ("operation", "fields", "expected"),
    [
        (
            ADD,
            {"caseNumber": "24-1234"},
            [("CASE_NUMBER_INVALID", "caseNumber")],
        ),  # an appellate number at mad
        (ADD, {"caseNumber": "1:26-cv-10001-JJ"}, [("INVALID_INPUT", "caseNumber")]),  # already listed
        (REMOVE, {"caseNumber": "1:26-cv-7"}, [("NOT_FOUND", "caseNumber")]),
        (REVOKE, {"reason": ""}, [("INVALID_INPUT", "reason")]),
        (REVOKE, {"reason": " \n "}, [("INVALID_INPUT", "reason")]),
        (REVOKE, {"reason": "x" * 2001}, [("INVALID_INPUT", "reason")]),
    ],
)
async def test_bad_input_gets_its_code_and_changes_nothing(
    api: Api, operation: str, fields: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    kim = await new_filer(api)
    privilege_id = (await approved(api, kim, "mad", role="PRO_SE", caseNumber="1:26-cv-10001"))["privilege"][
        "id"
    ]
    mad = await clerk(api, "mad")
    key = "id" if operation is REVOKE else "privilegeId"
    before, mail = await state(), len(api.mails())
    payload = await mutate(api, operation, mad, "mad", **{key: privilege_id, **fields})
    assert codes(payload) == expected and payload["privilege"] is None
    assert await state() == before and len(api.mails()) == mail


async def test_who_may_manage_a_privilege(api: Api) -> None:
    kim = await new_filer(api)
    privilege_id = (await approved(api, kim, "mad", role="PRO_SE", caseNumber="1:26-cv-10001"))["privilege"][
        "id"
    ]
    wide_holder = await new_filer(api, "courtwide26", "Wide")
    wide = (await approved(api, wide_holder, "mad", role="ATTORNEY", barNumber="77"))["privilege"]["id"]
    mad, mab = await clerk(api, "mad"), await clerk(api, "mab")
    before = await state()
    for operation, fields in [
        (ADD, {"privilegeId": privilege_id, "caseNumber": "1:26-cv-2"}),
        (REMOVE, {"privilegeId": privilege_id, "caseNumber": "1:26-cv-10001"}),
        (REVOKE, {"id": privilege_id, "reason": "r"}),
    ]:
        field = "id" if operation is REVOKE else "privilegeId"
        # The holder; a clerk of another court, there and here; nobody; the national endpoint.
        assert codes(await mutate(api, operation, kim, "mad", **fields)) == [("FORBIDDEN", None)]
        assert codes(await mutate(api, operation, mab, "mad", **fields)) == [("FORBIDDEN", None)]
        # At their own court, another court's privilege is no privilege: the answer an unknown
        # id gets, word for word (it does not say where the privilege is).
        foreign = await mutate(api, operation, mab, "mab", **fields)
        assert codes(foreign) == [("NOT_FOUND", field)]
        assert "mad" not in foreign["errors"][0]["message"]
        assert codes(await mutate(api, operation, None, "mad", **fields)) == [("UNAUTHENTICATED", None)]
        assert codes(await mutate(api, operation, mad, None, **fields)) == [("COURT_REQUIRED", None)]
        unknown = {**fields, field: "RmlsaW5nUHJpdmlsZWdlOjk5OTk5"}  # FilingPrivilege:99999
        assert codes(await mutate(api, operation, mad, "mad", **unknown)) == [("NOT_FOUND", field)]
        missing = await mutate(api, operation, mab, "mab", **unknown)
        assert codes(missing) == [("NOT_FOUND", field)] and missing["errors"] == foreign["errors"]
    # A court-wide privilege lists no case.
    assert codes(await mutate(api, ADD, mad, "mad", privilegeId=wide, caseNumber="1:26-cv-2")) == [
        ("INVALID_INPUT", "privilegeId")
    ]
    assert await state() == before


async def test_a_clerk_may_not_act_on_their_own_privilege(api: Api) -> None:
    await grant_clerk(COURTS.get("mad"), "mlopez2018")
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    dana = await clerk(api, "mad")
    submitted = await submit(api, dana, court="mad", role="MEDIA")
    own = (await decide(api, maria, "mad", submitted["registration"]["id"]))["privilege"]["id"]
    before = await state()
    assert codes(await mutate(api, REVOKE, dana, "mad", id=own, reason="mine")) == [("FORBIDDEN", "id")]
    assert await state() == before
    done = await mutate(api, REVOKE, maria, "mad", id=own, reason="Court staff do not hold media accounts.")
    assert done["errors"] == []


async def test_racing_clerks_revoke_once_and_list_a_case_once(api: Api) -> None:
    await grant_clerk(COURTS.get("mad"), "mlopez2018")
    clerks = [await clerk(api, "mad"), await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")]
    kim = await new_filer(api)
    privilege_id = (await approved(api, kim, "mad", role="PRO_SE", caseNumber="1:26-cv-10001"))["privilege"][
        "id"
    ]
    added = await asyncio.gather(
        *(
            mutate(api, ADD, t, "mad", privilegeId=privilege_id, caseNumber="1:26-cv-10002")
            for t in clerks * 2
        )
    )
    assert sorted(str(codes(a)) for a in added) == ["[('INVALID_INPUT', 'caseNumber')]"] * 3 + ["[]"]
    assert await PrivilegeCase.filter(case_number="1:26-cv-10002").count() == 1
    revoked = await asyncio.gather(
        *(mutate(api, REVOKE, t, "mad", id=privilege_id, reason="r") for t in clerks * 2)
    )
    assert sorted(str(codes(r)) for r in revoked) == ["[('PRIVILEGE_REVOKED', 'id')]"] * 3 + ["[]"]
    assert await AuditEvent.filter(action="privilege.revoke").count() == 1
