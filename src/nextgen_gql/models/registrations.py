"""E-file registrations: a PACER account asks a court for a filing privilege.

At most one open request per account, court and role is a database guarantee:
``open_key`` holds ``"account:court:role"`` while the request is pending and NULL once it
is decided or withdrawn, under a UNIQUE constraint (NULLs never collide).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.enums import FilerRole, RegistrationStatus
from nextgen_gql.models.accounts import PacerAccount
from nextgen_gql.models.courts import CourtRecord
from nextgen_gql.models.filing import CmecfAccount, FilingPrivilege

__all__ = ["Registration"]


class Registration(Model):
    """A request to file in one court, in one role, decided by that court."""

    id = fields.IntField(primary_key=True)
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name="registrations", on_delete=fields.RESTRICT
    )
    court_id: str
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="registrations", on_delete=fields.RESTRICT
    )
    account_id: int
    role = fields.CharEnumField(FilerRole, max_length=16)
    pro_hac_vice = fields.BooleanField(default=False)
    case_number = fields.CharField(max_length=64, null=True)
    bar_number = fields.CharField(max_length=32, null=True)
    bar_state = fields.CharField(max_length=2, null=True)
    status = fields.CharEnumField(RegistrationStatus, max_length=16, default=RegistrationStatus.PENDING)
    # "account:court:role" while pending, NULL after: one open request per account, court and role
    open_key = fields.CharField(max_length=64, null=True, unique=True)
    submitted_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    decided_by: fields.ForeignKeyNullableRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    decided_by_id: int | None
    reason = fields.TextField(null=True)
    linked_cmecf_account: fields.ForeignKeyNullableRelation[CmecfAccount] = fields.ForeignKeyField(
        "models.CmecfAccount", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    linked_cmecf_account_id: int | None
    # What the approval granted, or added the registration's case to
    privilege: fields.ForeignKeyNullableRelation[FilingPrivilege] = fields.ForeignKeyField(
        "models.FilingPrivilege", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    privilege_id: int | None
    # The applicant's last name, case-folded, kept in step with the account (LAST_NAME order)
    applicant_last_name_key = fields.CharField(max_length=100, default="", db_default="")
    # The applicant's names, username and email and the bar number, case-folded, kept in step
    # with the account: what ``registrations(search:)`` matches, on this table alone
    search_text = fields.TextField(default="", db_default="")

    class Meta:
        table = "registrations"
        indexes = (
            ("court_id", "status", "id"),
            ("account_id", "id"),
            ("court_id", "applicant_last_name_key", "id"),
            ("court_id", "submitted_at", "id"),
        )

    @staticmethod
    def make_open_key(account_id: int, court_code: str, role: FilerRole) -> str:
        return f"{account_id}:{court_code}:{role.value}"
