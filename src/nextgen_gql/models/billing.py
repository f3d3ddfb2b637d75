"""The billing ledger: one row a charge, in integer cents, after the per-item cap."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.enums import UsageKind
from nextgen_gql.models.accounts import PacerAccount
from nextgen_gql.models.courts import CourtRecord
from nextgen_gql.models.firms import Firm

__all__ = ["Charge"]


class Charge(Model):
    """PACER usage of one account in one court, billed to its firm or to the account."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name=False, on_delete=fields.RESTRICT
    )
    court_id: str
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="charges", on_delete=fields.RESTRICT
    )
    account_id: int
    # the firm billed (the account's firm when the charge was recorded), else NULL: the account pays
    firm: fields.ForeignKeyNullableRelation[Firm] = fields.ForeignKeyField(
        "models.Firm", related_name="charges", null=True, on_delete=fields.RESTRICT
    )
    firm_id: int | None
    kind = fields.CharEnumField(UsageKind, max_length=16)
    pages = fields.IntField()
    client_code = fields.CharField(max_length=32, null=True)
    description = fields.CharField(max_length=500, null=True)
    amount_cents = fields.IntField()
    recorded_by: fields.ForeignKeyNullableRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    recorded_by_id: int | None

    class Meta:
        table = "charges"
        indexes = (("firm_id", "at"), ("account_id", "firm_id", "at"))
