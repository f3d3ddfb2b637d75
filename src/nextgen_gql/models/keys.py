"""A court's service keys: how the court's own systems (its CM/ECF, billing feeds) act.

A key's secret is ``ngk_<id>_<secret>``; only the SHA-256 of ``<secret>`` is stored, beside
the prefix ``ngk_<id>`` that names the key (unique). A key is never deleted: revoking it
ends it at once and keeps it in the history.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.models.accounts import PacerAccount
from nextgen_gql.models.courts import CourtRecord

__all__ = ["CourtServiceKey"]


class CourtServiceKey(Model):
    """A named key of one court, with scopes, for its systems (no person)."""

    id = fields.IntField(primary_key=True)
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name=False, on_delete=fields.RESTRICT
    )
    court_id: str
    name = fields.CharField(max_length=100)
    # CourtKeyScope values, separated by spaces
    scopes = fields.CharField(max_length=100)
    # "ngk_" and the key's 8-character id: how the key is found, and recognised in logs
    prefix = fields.CharField(max_length=12, unique=True)
    # SHA-256 (hex) of the secret part
    secret_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    created_by: fields.ForeignKeyNullableRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    created_by_id: int | None
    # Written at most once a minute, not on every request
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_by: fields.ForeignKeyNullableRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    revoked_by_id: int | None
    # The database's WAL position after the key's last write, with a read replica
    # (``nextgen_gql.replica.writes``): its queries read the replica once it replayed that far.
    write_lsn = fields.BigIntField(null=True)

    class Meta:
        table = "court_service_keys"
        indexes = (("court_id", "id"),)
