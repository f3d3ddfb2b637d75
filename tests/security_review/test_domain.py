"""Security review of 2026-12-04 (issue 32), the domain's findings replayed as an attacker
would: GraphQL over HTTP against the real app, asserting the refusal, so none returns.

Items 2 (a clerk deciding about their own account), 7 (retrieveCmecfLogin unthrottled, its
timing telling the roster), 8 (registration and link probes confirming accounts), 9
(out-of-range dates as internal errors) and 10 (a line break in a firm's name breaking its
mail). docs/security.md, "Review of 2026-12-04", says what each was and what fixed it.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from nextgen_gql.models import (
    AuditEvent,
    CmecfLink,
    FilingPrivilege,
    Firm,
    FirmInvitation,
    PacerAccount,
    Registration,
)
from nextgen_gql.services import throttle
from nextgen_gql.services.courts import grant_clerk
from nextgen_gql.tenancy import CourtRegistry, load_courts
from tests.api.firm_helpers import JAMES_NUMBER, create_firm, invite, register
from tests.api.live_helpers import MY_EVENTS
from tests.conftest import (
    CLERK_PASSWORD,
    CLERKS,
    FILER,
    LEGACY_ECF_PASSWORD,
    TENANTS,
    Api,
)
from tests.live import event_stream

SUBMIT = """mutation($i: SubmitRegistrationInput!) { submitRegistration(input: $i) {
  registration { id status } errors { code message field } } }"""
DECIDE = """mutation($i: DecideRegistrationInput!) { decideRegistration(input: $i) {
  registration { id status } privilege { id } errors { code message field } } }"""
LINK = """mutation($l: String!, $p: String!) { linkCmecfAccount(input: {login: $l, password: $p, confirm: true}) {
  privilege { id } errors { code message field } } }"""
REVOKE = """mutation($i: RevokeFilingPrivilegeInput!) { revokeFilingPrivilege(input: $i) {
  privilege { id } errors { code message field } } }"""
ADD_CASE = """mutation($i: AddPrivilegeCaseInput!) { addPrivilegeCase(input: $i) {
  privilege { id } errors { code message field } } }"""
USAGE = """mutation($i: RecordUsageInput!) { recordUsage(input: $i) { errors { code message field } } }"""
CAN_FILE = """{ me { canFile(court: "mad") } }"""
REMIND = """mutation($e: String!) { retrieveCmecfLogin(input: {email: $e}) { ok errors { code } } }"""
REGISTER = """mutation($i: RegisterPacerAccountInput!) { registerPacerAccount(input: $i) {
  account { id } errors { code message field } } }"""
AUDIT = """query($since: DateTime, $until: DateTime) { auditEvents(since: $since, until: $until, first: 5) {
  edges { node { action } } } }"""
REGISTRATIONS = """query($after: String) { registrations(first: 5, after: $after,
  orderBy: {field: SUBMITTED_AT, direction: ASC}) { edges { cursor } } }"""
CREATE_FIRM = """mutation($n: String!) { createFirm(input: {name: $n}) { firm { id } errors { code message field } } }"""
JAMES_EMAIL = "james.morgan@morganlegal.example"
PASSWORD = "Sturdy-Lantern-Morning-64"


def errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


def cursor(*key: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


async def signed_in_clerk(api: Api) -> str:
    return await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)


# Item 2: a clerk never decides anything about their own account.


async def test_a_clerk_cannot_approve_their_own_registration_and_take_a_filers_login(api: Api) -> None:
    clerk = await signed_in_clerk(api)
    submitted = (
        await api.data(
            SUBMIT, {"i": {"role": "ATTORNEY", "barNumber": "MA-424242"}}, court="mad", token=clerk
        )
    )["submitRegistration"]
    assert submitted["errors"] == []
    registration = submitted["registration"]["id"]
    links, privileges, events = (
        await CmecfLink.all().count(),
        await FilingPrivilege.all().count(),
        await AuditEvent.all().count(),
    )
    decided = (
        await api.data(
            DECIDE,
            {"i": {"id": registration, "approve": True, "linkCmecfLogin": "jmorgan"}},
            court="mad",
            token=clerk,
        )
    )["decideRegistration"]
    assert errors(decided) == [("FORBIDDEN", "id")]
    assert "another clerk" in decided["errors"][0]["message"]
    # Nothing changed: still pending, no link, no privilege, nothing audited.
    clerk_id = (await PacerAccount.get(username_key=CLERKS["mad"])).id
    assert (await Registration.get(account_id=clerk_id, court_id="mad")).status.name == "PENDING"
    assert (await CmecfLink.all().count(), await FilingPrivilege.all().count()) == (links, privileges)
    assert await AuditEvent.all().count() == events
    assert (await api.data(CAN_FILE, token=clerk))["me"]["canFile"] is False
    # A rejection of their own is refused the same way.
    rejected = await api.data(
        DECIDE, {"i": {"id": registration, "approve": False, "reason": "mine"}}, court="mad", token=clerk
    )
    assert errors(rejected["decideRegistration"]) == [("FORBIDDEN", "id")]
    # jmorgan's owner still links it.
    james = await api.sign_in(*FILER)
    linked = (await api.data(LINK, {"l": "jmorgan", "p": LEGACY_ECF_PASSWORD}, court="mad", token=james))[
        "linkCmecfAccount"
    ]
    assert linked["errors"] == [] and linked["privilege"] is not None


async def test_a_clerk_cannot_revoke_list_cases_on_or_bill_their_own_account(api: Api) -> None:
    """The clerk's privilege, granted by another clerk of the court: the clerk may not revoke
    it, list a case on it, nor record usage against their own account."""
    await grant_clerk(CourtRegistry(load_courts(TENANTS)).get("mad"), "mlopez2018")
    other = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    clerk = await signed_in_clerk(api)
    submitted = (
        await api.data(
            SUBMIT, {"i": {"role": "PRO_SE", "caseNumber": "1:26-cv-10001"}}, court="mad", token=clerk
        )
    )["submitRegistration"]
    approved = (
        await api.data(
            DECIDE, {"i": {"id": submitted["registration"]["id"], "approve": True}}, court="mad", token=other
        )
    )["decideRegistration"]
    own = approved["privilege"]["id"]
    revoked = await api.data(REVOKE, {"i": {"id": own, "reason": "mine"}}, court="mad", token=clerk)
    assert errors(revoked["revokeFilingPrivilege"]) == [("FORBIDDEN", "id")]
    added = await api.data(
        ADD_CASE, {"i": {"privilegeId": own, "caseNumber": "1:26-cv-10002"}}, court="mad", token=clerk
    )
    assert errors(added["addPrivilegeCase"]) == [("FORBIDDEN", "privilegeId")]
    number = (await PacerAccount.get(username_key=CLERKS["mad"])).account_number
    billed = await api.data(
        USAGE, {"i": {"accountNumber": number, "kind": "SEARCH", "pages": 1}}, court="mad", token=clerk
    )
    assert errors(billed["recordUsage"]) == [("FORBIDDEN", "accountNumber")]
    # Another account's usage the clerk still records.
    james = await api.data(
        USAGE, {"i": {"accountNumber": JAMES_NUMBER, "kind": "SEARCH", "pages": 1}}, court="mad", token=clerk
    )
    assert james["recordUsage"]["errors"] == []


# Item 7: retrieveCmecfLogin, throttled, and the same steps whether or not the roster holds the address.


async def test_login_reminders_from_one_address_stop_at_ten(api: Api) -> None:
    for _ in range(25):
        ok = await api.data(
            REMIND, {"e": JAMES_EMAIL}, court="mab", headers={"X-Forwarded-For": "198.51.100.25"}
        )
        assert ok["retrieveCmecfLogin"] == {"ok": True, "errors": []}
    await api.no_more_mail()
    # The mailbox's own limit (5 an hour) is the lower one here; the address's is 10.
    assert len(api.mails(JAMES_EMAIL)) == throttle.CMECF_RETRIEVALS_TO.limit
    for n in range(25):
        other = {"X-Forwarded-For": "198.51.100.26"}
        await api.data(REMIND, {"e": f"nobody{n}@example.org"}, court="mab", headers=other)
    locked = await throttle.locked_until(throttle.CMECF_RETRIEVALS, "198.51.100.26")
    assert locked is not None


async def test_a_login_reminder_answers_before_its_mail_is_written(api: Api) -> None:
    """Known and unknown addresses answer alike, and the mail is written after the answer."""
    known = await api.data(REMIND, {"e": JAMES_EMAIL}, court="mab")
    unknown = await api.data(REMIND, {"e": "ghost@example.org"}, court="mab")
    assert known == unknown == {"retrieveCmecfLogin": {"ok": True, "errors": []}}
    [mail] = await api.wait_mails(JAMES_EMAIL)
    assert "jmorgan" in mail.get_content()


# Item 8: probes that confirm an account exists.


async def test_probing_usernames_by_registering_is_throttled_per_address(api: Api) -> None:
    probe = {"X-Forwarded-For": "198.51.100.80"}
    answers = []
    for n in range(throttle.REGISTRATIONS.limit + 2):
        sent = {"username": FILER[0], "password": PASSWORD, "firstName": "Eve", "lastName": f"Probe{n}",
                "email": f"eve{n}@example.org"}  # fmt: skip
        answers.append(errors((await api.data(REGISTER, {"i": sent}, headers=probe))["registerPacerAccount"]))
    assert (
        answers[: throttle.REGISTRATIONS.limit]
        == [[("USERNAME_TAKEN", "username")]] * throttle.REGISTRATIONS.limit
    )
    assert answers[throttle.REGISTRATIONS.limit :] == [[("RATE_LIMITED", None)]] * 2
    # A fresh name from there is refused too; another address registers.
    fresh = {"username": "evefresh2026", "password": PASSWORD, "firstName": "Eve", "lastName": "Fresh",
             "email": "evefresh@example.org"}  # fmt: skip
    refused = (await api.data(REGISTER, {"i": fresh}, headers=probe))["registerPacerAccount"]
    assert errors(refused) == [("RATE_LIMITED", None)]
    elsewhere = await api.data(REGISTER, {"i": fresh}, headers={"X-Forwarded-For": "198.51.100.81"})
    assert elsewhere["registerPacerAccount"]["errors"] == []


async def test_already_linked_probes_count_toward_the_link_throttle(api: Api) -> None:
    """An attacker with an account asks for logins that are linked already: each answer is
    CMECF_ALREADY_LINKED (for the owner's sake), and each counts as a failed attempt."""
    owner = await api.sign_in(*FILER)
    done = await api.data(LINK, {"l": "jmorgan", "p": LEGACY_ECF_PASSWORD}, court="mad", token=owner)
    assert done["linkCmecfAccount"]["errors"] == []
    prober, _ = await register(api, "linkprober", "Pat", "Prober")
    for _ in range(throttle.LINK_ATTEMPTS.limit):
        probe = await api.data(LINK, {"l": "jmorgan", "p": "anything"}, court="mad", token=prober)
        assert errors(probe["linkCmecfAccount"]) == [("CMECF_ALREADY_LINKED", "login")]
    blocked = await api.data(LINK, {"l": "jmorgan", "p": "anything"}, court="mad", token=prober)
    assert errors(blocked["linkCmecfAccount"]) == [("RATE_LIMITED", None)]


# Item 9: out-of-range dates are the caller's mistake, named.


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"since": "0001-01-01T00:00:00"}, "since"),
        ({"since": "0001-01-01T00:00:00+05:00"}, "since"),
        ({"until": "0001-01-01T03:00:00+14:00"}, "until"),
        ({"until": "9999-12-31T23:00:00-05:00"}, "until"),
        ({"since": "9999-12-31T23:59:59"}, "since"),
        ({"since": "2026-01-01T00:00:00Z", "until": "9999-12-31T20:00:00-08:00"}, "until"),
    ],
)
async def test_audit_dates_out_of_range_are_invalid_input(
    api: Api, variables: dict[str, str], field: str
) -> None:
    clerk = await signed_in_clerk(api)
    body = await api.gql(AUDIT, variables, court="mad", token=clerk)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", error
    assert error["extensions"]["field"] == field and field in error["message"]


