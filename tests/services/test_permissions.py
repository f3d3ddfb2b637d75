"""The permissions table, held against DOMAIN.md's, and canFile's rule on it (pure: no database)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from nextgen_gql.enums import CourtKind, FilerPermission, FilerRole, PrivilegeSource
from nextgen_gql.errors import ErrorCode
from nextgen_gql.models import FilingPrivilege, PacerAccount
from nextgen_gql.services.case_numbers import CaseNumberInvalid
from nextgen_gql.services.permissions import (
    CASE_RESTRICTED,
    GRANTS,
    can_file,
    describe,
    is_case_restricted,
    permissions_of,
)
from nextgen_gql.tenancy import Court
from tests.conftest import REPO

R, P = FilerRole, FilerPermission
DOMAIN = REPO.parent / "shared" / "DOMAIN.md"
# DOMAIN.md, "Filer permissions by role" (2026-11-23), as written there.
TABLE = """\
| attorney | FILE_IN_ANY_CASE, OPEN_NEW_CASES, RECEIVE_NOTICES | - |
| attorney, pro hac vice | FILE_IN_LISTED_CASES, RECEIVE_NOTICES | its cases |
| pro se party | FILE_IN_LISTED_CASES, RECEIVE_NOTICES | its cases |
| media | RECEIVE_NOTICES | - |
| creditor (bankruptcy) | FILE_CLAIMS, RECEIVE_NOTICES | - |
| filing agent (bankruptcy) | FILE_IN_ANY_CASE, RECEIVE_NOTICES | - |
| trustee (bankruptcy) | FILE_IN_ANY_CASE, RECEIVE_NOTICES | - |
| revoked, any role | none | kept for the record |"""
ROWS = {
    "attorney": (R.ATTORNEY, False),
    "attorney, pro hac vice": (R.ATTORNEY, True),
    "pro se party": (R.PRO_SE, False),
    "media": (R.MEDIA, False),
    "creditor (bankruptcy)": (R.CREDITOR, False),
    "filing agent (bankruptcy)": (R.FILING_AGENT, False),
    "trustee (bankruptcy)": (R.TRUSTEE, False),
}
AT = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
MAD = Court("mad", "D. Mass.", CourtKind.DISTRICT, dt.date(2021, 9, 20), (R.ATTORNEY, R.PRO_SE, R.MEDIA))
MAB = Court("mab", "Bankr. D. Mass.", CourtKind.BANKRUPTCY, dt.date(2021, 9, 20), (R.CREDITOR,))
LEGACY_COURT = Court("nysd", "S.D.N.Y.", CourtKind.DISTRICT, None, (R.ATTORNEY,))


def parse_table(text: str) -> dict[str, tuple[set[str], str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("privilege", "---") and not set(cells[0]) <= {"-"}:
            granted = set() if cells[1] == "none" else {p.strip() for p in cells[1].split(",")}
            rows[cells[0]] = (granted, cells[2])
    return rows


def test_the_table_is_domain_mds() -> None:
    expected = parse_table(TABLE)
    if DOMAIN.exists():  # beside the repository, as ../shared
        section = DOMAIN.read_text(encoding="utf-8").split("## Filer permissions by role", 1)[1]
        assert parse_table(section.split("\n- ", 1)[0]) == expected
    assert set(GRANTS) == set(ROWS.values())
    for name, key in ROWS.items():
        granted, cases = expected[name]
        assert {p.name for p in GRANTS[key]} == granted, name
        assert is_case_restricted(*key) == (cases == "its cases"), name
    assert expected["revoked, any role"] == (set(), "kept for the record")
    assert {(R.ATTORNEY, True), (R.PRO_SE, False)} == CASE_RESTRICTED


def privilege(
    role: FilerRole, *, pro_hac_vice: bool = False, court: str = "mad", revoked: bool = False, pk: int = 1
) -> FilingPrivilege:
    row = FilingPrivilege(
        id=pk,
        role=role,
        source=PrivilegeSource.REGISTRATION,
        granted_at=AT,
        pro_hac_vice=pro_hac_vice,
        revoked_at=AT if revoked else None,
    )
    # Foreign-key columns, as a loaded row has them (no database here).
    row.court_id, row.account_id = court, 7
    return row


def account(*, legacy: bool = False, shared: bool = False) -> PacerAccount:
    created = dt.datetime(2011, 1, 1, tzinfo=dt.UTC) if legacy else AT
    return PacerAccount(id=7, created_at=created, upgraded_at=None, is_shared=shared)


@pytest.mark.parametrize(("name", "key"), list(ROWS.items()))
def test_permissions_follow_the_role_and_revocation_takes_them_all(
    name: str, key: tuple[FilerRole, bool]
) -> None:
    live = privilege(key[0], pro_hac_vice=key[1])
    assert set(permissions_of(live)) == GRANTS[key]
    assert permissions_of(live) == [p for p in FilerPermission if p in GRANTS[key]]  # the enum's order
    assert permissions_of(privilege(key[0], pro_hac_vice=key[1], revoked=True)) == []


@pytest.mark.parametrize(
    ("role", "phv", "court_wide", "in_listed_case", "in_other_case"),
    [
        (R.ATTORNEY, False, True, True, True),
        (R.ATTORNEY, True, False, True, False),
        (R.PRO_SE, False, False, True, False),
        (R.MEDIA, False, False, False, False),  # read-only noticing: never files
        (R.CREDITOR, False, True, True, True),  # files claims
        (R.FILING_AGENT, False, True, True, True),
        (R.TRUSTEE, False, True, True, True),
    ],
)
def test_can_file_by_role_and_case(
    role: FilerRole, phv: bool, court_wide: bool, in_listed_case: bool, in_other_case: bool
) -> None:
    court = MAB if role in (R.CREDITOR, R.FILING_AGENT, R.TRUSTEE) else MAD
    listed, other = ("24-10001", "24-10002") if court is MAB else ("1:24-cv-10001", "1:24-cv-10002")
    held = [privilege(role, pro_hac_vice=phv, court=court.code)]
    cases = {1: [listed]}
    assert can_file(account(), court, held) is court_wide
    assert can_file(account(), court, held, listed + "-ABC", cases=cases) is in_listed_case
    assert can_file(account(), court, held, other, cases=cases) is in_other_case
    revoked = [privilege(role, pro_hac_vice=phv, court=court.code, revoked=True)]
    assert can_file(account(), court, revoked) is False
    assert can_file(account(), court, revoked, listed, cases=cases) is False


def test_can_file_needs_a_filer_a_nextgen_court_and_a_privilege_there() -> None:
    attorney = [privilege(R.ATTORNEY)]
    assert can_file(account(legacy=True), MAD, attorney) is False
    assert can_file(account(shared=True), MAD, attorney) is False
    assert can_file(account(), MAB, attorney) is False  # another court's privilege
    assert can_file(account(), MAD, []) is False
    elsewhere = [privilege(R.ATTORNEY, court="nysd")]
    assert can_file(account(), LEGACY_COURT, elsewhere) is False  # still on legacy CM/ECF
    # A revoked privilege beside a live one of another role: the live one decides.
    both = [privilege(R.ATTORNEY, revoked=True), privilege(R.MEDIA, pk=2)]
    assert can_file(account(), MAD, both) is False


def test_a_malformed_case_number_is_refused_before_anything_else() -> None:
    for held in ([], [privilege(R.ATTORNEY)]):
        with pytest.raises(CaseNumberInvalid) as caught:
            can_file(account(legacy=True), MAD, held, "24-10001", cases={})
        assert caught.value.code is ErrorCode.CASE_NUMBER_INVALID


def test_describe_says_what_a_person_may_do() -> None:
    pro_se = permissions_of(privilege(R.PRO_SE))
    assert describe(pro_se, ["1:24-cv-10001"]) == (
        "You may file in case 1:24-cv-10001 and receive notices of electronic filing."
    )
    assert "none yet" in describe(pro_se)
    assert describe(permissions_of(privilege(R.MEDIA))) == "You may receive notices of electronic filing."
    assert describe([]) == "You may do nothing with this privilege."
    assert re.search(
        r"file in any case, open new cases and receive", describe(permissions_of(privilege(R.ATTORNEY)))
    )
