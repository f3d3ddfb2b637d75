"""The outbox of live updates: one row per event, written in the transaction of the change
it reports, so that no event exists for a change that rolled back.

An event belongs to one topic, the stream its subscribers follow: ``court:{code}`` (a
court's registrations, for its clerks) or ``account:{id}`` (what concerns one account).
Rows refer to what they report by id without foreign keys: the outbox is a log, pruned
after the resume window (``services.outbox``).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["LiveEvent"]


class LiveEvent(Model):
    """An event for live subscribers (the outbox), kept for the resume window."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    topic = fields.CharField(max_length=40)  # court:mad, account:42
    kind = fields.CharField(max_length=32)  # a RegistrationEventKind or AccountEventKind value
    court_id = fields.CharField(max_length=16, null=True)
    registration_id = fields.IntField(null=True)
    invitation_id = fields.IntField(null=True)
    privilege_id = fields.IntField(null=True)

    class Meta:
        table = "live_events"
        indexes = (("topic", "id"),)
