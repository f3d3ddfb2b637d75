"""What the provider says about a person, by scope (the ID token's claims and ``userinfo``).

``openid``: ``sub``, a stable opaque id of the account, the same for every client (a keyed
hash of the account's id: it survives a rename and says nothing by itself). ``profile``,
``email``, ``pacer``: the account's names, email and PACER account number and type.
``cmecf`` (a court's own system only): the person's filing privilege at that court, its
permissions and cases, and the legacy CM/ECF login linked there, or null.
"""

from __future__ import annotations

from typing import Any

from nextgen_gql.models import PacerAccount
from nextgen_gql.models.filing import CmecfLink, FilingPrivilege, PrivilegeCase
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.permissions import permissions_of

__all__ = ["LOA_1", "LOA_2", "acr", "amr", "of", "session_id", "subject"]

LOA_1 = "urn:nextgen:loa:1"
LOA_2 = "urn:nextgen:loa:2"


def subject(sealer: Sealer, account_id: int) -> str:
    """The account's ``sub``: keyed by the service's secret key, the same for every client."""
    return sealer.code_hash(f"oidc-sub:{account_id}")[:40]


def session_id(sealer: Sealer, session_id: int) -> str:
    """A session's ``sid`` (back-channel logout names it)."""
    return sealer.code_hash(f"oidc-sid:{session_id}")[:40]


def acr(second_factor: bool) -> str:
    return LOA_2 if second_factor else LOA_1


def amr(second_factor: bool) -> list[str]:
    return ["pwd", "otp", "mfa"] if second_factor else ["pwd"]


async def of(sealer: Sealer, account: PacerAccount, scope: str, court: str | None) -> dict[str, Any]:
    """The claims ``scope`` allows about ``account``; ``court``: the client's court, if any."""
    scopes = set(scope.split())
    found: dict[str, Any] = {"sub": subject(sealer, account.id)}
    if "profile" in scopes:
        found.update(
            name=f"{account.first_name} {account.last_name}".strip(),
            given_name=account.first_name,
            family_name=account.last_name,
            preferred_username=account.username,
        )
    if "email" in scopes:
        found.update(email=account.email, email_verified=bool(account.email_verified))
    if "pacer" in scopes:
        found.update(
            pacer_account_number=account.account_number,
            pacer_account_type="legacy" if account.is_legacy else "upgraded",
        )
    if "cmecf" in scopes and court is not None:
        found["cmecf_privilege"] = await _privilege(account.id, court)
    return found


async def _privilege(account_id: int, court: str) -> dict[str, Any] | None:
    privilege = await FilingPrivilege.filter(account_id=account_id, court_id=court, revoked_at=None).first()
    if privilege is None:
        return None
    cases = await PrivilegeCase.filter(privilege_id=privilege.id).values_list("case_number", flat=True)
    link = (
        await CmecfLink.filter(account_id=account_id, court_id=court).select_related("cmecf_account").first()
    )
    return {
        "role": privilege.role.name,
        "permissions": sorted(p.name for p in permissions_of(privilege)),
        "cases": sorted(str(c) for c in cases),
        "linked_login": link.cmecf_account.login if link is not None else None,
    }
