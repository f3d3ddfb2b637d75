"""A court's webhook endpoints, the deliveries owed to them, and every attempt made.

An endpoint is a court's (its clerks and its keys with ``MANAGE_WEBHOOKS`` manage it); its
signing secret is kept sealed with the service's secret key (``services.crypto``), and during
a rotation's overlap the previous one too, until ``previous_secret_until``.

A delivery is written in the transaction of the change it reports (one per endpoint that
asked for the event's type), with its body fixed then: every attempt sends the same bytes
and the same ``webhook-id`` (``uid``). Deliveries are not the live events' outbox: those are
pruned a day after they happen, while a delivery may still be retried days later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from nextgen_gql.models.courts import CourtRecord

__all__ = ["WebhookAttempt", "WebhookDelivery", "WebhookEndpoint"]


class WebhookEndpoint(Model):
    """Where a court's systems want to hear of its events."""

    id = fields.IntField(primary_key=True)
    court: fields.ForeignKeyRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name=False, on_delete=fields.RESTRICT
    )
    court_id: str
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200)
    # WebhookEventType values, comma-separated
    event_types = fields.CharField(max_length=400)
    enabled = fields.BooleanField(default=True)
    # why the service disabled it (410, or failing for days); null when a person did, or enabled
    disabled_reason = fields.CharField(max_length=300, null=True)
    secret_sealed = fields.TextField()
    previous_secret_sealed = fields.TextField(null=True)
    previous_secret_until = fields.DatetimeField(null=True)
    secret_rotated_at = fields.DatetimeField(null=True)
    # the first failed attempt of an unbroken run of failures (null: the last one succeeded)
    failing_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_endpoints"
        indexes = (("court_id", "id"),)


class WebhookDelivery(Model):
    """One event owed to one endpoint: pending until an attempt succeeds or the schedule ends."""

    id = fields.BigIntField(primary_key=True)
    # the webhook-id header (msg_...): the same on every attempt, unique across databases
    uid = fields.CharField(max_length=40, unique=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name=False, on_delete=fields.CASCADE
    )
    endpoint_id: int
    court_id = fields.CharField(max_length=16)
    event_type = fields.CharField(max_length=40)
    payload = fields.TextField()  # the JSON body, as every attempt sends it
    # pending, succeeded, failed
    outcome = fields.CharField(max_length=12, default="pending")
    attempts_made = fields.IntField(default=0)
    # when a worker may next try it (null: ended)
    next_attempt_at = fields.DatetimeField(null=True)
    # a worker's hold while it sends; run out: any worker may send it again
    lease_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_deliveries"
        indexes = (("endpoint_id", "id"), ("outcome", "next_attempt_at"), ("ended_at",))


class WebhookAttempt(Model):
    """One call made for a delivery, as it went."""

    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name=False, on_delete=fields.CASCADE
    )
    delivery_id: int
    at = fields.DatetimeField()
    status_code = fields.IntField(null=True)  # null: no answer (refused, timed out, address not allowed)
    duration_ms = fields.IntField()
    error = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "webhook_attempts"
        indexes = (("delivery_id", "id"),)
