"""Courts change live (issue 16): the catalog of courts in the database (each court's
definition, retirement) and its version, which running services follow."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_persisted_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CourtCatalog',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.IntField(default=0)),
                ('changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'court_catalog', 'app': 'models', 'pk_attr': 'id', 'table_description': "One row: the catalog's version, moved on by every apply that changed something."},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='CourtRecord',
            options={'table': 'courts', 'app': 'models', 'pk_attr': 'code', 'table_description': 'A court of the catalog, served or retired.'},
        ),
        ops.AddField(
            model_name='CourtRecord',
            name='definition',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='CourtRecord',
            name='retired_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
