"""Firms the whole way round (issue 20, items 1 and 2): the invitee finds and answers an
invitation, administrators cancel one, make members administrators and step down, and a
firm with members always keeps one administrator. Bad input gets its code and changes
nothing."""

from __future__ import annotations

import re
from typing import Any

from nextgen_gql.enums import InvitationStatus
from nextgen_gql.models import AuditEvent, FirmInvitation, FirmMembership
from tests.api.firm_helpers import JAMES_NUMBER, answer, create_firm, firm_with_james, invite, register
from tests.conftest import FILER, Api

JAMES_EMAIL = "james.morgan@morganlegal.example"
MY_INVITATIONS = """{ me { invitations { id status createdAt decidedAt firm { name accountNumber }
  invitedBy { username } account { username } } } }"""
CANCEL = """mutation($id: ID!) { cancelFirmInvitation(id: $id) {
  invitation { id status decidedAt } errors { code message field } } }"""
SET_ADMIN = """mutation($id: ID!, $admin: Boolean!) { setFirmAdmin(accountId: $id, admin: $admin) {
  firm { admins { username } } errors { code message field } } }"""
REMOVE = """mutation($id: ID!) { removeFirmMember(accountId: $id) { errors { code message field } } }"""


async def my_id(api: Api, token: str) -> str:
    value: str = (await api.data("{ me { id } }", token=token))["me"]["id"]
    return value


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def state() -> tuple[list[tuple[int, int, bool]], list[tuple[int, str]], int]:
    """Everything these mutations may change: memberships, invitations, audit events."""
    members = [(m.firm_id, m.account_id, m.is_admin) for m in await FirmMembership.all().order_by("id")]
    invitations = [(i.id, i.status.value) for i in await FirmInvitation.all().order_by("id")]
    return members, invitations, await AuditEvent.all().count()


async def test_the_invitee_finds_the_invitation_by_mail_and_on_the_account(api: Api) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    james = await api.sign_in(*FILER)
    assert (await api.data(MY_INVITATIONS, token=james))["me"]["invitations"] == []
    invitation = (await invite(api, maria, JAMES_NUMBER, "Morgan"))["invitation"]
    mine = (await api.data(MY_INVITATIONS, token=james))["me"]["invitations"]
    assert len(mine) == 1
    assert mine[0]["id"] == invitation["id"] and mine[0]["status"] == "PENDING"
    assert mine[0]["firm"]["name"] == "Lopez & Morgan LLP" and mine[0]["invitedBy"] == {
        "username": "marialopez"
    }
    assert mine[0]["decidedAt"] is None and mine[0]["account"] == {"username": FILER[0]}
    # The mail names the invitation after "Invitation id:", and where to answer.
    mail = api.mails(JAMES_EMAIL)[-1].get_content()
    found = re.search(r"Invitation id: (\S+)", mail)
    assert found and found.group(1) == invitation["id"]
    assert "acceptFirmInvitation" in mail and "declineFirmInvitation" in mail and "My account" in mail
    # Only the account itself sees its invitations: its firm's admin, a clerk, nobody else.
    maria_view = await api.data(
        "query($id: ID!) { node(id: $id) { ... on PacerAccount { username invitations { id } } } }",
        {"id": await my_id(api, james)},
        token=maria,
    )
    assert maria_view["node"] is None or maria_view["node"]["invitations"] is None
    assert (await api.data(MY_INVITATIONS, token=maria))["me"]["invitations"] == []
    assert (await api.data(MY_INVITATIONS))["me"] is None
    # The id from the mail answers it; once answered it is gone from the list, and decided.
    joined = await answer(api, james, found.group(1))
    assert joined["errors"] == [] and joined["firm"]["name"] == "Lopez & Morgan LLP"
    assert (await api.data(MY_INVITATIONS, token=james))["me"]["invitations"] == []
    decided = await api.data(
        "query($id: ID!) { node(id: $id) { ... on FirmInvitation { status decidedAt } } }",
        {"id": invitation["id"]},
        token=james,
    )
    assert decided["node"]["status"] == "ACCEPTED" and decided["node"]["decidedAt"] is not None
    for again in (True, False):
        assert codes(await answer(api, james, invitation["id"], accept=again)) == ["ALREADY_DECIDED"]
    assert codes((await api.data(CANCEL, {"id": invitation["id"]}, token=maria))["cancelFirmInvitation"]) == [
        "ALREADY_DECIDED"
    ]


