"""The worker: due deliveries claimed, sent, recorded.

``serve`` runs one per process (``run``), every ``NEXTGEN_GQL_WEBHOOK_INTERVAL_S`` seconds and
at once when a delivery is written (in the process, or on PostgreSQL in any, by ``NOTIFY``).
A round:

1. **claims** up to ``BATCH`` due deliveries (pending, due, no live lease, the endpoint
   enabled, or a test ``PING``) by setting their lease, in one statement that commits at once:
   on PostgreSQL the candidates are locked ``FOR UPDATE SKIP LOCKED``, so workers on any
   number of processes and machines claim different rows and never wait on each other; SQLite
   has one writer at a time, so the statement alone decides;
2. **sends** each (at most ``CONCURRENCY`` at a time), with no transaction and no connection
   held: the body as written, signed now by the endpoint's secrets (the previous one too
   while a rotation overlaps), through the guarded client (``outbound``: every address
   checked at connection time);
3. **records** the attempt and what follows, in one transaction that holds the lease still
   (a worker whose lease ran out records nothing: another has the delivery by then): success
   ends it; ``410`` ends it and disables the endpoint; another failure schedules the next
   attempt (``outbound.delivery.SCHEDULE``, ``Retry-After`` honoured) or, the schedule spent,
   ends it as failed; an endpoint failing every attempt for ``FAILING_FOR`` (5 days) is
   disabled. An endpoint the service disables mails the court's clerks and says why in
   ``disabledReason``.

A worker that dies between 1 and 3 leaves the lease to run out (``LEASE``, longer than an
attempt may take): the delivery is sent again, with the same ``webhook-id``. At least once:
receivers de-duplicate on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from nextgen_gql.models import Clerk, PacerAccount, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from nextgen_gql.observability import metrics
from nextgen_gql.outbound.client import Caller
from nextgen_gql.outbound.delivery import ATTEMPT_TIMEOUT_S, Answer, next_attempt, post
from nextgen_gql.outbound.leases import claim
from nextgen_gql.services import email_addresses
from nextgen_gql.services.clock import now
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.ordering import moment, query
from nextgen_gql.webhooks import deliveries
from nextgen_gql.webhooks.signing import headers

__all__ = ["BATCH", "CONCURRENCY", "FAILING_FOR", "LEASE", "Sender", "oldest_due_age", "run_round"]

log = logging.getLogger("nextgen_gql.webhooks")

#: Deliveries claimed per round.
BATCH = 32
#: Attempts in flight at once per worker.
CONCURRENCY = 8
#: A claimed delivery's hold: longer than an attempt may take.
LEASE = dt.timedelta(seconds=ATTEMPT_TIMEOUT_S * 4)
#: An endpoint whose every attempt failed for this long is disabled.
FAILING_FOR = dt.timedelta(days=5)


@dataclass
class Sender(Caller):
    """What a worker sends with: the sealer of secrets and the mailer for the clerks, beside
    where it may call and its connection pool (``Caller``)."""

    sealer: Sealer
    mailer: Mailer


async def _claim(at: dt.datetime) -> list[int]:
    """Lease up to ``BATCH`` due deliveries whose endpoint is enabled (or a test ``PING``)."""
    return await claim(
        "webhook_deliveries",
        at,
        LEASE,
        BATCH,
        join="JOIN webhook_endpoints e ON e.id = d.endpoint_id",
        where="e.enabled OR d.event_type = 'ping'",
    )


async def run_round(sender: Sender) -> int:
    """One round (see the module): how many attempts were made."""
    at = now()
    claimed = await _claim(at)
    if not claimed:
        return 0
    found = {d.id: d for d in await WebhookDelivery.filter(id__in=claimed)}
    endpoints = {
        e.id: e for e in await WebhookEndpoint.filter(id__in={d.endpoint_id for d in found.values()})
    }
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(delivery: WebhookDelivery) -> None:
        async with limit:
            endpoint = endpoints.get(delivery.endpoint_id)
            if endpoint is None:  # deleted since: its deliveries went with it
                return
            await _attempt(sender, delivery, endpoint)

    await asyncio.gather(*(one(found[i]) for i in claimed if i in found))
    return len(found)


def _secrets(sender: Sender, endpoint: WebhookEndpoint, at: dt.datetime) -> list[str]:
    found = [sender.sealer.open(endpoint.secret_sealed)]
    if (
        endpoint.previous_secret_sealed
        and endpoint.previous_secret_until is not None
        and endpoint.previous_secret_until > at
    ):
        found.append(sender.sealer.open(endpoint.previous_secret_sealed))
    return found


async def _attempt(sender: Sender, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> None:
    at = now()
    try:
        sent_headers = headers(
            _secrets(sender, endpoint, at), deliveries.webhook_id(delivery), at, delivery.payload
        )
    except ValueError as exc:  # a secret sealed with another NEXTGEN_GQL_SECRET_KEY
        answer = Answer(None, 0, error=f"cannot sign: {exc}")
    else:
        assert sender.pool is not None
        answer = await post(
            sender.pool,
            endpoint.url,
            delivery.payload.encode(),
            sent_headers,
            sender.reach,
        )
    await _record(sender, delivery, endpoint, at, answer)


async def _record(
    sender: Sender, delivery: WebhookDelivery, endpoint: WebhookEndpoint, at: dt.datetime, answer: Answer
) -> None:
    ended = now()
    made = delivery.attempts_made + 1
    outcome = "pending"
    next_at: dt.datetime | None = None
    disable: str | None = None
    if answer.succeeded:
        outcome = "succeeded"
    elif answer.status == 410:
        outcome = "failed"
        disable = f"answered 410 Gone on {ended:%Y-%m-%d %H:%M} UTC (the receiver says it is gone)"
    else:
        next_at = next_attempt(made, answer, ended)
        if next_at is None:
            outcome = "failed"
        if (
            disable is None
            and endpoint.failing_since is not None
            and ended - endpoint.failing_since >= FAILING_FOR
            and delivery.event_type != "ping"
        ):
            disable = (
                f"every attempt failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC "
                f"(the last: {answer.error or 'no answer'})"
            )
    async with in_transaction() as conn:
        # Only while the lease is ours: a worker that took too long records nothing.
        held = (
            await WebhookDelivery.filter(id=delivery.id, outcome="pending", lease_until__gt=ended)
            .using_db(conn)
            .update(
                outcome=outcome,
                attempts_made=made,
                next_attempt_at=next_at,
                lease_until=None,
                ended_at=None if outcome == "pending" else ended,
            )
        )
        if not held:
            log.warning(
                "webhooks: delivery %s: the lease ran out before its attempt was recorded", delivery.uid
            )
            return
        await WebhookAttempt.create(
            delivery_id=delivery.id,
            at=at,
            status_code=answer.status,
            duration_ms=answer.duration_ms,
            error=(answer.error or "")[:300] or None,
            using_db=conn,
        )
        if delivery.event_type != "ping":
            if answer.succeeded:
                await (
                    WebhookEndpoint.filter(id=endpoint.id, failing_since__isnull=False)
                    .using_db(conn)
                    .update(failing_since=None)
                )
            else:
                await (
                    WebhookEndpoint.filter(id=endpoint.id, failing_since__isnull=True)
                    .using_db(conn)
                    .update(failing_since=at)
                )
        disabled = 0
        if disable is not None:
            disabled = await (
                WebhookEndpoint.filter(id=endpoint.id, enabled=True)
                .using_db(conn)
                .update(enabled=False, disabled_reason=disable[:300])
            )
            if disabled:
                await deliveries.end_pending(conn, endpoint.id, disable)
    metrics.count_webhook_attempt(_result(answer, outcome))
    log.info(
        "webhook attempt",
        extra={
            "fields": {
                "delivery": deliveries.webhook_id(delivery),
                "endpoint": endpoint.id,
                "court": endpoint.court_id,
                "event_type": delivery.event_type,
                "attempt": made,
                "status": answer.status,
                "duration_ms": answer.duration_ms,
                "outcome": outcome,
                "error": answer.error,
            }
        },
    )
    if disabled:
        await _mail_clerks(sender.mailer, endpoint, disable or "")


def _result(answer: Answer, outcome: str) -> str:
    if answer.succeeded:
        return "succeeded"
    if outcome == "failed":
        return "failed"
    return "retrying"


async def _mail_clerks(mailer: Mailer, endpoint: WebhookEndpoint, why: str) -> None:
    clerk_ids = await Clerk.filter(court_id=endpoint.court_id).values_list("account_id", flat=True)
    subject = f"A webhook endpoint of {endpoint.court_id} was disabled"
    text = (
        f"The service disabled the webhook endpoint {endpoint.url} ({endpoint.description}) of "
        f"{endpoint.court_id}: {why}.\n\nNo event is sent to it until a clerk enables it again "
        "(Court systems, Webhooks). Deliveries that were still pending ended; each can be sent "
        "again from the endpoint's delivery log.\n"
    )
    for clerk in await PacerAccount.filter(id__in=list(clerk_ids)):
        if email_addresses.reachable(clerk):
            try:
                await mailer.send(clerk.email, subject, text)
            except Exception:  # a mail server away: the endpoint stays disabled, the reason shown
                log.warning("webhooks: could not mail %s", clerk.id, exc_info=True)


async def oldest_due_age(at: dt.datetime | None = None) -> float:
    """Seconds since the oldest pending delivery fell due (0: none due)."""
    at = at or now()
    rows: Sequence[Sequence[object]] = await query(
        "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE outcome = 'pending' AND next_attempt_at <= ?",
        [moment(at)],
    )
    value = rows[0][0] if rows else None
    if value is None:
        return 0.0
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return max(0.0, (at - value).total_seconds())


async def run(sender: Sender, interval_s: float, woken: asyncio.Event) -> None:
    """Rounds for ever: every ``interval_s`` seconds, at once when ``woken`` is set, and again
    at once after a round that found a full batch. A failed round (the database away) is
    logged; the next one tries again, and leases that ran out meanwhile free their deliveries."""
    deliveries.on_wake(woken.set)
    try:
        while True:
            woken.clear()
            made = 0
            try:
                made = await run_round(sender)
                metrics.observe_webhook_backlog(await oldest_due_age())
            except Exception:
                log.warning("webhooks: the round failed", exc_info=True)
            if made >= BATCH:
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that meets the event being set, and the worker would outlive the app's shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval_s):
                    await woken.wait()
    finally:
        deliveries.off_wake(woken.set)
