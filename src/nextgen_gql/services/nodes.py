"""Fetching any object by type and key, for ``node(id:)``, subject to visibility."""

from __future__ import annotations

from tortoise.models import Model

from nextgen_gql.models import AuditEvent, CmecfAccount, FilingPrivilege, PacerAccount, Registration
from nextgen_gql.services.visibility import can_view_account, can_view_in_court
from nextgen_gql.tenancy import CourtRegistry

__all__ = ["visible_node"]


async def visible_node(
    viewer: PacerAccount | None, type_name: str, key: int, courts: CourtRegistry
) -> Model | None:
    """The object, if it exists and ``viewer`` may see it; None otherwise (no difference shown)."""
    if type_name == "PacerAccount":
        return await PacerAccount.get_or_none(id=key) if await can_view_account(viewer, key) else None
    if type_name == "CmecfAccount":
        legacy = await CmecfAccount.get_or_none(id=key).prefetch_related("link")
        if legacy is None or legacy.court_id not in courts:
            return None
        link = legacy.link  # type: ignore[attr-defined]
        owner = link.account_id if link else None
        return legacy if await can_view_in_court(viewer, courts.get(legacy.court_id), owner) else None
    if type_name == "FilingPrivilege":
        privilege = await FilingPrivilege.get_or_none(id=key)
        if privilege is None or privilege.court_id not in courts:
            return None
        ok = await can_view_in_court(viewer, courts.get(privilege.court_id), privilege.account_id)
        return privilege if ok else None
    if type_name == "Registration":
        registration = await Registration.get_or_none(id=key)
        if registration is None or registration.court_id not in courts:
            return None
        ok = await can_view_in_court(viewer, courts.get(registration.court_id), registration.account_id)
        return registration if ok else None
    if type_name == "AuditEvent":
        event = await AuditEvent.get_or_none(id=key)
        if event is None or viewer is None:
            return None
        if event.subject_id == viewer.id:
            return event
        if event.court_id is not None and event.court_id in courts:
            return event if await can_view_in_court(viewer, courts.get(event.court_id), None) else None
        return None
    return None
