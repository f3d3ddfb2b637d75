"""Multi-factor sign-in and account self-service (issue 15).

Authenticator apps (their secrets sealed with NEXTGEN_GQL_SECRET_KEY), hashed backup codes,
sign-in challenges, mailed email changes; sessions learn their address, user agent, last
use and whether they are restricted to enrolment. Existing accounts start with no sign-in
counted against their enrolment skips: a filer or clerk gets three sign-ins from now on.
"""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_courts_live')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Authenticator',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='authenticators', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=64)),
                ('secret_sealed', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_step', fields.BigIntField(default=0)),
                ('security_code_hash', fields.CharField(null=True, max_length=64)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failed_attempts', fields.SmallIntField(default=0)),
            ],
            options={'table': 'authenticators', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An authenticator app (TOTP, RFC 6238) of an account, pending until confirmed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BackupCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='backup_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'backup_codes', 'app': 'models', 'unique_together': (('account', 'code_hash'),), 'pk_attr': 'id', 'table_description': 'A single-use backup code, stored as its keyed hash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='email_changes', on_delete=OnDelete.CASCADE)),
                ('new_email', fields.CharField(max_length=254)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_changes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A requested change of email: the token mailed to the new address (its SHA-256), single use.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MfaChallenge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.PacerAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='mfa_challenges', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('client_code', fields.CharField(null=True, max_length=32)),
                ('redaction_acknowledged', fields.BooleanField(default=False)),
            ],
            options={'table': 'mfa_challenges', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The second step of a sign-in whose password was right: single use, short-lived.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PacerAccount',
            name='mfa_sign_ins_unenrolled',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Session',
            name='address',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Session',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Session',
            name='mfa_restricted',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Session',
            name='user_agent',
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
