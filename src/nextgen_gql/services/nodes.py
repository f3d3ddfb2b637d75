"""Fetching any object by type and key, for ``node(id:)``, subject to visibility."""

from __future__ import annotations

from tortoise.models import Model

from nextgen_gql.models import (
    AppGrantRecord,
    AuditEvent,
    CmecfAccount,
    CmecfLink,
    CourtServiceKey,
    FilingPrivilege,
    Firm,
    FirmInvitation,
    FirmMembership,
    PacerAccount,
    Registration,
    Session,
)
from nextgen_gql.models import Authenticator as AuthenticatorModel
from nextgen_gql.services import reminders
from nextgen_gql.services.clock import now
from nextgen_gql.services.visibility import can_view_account, can_view_in_court
from nextgen_gql.tenancy import CourtRegistry

__all__ = ["visible_node"]

# Court-scoped rows that their owner and the court's clerks may see, with their owner column.
_OWNED_IN_COURT: dict[str, tuple[type[Model], str]] = {
    "FilingPrivilege": (FilingPrivilege, "account_id"),
    "Registration": (Registration, "account_id"),
}


async def _owner_of_legacy(row: CmecfAccount) -> int | None:
    link = await CmecfLink.get_or_none(cmecf_account_id=row.id)
    return link.account_id if link else None


async def visible_node(
    viewer: PacerAccount | None, type_name: str, key: int, courts: CourtRegistry
) -> Model | reminders.Job | None:
    """The object, if it exists and ``viewer`` may see it; None otherwise (no difference shown)."""
    if viewer is None:
        return None
    if type_name == "ReminderJob":
        # As Court.reminderJob: the court's clerks (a service key has no viewer).
        job = await reminders.job_by_id(key)
        if job is None or job.court_id not in courts:
            return None
        return job if await can_view_in_court(viewer, courts.get(job.court_id), None) else None
    if type_name == "PacerAccount":
        return await PacerAccount.get_or_none(id=key) if await can_view_account(viewer, key) else None
    if type_name == "AuditEvent":
        event = await AuditEvent.get_or_none(id=key)
        if event is None:
            return None
        if event.subject_id == viewer.id:
            return event
        if event.court_id is None or event.court_id not in courts:
            return None
        return event if await can_view_in_court(viewer, courts.get(event.court_id), None) else None
    if type_name == "CourtServiceKey":
        # A court's service keys are seen by its clerks.
        key_row = await CourtServiceKey.get_or_none(id=key)
        if key_row is None or key_row.court_id not in courts:
            return None
        return key_row if await can_view_in_court(viewer, courts.get(key_row.court_id), None) else None
    if type_name == "Authenticator":  # the owner's enrolled apps only
        return await AuthenticatorModel.get_or_none(id=key, account_id=viewer.id, confirmed_at__isnull=False)
    if type_name == "AppGrant":  # the owner's live app grants only
        return await AppGrantRecord.get_or_none(id=key, account_id=viewer.id, revoked_at=None)
    if type_name == "Session":  # the owner's live sessions only
        return await Session.get_or_none(
            id=key, account_id=viewer.id, revoked_at__isnull=True, expires_at__gt=now()
        )
    if type_name == "Firm":
        # A firm is seen by its members.
        member = await FirmMembership.filter(firm_id=key, account_id=viewer.id).exists()
        return await Firm.get_or_none(id=key) if member else None
    if type_name == "FirmInvitation":
        invitation = await FirmInvitation.get_or_none(id=key)
        if invitation is None:
            return None
        if invitation.account_id == viewer.id:
            return invitation
        admin = await FirmMembership.filter(
            firm_id=invitation.firm_id, account_id=viewer.id, is_admin=True
        ).exists()
        return invitation if admin else None
    row: Model | None
    if type_name == "CmecfAccount":
        row = await CmecfAccount.get_or_none(id=key)
        owner = await _owner_of_legacy(row) if isinstance(row, CmecfAccount) else None
    elif type_name in _OWNED_IN_COURT:
        model, owner_column = _OWNED_IN_COURT[type_name]
        row = await model.get_or_none(id=key)
        owner = getattr(row, owner_column) if row is not None else None
    else:
        return None
    court_code = getattr(row, "court_id", None)
    if row is None or not isinstance(court_code, str) or court_code not in courts:
        return None
    return row if await can_view_in_court(viewer, courts.get(court_code), owner) else None
