"""Races are decided by the database: transactions and constraints, not in-process locks.

On PostgreSQL these requests really run at once, on separate pooled connections; on
SQLite they interleave at every await. Each scenario is run several times.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nextgen_gql.enums import RegistrationStatus
from nextgen_gql.models import (
    AuditEvent,
    CmecfAccount,
    CmecfLink,
    FilingPrivilege,
    FirmMembership,
    Registration,
)
from nextgen_gql.services.courts import grant_clerk
from tests.api.firm_helpers import JAMES_NUMBER, create_firm, invite, register
from tests.conftest import (
    CLERK_PASSWORD,
    CLERKS,
    FILER,
    MOVE_FILER_PREFIX,
    MOVE_LOGIN_PREFIX,
    Api,
    not_demo,
)

LINK = """mutation($l: String!) { linkCmecfAccount(input: {login: $l, password: "legacy-ecf-pass", confirm: true}) {
  cmecfAccount { login } errors { code } } }"""
ROUNDS = pytest.mark.parametrize("round_", range(3))


def codes(results: list[dict[str, Any]], key: str) -> list[str]:
    return sorted(e["code"] for r in results for e in r[key]["errors"])


def winners(results: list[dict[str, Any]], key: str) -> int:
    return sum(not r[key]["errors"] for r in results)


@ROUNDS
async def test_many_accounts_linking_one_legacy_account(api: Api, round_: int) -> None:
    tokens = [await api.sign_in(*FILER)]
    for i in range(5):
        token, _ = await register(api, f"racer{round_}x{i}", "Race", f"Runner{i}")
        tokens.append(token)
    results = await asyncio.gather(*(api.data(LINK, {"l": "kchen"}, court="mad", token=t) for t in tokens))
    assert winners(results, "linkCmecfAccount") == 1
    assert codes(results, "linkCmecfAccount") == ["CMECF_ALREADY_LINKED"] * 5
    assert await not_demo(CmecfLink.filter(court_id="mad")).count() == 1
    assert await not_demo(FilingPrivilege.filter(court_id="mad")).count() == 1
    assert (
        await AuditEvent.filter(action="cmecf.link")
        .exclude(actor__username_key__startswith=MOVE_FILER_PREFIX)
        .count()
        == 1
    )


@ROUNDS
async def test_one_account_linking_two_legacy_accounts_of_one_court(api: Api, round_: int) -> None:
    james = await api.sign_in(*FILER)
    results = await asyncio.gather(
        api.data(LINK, {"l": "jmorgan"}, court="mad", token=james),
        api.data(LINK, {"l": "kchen"}, court="mad", token=james),
    )
    assert winners(results, "linkCmecfAccount") == 1
    assert codes(results, "linkCmecfAccount") == ["COURT_ALREADY_LINKED"]
    assert await not_demo(CmecfLink.filter(court_id="mad")).count() == 1
    # The loser's legacy account is untouched: its credentials still work for its owner.
    retired = (
        await CmecfAccount.filter(court_id="mad", password_hash=None)
        .exclude(login_key__startswith=MOVE_LOGIN_PREFIX)
        .count()
    )
    assert retired == 1


@ROUNDS
async def test_two_clerks_deciding_one_registration(api: Api, round_: int) -> None:
    await grant_clerk(court_of(api, "mad"), CLERKS["mab"])  # a second clerk of mad
    kim, _ = await register(api, f"applicant{round_}", "Kim", "Applicant")
    submitted = await api.data(
        "mutation { submitRegistration(input: {role: MEDIA}) { registration { id } errors { code } } }",
        court="mad",
        token=kim,
    )
    registration_id = submitted["submitRegistration"]["registration"]["id"]
    first = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    second = await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)
    decide = (
        """mutation($i: DecideRegistrationInput!) { decideRegistration(input: $i) { errors { code } } }"""
    )
    results = await asyncio.gather(
        api.data(decide, {"i": {"id": registration_id, "approve": True}}, court="mad", token=first),
        api.data(
            decide,
            {"i": {"id": registration_id, "approve": False, "reason": "No."}},
            court="mad",
            token=second,
        ),
    )
    assert winners(results, "decideRegistration") == 1
    assert codes(results, "decideRegistration") == ["ALREADY_DECIDED"]
    registration = await not_demo(Registration.all()).get()
    approved = registration.status is RegistrationStatus.APPROVED
    assert await not_demo(FilingPrivilege.filter(court_id="mad")).count() == (1 if approved else 0)
    decisions = await AuditEvent.filter(
        action__in=["registration.approve", "registration.reject"], subject_id=registration.account_id
    ).count()
    assert decisions == 1


@ROUNDS
async def test_one_open_registration_per_court_and_role_under_a_burst(api: Api, round_: int) -> None:
    kim, _ = await register(api, f"burster{round_}", "Kim", "Burst")
    submit = "mutation { submitRegistration(input: {role: MEDIA}) { errors { code } } }"
    results = await asyncio.gather(*(api.data(submit, court="mad", token=kim) for _ in range(5)))
    assert winners(results, "submitRegistration") == 1
    assert codes(results, "submitRegistration") == ["REGISTRATION_PENDING"] * 4
    assert await Registration.filter(status=RegistrationStatus.PENDING).count() == 1


@ROUNDS
async def test_concurrent_invitations_and_accepts_keep_one_firm_per_account(api: Api, round_: int) -> None:
    invitations = []
    for i in range(3):
        admin, _ = await register(api, f"admin{round_}x{i}", "Ada", f"Admin{i}")
        await create_firm(api, admin, f"Firm {round_}-{i}")
        invited = await invite(api, admin, JAMES_NUMBER, "Morgan")
        invitations.append(invited["invitation"]["id"])
    james = await api.sign_in(*FILER)
    accept = "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }"
    results = await asyncio.gather(*(api.data(accept, {"id": i}, token=james) for i in invitations))
    assert winners(results, "acceptFirmInvitation") == 1
    assert codes(results, "acceptFirmInvitation") == ["ALREADY_MEMBER"] * 2
    assert await FirmMembership.filter(account__username_key=FILER[0]).count() == 1


def court_of(api: Api, code: str) -> Any:
    from nextgen_gql.tenancy import CourtRegistry, load_courts

    return CourtRegistry(load_courts(api.settings.tenants_dir)).get(code)


SET_ADMIN = """mutation($id: ID!, $admin: Boolean!) { setFirmAdmin(accountId: $id, admin: $admin) {
  errors { code } } }"""
REMOVE = "mutation($id: ID!) { removeFirmMember(accountId: $id) { errors { code } } }"


async def two_admins_and_a_member(api: Api, round_: int) -> tuple[list[tuple[str, str]], int]:
    """A firm with two administrators ((token, id) each) and a plain member; the firm's id."""
    admins = []
    for i in range(2):
        token, account = await register(api, f"bossfirm{round_}x{i}", "Bo", f"Boss{i}")
        admins.append((token, account["id"]))
    await create_firm(api, admins[0][0], f"Race Firm {round_}")
    number = (await api.data("{ me { accountNumber } }", token=admins[1][0]))["me"]["accountNumber"]
    invitation = (await invite(api, admins[0][0], number, "Boss1"))["invitation"]["id"]
    await api.data(
        "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }",
        {"id": invitation},
        token=admins[1][0],
    )
    promoted = await api.data(SET_ADMIN, {"id": admins[1][1], "admin": True}, token=admins[0][0])
    assert promoted["setFirmAdmin"]["errors"] == []
    member = await api.sign_in(*FILER)
    invited = await invite(api, admins[0][0], JAMES_NUMBER, "Morgan")
    await api.data(
        "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }",
        {"id": invited["invitation"]["id"]},
        token=member,
    )
    firm_id = (await FirmMembership.get(account__username_key=f"bossfirm{round_}x0")).firm_id
    return admins, firm_id


