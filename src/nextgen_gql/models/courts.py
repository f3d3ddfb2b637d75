"""Courts in the database: the catalog running services serve, and their clerks.

The court files are the integrator's input; ``tenants apply`` (and ``serve`` at start)
writes them here (``services.court_catalog``), and every running process follows this
catalog. A court's row is never deleted: a court whose file is gone is retired, its data
kept. The primary key is the code, which never changes.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.models.accounts import PacerAccount

__all__ = ["Clerk", "CourtCatalog", "CourtRecord"]


class CourtRecord(Model):
    """A court of the catalog, served or retired."""

    code = fields.CharField(max_length=16, primary_key=True)
    name = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=16)
    synced_at = fields.DatetimeField()  # when its definition last changed
    definition = fields.TextField(null=True)  # JSON: what its court file said (Court.definition)
    retired_at = fields.DatetimeField(null=True)  # its file was removed and applied: not served

    class Meta:
        table = "courts"


class CourtCatalog(Model):
    """One row: the catalog's version, moved on by every apply that changed something."""

    id = fields.IntField(primary_key=True)
    version = fields.IntField(default=0)
    changed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "court_catalog"


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
