"""Points per hour (issue 24): what each caller spent in each hour, summed by every worker."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011b_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateSpending',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('caller', fields.CharField(max_length=80)),
                ('window_start', fields.BigIntField()),
                ('points', fields.BigIntField(default=0)),
            ],
            options={'table': 'rate_spending', 'app': 'models', 'unique_together': (('caller', 'window_start'),), 'pk_attr': 'id', 'table_description': 'Points one caller spent in one hour (``services.budgets``), shared by every worker.'},
            bases=['Model'],
        ),
    ]
