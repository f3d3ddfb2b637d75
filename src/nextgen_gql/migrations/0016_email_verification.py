"""Verified email addresses (issue 32, finding 6).

``pacer_accounts.email_verified``: an address counts once its owner confirmed it with a mailed
token. Addresses held before this migration count as verified; where two accounts held one
address (in any case), the account that has held it longest (the lowest id) keeps it verified
and the others hold it unverified (they may verify another address).

The unique index ``pacer_accounts_verified_email`` on ``lower(email)``, partial on verified
addresses (both dialects): no two accounts verify one address, even at the same moment, and an
unverified address blocks nobody.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

INDEX = "pacer_accounts_verified_email"
#: The first holder of each address, in any case: it keeps its address verified.
FIRST_HOLDERS = (
    "UPDATE pacer_accounts SET email_verified = TRUE WHERE id IN"
    " (SELECT MIN(id) FROM pacer_accounts WHERE email <> '' GROUP BY LOWER(email))"
)


async def verify_held_addresses(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    await client.execute_query(FIRST_HOLDERS)
    await client.execute_query(
        f"CREATE UNIQUE INDEX {INDEX} ON pacer_accounts (LOWER(email)) WHERE email_verified"
    )


async def drop_index(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_query(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("models", "0015_weekly_links_by_role")]

    initial = False

    operations = [
        ops.AddField(
            model_name="PacerAccount",
            name="email_verified",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(verify_held_addresses, drop_index),
    ]
