"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a person's session with
the service ends, every app that received tokens in it and registered a
``backchannel_logout_uri`` is told, server to server, with a signed ``logout_token``.

What ends a session, and so owes logout tokens: signing out (the web app, ``cso-logout``,
RP-initiated logout), a session ended from another (``revokeSession``, "sign out everywhere
else"), a password changed or reset; and, for one app, the person revoking its grant. The
services that end sessions call ``note_ended`` in the same transaction, so the tokens owed are
written with the change (``oidc_logouts``, one row per session and app) and survive anything.

Delivery is the webhooks' machinery (``outbound``): rows are claimed with a lease
(``outbound.leases``), the token is signed at each attempt (a minute's life, a new ``jti``),
and ``POST``ed as ``logout_token=...`` to the registered URI through the address guard
(``outbound.delivery.post`` with the service's ``Reach``), with no transaction held. Any 2xx is
accepted; otherwise it is tried again on the webhooks' schedule (``outbound.delivery``), for
about a day, then left as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from nextgen_gql.models.oidc import OidcClientRecord, OidcLogout
from nextgen_gql.oidc import claims, signing
from nextgen_gql.outbound.client import Caller
from nextgen_gql.outbound.delivery import ATTEMPT_TIMEOUT_S, Answer, next_attempt, post
from nextgen_gql.outbound.leases import claim
from nextgen_gql.services.clock import now
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.listener import notify
from nextgen_gql.services.ordering import execute, moment

__all__ = [
    "CHANNEL",
    "EVENT",
    "Sender",
    "logout_token",
    "note_ended",
    "note_grant_revoked",
    "run",
    "run_round",
]

log = logging.getLogger("nextgen_gql.oidc.logouts")

EVENT = "http://schemas.openid.net/event/backchannel-logout"
BATCH = 32
CONCURRENCY = 8
LEASE = dt.timedelta(seconds=ATTEMPT_TIMEOUT_S * 4)
TOKEN_TTL = dt.timedelta(minutes=2)

#: Told when a logout is written (the worker of this process looks at once).
_wake: list[Callable[[], None]] = []
#: On PostgreSQL the transaction that owes logout tokens also ``NOTIFY``s this channel (delivered
#: at commit), so that the workers of every process and machine look at once (``app.py``).
CHANNEL = "nextgen_oidc_logouts"
#: Why a token is no longer sent: the client was removed or no longer takes them.
CLIENT_GONE = "the client no longer takes back-channel logout"


async def _owed(conn: BaseDBAsyncClient, where: str, params: list[object]) -> int:
    at = now()
    # A parameter in a SELECT list is text to PostgreSQL unless typed; SQLite stores text.
    stamp = "?::timestamptz" if conn.capabilities.dialect == "postgres" else "?"
    written = await execute(
        "INSERT INTO oidc_logouts (client_id, session_id, account_id, created_at, outcome,"
        " next_attempt_at, attempts_made)"
        f" SELECT DISTINCT t.client_id, t.session_id, t.account_id, {stamp}, 'pending', {stamp}, 0"
        " FROM oidc_tokens t JOIN oidc_clients c ON c.id = t.client_id"
        f" WHERE c.backchannel_logout_uri IS NOT NULL AND c.removed_at IS NULL AND {where}"
        " ON CONFLICT (session_id, client_id) DO NOTHING",
        [moment(at), moment(at), *params],
        conn,
    )
    if written:
        await notify(conn, CHANNEL)
        for wake in list(_wake):
            wake()
    return written


async def note_ended(conn: BaseDBAsyncClient, account_id: int, revoked_at: dt.datetime) -> int:
    """In the transaction that ended them: the logout tokens owed for the account's sessions
    that ended at ``revoked_at`` (the moment the ending wrote); how many."""
    return await _owed(
        conn,
        "t.account_id = ? AND t.session_id IN (SELECT s.id FROM sessions s"
        " WHERE s.account_id = ? AND s.revoked_at = ?)",
        [account_id, account_id, moment(revoked_at)],
    )


async def note_grant_revoked(conn: BaseDBAsyncClient, account_id: int, client_id: int) -> int:
    """The person revoked an app's grant: the app is told of every session it had tokens in."""
    return await _owed(conn, "t.account_id = ? AND t.client_id = ?", [account_id, client_id])


def logout_token(issuer: str, client_id: str, sub: str, sid: str, at: dt.datetime) -> dict[str, object]:
    """The claims of a logout token (Back-Channel Logout 1.0, 2.4): never a nonce."""
    return {
        "iss": issuer,
        "aud": client_id,
        "iat": int(at.timestamp()),
        "exp": int((at + TOKEN_TTL).timestamp()),
        "jti": secrets.token_urlsafe(16),
        "sub": sub,
        "sid": sid,
        "events": {EVENT: {}},
    }


@dataclass
class Sender(Caller):
    """What a worker sends with: the issuer and the sealer (signing keys, ``sub`` and ``sid``),
    beside where it may call and its connection pool (``Caller``)."""

    issuer: str
    sealer: Sealer


async def run_round(sender: Sender) -> int:
    """Claim the logout tokens due, send each, record how it went; how many were attempted."""
    claimed = await claim("oidc_logouts", now(), LEASE, BATCH)
    if not claimed:
        return 0
    rows = await OidcLogout.filter(id__in=claimed)
    found = {c.id: c for c in await OidcClientRecord.filter(id__in={r.client_id for r in rows})}
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(row: OidcLogout) -> None:
        async with limit:
            await _attempt(sender, row, found[row.client_id])

    await asyncio.gather(*(one(r) for r in rows))
    return len(rows)


async def _attempt(sender: Sender, row: OidcLogout, client: OidcClientRecord) -> None:
    at = now()
    uri = client.backchannel_logout_uri if client.removed_at is None else None
    if uri is None:
        answer = Answer(None, 0, error=CLIENT_GONE)
    else:
        token = await signing.sign(
            sender.sealer,
            logout_token(
                sender.issuer,
                client.client_id,
                claims.subject(sender.sealer, row.account_id),
                claims.session_id(sender.sealer, row.session_id),
                at,
            ),
            typ="logout+jwt",
        )
        assert sender.pool is not None
        answer = await post(
            sender.pool,
            uri,
            urlencode({"logout_token": token}).encode(),
            {
                "content-type": "application/x-www-form-urlencoded",
                "user-agent": "nextgen-gql back-channel logout",
            },
            sender.reach,
        )
    await _record(row, answer, final=uri is None)


async def _record(row: OidcLogout, answer: Answer, *, final: bool = False) -> None:
    """Record an attempt; ``final``: nothing will be sent again (the client is gone)."""
    ended = now()
    made = row.attempts_made + 1
    outcome, next_at = "pending", None
    if answer.succeeded:
        outcome = "delivered"
    elif final:
        outcome = "failed"
    else:
        next_at = next_attempt(made, answer, ended)
        if next_at is None:
            outcome = "failed"
    async with in_transaction() as conn:
        held = await (
            OidcLogout.filter(id=row.id, outcome="pending", lease_until__gt=ended)
            .using_db(conn)
            .update(
                outcome=outcome,
                attempts_made=made,
                next_attempt_at=next_at,
                lease_until=None,
                ended_at=None if outcome == "pending" else ended,
                last_status=answer.status,
                last_error=(answer.error or "")[:300] or None,
            )
        )
    log.info(
        "back-channel logout attempt",
        extra={
            "fields": {
                "logout": row.id,
                "client": row.client_id,
                "attempt": made,
                "status": answer.status,
                "duration_ms": answer.duration_ms,
                "outcome": outcome if held else "lease lost",
                "error": answer.error,
            }
        },
    )


async def run(sender: Sender, interval_s: float, woken: asyncio.Event) -> None:
    """Rounds for ever, every ``interval_s`` seconds and at once when ``woken`` (a logout written
    in this process; on PostgreSQL, in any: ``CHANNEL``)."""
    told = _wake  # the list this worker is on, whatever the module's name holds later
    told.append(woken.set)
    try:
        while True:
            woken.clear()
            made = 0
            try:
                made = await run_round(sender)
            except Exception:
                log.warning("back-channel logout: the round failed", exc_info=True)
            if made >= BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval_s):
                    await woken.wait()
    finally:
        told.remove(woken.set)
