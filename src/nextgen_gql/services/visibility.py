"""Who may see what: an account sees itself; its firm's administrators see it; a court's
clerks see the accounts tied to their court (linked there, holding a privilege there, or
asking for one). Nobody else sees an account.

Of a filing privilege, whoever may see it sees whether and when it was revoked; why, and
by whom, only its holder and the clerks of its court (``sees_revocation_detail``).
"""

from __future__ import annotations

from dataclasses import dataclass

from nextgen_gql.models import Clerk, CmecfLink, FilingPrivilege, FirmMembership, PacerAccount, Registration
from nextgen_gql.services.firms import is_admin_of_member
from nextgen_gql.tenancy import Court

__all__ = [
    "FULL_ACCESS",
    "NO_ACCESS",
    "AccountAccess",
    "can_view_account",
    "clerk_courts",
    "decide_access",
    "sees_contact_of_tied",
    "sees_revocation_detail",
]


@dataclass(frozen=True)
class AccountAccess:
    """What a viewer may see of one account: everything, or what concerns some courts."""

    full: bool = False
    courts: frozenset[str] = frozenset()

    @property
    def sees_contact(self) -> bool:
        """Email and account number: the account, its firm's admins, the clerks of its courts."""
        return self.full or bool(self.courts)

    def sees_court(self, code: str) -> bool:
        return self.full or code in self.courts


NO_ACCESS = AccountAccess()
FULL_ACCESS = AccountAccess(full=True)


def decide_access(
    *,
    viewer_id: int | None,
    account_id: int,
    viewer_admin_firm_id: int | None,
    account_firm_id: int | None,
    viewer_clerk_courts: frozenset[str],
    account_courts: set[str],
) -> AccountAccess:
    """The rule, on facts gathered by the caller (in batches)."""
    if viewer_id is None:
        return NO_ACCESS
    if viewer_id == account_id:
        return FULL_ACCESS
    if viewer_admin_firm_id is not None and viewer_admin_firm_id == account_firm_id:
        return FULL_ACCESS
    return AccountAccess(courts=frozenset(viewer_clerk_courts & account_courts))


def sees_contact_of_tied(*, viewer_clerk_courts: frozenset[str], court_code: str) -> bool:
    """Whether the viewer sees the contact details of an account known to be tied to
    ``court_code`` (an applicant to the court of their registration): its clerks do, by
    ``decide_access``'s rule, whatever else is known of the account. False means undecided here,
    not hidden: the other facts may still show them."""
    return court_code in viewer_clerk_courts


def sees_revocation_detail(
    *, viewer_id: int | None, holder_id: int, court_code: str, viewer_clerk_courts: frozenset[str]
) -> bool:
    """Whether the viewer sees the reason for a revocation and who revoked: the holder, the court's clerks."""
    return viewer_id is not None and (viewer_id == holder_id or court_code in viewer_clerk_courts)


async def clerk_courts(viewer: PacerAccount) -> set[str]:
    """Codes of the courts whose clerk ``viewer`` is."""
    return set(await Clerk.filter(account_id=viewer.id).values_list("court_id", flat=True))  # type: ignore[arg-type]


async def courts_of_account(account_id: int, among: set[str]) -> set[str]:
    """The courts of ``among`` the account is tied to: linked, privileged or registered there."""
    tied: set[str] = set()
    for model in (CmecfLink, FilingPrivilege, Registration):
        rows = await model.filter(account_id=account_id, court_id__in=among).values_list(
            "court_id", flat=True
        )
        tied |= {str(code) for code in rows}
    return tied


async def can_view_account(viewer: PacerAccount | None, account_id: int) -> bool:
    """Whether ``viewer`` may see the account at all: ``decide_access`` on facts read here."""
    if viewer is None:
        return False
    if viewer.id == account_id:
        return True
    admin = await FirmMembership.get_or_none(account_id=viewer.id, is_admin=True)
    member = await FirmMembership.get_or_none(account_id=account_id)
    courts = frozenset(await clerk_courts(viewer))
    access = decide_access(
        viewer_id=viewer.id,
        account_id=account_id,
        viewer_admin_firm_id=admin.firm_id if admin else None,
        account_firm_id=member.firm_id if member else None,
        viewer_clerk_courts=courts,
        account_courts=await courts_of_account(account_id, set(courts)) if courts else set(),
    )
    return access.sees_contact


async def can_view_in_court(viewer: PacerAccount | None, court: Court, owner_id: int | None) -> bool:
    """Court-scoped rows (a legacy account, a privilege, a registration): their owner, the
    owner's firm administrators, and the court's clerks."""
    if viewer is None:
        return False
    if owner_id is not None and (viewer.id == owner_id or await is_admin_of_member(viewer.id, owner_id)):
        return True
    return await Clerk.filter(account_id=viewer.id, court_id=court.code).exists()
