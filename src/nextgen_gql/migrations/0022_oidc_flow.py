"""The OpenID Connect provider's flow (issue 35): authorization codes and tokens, and whether
a session was opened with a second factor (the ID token's ``amr`` and ``acr``).

``oidc_codes``: single-use codes (hashes only), bound to client, redirect URI and PKCE
challenge. ``oidc_tokens``: opaque access tokens and their rotated refresh tokens (hashes only).
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0021_oidc_provider")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Session",
            name="second_factor",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.CreateModel(
            name="OidcCode",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("code_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.OidcClientRecord",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "account",
                    fields.ForeignKeyField(
                        "models.PacerAccount",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("redirect_uri", fields.TextField(unique=False)),
                ("scope", fields.CharField(max_length=200)),
                ("nonce", fields.CharField(null=True, max_length=255)),
                ("code_challenge", fields.CharField(max_length=128)),
                ("auth_time", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("second_factor", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "oidc_codes",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An authorization code: single use, for 60 seconds, bound to its client, redirect URI and PKCE challenge (only its SHA-256 is kept).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OidcToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("access_hash", fields.CharField(unique=True, max_length=64)),
                ("refresh_hash", fields.CharField(null=True, unique=True, max_length=64)),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.OidcClientRecord",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "account",
                    fields.ForeignKeyField(
                        "models.PacerAccount",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "code",
                    fields.ForeignKeyField(
                        "models.OidcCode",
                        source_field="code_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False, null=True,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("family", fields.CharField(db_index=True, max_length=32)),
                ("scope", fields.CharField(max_length=200)),
                ("issued_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("access_expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("refresh_expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("refreshed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "oidc_tokens",
                "app": "models",
                "indexes": [Index(fields=["session_id"])],
                "pk_attr": "id",
                "table_description": "An access token (opaque, looked up here: revocation is immediate) and its refresh token, hashes only. Tokens issued from one code share a ``family``: a refresh token used twice ends the whole family.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OidcLogout",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.OidcClientRecord",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("account_id", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("outcome", fields.CharField(max_length=16)),
                ("next_attempt_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("lease_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("attempts_made", fields.SmallIntField(default=0)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_status", fields.SmallIntField(null=True)),
                ("last_error", fields.CharField(null=True, max_length=300)),
            ],
            options={
                "table": "oidc_logouts",
                "app": "models",
                "unique_together": (("session_id", "client_id"),),
                "indexes": [Index(fields=["outcome", "next_attempt_at"])],
                "pk_attr": "id",
                "table_description": "A back-channel logout token owed to a client: a session it received tokens in ended (or the person revoked its grant). Sent until accepted or its schedule ends (``outbound.delivery``).",
            },
            bases=["Model"],
        ),
    ]
