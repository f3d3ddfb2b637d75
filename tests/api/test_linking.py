"""Linking a legacy CM/ECF account: the heart of the seeds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nextgen_gql.models import AuditEvent, CmecfAccount, CmecfLink, FilingPrivilege
from tests.conftest import (
    FILER,
    LEGACY,
    LEGACY_ECF_PASSWORD,
    MOVE_FILER_PREFIX,
    MOVE_LOGIN_PREFIX,
    SHARED,
    Api,
    not_demo,
    running_api,
)

LINK = """
mutation($input: LinkCmecfAccountInput!) {
  linkCmecfAccount(input: $input) {
    cmecfAccount { id login role linkedAt court { code } linkedAccount { username } linkedBy { username } }
    privilege { role source court { code } account { username } }
    errors { code message field }
  }
}"""
CAN_FILE = """{ me { ca1: canFile(court: "ca1") mad: canFile(court: "mad") mab: canFile(court: "mab")
  privileges { court { code } role source } cmecfAccounts { login court { code } } } }"""
NEW_PASSWORD = "Blue-Harbor-Lantern-42"


def link_input(login: str = "lperez", password: str = LEGACY_ECF_PASSWORD, **extra: Any) -> dict[str, Any]:
    return {"input": {"login": login, "password": password, "confirm": True, **extra}}


async def upgraded_laura(api: Api) -> str:
    token = await api.sign_in(*LEGACY)
    done = await api.data(
        "mutation($i: UpgradePacerAccountInput!) { upgradePacerAccount(input: $i) { errors { code } } }",
        {"i": {"email": "laura@perezlaw.example", "newUsername": "lauraperez", "newPassword": NEW_PASSWORD}},
        token=token,
    )
    assert done["upgradePacerAccount"]["errors"] == []
    return token


async def errors_of(api: Api, variables: dict[str, Any], **kw: Any) -> list[str]:
    data = await api.data(LINK, variables, **kw)
    payload = data["linkCmecfAccount"]
    if payload["errors"]:
        assert payload["cmecfAccount"] is None and payload["privilege"] is None
    return [e["code"] for e in payload["errors"]]


async def link_state() -> tuple[int, int, int]:
    """Links, privileges and retired legacy credentials, less the demo's own (its move to NextGen)."""
    return (
        await CmecfLink.exclude(account__username_key__startswith=MOVE_FILER_PREFIX).count(),
        await not_demo(FilingPrivilege.all()).count(),
        await CmecfAccount.filter(password_hash=None)
        .exclude(login_key__startswith=MOVE_LOGIN_PREFIX)
        .count(),
    )


async def test_the_whole_journey_upgrade_then_link_at_mad_and_file_there_only(api: Api) -> None:
    token = await api.sign_in(*LEGACY)
    assert await errors_of(api, link_input(), court="mad", token=token) == ["UPGRADE_REQUIRED"]
    token = await upgraded_laura(api)
    assert (await api.data(CAN_FILE, token=token))["me"] == {
        "ca1": False,
        "mad": False,
        "mab": False,
        "privileges": [],
        "cmecfAccounts": [],
    }
    data = await api.data(LINK, link_input(login="LPerez"), court="mad", token=token)
    payload = data["linkCmecfAccount"]
    assert payload["errors"] == []
    assert payload["cmecfAccount"]["login"] == "lperez"
    assert payload["cmecfAccount"]["court"] == {"code": "mad"}
    assert payload["cmecfAccount"]["linkedAt"]
    assert payload["cmecfAccount"]["linkedAccount"] == {"username": "lauraperez"}
    assert payload["cmecfAccount"]["linkedBy"] == {"username": "lauraperez"}
    assert payload["privilege"] == {
        "role": "ATTORNEY",
        "source": "LINKED_LEGACY_ACCOUNT",
        "court": {"code": "mad"},
        "account": {"username": "lauraperez"},
    }
    me = (await api.data(CAN_FILE, token=token))["me"]
    assert (me["ca1"], me["mad"], me["mab"]) == (False, True, False)
    assert me["privileges"] == [
        {"court": {"code": "mad"}, "role": "ATTORNEY", "source": "LINKED_LEGACY_ACCOUNT"}
    ]
    assert me["cmecfAccounts"] == [{"login": "lperez", "court": {"code": "mad"}}]
    # Linking in one court does not carry over: ca1 has its own lperez, still unlinked.
    assert await CmecfLink.filter(court_id="ca1").count() == 0
    event = await AuditEvent.filter(action="cmecf.link").first()
    assert event is not None and event.court_id == "mad" and event.actor_id == event.subject_id


