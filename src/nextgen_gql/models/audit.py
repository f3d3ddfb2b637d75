"""The audit trail: every state change, with who did it, to whom, and in which court."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.models.accounts import PacerAccount
from nextgen_gql.models.courts import CourtRecord
from nextgen_gql.models.keys import CourtServiceKey

__all__ = ["AuditEvent"]


class AuditEvent(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    action = fields.CharField(max_length=64)
    actor: fields.ForeignKeyNullableRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    subject: fields.ForeignKeyNullableRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    subject_id: int | None
    court: fields.ForeignKeyNullableRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    court_id: str | None
    detail = fields.TextField(null=True)
    # The court's service key that acted (actor is then null)
    service_key: fields.ForeignKeyNullableRelation[CourtServiceKey] = fields.ForeignKeyField(
        "models.CourtServiceKey", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    service_key_id: int | None

    class Meta:
        table = "audit_events"
        # The court's trail newest first, and filtered by action or actor (``auditEvents``).
        indexes = (
            ("court_id", "id"),
            ("subject_id", "id"),
            ("court_id", "action", "id"),
            ("court_id", "actor_id", "id"),
        )
