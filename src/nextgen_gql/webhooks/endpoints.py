"""A court's webhook endpoints: made, listed, changed, rotated, removed; a test ``PING``;
a delivery sent again.

Who may: the court's clerks and its service keys with ``MANAGE_WEBHOOKS`` (the caller checks,
``services.courts.require_reader``); every function here takes the court so checked, and
touches that court's endpoints only (another court's id is, here, no endpoint at all).

A URL is checked when it is given (``WEBHOOK_URL_NOT_ALLOWED``: its form, then every address
its host resolves to, ``outbound.addresses``) and again at every attempt (DNS can change).
Secrets are made here, shown once (in the answer to the creation or the rotation) and kept
sealed with the service's secret key (``services.crypto.Sealer``). Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from nextgen_gql.enums import WebhookEventType
from nextgen_gql.errors import DomainError, ErrorCode, NotFound
from nextgen_gql.models import WebhookDelivery, WebhookEndpoint
from nextgen_gql.outbound.addresses import AddressRefused, Reach
from nextgen_gql.services import audit
from nextgen_gql.services.clock import now
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.text import single_line
from nextgen_gql.tenancy import Court
from nextgen_gql.webhooks import deliveries
from nextgen_gql.webhooks.signing import new_secret

__all__ = [
    "DESCRIPTION_MAX",
    "MAX_PER_COURT",
    "OVERLAP",
    "Actor",
    "MadeSecret",
    "create",
    "delete",
    "endpoint_of",
    "endpoints_of",
    "event_types",
    "redeliver",
    "rotate_secret",
    "send_test",
    "update",
]

#: A court keeps at most this many endpoints.
MAX_PER_COURT = 20
DESCRIPTION_MAX = 200
URL_MAX = 2000
#: After a rotation, the previous secret signs beside the new one for this long.
OVERLAP = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit trail: a clerk (``account_id``) or a service key."""

    account_id: int | None = None
    service_key_id: int | None = None


@dataclass(frozen=True)
class MadeSecret:
    """An endpoint and the secret just made for it (shown once, never again)."""

    endpoint: WebhookEndpoint
    secret: str


def event_types(endpoint: WebhookEndpoint) -> list[WebhookEventType]:
    """The event types an endpoint asked for, in the enum's order."""
    chosen = set(endpoint.event_types.split(","))
    return [t for t in WebhookEventType if t.value in chosen]


def _types(values: Sequence[WebhookEventType]) -> str:
    chosen = set(values)
    if not chosen:
        raise DomainError(ErrorCode.INVALID_INPUT, "Choose at least one event type.", "eventTypes")
    if WebhookEventType.PING in chosen:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "PING is not an event to subscribe to: sendTestWebhook sends one whatever the endpoint's types.",
            "eventTypes",
        )
    return ",".join(t.value for t in WebhookEventType if t in chosen)


def _description(value: str) -> str:
    text = single_line(value.strip(), "description", "A webhook endpoint's description")
    if not text or len(text) > DESCRIPTION_MAX:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Describe the endpoint in 1 to {DESCRIPTION_MAX} characters (which system receives it).",
            "description",
        )
    return text


async def _url(value: str, reach: Reach) -> str:
    url = value.strip()
    try:
        await reach.check(url, max_length=URL_MAX)
    except AddressRefused as exc:
        raise DomainError(
            ErrorCode.WEBHOOK_URL_NOT_ALLOWED, f"This URL may not receive webhooks: {exc}.", "url"
        ) from None
    return url


async def endpoints_of(court: Court) -> list[WebhookEndpoint]:
    """The court's endpoints, oldest first."""
    return await WebhookEndpoint.filter(court_id=court.code).order_by("id")


async def endpoint_of(court: Court, endpoint_id: int | None, field: str = "id") -> WebhookEndpoint:
    """One of the court's endpoints; ``NOT_FOUND`` for any other id (another court's too)."""
    found = (
        await WebhookEndpoint.get_or_none(id=endpoint_id, court_id=court.code)
        if endpoint_id is not None
        else None
    )
    if found is None:
        raise NotFound("No webhook endpoint of this court has that id.", field)
    return found


async def create(
    court: Court,
    actor: Actor,
    *,
    url: str,
    description: str,
    types: Sequence[WebhookEventType],
    sealer: Sealer,
    reach: Reach,
) -> MadeSecret:
    """A new endpoint of ``court``, enabled, with a new secret."""
    chosen = _types(types)
    text = _description(description)
    checked = await _url(url, reach)
    secret = new_secret()
    async with in_transaction() as conn:
        if await WebhookEndpoint.filter(court_id=court.code).using_db(conn).count() >= MAX_PER_COURT:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"A court has at most {MAX_PER_COURT} webhook endpoints: delete one first.",
                "url",
            )
        endpoint = await WebhookEndpoint.create(
            court_id=court.code,
            url=checked,
            description=text,
            event_types=chosen,
            enabled=True,
            secret_sealed=sealer.seal(secret),
            created_at=now(),
            using_db=conn,
        )
        await _audit("webhook.create", court, actor, endpoint, conn, f"{checked} ({chosen})")
    return MadeSecret(endpoint, secret)