async def test_an_unconfirmed_link_changes_nothing(api: Api) -> None:
    token = await upgraded_laura(api)
    before = await link_state()
    data = await api.data(
        LINK,
        {"input": {"login": "lperez", "password": LEGACY_ECF_PASSWORD, "confirm": False}},
        court="mad",
        token=token,
    )
    assert [(e["code"], e["field"]) for e in data["linkCmecfAccount"]["errors"]] == [
        ("CONFIRMATION_REQUIRED", "confirm")
    ]
    assert "undone" in data["linkCmecfAccount"]["errors"][0]["message"]
    assert await link_state() == before


@pytest.mark.parametrize(
    ("login", "password"), [("lperez", "wrong-password"), ("nosuchlogin", LEGACY_ECF_PASSWORD)]
)
async def test_wrong_legacy_credentials(api: Api, login: str, password: str) -> None:
    token = await upgraded_laura(api)
    before = await link_state()
    assert await errors_of(api, link_input(login, password), court="mad", token=token) == [
        "INVALID_CMECF_CREDENTIALS"
    ]
    assert await link_state() == before


async def test_a_legacy_account_links_once_and_for_good(api: Api) -> None:
    laura = await upgraded_laura(api)
    assert await errors_of(api, link_input(), court="mad", token=laura) == []
    james = await api.sign_in(*FILER)
    before = await link_state()
    # Its old credentials are retired: nobody can link it again, not even with them.
    assert await errors_of(api, link_input(), court="mad", token=james) == ["CMECF_ALREADY_LINKED"]
    assert await errors_of(api, link_input(), court="mad", token=laura) == ["COURT_ALREADY_LINKED"]
    assert await link_state() == before


async def test_one_legacy_account_per_pacer_account_per_court(api: Api) -> None:
    token = await api.sign_in(*FILER)
    assert await errors_of(api, link_input("jmorgan"), court="mad", token=token) == []
    before = await link_state()
    assert await errors_of(api, link_input("kchen"), court="mad", token=token) == ["COURT_ALREADY_LINKED"]
    assert await link_state() == before
    # Another court is another matter.
    assert await errors_of(api, link_input("jmorgan"), court="mab", token=token) == []
    me = (await api.data(CAN_FILE, token=token))["me"]
    assert (me["ca1"], me["mad"], me["mab"]) == (False, True, True)


async def test_a_shared_account_may_not_link(api: Api) -> None:
    token = await api.sign_in(*SHARED)
    before = await link_state()
    assert await errors_of(api, link_input("kchen"), court="mad", token=token) == ["SHARED_ACCOUNT"]
    assert await link_state() == before


async def test_linking_needs_a_court_and_a_sign_in(api: Api) -> None:
    token = await api.sign_in(*FILER)
    assert await errors_of(api, link_input("jmorgan"), token=token) == ["COURT_REQUIRED"]
    assert await errors_of(api, link_input("jmorgan"), court="mad") == ["UNAUTHENTICATED"]
    assert await link_state() == (0, 0, 0)


