from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_firms_and_billing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Throttle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('key', fields.CharField(max_length=160)),
                ('failures', fields.IntField(default=0)),
                ('window_started', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'throttles', 'app': 'models', 'unique_together': (('kind', 'key'),), 'pk_attr': 'id', 'table_description': 'Failures of one kind (sign-in of an account, from an address, ...) within a window.'},
            bases=['Model'],
        ),
    ]
