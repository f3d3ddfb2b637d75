from tortoise import migrations
from tortoise.migrations import operations as ops
from nextgen_gql.enums import FilerRole, PrivilegeSource
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='CourtRecord',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('name', fields.CharField(max_length=200)),
                ('kind', fields.CharField(max_length=16)),
                ('synced_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'courts', 'app': 'models', 'pk_attr': 'code'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CmecfAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name='cmecf_accounts', on_delete=OnDelete.RESTRICT)),
                ('login', fields.CharField(max_length=64)),
                ('login_key', fields.CharField(max_length=64)),
                ('first_name', fields.CharField(max_length=100)),
                ('last_name', fields.CharField(max_length=100)),
                ('email', fields.CharField(default='', max_length=254)),
                ('role', fields.CharEnumField(description='ATTORNEY: attorney\nPRO_SE: pro_se\nMEDIA: media\nCREDITOR: creditor\nFILING_AGENT: filing_agent\nTRUSTEE: trustee', enum_type=FilerRole, max_length=16)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'cmecf_accounts', 'app': 'models', 'unique_together': (('court', 'login_key'),), 'pk_attr': 'id', 'table_description': 'A legacy CM/ECF filer account of one court, loaded from its roster.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PacerAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_number', fields.CharField(unique=True, max_length=7)),
                ('username', fields.CharField(max_length=64)),
                ('username_key', fields.CharField(unique=True, max_length=64)),
                ('first_name', fields.CharField(max_length=100)),
                ('last_name', fields.CharField(max_length=100)),
                ('email', fields.CharField(default='', max_length=254)),
                ('password_hash', fields.CharField(max_length=255)),
                ('password_compliant', fields.BooleanField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('upgraded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('is_shared', fields.BooleanField(default=False)),
            ],
            options={'table': 'pacer_accounts', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One national PACER account, one person.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('action', fields.CharField(max_length=64)),
                ('actor', fields.ForeignKeyField('models.PacerAccount', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('subject', fields.ForeignKeyField('models.PacerAccount', source_field='subject_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', null=True, db_constraint=True, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('detail', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'audit_events', 'app': 'models', 'indexes': [Index(fields=['court_id', 'id']), Index(fields=['subject_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Clerk',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name='clerks', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='clerkships', on_delete=OnDelete.CASCADE)),
                ('granted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'clerks', 'app': 'models', 'unique_together': (('court', 'account'),), 'pk_attr': 'id', 'table_description': 'A PACER account on the staff of one court clerk office.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CmecfLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('cmecf_account', fields.OneToOneField('models.CmecfAccount', source_field='cmecf_account_id', db_constraint=True, to_field='id', related_name='link', on_delete=OnDelete.RESTRICT)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name='links', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.RESTRICT)),
                ('linked_by', fields.ForeignKeyField('models.PacerAccount', source_field='linked_by_id', db_constraint=True, to_field='id', related_name='links_made', on_delete=OnDelete.RESTRICT)),
                ('linked_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'cmecf_links', 'app': 'models', 'unique_together': (('account', 'court'),), 'pk_attr': 'id', 'table_description': 'The binding of a legacy CM/ECF account to a PACER account: written once, never changed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FilingPrivilege',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name='privileges', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='privileges', on_delete=OnDelete.RESTRICT)),
                ('role', fields.CharEnumField(description='ATTORNEY: attorney\nPRO_SE: pro_se\nMEDIA: media\nCREDITOR: creditor\nFILING_AGENT: filing_agent\nTRUSTEE: trustee', enum_type=FilerRole, max_length=16)),
                ('source', fields.CharEnumField(description='LINKED_LEGACY_ACCOUNT: linked_legacy_account\nREGISTRATION: registration', enum_type=PrivilegeSource, max_length=32)),
                ('granted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'filing_privileges', 'app': 'models', 'unique_together': (('account', 'court', 'role'),), 'pk_attr': 'id', 'table_description': 'Permission for a PACER account to file in one court, in one role.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('client_code', fields.CharField(null=True, max_length=32)),
                ('redaction_acknowledged', fields.BooleanField(default=False)),
            ],
            options={'table': 'sessions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A sign-in. Only the SHA-256 of the token is stored, and revoking kills it in every court.'},
            bases=['Model'],
        ),
    ]
