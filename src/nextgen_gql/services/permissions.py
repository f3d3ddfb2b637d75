"""What a filing privilege lets its holder do: CM/ECF's grants by role, in one table.

Hold ``GRANTS`` against DOMAIN.md ("Filer permissions by role"), row for row::

    privilege                  permissions                                          cases
    attorney                   FILE_IN_ANY_CASE, OPEN_NEW_CASES, RECEIVE_NOTICES    -
    attorney, pro hac vice     FILE_IN_LISTED_CASES, RECEIVE_NOTICES                its cases
    pro se party               FILE_IN_LISTED_CASES, RECEIVE_NOTICES                its cases
    media                      RECEIVE_NOTICES                                      -
    creditor (bankruptcy)      FILE_CLAIMS, RECEIVE_NOTICES                         -
    filing agent (bankruptcy)  FILE_IN_ANY_CASE, RECEIVE_NOTICES                    -
    trustee (bankruptcy)       FILE_IN_ANY_CASE, RECEIVE_NOTICES                    -
    revoked, any role          none                                                 kept for the record

Every other layer asks this module: the GraphQL fields ``permissions`` and ``canFile``,
the clerk's ``privileges(needsCases:)`` filter, approvals and links (which privileges
take cases). Nothing here reads the database: callers load the privileges (and, to ask
about a case, their cases) in batches and pass them in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

from nextgen_gql.enums import FilerPermission, FilerRole
from nextgen_gql.models import FilingPrivilege, PacerAccount
from nextgen_gql.services.case_numbers import parse_case_number
from nextgen_gql.tenancy import Court

__all__ = [
    "CASE_RESTRICTED",
    "GRANTS",
    "can_file",
    "describe",
    "grants_of",
    "is_case_restricted",
    "is_live",
    "permissions_of",
]

P = FilerPermission

#: (role, pro hac vice) -> what a live privilege grants. A pro hac vice flag exists on attorneys only.
GRANTS: Mapping[tuple[FilerRole, bool], frozenset[FilerPermission]] = MappingProxyType(
    {
        (FilerRole.ATTORNEY, False): frozenset({P.FILE_IN_ANY_CASE, P.OPEN_NEW_CASES, P.RECEIVE_NOTICES}),
        (FilerRole.ATTORNEY, True): frozenset({P.FILE_IN_LISTED_CASES, P.RECEIVE_NOTICES}),
        (FilerRole.PRO_SE, False): frozenset({P.FILE_IN_LISTED_CASES, P.RECEIVE_NOTICES}),
        (FilerRole.MEDIA, False): frozenset({P.RECEIVE_NOTICES}),
        (FilerRole.CREDITOR, False): frozenset({P.FILE_CLAIMS, P.RECEIVE_NOTICES}),
        (FilerRole.FILING_AGENT, False): frozenset({P.FILE_IN_ANY_CASE, P.RECEIVE_NOTICES}),
        (FilerRole.TRUSTEE, False): frozenset({P.FILE_IN_ANY_CASE, P.RECEIVE_NOTICES}),
    }
)

#: The (role, pro hac vice) pairs whose privileges file only in their listed cases.
CASE_RESTRICTED: frozenset[tuple[FilerRole, bool]] = frozenset(
    key for key, granted in GRANTS.items() if P.FILE_IN_LISTED_CASES in granted
)

#: Permissions that let a holder file without naming a case first.
_FILES_ANYWHERE = frozenset({P.FILE_IN_ANY_CASE, P.FILE_CLAIMS})


def grants_of(role: FilerRole, pro_hac_vice: bool) -> frozenset[FilerPermission]:
    """What a live privilege of ``role`` grants; ValueError for a pair the table has not."""
    try:
        return GRANTS[(role, pro_hac_vice)]
    except KeyError:
        raise ValueError(f"no {role.value} privilege is pro hac vice") from None


def is_live(privilege: FilingPrivilege) -> bool:
    return privilege.revoked_at is None


def is_case_restricted(role: FilerRole, pro_hac_vice: bool) -> bool:
    """Whether such a privilege files only in its listed cases (whether it takes cases at all)."""
    return (role, pro_hac_vice) in CASE_RESTRICTED


def permissions_of(privilege: FilingPrivilege) -> list[FilerPermission]:
    """The privilege's permissions in the enum's order; none once it is revoked."""
    if not is_live(privilege):
        return []
    granted = grants_of(privilege.role, privilege.pro_hac_vice)
    return [p for p in FilerPermission if p in granted]


def can_file(
    account: PacerAccount,
    court: Court,
    privileges: Iterable[FilingPrivilege],
    case_number: str | None = None,
    *,
    cases: Mapping[int, Collection[str]] | None = None,
) -> bool:
    """Whether the account may file in ``court`` now (in ``case_number``, when given).

    True when the account is upgraded and not shared, the court is on NextGen, and a live
    privilege there has FILE_IN_ANY_CASE or FILE_CLAIMS, or, for a case, FILE_IN_LISTED_CASES
    with that case listed. ``privileges`` are the account's (any courts, revoked ones too:
    they grant nothing); ``cases`` maps a privilege id to its canonical case numbers and is
    needed only with ``case_number``.

    Raises:
        CaseNumberInvalid: ``case_number`` is no case number of the court's kind.
    """
    wanted = parse_case_number(case_number, court.kind) if case_number is not None else None
    if account.is_legacy or account.is_shared or not court.is_nextgen():
        return False
    for privilege in privileges:
        if privilege.court_id != court.code:
            continue
        granted = permissions_of(privilege)
        if _FILES_ANYWHERE.intersection(granted):
            return True
        if wanted is not None and P.FILE_IN_LISTED_CASES in granted:
            if cases is None:
                raise ValueError("can_file needs the privileges' cases to answer for a case")
            if wanted in cases.get(privilege.id, ()):
                return True
    return False


_SAYS = {
    P.FILE_IN_ANY_CASE: "file in any case",
    P.FILE_IN_LISTED_CASES: "file in the listed cases",
    P.OPEN_NEW_CASES: "open new cases",
    P.FILE_CLAIMS: "file proofs of claim and related documents",
    P.RECEIVE_NOTICES: "receive notices of electronic filing",
}


def describe(permissions: Iterable[FilerPermission], cases: Collection[str] = ()) -> str:
    """A sentence for a person ("You may file in case 1:24-cv-10001 and receive ...")."""
    parts = []
    for permission in permissions:
        if permission is P.FILE_IN_LISTED_CASES:
            listed = ", ".join(sorted(cases))
            parts.append(
                f"file in case{'s' if len(cases) > 1 else ''} {listed}"
                if cases
                else "file in the cases the court lists for you (none yet)"
            )
        else:
            parts.append(_SAYS[permission])
    if not parts:
        return "You may do nothing with this privilege."
    said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"You may {said}."
