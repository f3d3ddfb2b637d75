"""The billing ledger: one row a charge, in integer cents, after the per-item cap."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.enums import UsageKind
from nextgen_gql.models.accounts import PacerAccount
from nextgen_gql.models.courts import CourtRecord
from nextgen_gql.models.firms import Firm
from nextgen_gql.models.keys import CourtServiceKey

__all__ = ["Charge"]


class Charge(Model):
    """PACER usage of one account in one court, billed to its firm or to the account.

    A charge sent with an idempotency key is recorded once per court and key: the database's
    UNIQUE(court_id, idempotency_key) decides between racing retries (NULLs never collide).
    """

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
    # The court's service key that recorded it (recorded_by is then null)
    service_key: fields.ForeignKeyNullableRelation[CourtServiceKey] = fields.ForeignKeyField(
        "models.CourtServiceKey", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    service_key_id: int | None
    # The court system's own id of the item: UNIQUE per court, so a retry records nothing new
    idempotency_key = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "charges"
        indexes = (("firm_id", "at"), ("account_id", "firm_id", "at"))
        unique_together = (("court", "idempotency_key"),)