async def test_a_registrations_cursor_holding_an_impossible_date_is_invalid_input(api: Api) -> None:
    clerk = await signed_in_clerk(api)
    page = await api.data(REGISTRATIONS, court="mad", token=clerk)
    assert page["registrations"]["edges"]  # the list pages, with its own cursors
    for moment in ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00"]:
        forged = cursor(moment, 1, "submitted_at:asc")
        body = await api.gql(REGISTRATIONS, {"after": forged}, court="mad", token=clerk)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT", error
        assert error["extensions"]["field"] == "after"


async def test_a_subscription_cursor_of_an_impossible_time_is_invalid_input(api: Api) -> None:
    james = await api.sign_in(*FILER)
    forged = cursor("e", 1, 2**62)
    async with event_stream(
        api.app, "/graphql", query=MY_EVENTS, variables={"after": forged}, token=james
    ) as sse:
        assert sse.status == 200
        name, data = await sse.event()
    assert name == "next"
    [error] = data["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT", error
    assert "after" in error["message"]


# Item 10: control characters in single-line fields, and mail headers no value can break.


@pytest.mark.parametrize(
    "name", ["Acme\nLaw", "Acme\r\nBcc: victim@example.org", "Acme\x07Law", "Acme\u2028Law"]
)
async def test_a_firm_name_with_a_line_break_is_refused(api: Api, name: str) -> None:
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    refused = (await api.data(CREATE_FIRM, {"n": name}, token=maria))["createFirm"]
    assert errors(refused) == [("INVALID_INPUT", "name")] and refused["firm"] is None
    assert await Firm.all().count() == 0


async def test_other_single_line_fields_refuse_control_characters(api: Api) -> None:
    sent = {"username": "evenewline", "password": PASSWORD, "firstName": "Eve\nBcc: x@example.org",
            "lastName": "Line", "email": "eve@example.org"}  # fmt: skip
    assert errors((await api.data(REGISTER, {"i": sent}))["registerPacerAccount"]) == [
        ("INVALID_INPUT", "firstName")
    ]
    sent = {**sent, "firstName": "Eve", "lastName": "Line\x1b[2J"}
    assert errors((await api.data(REGISTER, {"i": sent}))["registerPacerAccount"]) == [
        ("INVALID_INPUT", "lastName")
    ]
    clerk = await signed_in_clerk(api)
    key = await api.data(
        """mutation { createCourtServiceKey(input: {name: "CM/ECF\\nsync", scopes: [READ_ROSTER]}) {
          errors { code field } } }""",
        court="mad",
        token=clerk,
    )
    assert errors(key["createCourtServiceKey"]) == [("INVALID_INPUT", "name")]
    usage = {"accountNumber": JAMES_NUMBER, "kind": "SEARCH", "pages": 1, "description": "search\r\nfor x"}
    billed = await api.data(USAGE, {"i": usage}, court="mad", token=clerk)
    assert errors(billed["recordUsage"]) == [("INVALID_INPUT", "description")]
    coded = await api.data(
        USAGE, {"i": {**usage, "description": None, "clientCode": "acme\n"}}, court="mad", token=clerk
    )
    assert errors(coded["recordUsage"]) == [("INVALID_INPUT", "clientCode")]
    assert not await PacerAccount.filter(username_key="evenewline").exists()


async def test_a_rejection_reason_keeps_its_line_breaks(api: Api) -> None:
    filer, _ = await register(api, "kimreasons", "Kim", "Reasons")
    submitted = (await api.data(SUBMIT, {"i": {"role": "MEDIA"}}, court="mad", token=filer))[
        "submitRegistration"
    ]
    clerk = await signed_in_clerk(api)
    reason = "Your outlet is not accredited.\nSend the accreditation letter with a new request."
    rejected = await api.data(
        DECIDE, {"i": {"id": submitted["registration"]["id"], "approve": False, "reason": reason}}, court="mad",
        token=clerk,
    )  # fmt: skip
    assert rejected["decideRegistration"]["errors"] == []
    # The first mail verified the address she registered with; the decision follows it.
    [verification, mail] = await api.wait_mails("kimreasons@example.org", count=2)
    assert "Email verification token:" in verification.get_content()
    assert reason in mail.get_content()


async def test_a_legacy_firm_name_holding_a_line_break_cannot_break_its_mail(api: Api) -> None:
    """A name stored before the rule (or by a hand in the database): the invitation is saved
    and mailed, its subject on one line."""
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    firm = await create_firm(api, maria, "Acme Law")
    await Firm.filter(name="Acme Law").update(name="Acme\r\nBcc: victim@example.org\nLaw")
    invited = await invite(api, maria, JAMES_NUMBER, "Morgan")
    assert invited["errors"] == [] and invited["invitation"]["status"] == "PENDING"
    assert await FirmInvitation.all().count() == 1
    [mail] = api.mails(JAMES_EMAIL)
    assert mail["Subject"] == "Invitation to join Acme Bcc: victim@example.org Law on PACER"
    assert mail["Bcc"] is None and mail["To"] == JAMES_EMAIL
    assert firm["name"] == "Acme Law"