@ROUNDS
@pytest.mark.parametrize("how", ["both step down", "both leave", "one steps down, one leaves"])
async def test_two_administrators_cannot_both_go(api: Api, round_: int, how: str) -> None:
    """The last administrator is decided under a lock on the firm: of two administrators going
    at once, one goes and the other gets LAST_ADMIN."""
    admins, firm_id = await two_admins_and_a_member(api, round_)
    kinds = {"both step down": ["down", "down"], "both leave": ["leave", "leave"]}.get(how, ["down", "leave"])

    def going(kind: str, token: str, account_id: str) -> Any:
        if kind == "down":
            return api.data(SET_ADMIN, {"id": account_id, "admin": False}, token=token)
        return api.data(REMOVE, {"id": account_id}, token=token)

    results = await asyncio.gather(*(going(k, t, i) for k, (t, i) in zip(kinds, admins, strict=True)))
    keys = ["setFirmAdmin" if k == "down" else "removeFirmMember" for k in kinds]
    errors = [e["code"] for r, key in zip(results, keys, strict=True) for e in r[key]["errors"]]
    assert errors == ["LAST_ADMIN"], results
    assert await FirmMembership.filter(firm_id=firm_id, is_admin=True).count() == 1
    gone = await AuditEvent.filter(action__in=["firm.admin.step_down", "firm.member.remove"]).count()
    assert gone == 1


@ROUNDS
async def test_an_invitation_cancelled_and_accepted_at_once_is_one_or_the_other(
    api: Api, round_: int
) -> None:
    admin, _ = await register(api, f"canceller{round_}", "Cass", "Canceller")
    await create_firm(api, admin, f"Cancel Firm {round_}")
    invitation = (await invite(api, admin, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    james = await api.sign_in(*FILER)
    accepted, cancelled = await asyncio.gather(
        api.data(
            "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }",
            {"id": invitation},
            token=james,
        ),
        api.data(
            "mutation($id: ID!) { cancelFirmInvitation(id: $id) { errors { code } } }",
            {"id": invitation},
            token=admin,
        ),
    )
    outcomes = [accepted["acceptFirmInvitation"]["errors"], cancelled["cancelFirmInvitation"]["errors"]]
    assert sorted(len(e) for e in outcomes) == [0, 1] and [c["code"] for e in outcomes for c in e] == [
        "ALREADY_DECIDED"
    ]
    joined = await FirmMembership.filter(account__username_key=FILER[0]).exists()
    assert joined == (outcomes[0] == [])


@ROUNDS
async def test_workers_racing_one_idempotency_key_make_one_charge(api: Api, round_: int) -> None:
    """The UNIQUE(court_id, idempotency_key) constraint decides: of 5 reports of one item at
    once, one records the charge and the others answer it."""
    from nextgen_gql.models import Charge

    clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    record = """mutation($i: RecordUsageInput!) { recordUsage(input: $i) {
      charge { at amountCents idempotencyKey } errors { code } } }"""
    item = {
        "accountNumber": JAMES_NUMBER,
        "kind": "DOCUMENT",
        "pages": 12,
        "idempotencyKey": f"race-{round_}",
    }
    results = await asyncio.gather(
        *(api.data(record, {"i": item}, court="ca1", token=clerk) for _ in range(5))
    )
    assert all(r["recordUsage"]["errors"] == [] for r in results), results
    assert len({r["recordUsage"]["charge"]["at"] for r in results}) == 1  # all answer the one charge
    assert await Charge.filter(idempotency_key=f"race-{round_}").count() == 1
    assert await AuditEvent.filter(action="billing.charge", detail__contains=f"race-{round_}").count() == 1
