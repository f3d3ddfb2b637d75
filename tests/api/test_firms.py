"""Firms (PAA): invitations, membership, client codes, linking on someone's behalf."""

from __future__ import annotations

import re

import pytest

from nextgen_gql.models import AuditEvent, FirmMembership, PacerAccount
from tests.api.firm_helpers import (
    JAMES_NUMBER,
    PASSWORD,
    answer,
    create_firm,
    firm_with_james,
    invite,
    register,
)
from tests.conftest import FILER, LEGACY, Api

FIRM_VIEW = """{ me { firm { name accountNumber clientCodeRequired admins { username }
  members(first: 10) { totalCount edges { node { username } } } invitations { status account { username } } } } }"""
REMOVE = """mutation($id: ID!) { removeFirmMember(accountId: $id) { firm { name } errors { code message field } } }"""
CLIENT_CODES = """mutation($r: Boolean!) { setClientCodeRequired(required: $r) { firm { clientCodeRequired } errors { code } } }"""


async def test_create_a_firm_and_become_its_admin(api: Api) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    firm = await create_firm(api, maria)
    assert re.fullmatch(r"\d{7}", firm["accountNumber"])
    assert firm["admins"] == [{"username": "marialopez"}] and firm["clientCodeRequired"] is False
    view = (await api.data(FIRM_VIEW, token=maria))["me"]["firm"]
    assert view["members"]["totalCount"] == 1 and view["invitations"] == []
    again = await api.data(
        'mutation { createFirm(input: {name: "Second"}) { errors { code } } }', token=maria
    )
    assert again["createFirm"]["errors"] == [{"code": "ALREADY_MEMBER"}]
    legacy = await api.sign_in(*LEGACY)
    refused = await api.data(
        'mutation { createFirm(input: {name: "Old"}) { errors { code } } }', token=legacy
    )
    assert refused["createFirm"]["errors"] == [{"code": "UPGRADE_REQUIRED"}]
    anonymous = await api.data('mutation { createFirm(input: {name: "X"}) { errors { code } } }')
    assert anonymous["createFirm"]["errors"] == [{"code": "UNAUTHENTICATED"}]
    blank = await api.data(
        'mutation { createFirm(input: {name: "  "}) { errors { code field } } }', token=legacy
    )
    assert blank["createFirm"]["errors"] == [{"code": "INVALID_INPUT", "field": "name"}]


