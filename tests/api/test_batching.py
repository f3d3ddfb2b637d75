"""No N+1: the number of SQL statements of a page does not grow with its length."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from nextgen_gql.enums import FilerRole, PrivilegeSource
from nextgen_gql.models import CmecfAccount, CmecfLink, FilingPrivilege, PacerAccount
from nextgen_gql.services.clock import now
from nextgen_gql.settings import Settings
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api

PAGE = """query($first: Int) { cmecfAccounts(first: $first) { edges { node {
  login court { code } linkedAt linkedAccount { username privileges { role court { code } } cmecfAccounts { login } }
  linkedBy { username } } } } }"""


@pytest.fixture(params=["compiled", "reference"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Each count for each executor alone: the compiled path, and the reference executor."""
    return settings.with_(compiled=request.param == "compiled", compiled_check=False)


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "court_catalog" in message:
            return  # the process's own check of the court catalog's version, not the request's
        self.statements.append(message)


@contextmanager
def counting_sql() -> Iterator[list[str]]:
    """Every SQL statement sent while inside: Tortoise's, and the compiled path's reads."""
    handler = _Counter()
    loggers = [logging.getLogger("tortoise.db_client"), logging.getLogger("nextgen_gql.rows")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield handler.statements
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


async def statement_counts(
    api: Api, query: str, edges: Callable[[dict[str, Any]], list[Any]], **kw: Any
) -> dict[int, int]:
    """SQL statements the query costs for a page of 2 and of 30 rows (each page checked full)."""
    counts = {}
    for first in (2, 30):
        with counting_sql() as statements:
            data = await api.data(query, {"first": first}, **kw)
        assert len(edges(data)) == first
        counts[first] = len(statements)
    return counts


async def linked_roster(size: int) -> None:
    """``size`` legacy accounts of mad, each linked to a PACER account of its own."""
    at = now()
    for i in range(size):
        account = await PacerAccount.create(
            account_number=f"{5_000_000 + i}",
            username=f"bulkfiler{i:03}",
            username_key=f"bulkfiler{i:03}",
            first_name="Bulk",
            last_name=f"Filer{i}",
            email=f"bulk{i}@example.org",
            password_hash="x",
            created_at=at,
        )
        legacy = await CmecfAccount.create(
            court_id="mad",
            login=f"bulk{i:03}",
            login_key=f"bulk{i:03}",
            first_name="Bulk",
            last_name=f"Filer{i}",
            role=FilerRole.ATTORNEY,
            password_hash=None,
            created_at=at,
        )
        await CmecfLink.create(
            cmecf_account_id=legacy.id,
            court_id="mad",
            account_id=account.id,
            linked_by_id=account.id,
            linked_at=at,
        )
        await FilingPrivilege.create(
            account_id=account.id,
            court_id="mad",
            role=FilerRole.ATTORNEY,
            source=PrivilegeSource.LINKED_LEGACY_ACCOUNT,
            granted_at=at,
        )


async def test_a_roster_page_costs_the_same_statements_for_2_rows_and_for_30(api: Api) -> None:
    await linked_roster(30)
    token = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    counts = await statement_counts(
        api, PAGE, lambda d: d["cmecfAccounts"]["edges"], court="mad", token=token
    )
    assert counts[2] == counts[30], counts
    assert counts[30] <= 13, counts  # session, clerk check, count, page (ids, then rows), one per relation


LISTS = {
    "registrations queue": (
        "mad",
        "clerk",
        """query($first: Int) { registrations(first: $first) { edges { node { id role status court { code }
        account { username email privileges { role } registrations { id } } decidedBy { username } } } } }""",
        "registrations",
    ),
    "audit trail": (
        "mad",
        "clerk",
        """query($first: Int) { auditEvents(first: $first) { edges { node { action court { code }
        actor { username email } subject { username accountNumber } } } } }""",
        "auditEvents",
    ),
}


async def applicants(count: int) -> None:
    """``count`` accounts, each with a pending registration at mad."""
    from nextgen_gql.enums import RegistrationStatus
    from nextgen_gql.models import AuditEvent, Registration

    at = now()
    for i in range(count):
        account = await PacerAccount.create(
            account_number=f"{6_000_000 + i}",
            username=f"applicant{i:03}",
            username_key=f"applicant{i:03}",
            first_name="App",
            last_name=f"Licant{i}",
            email=f"app{i}@example.org",
            password_hash="x",
            created_at=at,
        )
        await Registration.create(
            court_id="mad",
            account_id=account.id,
            role=FilerRole.MEDIA,
            status=RegistrationStatus.PENDING,
            open_key=f"{account.id}:mad:media",
            submitted_at=at,
        )
        await AuditEvent.create(
            at=at, action="registration.submit", actor_id=account.id, subject_id=account.id, court_id="mad"
        )


@pytest.mark.parametrize("name", list(LISTS))
async def test_list_statement_counts_do_not_grow_with_length(api: Api, name: str) -> None:
    court, _, query, field = LISTS[name]
    await applicants(30)
    token = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    counts = await statement_counts(api, query, lambda d: d[field]["edges"], court=court, token=token)
    assert counts[2] == counts[30], (name, counts)


async def test_the_privileges_list_statement_count_does_not_grow(api: Api) -> None:
    await linked_roster(30)
    clerk = await PacerAccount.get(username_key="madclerk01")
    # Some revoked on either page (their revoker is loaded); the demo's have cases (loaded per page).
    await FilingPrivilege.filter(
        account__username_key__in=["dwalsh2022", "bulkfiler001", "bulkfiler005"]
    ).update(revoked_at=now(), revoked_by_id=clerk.id, revoked_reason="r")
    token = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    query = """query($first: Int) { privileges(first: $first) { totalCount edges { node { role permissions cases
      proHacVice revokedAt revokedReason revokedBy { username } court { code }
      account { username email privileges { role cases } } } } } }"""
    counts = await statement_counts(api, query, lambda d: d["privileges"]["edges"], court="mad", token=token)
    assert counts[2] == counts[30], counts


async def test_firm_members_page_statement_count_does_not_grow(api: Api) -> None:
    from nextgen_gql.models import Firm, FirmMembership

    await linked_roster(30)
    admin = await PacerAccount.get(username_key="madclerk01")
    firm = await Firm.create(account_number="7777777", name="Big Firm", created_at=now())
    await FirmMembership.create(firm_id=firm.id, account_id=admin.id, is_admin=True, joined_at=now())
    for account in await PacerAccount.filter(username_key__startswith="bulkfiler"):
        await FirmMembership.create(firm_id=firm.id, account_id=account.id, is_admin=False, joined_at=now())
    token = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    query = """query($first: Int) { me { firm { members(first: $first) { edges { node { username email
      privileges { court { code } } cmecfAccounts { login linkedAt } firm { name } } } } } } }"""
    counts = await statement_counts(api, query, lambda d: d["me"]["firm"]["members"]["edges"], token=token)
    assert counts[2] == counts[30], counts


HOT_STATEMENTS = {
    # the session, with the viewer's privileges and firm in the same statement
    "me": (
        "/graphql",
        FILER,
        "{ me { username email privileges { role court { code } } firm { name } } }",
        1,
    ),
    # the session with the viewer's clerkships; the page with its links, accounts and count
    "roster": (
        "mad",
        (CLERKS["mad"], CLERK_PASSWORD),
        """{ cmecfAccounts(first: 20) { totalCount edges { node { login linkedAt
          linkedAccount { username email } linkedBy { username } } } } }""",
        2,
    ),
}


@pytest.mark.parametrize("name", list(HOT_STATEMENTS))
async def test_the_compiled_hot_paths_read_what_their_plans_need_in_few_statements(
    api: Api, settings: Settings, name: str
) -> None:
    if not settings.compiled:
        pytest.skip("the compiled path's plans")
    await linked_roster(5)
    where, (username, password), query, expected = HOT_STATEMENTS[name]
    token = await api.sign_in(username, password, redactionAcknowledged=True)
    with counting_sql() as statements:
        await api.data(query, court=None if where == "/graphql" else where, token=token)
    assert len(statements) == expected, statements