async def update(
    court: Court,
    actor: Actor,
    endpoint_id: int | None,
    *,
    url: str | None = None,
    description: str | None = None,
    types: Sequence[WebhookEventType] | None = None,
    enabled: bool | None = None,
    reach: Reach,
) -> WebhookEndpoint:
    """Change what is given. Enabling clears ``disabledReason``; disabling ends the endpoint's
    pending deliveries (failed: they can be sent again one by one with ``redeliver``)."""
    endpoint = await endpoint_of(court, endpoint_id)
    changes: dict[str, object] = {}
    said: list[str] = []
    if types is not None:
        changes["event_types"] = _types(types)
        said.append(f"types {changes['event_types']}")
    if description is not None:
        changes["description"] = _description(description)
        said.append("description")
    if url is not None:
        changes["url"] = await _url(url, reach)
        said.append(f"url {changes['url']}")
    if enabled is not None and enabled != endpoint.enabled:
        changes["enabled"] = enabled
        changes["disabled_reason"] = None
        changes["failing_since"] = None
        said.append("enabled" if enabled else "disabled")
    if not changes:
        return endpoint
    async with in_transaction() as conn:
        await WebhookEndpoint.filter(id=endpoint.id).using_db(conn).update(**changes)
        if enabled is False:
            await deliveries.end_pending(conn, endpoint.id, "the endpoint was disabled")
        await _audit("webhook.update", court, actor, endpoint, conn, ", ".join(said))
    await endpoint.refresh_from_db()
    return endpoint


async def rotate_secret(court: Court, actor: Actor, endpoint_id: int | None, *, sealer: Sealer) -> MadeSecret:
    """A new secret; the one it replaces signs beside it for ``OVERLAP`` (24 hours)."""
    endpoint = await endpoint_of(court, endpoint_id)
    secret = new_secret()
    at = now()
    async with in_transaction() as conn:
        await (
            WebhookEndpoint.filter(id=endpoint.id)
            .using_db(conn)
            .update(
                secret_sealed=sealer.seal(secret),
                previous_secret_sealed=endpoint.secret_sealed,
                previous_secret_until=at + OVERLAP,
                secret_rotated_at=at,
            )
        )
        await _audit("webhook.rotate_secret", court, actor, endpoint, conn, None)
    await endpoint.refresh_from_db()
    return MadeSecret(endpoint, secret)


async def delete(court: Court, actor: Actor, endpoint_id: int | None) -> WebhookEndpoint:
    """Remove the endpoint, its deliveries and their attempts (the audit trail keeps that it was)."""
    endpoint = await endpoint_of(court, endpoint_id)
    async with in_transaction() as conn:
        await _audit("webhook.delete", court, actor, endpoint, conn, endpoint.url)
        await WebhookEndpoint.filter(id=endpoint.id).using_db(conn).delete()
    return endpoint


async def send_test(court: Court, actor: Actor, endpoint_id: int | None) -> WebhookDelivery:
    """A ``PING`` delivery to the endpoint, due now (even to a disabled endpoint: a test is how a
    court checks its receiver before enabling it again)."""
    endpoint = await endpoint_of(court, endpoint_id)
    async with in_transaction() as conn:
        delivery = await deliveries.write_one(
            conn, endpoint, WebhookEventType.PING, {"court": court.code, "endpointId": endpoint.id}
        )
        await _audit("webhook.test", court, actor, endpoint, conn, None)
    deliveries.wake()
    return delivery


async def redeliver(court: Court, actor: Actor, delivery_uid: str | None) -> WebhookDelivery:
    """Send one of the court's deliveries again now: the same event, body and ``webhook-id``;
    its schedule starts over."""
    delivery = (
        await WebhookDelivery.get_or_none(uid=delivery_uid, court_id=court.code)
        if delivery_uid is not None
        else None
    )
    if delivery is None:
        raise NotFound("No webhook delivery of this court has that id.", "id")
    endpoint = await WebhookEndpoint.get(id=delivery.endpoint_id)
    if not endpoint.enabled:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "The delivery's endpoint is disabled: enable it first (a test PING can be sent while it is).",
            "id",
        )
    async with in_transaction() as conn:
        await deliveries.restart(conn, delivery.id)
        await _audit("webhook.redeliver", court, actor, endpoint, conn, delivery.uid)
    deliveries.wake()
    await delivery.refresh_from_db()
    return delivery


async def _audit(
    action: str, court: Court, actor: Actor, endpoint: WebhookEndpoint, conn: object, detail: str | None
) -> None:
    await audit.record(
        action,
        actor_id=actor.account_id,
        court_code=court.code,
        detail=f"endpoint {endpoint.id}" + (f": {detail}" if detail else ""),
        service_key_id=actor.service_key_id,
        using_db=conn,  # type: ignore[arg-type]
    )
