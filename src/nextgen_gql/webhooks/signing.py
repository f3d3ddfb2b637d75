"""Signing deliveries as the Standard Webhooks specification's ``v1`` (HMAC-SHA256 of
``{webhook-id}.{webhook-timestamp}.{body}``), with the ``standardwebhooks`` package.

Secrets are ``whsec_`` and the base64 of 32 random bytes. During a rotation's overlap both the
new and the previous secret sign: ``webhook-signature`` then carries two signatures, separated
by a space, and a receiver that knows either accepts the delivery.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets as random_secrets
from collections.abc import Iterable

from standardwebhooks.webhooks import Webhook

__all__ = ["PREFIX", "headers", "new_secret", "signature"]

PREFIX = "whsec_"


def new_secret() -> str:
    """A new signing secret: ``whsec_`` and base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode("ascii")


def signature(secrets: Iterable[str], msg_id: str, at: dt.datetime, body: str) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64>`` per secret, space-separated.
    ``at`` is converted to UTC (the package reads a date-time's fields as UTC)."""
    moment = at.astimezone(dt.UTC)
    return " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets)


def headers(secrets: Iterable[str], msg_id: str, at: dt.datetime, body: str) -> dict[str, str]:
    """Every header of one attempt."""
    return {
        "content-type": "application/json",
        "user-agent": "nextgen-gql-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(secrets, msg_id, at, body),
    }
