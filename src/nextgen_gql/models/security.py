"""Security state, shared by every process: failure counters and lockouts, the second
factor (authenticator apps, backup codes, sign-in challenges), and email changes."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.models.accounts import PacerAccount

__all__ = ["Authenticator", "BackupCode", "EmailChange", "MfaChallenge", "Throttle"]


class Throttle(Model):
    """Failures of one kind (sign-in of an account, from an address, ...) within a window."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    key = fields.CharField(max_length=160)
    failures = fields.IntField(default=0)
    window_started = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "throttles"
        unique_together = (("kind", "key"),)


class RateSpending(Model):
    """Points one caller spent in one hour (``services.budgets``), shared by every worker."""

    id = fields.BigIntField(primary_key=True)
    caller = fields.CharField(max_length=80)
    window_start = fields.BigIntField()
    points = fields.BigIntField(default=0)

    class Meta:
        table = "rate_spending"
        unique_together = (("caller", "window_start"),)


class Authenticator(Model):
    """An authenticator app (TOTP, RFC 6238) of an account, pending until confirmed.

    The secret is sealed with the service's secret key. A pending one carries the keyed hash
    of the security code mailed to the account, and expires. ``last_step`` is the last
    30-second step whose code was accepted: no code of that step or earlier is accepted again.
    """

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="authenticators", on_delete=fields.CASCADE
    )
    account_id: int
    name = fields.CharField(max_length=64)
    secret_sealed = fields.TextField()
    created_at = fields.DatetimeField()
    confirmed_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    last_step = fields.BigIntField(default=0)
    security_code_hash = fields.CharField(max_length=64, null=True)
    expires_at = fields.DatetimeField(null=True)
    failed_attempts = fields.SmallIntField(default=0)

    class Meta:
        table = "authenticators"


class BackupCode(Model):
    """A single-use backup code, stored as its keyed hash."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="backup_codes", on_delete=fields.CASCADE
    )
    account_id: int
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "backup_codes"
        unique_together = (("account", "code_hash"),)


class MfaChallenge(Model):
    """The second step of a sign-in whose password was right: single use, short-lived.

    Stored as the SHA-256 of its token, with what the first step settled (client code,
    redaction acknowledgement) for the session it opens.
    """

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="mfa_challenges", on_delete=fields.CASCADE
    )
    account_id: int
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    client_code = fields.CharField(max_length=32, null=True)
    redaction_acknowledged = fields.BooleanField(default=False)

    class Meta:
        table = "mfa_challenges"


class EmailChange(Model):
    """A requested change of email: the token mailed to the new address (its SHA-256), single use."""

    # Also the verification of the address an account holds (``new_email`` that address):
    # one kind of mailed token, one outstanding per account (``services.email_addresses``).

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name="email_changes", on_delete=fields.CASCADE
    )
    account_id: int
    new_email = fields.CharField(max_length=254)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email_changes"
