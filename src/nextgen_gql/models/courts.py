"""Courts in the database (the rows that court-scoped data points at) and their clerks.

The court files are the source of truth for a court's description; a ``CourtRecord``
is written for each at start so that foreign keys hold. Its primary key is the code.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.models.accounts import PacerAccount

__all__ = ["Clerk", "CourtRecord"]


class CourtRecord(Model):
    code = fields.CharField(max_length=16, primary_key=True)
    name = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=16)
    synced_at = fields.DatetimeField()

    class Meta:
        table = "courts"


class Clerk(Model):
    """A PACER account on the staff of one court clerk office."""

    id = fields.IntField(primary_key=True)
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name="clerks", on_delete=fields.CASCADE
    )
    court_id: str
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="clerkships", on_delete=fields.CASCADE
    )
    account_id: int
    granted_at = fields.DatetimeField()

    class Meta:
        table = "clerks"
        unique_together = (("court", "account"),)