async def test_invite_accept_and_both_sides_are_mailed(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    view = (await api.data(FIRM_VIEW, token=maria))["me"]["firm"]
    assert sorted(e["node"]["username"] for e in view["members"]["edges"]) == [FILER[0], "marialopez"]
    assert view["invitations"] == []
    assert (await api.data("{ me { firm { name } } }", token=james))["me"]["firm"] == {
        "name": "Lopez & Morgan LLP"
    }
    invitee_mail = api.mails("james.morgan@morganlegal.example")
    assert [m["Subject"] for m in invitee_mail] == [
        "Invitation to join Lopez & Morgan LLP on PACER",
        "You joined Lopez & Morgan LLP",
    ]
    admin_mail = [m["Subject"] for m in api.mails("marialopez@example.org")]
    assert admin_mail == [
        "PACER: verify your email",  # at registration; the firm's mail comes once it is verified
        "Lopez & Morgan LLP: invitation sent",
        "Lopez & Morgan LLP: invitation accepted",
    ]
    actions = [e.action for e in await AuditEvent.filter(action__startswith="firm.").order_by("id")]
    assert actions == ["firm.create", "firm.invite", "firm.member.join"]


@pytest.mark.parametrize(
    ("number", "last"), [(JAMES_NUMBER, "Morgen"), ("1618034", "Morgan"), ("16180", "Morgan")]
)
async def test_a_wrong_pair_reveals_nothing(api: Api, number: str, last: str) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    payload = await invite(api, maria, number, last)
    assert payload["invitation"] is None
    assert payload["errors"] == [
        {
            "code": "NOT_FOUND",
            "message": "No PACER account matches that account number and last name.",
            "field": None,
        }
    ]


async def test_only_admins_invite_and_nobody_invites_themselves(api: Api) -> None:
    maria, maria_account = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    james = await api.sign_in(*FILER)
    assert (await invite(api, james, maria_account["accountNumber"], "Lopez"))["errors"][0][
        "code"
    ] == "FORBIDDEN"
    assert (await invite(api, None, JAMES_NUMBER, "Morgan"))["errors"][0]["code"] == "UNAUTHENTICATED"
    own = await invite(api, maria, maria_account["accountNumber"], "LOPEZ")
    assert (own["errors"][0]["code"], own["errors"][0]["field"]) == ("INVALID_INPUT", "accountNumber")


async def test_inviting_twice_is_one_invitation(api: Api) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    first = await invite(api, maria, JAMES_NUMBER, "Morgan")
    second = await invite(api, maria, JAMES_NUMBER, "MORGAN")
    assert first["invitation"]["id"] == second["invitation"]["id"]
    view = (await api.data(FIRM_VIEW, token=maria))["me"]["firm"]
    assert view["invitations"] == [{"status": "PENDING", "account": {"username": FILER[0]}}]


async def test_only_the_invitee_answers(api: Api) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    invitation_id = (await invite(api, maria, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    assert (await answer(api, maria, invitation_id))["errors"][0]["code"] == "FORBIDDEN"
    stranger, _ = await register(api, "strangerx", "Stan", "Ger")
    assert (await answer(api, stranger, invitation_id))["errors"][0]["code"] == "NOT_FOUND"
    assert (await answer(api, stranger, invitation_id, accept=False))["errors"][0]["code"] == "NOT_FOUND"
    assert await FirmMembership.all().count() == 1
    james = await api.sign_in(*FILER)
    declined = await answer(api, james, invitation_id, accept=False)
    assert declined == {"invitation": {"status": "DECLINED"}, "errors": []}
    assert (await answer(api, james, invitation_id))["errors"][0]["code"] == "ALREADY_DECIDED"
    assert "declined" in api.mails("marialopez@example.org")[-1]["Subject"]


async def test_one_firm_per_account(api: Api) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    ben, _ = await register(api, "bencole01", "Ben", "Cole")
    await create_firm(api, ben, "Cole Partners")
    first = (await invite(api, maria, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    second = (await invite(api, ben, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    james = await api.sign_in(*FILER)
    assert (await answer(api, james, first))["errors"] == []
    assert (await answer(api, james, second))["errors"][0]["code"] == "ALREADY_MEMBER"
    member_elsewhere = await invite(api, ben, JAMES_NUMBER, "Morgan")
    assert member_elsewhere["errors"][0]["code"] == "ALREADY_MEMBER"
    assert await FirmMembership.filter(account__username_key=FILER[0]).count() == 1


async def test_leaving_and_removing_tell_both_sides(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    james_id = (await api.data("{ me { id } }", token=james))["me"]["id"]
    maria_id = (await api.data("{ me { id } }", token=maria))["me"]["id"]
    stranger, stranger_account = await register(api, "strangerx", "Stan", "Ger")
    assert (await api.data(REMOVE, {"id": maria_id}, token=james))["removeFirmMember"]["errors"][0][
        "code"
    ] == "FORBIDDEN"
    assert (await api.data(REMOVE, {"id": stranger_account["id"]}, token=maria))["removeFirmMember"][
        "errors"
    ][0]["code"] == "NOT_A_MEMBER"
    assert (await api.data(REMOVE, {"id": james_id}, token=stranger))["removeFirmMember"]["errors"][0][
        "code"
    ] == "NOT_A_MEMBER"
    last_admin = await api.data(REMOVE, {"id": maria_id}, token=maria)
    assert last_admin["removeFirmMember"]["errors"][0]["code"] == "LAST_ADMIN"
    left = await api.data(REMOVE, {"id": james_id}, token=james)
    assert left["removeFirmMember"]["errors"] == []
    assert (await api.data("{ me { firm { name } } }", token=james))["me"]["firm"] is None
    assert (
        api.mails("james.morgan@morganlegal.example")[-1]["Subject"] == "Lopez & Morgan LLP: membership ended"
    )
    assert api.mails("marialopez@example.org")[-1]["Subject"] == "Lopez & Morgan LLP: membership ended"
    event = await AuditEvent.filter(action="firm.member.remove").get()
    james_row = await PacerAccount.get(username_key=FILER[0])
    assert event.actor_id == event.subject_id == james_row.id
    # An admin removes a member, too.
    again = await invite(api, maria, JAMES_NUMBER, "Morgan")
    await answer(api, james, again["invitation"]["id"])
    removed = await api.data(REMOVE, {"id": james_id}, token=maria)
    assert removed["removeFirmMember"]["errors"] == []


async def test_members_and_invitations_are_for_admins_only(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    body = await api.gql("{ me { firm { name members { totalCount } } } }", token=james)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.gql("{ me { firm { invitations { status } } } }", token=james)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A member does see the firm and its admins.
    seen = await api.data("{ me { firm { name admins { username } } } }", token=james)
    assert seen["me"]["firm"] == {"name": "Lopez & Morgan LLP", "admins": [{"username": "marialopez"}]}
    # Members page by cursor.
    page = await api.data(
        "{ me { firm { members(first: 1) { pageInfo { hasNextPage endCursor } } } } }", token=maria
    )
    cursor = page["me"]["firm"]["members"]["pageInfo"]["endCursor"]
    assert page["me"]["firm"]["members"]["pageInfo"]["hasNextPage"] is True
    rest = await api.data(
        "query($a: String) { me { firm { members(first: 1, after: $a) { edges { node { username } } pageInfo { hasNextPage } } } } }",
        {"a": cursor},
        token=maria,
    )
    assert rest["me"]["firm"]["members"]["pageInfo"]["hasNextPage"] is False


async def test_client_codes_when_the_firm_requires_them(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    assert (await api.data(CLIENT_CODES, {"r": True}, token=james))["setClientCodeRequired"]["errors"] == [
        {"code": "FORBIDDEN"}
    ]
    assert (await api.data(CLIENT_CODES, {"r": True}, token=maria))["setClientCodeRequired"] == {
        "firm": {"clientCodeRequired": True},
        "errors": [],
    }
    sign_in = """mutation($c: String) { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88",
      clientCode: $c}) { token errors { code field } } }"""
    refused = (await api.data(sign_in, {"c": None}))["signIn"]
    assert refused == {"token": None, "errors": [{"code": "CLIENT_CODE_REQUIRED", "field": "clientCode"}]}
    for bad in ("has space", "a,b", "x" * 33):
        assert (await api.data(sign_in, {"c": bad}))["signIn"]["errors"] == [
            {"code": "INVALID_INPUT", "field": "clientCode"}
        ]
    assert (await api.data(sign_in, {"c": "CASE-42"}))["signIn"]["token"]
    # The rule is the firm's: Maria, an admin and a member, needs one too; a non-member does not.
    admin = await api.data(
        'mutation { signIn(input: {username: "marialopez", password: "'
        + PASSWORD
        + '"}) { errors { code } } }'
    )
    assert admin["signIn"]["errors"] == [{"code": "CLIENT_CODE_REQUIRED"}]
    await api.sign_in("lp1234", "Boston2011!")
    await api.data(CLIENT_CODES, {"r": False}, token=maria)
    assert (await api.data(sign_in, {"c": None}))["signIn"]["token"]


async def test_an_admin_links_a_members_account_on_their_behalf(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    james_id = (await api.data("{ me { id } }", token=james))["me"]["id"]
    link = """mutation($id: ID) { linkCmecfAccount(input: {login: "jmorgan1", password: "legacy-ecf-pass",
      confirm: true, onBehalfOf: $id}) { cmecfAccount { linkedAccount { username } linkedBy { username } }
      privilege { account { username } court { code } } errors { code } } }"""
    outsider, _ = await register(api, "outsider1", "Otto", "Side")
    assert (await api.data(link, {"id": james_id}, court="ca1", token=outsider))["linkCmecfAccount"][
        "errors"
    ] == [{"code": "FORBIDDEN"}]
    done = (await api.data(link, {"id": james_id}, court="ca1", token=maria))["linkCmecfAccount"]
    assert done["errors"] == []
    assert done["cmecfAccount"] == {
        "linkedAccount": {"username": FILER[0]},
        "linkedBy": {"username": "marialopez"},
    }
    assert done["privilege"] == {"account": {"username": FILER[0]}, "court": {"code": "ca1"}}
    event = await AuditEvent.filter(action="cmecf.link", court_id="ca1").get()
    maria_row = await PacerAccount.get(username_key="marialopez")
    james_row = await PacerAccount.get(username_key=FILER[0])
    assert (event.actor_id, event.subject_id, event.court_id) == (maria_row.id, james_row.id, "ca1")
    assert "on behalf of jmorgan2019" in (event.detail or "")
    can = await api.data('{ me { canFile(court: "ca1") } }', token=james)
    assert can["me"]["canFile"] is True
    # A member cannot link for the admin.
    maria_id = (await api.data("{ me { id } }", token=maria))["me"]["id"]
    reverse = await api.data(link, {"id": maria_id}, court="mad", token=james)
    assert reverse["linkCmecfAccount"]["errors"] == [{"code": "FORBIDDEN"}]
