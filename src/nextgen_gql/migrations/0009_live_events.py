"""Live updates (issue 17): the outbox of events for subscriptions (registrationEvents,
myEvents), written in the transaction of each change and kept for the resume window."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_mfa_and_self_service')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LiveEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('topic', fields.CharField(max_length=40)),
                ('kind', fields.CharField(max_length=32)),
                ('court_id', fields.CharField(null=True, max_length=16)),
                ('registration_id', fields.IntField(null=True)),
                ('invitation_id', fields.IntField(null=True)),
                ('privilege_id', fields.IntField(null=True)),
            ],
            options={'table': 'live_events', 'app': 'models', 'indexes': [Index(fields=['topic', 'id'])], 'pk_attr': 'id', 'table_description': 'An event for live subscribers (the outbox), kept for the resume window.'},
            bases=['Model'],
        ),
    ]
