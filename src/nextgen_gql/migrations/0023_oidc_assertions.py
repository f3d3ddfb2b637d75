"""Client assertions already used (``private_key_jwt``, RFC 7523, issue 35): a ``jti`` is
single use per client, held by a unique constraint until the assertion expires.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0022_oidc_flow")]

    initial = False

    operations = [
        ops.CreateModel(
            name="OidcAssertion",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("client_id", fields.CharField(max_length=40)),
                ("jti", fields.CharField(max_length=255)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "oidc_assertions",
                "app": "models",
                "unique_together": (("client_id", "jti"),),
                "pk_attr": "id",
                "table_description": "A client assertion (``private_key_jwt``, RFC 7523) already used: its ``jti`` is single use per client until the assertion expires (``oidc.assertions``).",
            },
            bases=["Model"],
        ),
    ]
