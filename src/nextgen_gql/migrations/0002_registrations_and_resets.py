from tortoise import migrations
from tortoise.migrations import operations as ops
from nextgen_gql.enums import FilerRole, RegistrationStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PasswordReset',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='password_resets', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_resets', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A mailed password-reset token: stored as its SHA-256, single-use, expiring.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Registration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name='registrations', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.RESTRICT)),
                ('role', fields.CharEnumField(description='ATTORNEY: attorney\nPRO_SE: pro_se\nMEDIA: media\nCREDITOR: creditor\nFILING_AGENT: filing_agent\nTRUSTEE: trustee', enum_type=FilerRole, max_length=16)),
                ('pro_hac_vice', fields.BooleanField(default=False)),
                ('case_number', fields.CharField(null=True, max_length=64)),
                ('bar_number', fields.CharField(null=True, max_length=32)),
                ('bar_state', fields.CharField(null=True, max_length=2)),
                ('status', fields.CharEnumField(default=RegistrationStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected\nWITHDRAWN: withdrawn', enum_type=RegistrationStatus, max_length=16)),
                ('open_key', fields.CharField(null=True, unique=True, max_length=64)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('models.PacerAccount', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('linked_cmecf_account', fields.ForeignKeyField('models.CmecfAccount', source_field='linked_cmecf_account_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'registrations', 'app': 'models', 'indexes': [Index(fields=['court_id', 'status', 'id']), Index(fields=['account_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A request to file in one court, in one role, decided by that court.'},
            bases=['Model'],
        ),
    ]