async def test_linking_for_someone_else_is_refused_to_a_non_admin(api: Api) -> None:
    laura = await upgraded_laura(api)
    laura_id = (await api.data("{ me { id } }", token=laura))["me"]["id"]
    james = await api.sign_in(*FILER)
    assert await errors_of(api, link_input(onBehalfOf=laura_id), court="mad", token=james) == ["FORBIDDEN"]
    assert await errors_of(api, link_input(onBehalfOf="garbage"), court="mad", token=james) == [
        "INVALID_INPUT"
    ]
    assert await link_state() == (0, 0, 0)


async def test_a_court_not_yet_on_nextgen_refuses_linking(settings: Any, tenants_copy: Any) -> None:
    (tenants_copy / "nysb.toml").write_text(
        'code = "nysb"\nname = "U.S. Bankruptcy Court, S.D.N.Y."\nkind = "bankruptcy"\n'
        'nextgen_since = 2099-01-01\naccepted_roles = ["attorney"]\n'
    )
    async with running_api(settings.with_(tenants_dir=tenants_copy)) as api:
        court = (await api.data("{ court { code isNextgen nextgenSince } }", court="nysb"))["court"]
        assert court == {"code": "nysb", "isNextgen": False, "nextgenSince": "2099-01-01"}
        token = await api.sign_in(*FILER)
        assert await errors_of(api, link_input("jmorgan"), court="nysb", token=token) == ["COURT_NOT_NEXTGEN"]


async def test_racing_links_of_one_legacy_account_have_one_winner(api: Api) -> None:
    laura = await upgraded_laura(api)
    james = await api.sign_in(*FILER)
    results = await asyncio.gather(
        *(errors_of(api, link_input("kchen"), court="mad", token=t) for t in (laura, james, laura, james))
    )
    assert sum(r == [] for r in results) == 1, results
    losers = [code for r in results for code in r]
    assert set(losers) <= {"CMECF_ALREADY_LINKED", "COURT_ALREADY_LINKED"}, results
    assert await CmecfLink.filter(cmecf_account__login_key="kchen").count() == 1
    assert await not_demo(FilingPrivilege.filter(court_id="mad")).count() == 1


async def test_the_database_itself_refuses_a_second_link(api: Api) -> None:
    """The constraints, not only the service's checks, make the link one-time."""
    from tortoise.exceptions import IntegrityError

    from nextgen_gql.models import PacerAccount
    from nextgen_gql.services.clock import now

    james = await api.sign_in(*FILER)
    assert await errors_of(api, link_input("jmorgan"), court="mad", token=james) == []
    link = await CmecfLink.exclude(account__username_key__startswith=MOVE_FILER_PREFIX).get(court_id="mad")
    other = await PacerAccount.get(username_key="harborlawoffice")
    kchen = await CmecfAccount.get(court_id="mad", login_key="kchen")
    with pytest.raises(IntegrityError):  # the same legacy account, another PACER account
        await CmecfLink.create(
            cmecf_account_id=link.cmecf_account_id,
            court_id="mad",
            account_id=other.id,
            linked_by_id=other.id,
            linked_at=now(),
        )
    with pytest.raises(IntegrityError):  # the same PACER account, a second legacy account in mad
        await CmecfLink.create(
            cmecf_account_id=kchen.id,
            court_id="mad",
            account_id=link.account_id,
            linked_by_id=link.account_id,
            linked_at=now(),
        )
    assert (await link_state())[0] == 1


async def test_a_link_survives_a_restart(settings: Any) -> None:
    async with running_api(settings) as api:
        token = await upgraded_laura(api)
        assert await errors_of(api, link_input(), court="mad", token=token) == []
    async with running_api(settings) as api:
        token = await api.sign_in("lauraperez", NEW_PASSWORD, redactionAcknowledged=True)
        me = (await api.data(CAN_FILE, token=token))["me"]
        assert me["mad"] is True
        assert await errors_of(api, link_input(), court="mad", token=token) == ["COURT_ALREADY_LINKED"]
