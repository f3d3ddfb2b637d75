"""Per-court filing data: legacy CM/ECF accounts, their one-time links, filing privileges.

The one-time link is guaranteed by the database, not by checks alone: ``cmecf_links``
holds at most one row per legacy account (``UNIQUE(cmecf_account_id)``) and at most one
per PACER account and court (``UNIQUE(account_id, court_id)``). Two requests racing to
link can never both insert.

A privilege is never deleted: a court revokes it (``revoked_at``), and it stays as history.
At most one *live* privilege per account, court and role is a database guarantee too: the
partial unique index ``filing_privileges_live`` on (account, court, role) ``WHERE revoked_at
IS NULL``, created by raw SQL in migration 0005 (Tortoise cannot declare a partial index).
The cases of a case-restricted privilege are rows of ``filing_privilege_cases``, unique
per privilege and case number.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.enums import FilerRole, PrivilegeSource
from nextgen_gql.models.accounts import PacerAccount
from nextgen_gql.models.courts import CourtRecord

__all__ = ["CASE_SEPARATOR", "LOGIN_MAX", "CmecfAccount", "CmecfLink", "FilingPrivilege", "PrivilegeCase"]

LOGIN_MAX = 64
#: Between the canonical case numbers of a legacy account's ``cases`` (as in the roster file).
CASE_SEPARATOR = ";"


class CmecfAccount(Model):
    """A legacy CM/ECF filer account of one court, loaded from its roster."""

    id = fields.IntField(primary_key=True)
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name="cmecf_accounts", on_delete=fields.RESTRICT
    )
    court_id: str
    login = fields.CharField(max_length=LOGIN_MAX)
    # ``login`` folded to lower case; logins match regardless of case.
    login_key = fields.CharField(max_length=LOGIN_MAX)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, default="")
    role = fields.CharEnumField(FilerRole, max_length=16)
    # None once the account is linked: its old credentials are retired.
    password_hash = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()
    # A case-restricted (pro se) account's canonical case numbers, separated by CASE_SEPARATOR
    cases = fields.TextField(default="", db_default="")
    # ``last_name`` case-folded: the roster's LAST_NAME order (the same on SQLite and PostgreSQL)
    last_name_key = fields.CharField(max_length=100, default="", db_default="")
    # When it was linked, kept in step with ``cmecf_links`` (written in the link's transaction):
    # the roster's LINKED_AT order reads this table alone
    linked_at = fields.DatetimeField(null=True)
    # Login, names and email, case-folded (``ordering.search_copy``): what ``search`` reads,
    # through SQLite's FTS5 trigram index or PostgreSQL's pg_trgm GIN index (migration 0011)
    search_text = fields.TextField(default="", db_default="")

    class Meta:
        table = "cmecf_accounts"
        unique_together = (("court", "login_key"),)
        # One index per order of the roster (LOGIN: the unique key above).
        indexes = (("court_id", "last_name_key", "id"), ("court_id", "linked_at", "id"))


class CmecfLink(Model):
    """The binding of a legacy CM/ECF account to a PACER account: written once, never changed."""

    id = fields.IntField(primary_key=True)
    cmecf_account: fields.OneToOneRelation[CmecfAccount] = fields.OneToOneField(
        "models.CmecfAccount", related_name="link", on_delete=fields.RESTRICT
    )
    cmecf_account_id: int
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name="links", on_delete=fields.RESTRICT
    )
    court_id: str
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="links", on_delete=fields.RESTRICT
    )
    account_id: int
    linked_by: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="links_made", on_delete=fields.RESTRICT
    )
    linked_by_id: int
    linked_at = fields.DatetimeField()

    class Meta:
        table = "cmecf_links"
        unique_together = (("account", "court"),)


class FilingPrivilege(Model):
    """Permission for a PACER account to file in one court, in one role, until revoked."""

    id = fields.IntField(primary_key=True)
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name="privileges", on_delete=fields.RESTRICT
    )
    court_id: str
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="privileges", on_delete=fields.RESTRICT
    )
    account_id: int
    role = fields.CharEnumField(FilerRole, max_length=16)
    source = fields.CharEnumField(PrivilegeSource, max_length=32)
    granted_at = fields.DatetimeField()
    # An attorney admitted for the privilege's listed cases only
    pro_hac_vice = fields.BooleanField(default=False, db_default=False)
    revoked_at = fields.DatetimeField(null=True)
    revoked_by: fields.ForeignKeyNullableRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    revoked_by_id: int | None
    revoked_reason = fields.TextField(null=True)

    class Meta:
        table = "filing_privileges"
        # The unique live privilege per account, court and role: see the module docstring.
        indexes = (("account_id", "court_id"), ("court_id", "id"))


class PrivilegeCase(Model):
    """A case a case-restricted privilege may file in, by its canonical number."""

    id = fields.IntField(primary_key=True)
    privilege: fields.ForeignKeyRelation[FilingPrivilege] = fields.ForeignKeyField(
        "models.FilingPrivilege", related_name="case_rows", on_delete=fields.RESTRICT
    )
    privilege_id: int
    case_number = fields.CharField(max_length=32)
    added_at = fields.DatetimeField()

    class Meta:
        table = "filing_privilege_cases"
        unique_together = (("privilege", "case_number"),)
