from tortoise import migrations
from tortoise.migrations import operations as ops
from nextgen_gql.enums import InvitationStatus, UsageKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_registrations_and_resets')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Firm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_number', fields.CharField(unique=True, max_length=7)),
                ('name', fields.CharField(max_length=200)),
                ('client_code_required', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'firms', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A PACER Administrative Account: manages its members and pays their fees centrally.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Charge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='charges', on_delete=OnDelete.RESTRICT)),
                ('firm', fields.ForeignKeyField('models.Firm', source_field='firm_id', null=True, db_constraint=True, to_field='id', related_name='charges', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='DOCUMENT: document\nCASE_REPORT: case_report\nSEARCH: search\nOTHER_REPORT: other_report\nTRANSCRIPT: transcript\nAUDIO: audio', enum_type=UsageKind, max_length=16)),
                ('pages', fields.IntField()),
                ('client_code', fields.CharField(null=True, max_length=32)),
                ('description', fields.CharField(null=True, max_length=500)),
                ('amount_cents', fields.IntField()),
                ('recorded_by', fields.ForeignKeyField('models.PacerAccount', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'charges', 'app': 'models', 'indexes': [Index(fields=['firm_id', 'at']), Index(fields=['account_id', 'firm_id', 'at'])], 'pk_attr': 'id', 'table_description': 'PACER usage of one account in one court, billed to its firm or to the account.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FirmInvitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm', fields.ForeignKeyField('models.Firm', source_field='firm_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='firm_invitations', on_delete=OnDelete.CASCADE)),
                ('invited_by', fields.ForeignKeyField('models.PacerAccount', source_field='invited_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=InvitationStatus.PENDING, description='PENDING: pending\nACCEPTED: accepted\nDECLINED: declined\nCANCELLED: cancelled', enum_type=InvitationStatus, max_length=16)),
                ('open_key', fields.CharField(null=True, unique=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'firm_invitations', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An invitation to join a firm, answered by the invitee only.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FirmMembership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('firm', fields.ForeignKeyField('models.Firm', source_field='firm_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('account', fields.OneToOneField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='membership', on_delete=OnDelete.CASCADE)),
                ('is_admin', fields.BooleanField(default=False)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'firm_memberships', 'app': 'models', 'indexes': [Index(fields=['firm_id', 'account_id'])], 'pk_attr': 'id', 'table_description': 'An account in a firm, as a member or an administrator.'},
            bases=['Model'],
        ),
    ]
