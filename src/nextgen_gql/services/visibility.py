"""Who may see what: an account sees itself; its firm's administrators see it; a court's
clerks see the accounts tied to their court (linked there, holding a privilege there, or
asking for one). Nobody else sees an account.
"""

from __future__ import annotations

from nextgen_gql.models import Clerk, CmecfLink, FilingPrivilege, PacerAccount, Registration
from nextgen_gql.services.firms import is_admin_of_member
from nextgen_gql.tenancy import Court

__all__ = ["can_view_account", "clerk_courts"]


async def clerk_courts(viewer: PacerAccount) -> set[str]:
    """Codes of the courts whose clerk ``viewer`` is."""
    return set(await Clerk.filter(account_id=viewer.id).values_list("court_id", flat=True))  # type: ignore[arg-type]


async def can_view_account(viewer: PacerAccount | None, account_id: int) -> bool:
    if viewer is None:
        return False
    if viewer.id == account_id or await is_admin_of_member(viewer.id, account_id):
        return True
    courts = await clerk_courts(viewer)
    if not courts:
        return False
    if await CmecfLink.filter(account_id=account_id, court_id__in=courts).exists():
        return True
    if await FilingPrivilege.filter(account_id=account_id, court_id__in=courts).exists():
        return True
    return await Registration.filter(account_id=account_id, court_id__in=courts).exists()


async def can_view_in_court(viewer: PacerAccount | None, court: Court, owner_id: int | None) -> bool:
    """Court-scoped rows (a legacy account, a privilege): their owner and the court's clerks."""
    if viewer is None:
        return False
    if owner_id is not None and viewer.id == owner_id:
        return True
    return await Clerk.filter(account_id=viewer.id, court_id=court.code).exists()