async def test_an_administrator_cancels_a_pending_invitation(api: Api) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    invitation_id = (await invite(api, maria, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    cancelled = (await api.data(CANCEL, {"id": invitation_id}, token=maria))["cancelFirmInvitation"]
    assert cancelled["errors"] == [] and cancelled["invitation"]["status"] == "CANCELLED"
    assert cancelled["invitation"]["decidedAt"] is not None
    assert "withdrew its invitation" in api.mails(JAMES_EMAIL)[-1]["Subject"]
    assert "invitation cancelled" in api.mails("marialopez@example.org")[-1]["Subject"]
    event = await AuditEvent.filter(action="firm.invitation.cancel").get()
    assert event.subject_id == (await FirmInvitation.get()).account_id
    # A cancelled invitation cannot be answered, nor cancelled again; it is no longer listed.
    james = await api.sign_in(*FILER)
    before = await state()
    for accept in (True, False):
        assert codes(await answer(api, james, invitation_id, accept=accept)) == ["ALREADY_DECIDED"]
    assert codes((await api.data(CANCEL, {"id": invitation_id}, token=maria))["cancelFirmInvitation"]) == [
        "ALREADY_DECIDED"
    ]
    assert await state() == before
    assert (await api.data(MY_INVITATIONS, token=james))["me"]["invitations"] == []
    view = await api.data("{ me { firm { invitations { id } } } }", token=maria)
    assert view["me"]["firm"]["invitations"] == []
    # Inviting again is a new invitation, answered as usual.
    again = (await invite(api, maria, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    assert again != invitation_id
    assert (await answer(api, james, again))["errors"] == []


async def test_cancelling_refusals_change_nothing(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)  # James: a plain member of Maria's firm
    peer, peer_account = await register(api, "peerfiler", "Pia", "Peer")
    pending = (await invite(api, maria, peer_account["accountNumber"], "Peer"))["invitation"]["id"]
    ben, _ = await register(api, "bencole01", "Ben", "Cole")
    await create_firm(api, ben, "Cole Partners")
    stranger, _ = await register(api, "strangerx", "Stan", "Ger")
    before = await state()
    for token, code in [
        (james, "FORBIDDEN"),  # a plain member of the firm
        (ben, "NOT_FOUND"),  # another firm's administrator
        (stranger, "NOT_FOUND"),  # in no firm
        (peer, "FORBIDDEN"),  # the invitee declines, never cancels
        (None, "UNAUTHENTICATED"),
    ]:
        payload = (await api.data(CANCEL, {"id": pending}, token=token))["cancelFirmInvitation"]
        assert codes(payload) == [code], (token, payload)
    for bad in ["garbage", await my_id(api, maria)]:  # not an invitation's id
        payload = (await api.data(CANCEL, {"id": bad}, token=maria))["cancelFirmInvitation"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "id")]
    # A plain member neither invites nor promotes.
    assert codes(await invite(api, james, "4669201", "Whitfield")) == ["FORBIDDEN"]
    promote = await api.data(SET_ADMIN, {"id": await my_id(api, james), "admin": True}, token=james)
    assert codes(promote["setFirmAdmin"]) == ["FORBIDDEN"]
    assert await state() == before


async def test_an_administrator_makes_a_member_an_administrator_and_steps_down(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    maria_id, james_id = await my_id(api, maria), await my_id(api, james)
    before = await state()
    # The last administrator cannot step down (nor leave while the firm has members).
    alone = (await api.data(SET_ADMIN, {"id": maria_id, "admin": False}, token=maria))["setFirmAdmin"]
    assert [(e["code"], e["field"]) for e in alone["errors"]] == [("LAST_ADMIN", "accountId")]
    assert codes((await api.data(REMOVE, {"id": maria_id}, token=maria))["removeFirmMember"]) == [
        "LAST_ADMIN"
    ]
    assert await state() == before
    promoted = (await api.data(SET_ADMIN, {"id": james_id, "admin": True}, token=maria))["setFirmAdmin"]
    assert promoted["errors"] == []
    assert sorted(a["username"] for a in promoted["firm"]["admins"]) == sorted([FILER[0], "marialopez"])
    grant = await AuditEvent.filter(action="firm.admin.grant").get()
    assert grant.subject_id != grant.actor_id
    assert "is now an administrator" in api.mails(JAMES_EMAIL)[-1]["Subject"]
    assert "is now an administrator" in api.mails("marialopez@example.org")[-1]["Subject"]
    # James now sees the members; promoting an administrator again changes nothing.
    assert (await api.data("{ me { firm { members { totalCount } } } }", token=james))["me"]["firm"]
    events = await AuditEvent.all().count()
    again = (await api.data(SET_ADMIN, {"id": james_id, "admin": True}, token=james))["setFirmAdmin"]
    assert again["errors"] == [] and await AuditEvent.all().count() == events
    # An administrator steps down only for themself.
    other = (await api.data(SET_ADMIN, {"id": maria_id, "admin": False}, token=james))["setFirmAdmin"]
    assert [(e["code"], e["field"]) for e in other["errors"]] == [("FORBIDDEN", "accountId")]
    down = (await api.data(SET_ADMIN, {"id": maria_id, "admin": False}, token=maria))["setFirmAdmin"]
    assert down["errors"] == [] and down["firm"]["admins"] == [{"username": FILER[0]}]
    assert await AuditEvent.filter(action="firm.admin.step_down").count() == 1
    assert "stepped down" in api.mails("marialopez@example.org")[-1]["Subject"]
    assert "stepped down" in api.mails(JAMES_EMAIL)[-1]["Subject"]
    # Maria, a plain member now, may no longer promote; James is the last administrator.
    assert codes(
        (await api.data(SET_ADMIN, {"id": maria_id, "admin": True}, token=maria))["setFirmAdmin"]
    ) == ["FORBIDDEN"]
    assert codes((await api.data(REMOVE, {"id": james_id}, token=james))["removeFirmMember"]) == [
        "LAST_ADMIN"
    ]
    # Maria leaves; the last administrator, alone, may leave too: the firm keeps no member,
    # and its pending invitations are cancelled.
    assert (await api.data(REMOVE, {"id": maria_id}, token=maria))["removeFirmMember"]["errors"] == []
    stranger, stranger_account = await register(api, "strangerx", "Stan", "Ger")
    pending = (await invite(api, james, stranger_account["accountNumber"], "Ger"))["invitation"]["id"]
    assert (await api.data(REMOVE, {"id": james_id}, token=james))["removeFirmMember"]["errors"] == []
    assert await FirmMembership.all().count() == 0
    assert (await FirmInvitation.get(account__username_key="strangerx")).status is InvitationStatus.CANCELLED
    assert codes(await answer(api, stranger, pending)) == ["ALREADY_DECIDED"]


async def test_set_firm_admin_refusals_change_nothing(api: Api) -> None:
    maria, james, _ = await firm_with_james(api)
    stranger, stranger_account = await register(api, "strangerx", "Stan", "Ger")
    before = await state()
    for token, target, admin, code in [
        (maria, stranger_account["id"], True, "NOT_A_MEMBER"),  # not a member of the firm
        (stranger, await my_id(api, james), True, "NOT_A_MEMBER"),  # in no firm
        (james, await my_id(api, maria), False, "FORBIDDEN"),  # a plain member
        (maria, await my_id(api, james), False, "FORBIDDEN"),  # steps down only for themself
        (None, await my_id(api, james), True, "UNAUTHENTICATED"),
        (maria, "garbage", True, "NOT_FOUND"),
    ]:
        payload = (await api.data(SET_ADMIN, {"id": target, "admin": admin}, token=token))["setFirmAdmin"]
        assert codes(payload) == [code], (target, admin, payload)
    assert await state() == before
