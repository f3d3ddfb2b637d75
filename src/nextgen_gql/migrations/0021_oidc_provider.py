"""The OpenID Connect provider (issue 35): its clients, its signing keys, and grants.

``oidc_clients``: relying parties (a court's own system, or a national app); only the SHA-256
of a confidential client's secret. ``oidc_signing_keys``: RS256 keys, the private half sealed
with ``NEXTGEN_GQL_SECRET_KEY``. ``oidc_grants``: what each account let each client do.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # At the merge: after the webhooks migration 0017 when it is on the branch.
    dependencies = [("models", "0020_webhooks")]

    initial = False

    operations = [
        ops.CreateModel(
            name="OidcClientRecord",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("client_id", fields.CharField(unique=True, max_length=40)),
                ("name", fields.CharField(max_length=100)),
                (
                    "court",
                    fields.ForeignKeyField(
                        "models.CourtRecord",
                        source_field="court_id",
                        null=True,
                        db_constraint=True,
                        to_field="code",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("auth_method", fields.CharField(max_length=24)),
                ("secret_hash", fields.CharField(null=True, max_length=64)),
                ("redirect_uris", fields.TextField(unique=False)),
                ("post_logout_redirect_uris", fields.TextField(default="", unique=False)),
                ("backchannel_logout_uri", fields.CharField(null=True, max_length=500)),
                ("jwks_uri", fields.CharField(null=True, max_length=500)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("removed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "oidc_clients",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A relying party: a court's own system (first party) or a national third-party app.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OidcSigningKey",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("kid", fields.CharField(unique=True, max_length=43)),
                ("sealed_private", fields.TextField(unique=False)),
                ("public_jwk", fields.TextField(unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("signs_from", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "oidc_signing_keys",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An RS256 key: published from created_at, signing from signs_from until replaced.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AppGrantRecord",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
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
                ("scopes", fields.CharField(max_length=200)),
                ("granted_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "oidc_grants",
                "app": "models",
                "indexes": [Index(fields=["account_id", "client_id"])],
                "pk_attr": "id",
                "table_description": "What one account let one client do: its scopes (consent), until revoked.",
            },
            bases=["Model"],
        ),
    ]
