"""Abuse resistance state, shared by every process: failure counters and lockouts."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["Throttle"]


class Throttle(Model):
    """Failures of one kind (sign-in of an account, from an address, ...) within a window."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    key = fields.CharField(max_length=160)
    failures = fields.IntField(default=0)
    window_started = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "throttles"
        unique_together = (("kind", "key"),)
