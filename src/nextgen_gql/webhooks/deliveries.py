"""Deliveries: written with the change they report, ended, started over, listed.

``announce`` is what the domain services call, inside the transaction of a change, once per
event: it writes one delivery per enabled endpoint of the court that asked for the event's
type, each with its body fixed (``{"type", "timestamp", "data"}``) and a ``webhook-id`` of its
own (``msg_`` and 22 random characters: unique across databases, so that a receiver that
de-duplicates never drops a new event as an old one). A change that rolls back leaves no
delivery. On PostgreSQL the transaction also ``NOTIFY``s ``CHANNEL`` (delivered at commit, to
every process: their workers look for due deliveries at once); in this process ``wake`` does.

What a body carries (``data``): ids and the court's code, never a password, token or secret;
for privilege events the role, the cases and the PACER account number, so that a court's
system can act without a scope it cannot have. No order is promised between deliveries.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from nextgen_gql.api.ids import encode_id
from nextgen_gql.enums import WebhookEventType
from nextgen_gql.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from nextgen_gql.services.clock import now
from nextgen_gql.services.listener import notify

__all__ = [
    "CHANNEL",
    "announce",
    "attempts_of",
    "body",
    "end_pending",
    "off_wake",
    "on_wake",
    "restart",
    "wake",
    "webhook_id",
    "write_one",
]

#: PostgreSQL's channel: a delivery was written (its payload is empty).
CHANNEL = "nextgen_webhooks"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

_wakers: list[Callable[[], None]] = []


def on_wake(callback: Callable[[], None]) -> None:
    """Call ``callback`` when this process writes a delivery (the worker waits on it)."""
    _wakers.append(callback)


def off_wake(callback: Callable[[], None]) -> None:
    if callback in _wakers:
        _wakers.remove(callback)


def wake() -> None:
    """Tell this process's worker that a delivery is due (after the commit)."""
    for callback in tuple(_wakers):
        callback()


def webhook_id(delivery: WebhookDelivery) -> str:
    """The ``webhook-id`` header of every attempt: the delivery's GraphQL id (``node(id:)``,
    ``redeliverWebhook``), made from its random ``uid``."""
    return encode_id("WebhookDelivery", delivery.uid)


def _uid() -> str:
    return "msg_" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def body(event_type: WebhookEventType, at: dt.datetime, data: Mapping[str, Any]) -> str:
    """A delivery's JSON body, as every attempt sends it."""
    moment = at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return orjson.dumps({"type": event_type.value, "timestamp": moment, "data": dict(data)}).decode()


async def write_one(
    conn: BaseDBAsyncClient, endpoint: WebhookEndpoint, event_type: WebhookEventType, data: Mapping[str, Any]
) -> WebhookDelivery:
    """One delivery to ``endpoint``, due now, in ``conn``'s transaction."""
    at = now()
    delivery = await WebhookDelivery.create(
        uid=_uid(),
        endpoint_id=endpoint.id,
        court_id=endpoint.court_id,
        event_type=event_type.value,
        payload=body(event_type, at, data),
        outcome="pending",
        next_attempt_at=at,
        created_at=at,
        using_db=conn,
    )
    await notify(conn, CHANNEL)
    return delivery


async def announce(
    conn: BaseDBAsyncClient,
    court_code: str,
    event_type: WebhookEventType,
    data: Callable[[], Awaitable[Mapping[str, Any]]],
) -> int:
    """Deliveries of one event to every enabled endpoint of the court that asked for its type,
    in ``conn``'s transaction; how many. ``data`` builds the event's data, and is called only
    when some endpoint wants it. Call it after the change's other writes. The caller calls
    ``wake`` once the transaction has committed (or lets the worker's round find them)."""
    endpoints = [
        e
        for e in await WebhookEndpoint.filter(court_id=court_code, enabled=True).using_db(conn)
        if event_type.value in e.event_types.split(",")
    ]
    if not endpoints:
        return 0
    at = now()
    payload = body(event_type, at, {"court": court_code, **await data()})
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                uid=_uid(),
                endpoint_id=endpoint.id,
                court_id=court_code,
                event_type=event_type.value,
                payload=payload,
                outcome="pending",
                next_attempt_at=at,
                created_at=at,
            )
            for endpoint in endpoints
        ],
        using_db=conn,
    )
    await notify(conn, CHANNEL)
    # The local worker is told now; it looks once the commit is done (its claim cannot see
    # the rows before), and the round after finds them in any case.
    wake()
    return len(endpoints)


async def end_pending(conn: BaseDBAsyncClient, endpoint_id: int, why: str) -> int:
    """End the endpoint's pending deliveries as failed (the endpoint was disabled)."""
    del why  # the endpoint's disabledReason (or the audit trail) says why
    at = now()
    return await (
        WebhookDelivery.filter(endpoint_id=endpoint_id, outcome="pending")
        .using_db(conn)
        .update(outcome="failed", next_attempt_at=None, lease_until=None, ended_at=at)
    )


async def restart(conn: BaseDBAsyncClient, delivery_id: int) -> None:
    """Due now, its schedule from the start (the attempts made stay in its log)."""
    await (
        WebhookDelivery.filter(id=delivery_id)
        .using_db(conn)
        .update(outcome="pending", attempts_made=0, next_attempt_at=now(), lease_until=None, ended_at=None)
    )
    await notify(conn, CHANNEL)


async def attempts_of(delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """Every attempt of each delivery, oldest first."""
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        for attempt in await WebhookAttempt.filter(delivery_id__in=delivery_ids).order_by("id"):
            found[attempt.delivery_id].append(attempt)
    return found


#: The most deliveries one page of an endpoint's log holds.
PAGE_MAX = 100


async def log_page(
    endpoint_id: int, *, outcome: str | None, first: int, after_id: int | None
) -> tuple[list[WebhookDelivery], bool, int]:
    """A page of an endpoint's delivery log, newest first: the deliveries, whether more
    follow, and how many there are in all (with ``outcome``, of that outcome)."""
    rows = WebhookDelivery.filter(endpoint_id=endpoint_id)
    if outcome is not None:
        rows = rows.filter(outcome=outcome)
    total = await rows.count()
    if after_id is not None:
        rows = rows.filter(id__lt=after_id)
    found = await rows.order_by("-id").limit(first + 1)
    return found[:first], len(found) > first, total
