"""Webhooks for court systems (issue 34): a court's endpoints, the deliveries owed to them and
every attempt made (``models.webhooks``).

Deliveries are claimed by workers by ``(outcome, next_attempt_at)``, listed per endpoint by
``(endpoint_id, id)`` and pruned by ``ended_at``; an endpoint's deliveries and their attempts
go with it (``ON DELETE CASCADE``).
"""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0019_write_positions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('court', fields.ForeignKeyField('models.CourtRecord', source_field='court_id', db_constraint=True, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('url', fields.CharField(max_length=2000)),
                ('description', fields.CharField(max_length=200)),
                ('event_types', fields.CharField(max_length=400)),
                ('enabled', fields.BooleanField(default=True)),
                ('disabled_reason', fields.CharField(null=True, max_length=300)),
                ('secret_sealed', fields.TextField(unique=False)),
                ('previous_secret_sealed', fields.TextField(null=True, unique=False)),
                ('previous_secret_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('secret_rotated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failing_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoints', 'app': 'models', 'indexes': [Index(fields=['court_id', 'id'])], 'pk_attr': 'id', 'table_description': "Where a court's systems want to hear of its events."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uid', fields.CharField(unique=True, max_length=40)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('court_id', fields.CharField(max_length=16)),
                ('event_type', fields.CharField(max_length=40)),
                ('payload', fields.TextField(unique=False)),
                ('outcome', fields.CharField(default='pending', max_length=12)),
                ('attempts_made', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_deliveries', 'app': 'models', 'indexes': [Index(fields=['endpoint_id', 'id']), Index(fields=['outcome', 'next_attempt_at']), Index(fields=['ended_at'])], 'pk_attr': 'id', 'table_description': 'One event owed to one endpoint: pending until an attempt succeeds or the schedule ends.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('delivery', fields.ForeignKeyField('models.WebhookDelivery', source_field='delivery_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status_code', fields.IntField(null=True)),
                ('duration_ms', fields.IntField()),
                ('error', fields.CharField(null=True, max_length=300)),
            ],
            options={'table': 'webhook_attempts', 'app': 'models', 'indexes': [Index(fields=['delivery_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One call made for a delivery, as it went.'},
            bases=['Model'],
        ),
    ]
