"""National accounts (Central Sign-On): PACER accounts and their sign-in sessions."""

from __future__ import annotations

import datetime as dt

from tortoise import fields
from tortoise.models import Model

__all__ = ["LEGACY_CUTOFF", "PacerAccount", "PasswordReset", "Session"]

#: Accounts created before this day are legacy until upgraded; later ones are born upgraded.
LEGACY_CUTOFF = dt.datetime(2014, 8, 11, tzinfo=dt.UTC)


class PacerAccount(Model):
    """One national PACER account, one person."""

    id = fields.IntField(primary_key=True)
    account_number = fields.CharField(max_length=7, unique=True)
    username = fields.CharField(max_length=64)
    # ``username`` folded to lower case: sign-in matches regardless of case.
    username_key = fields.CharField(max_length=64, unique=True)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, default="")
    # Whether the owner confirmed ``email`` with the token mailed to it (``services.email_addresses``):
    # until then it receives no mail but that token's, and blocks nobody (a partial unique index
    # on ``lower(email)`` holds among verified addresses only).
    email_verified = fields.BooleanField(default=False, db_default=False)
    password_hash = fields.CharField(max_length=255)
    # Whether the password met the 2025 policy when last seen in clear (None: never seen).
    password_compliant = fields.BooleanField(null=True)
    created_at = fields.DatetimeField()
    upgraded_at = fields.DatetimeField(null=True)
    is_shared = fields.BooleanField(default=False)
    # Sign-ins made while MFA was required and not enrolled (capped at 4): the first three are
    # skips, the fourth and later give restricted sessions (``services.mfa``).
    mfa_sign_ins_unenrolled = fields.SmallIntField(default=0, db_default=0)

    class Meta:
        table = "pacer_accounts"

    @property
    def is_legacy(self) -> bool:
        return self.created_at < LEGACY_CUTOFF and self.upgraded_at is None

    def __str__(self) -> str:
        return f"{self.username} ({self.account_number})"


class Session(Model):
    """A sign-in. Only the SHA-256 of the token is stored, and revoking kills it in every court."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="sessions", on_delete=fields.CASCADE
    )
    account_id: int
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    client_code = fields.CharField(max_length=32, null=True)
    redaction_acknowledged = fields.BooleanField(default=False)
    # Touched at most once a minute (``auth.touch``).
    last_used_at = fields.DatetimeField(null=True)
    address = fields.CharField(max_length=64, null=True)
    user_agent = fields.CharField(max_length=255, null=True)
    # Opened after the enrolment skips ran out: it may read me, enrol and sign out only,
    # until an authenticator is enrolled (which clears it on every session of the account).
    mfa_restricted = fields.BooleanField(default=False, db_default=False)
    # signed in with a second factor (an authenticator app's code or a backup code): OpenID's amr and acr
    second_factor = fields.BooleanField(default=False, db_default=False)
    # The database's WAL position after the account's last write, with a read replica
    # (``nextgen_gql.replica.writes``): its queries read the replica once it replayed that far.
    write_lsn = fields.BigIntField(null=True)

    class Meta:
        table = "sessions"


class PasswordReset(Model):
    """A mailed password-reset token: stored as its SHA-256, single-use, expiring."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="password_resets", on_delete=fields.CASCADE
    )
    account_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_resets"
