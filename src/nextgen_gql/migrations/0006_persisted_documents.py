"""Persisted GraphQL documents (issue 14): automatic persisted queries and trusted documents,
shared by every worker and machine."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_filer_permissions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=128)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('canonical_sha256', fields.CharField(db_index=True, max_length=64)),
                ('document', fields.TextField(unique=False)),
                ('operation_names', fields.CharField(default='', max_length=400)),
                ('trusted', fields.BooleanField(default=False)),
                ('source', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('used_on', fields.DateField(null=True)),
            ],
            options={'table': 'persisted_documents', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A GraphQL document clients may name by its key instead of sending its text.'},
            bases=['Model'],
        ),
    ]
