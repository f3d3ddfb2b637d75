"""Firms (PACER Administrative Accounts): membership, invitations.

One firm per account is a database guarantee: ``firm_memberships.account_id`` is UNIQUE.
At most one pending invitation per firm and account: ``open_key`` is ``"firm:account"``
while pending and NULL after, under a UNIQUE constraint.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.enums import InvitationStatus
from nextgen_gql.models.accounts import PacerAccount

__all__ = ["Firm", "FirmInvitation", "FirmMembership"]


class Firm(Model):
    """A PACER Administrative Account: manages its members and pays their fees centrally."""

    id = fields.IntField(primary_key=True)
    account_number = fields.CharField(max_length=7, unique=True)
    name = fields.CharField(max_length=200)
    client_code_required = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "firms"


class FirmMembership(Model):
    """An account in a firm, as a member or an administrator."""

    id = fields.IntField(primary_key=True)
    firm: fields.ForeignKeyRelation[Firm] = fields.ForeignKeyField(
        "models.Firm", related_name="memberships", on_delete=fields.CASCADE
    )
    firm_id: int
    account: fields.OneToOneRelation[PacerAccount] = fields.OneToOneField(
        "models.PacerAccount", related_name="membership", on_delete=fields.CASCADE
    )
    account_id: int
    is_admin = fields.BooleanField(default=False)
    joined_at = fields.DatetimeField()

    class Meta:
        table = "firm_memberships"
        indexes = (("firm_id", "account_id"),)


class FirmInvitation(Model):
    """An invitation to join a firm, answered by the invitee only."""

    id = fields.IntField(primary_key=True)
    firm: fields.ForeignKeyRelation[Firm] = fields.ForeignKeyField(
        "models.Firm", related_name="invitations", on_delete=fields.CASCADE
    )
    firm_id: int
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="firm_invitations", on_delete=fields.CASCADE
    )
    account_id: int
    invited_by: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, on_delete=fields.CASCADE
    )
    invited_by_id: int
    status = fields.CharEnumField(InvitationStatus, max_length=16, default=InvitationStatus.PENDING)
    # "firm:account" while pending, NULL after: one open invitation per firm and account
    open_key = fields.CharField(max_length=32, null=True, unique=True)
    created_at = fields.DatetimeField()
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "firm_invitations"
