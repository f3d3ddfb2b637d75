"""Firms the whole way round, court systems with keys, and lists a clerk can work (issue 20).

A court's service keys (``court_service_keys``); audit events and charges say which key
acted; a charge's idempotency key, UNIQUE per court (NULLs never collide). Orders that read
another table keep the column they need on the listed rows: a legacy account's
``linked_at`` (from ``cmecf_links``), a registration's applicant last name and search text
(from ``pacer_accounts``); names compare on a case-folded key. Each order has its index.

Data: the new columns are filled from their sources (Python's ``casefold``, as the service
writes them). On PostgreSQL the folded keys (and the roster's ``login_key``) compare
byte for byte (``COLLATE "C"``), as SQLite compares them, so an order is the same on both
whatever the database's locale.
"""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint



async def fill_keys(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"

    def sql(text: str) -> str:
        if not postgres:
            return text
        parts = text.split("?")
        return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))

    async def rows(text: str, *params: object) -> list[dict]:
        return list((await client.execute_query(sql(text), list(params)))[1])

    if postgres:
        for table, column, size in [
            ("cmecf_accounts", "last_name_key", 100),
            ("cmecf_accounts", "login_key", 64),
            ("registrations", "applicant_last_name_key", 100),
        ]:
            await client.execute_script(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE VARCHAR({size}) COLLATE "C"'
            )
        await client.execute_script('ALTER TABLE "registrations" ALTER COLUMN "search_text" TYPE TEXT COLLATE "C"')
    for r in await rows("SELECT id, last_name FROM cmecf_accounts"):
        await client.execute_query(
            sql("UPDATE cmecf_accounts SET last_name_key = ? WHERE id = ?"), [r["last_name"].casefold(), r["id"]]
        )
    for r in await rows("SELECT cmecf_account_id, linked_at FROM cmecf_links"):
        await client.execute_query(
            sql("UPDATE cmecf_accounts SET linked_at = ? WHERE id = ?"), [r["linked_at"], r["cmecf_account_id"]]
        )
    applicants = await rows(
        "SELECT r.id, r.bar_number, a.username, a.first_name, a.last_name, a.email"
        " FROM registrations r JOIN pacer_accounts a ON a.id = r.account_id"
    )
    for r in applicants:
        text = " ".join(
            part for part in (r["first_name"], r["last_name"], r["username"], r["email"], r["bar_number"] or "") if part
        )
        await client.execute_query(
            sql("UPDATE registrations SET applicant_last_name_key = ?, search_text = ? WHERE id = ?"),
            [r["last_name"].casefold(), text.casefold(), r["id"]],
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0009_live_events')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CourtServiceKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=100)),
                ('scopes', fields.CharField(max_length=100)),
                ('prefix', fields.CharField(unique=True, max_length=12)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.PacerAccount', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_by', fields.ForeignKeyField('models.PacerAccount', source_field='revoked_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'court_service_keys', 'app': 'models', 'indexes': [Index(fields=['court_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A named key of one court, with scopes, for its systems (no person).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='service_key',
            field=fields.ForeignKeyField('models.CourtServiceKey', source_field='service_key_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['court_id', 'action', 'id']),
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['court_id', 'actor_id', 'id']),
        ),
        ops.AddField(
            model_name='Charge',
            name='idempotency_key',
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.AddField(
            model_name='Charge',
            name='service_key',
            field=fields.ForeignKeyField('models.CourtServiceKey', source_field='service_key_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddConstraint(
            model_name='Charge',
            constraint=UniqueConstraint(fields=('court', 'idempotency_key'), name=None),
        ),
        ops.AddField(
            model_name='CmecfAccount',
            name='last_name_key',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='CmecfAccount',
            name='linked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='CmecfAccount',
            index=Index(fields=['court_id', 'last_name_key', 'id']),
        ),
        ops.AddIndex(
            model_name='CmecfAccount',
            index=Index(fields=['court_id', 'linked_at', 'id']),
        ),
        ops.AddField(
            model_name='Registration',
            name='applicant_last_name_key',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Registration',
            name='search_text',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddIndex(
            model_name='Registration',
            index=Index(fields=['court_id', 'applicant_last_name_key', 'id']),
        ),
        ops.AddIndex(
            model_name='Registration',
            index=Index(fields=['court_id', 'submitted_at', 'id']),
        ),
        ops.RunPython(fill_keys, ops.RunPython.noop),
    ]
