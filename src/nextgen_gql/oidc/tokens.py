"""Authorization codes and tokens: issued, redeemed once, rotated, looked up, revoked.

Only hashes (SHA-256) of codes and tokens are kept. Every single-use step is one conditional
``UPDATE`` that changes exactly one row, so two requests racing with the same code or refresh
token cannot both win:

- a code is redeemed once, within 60 seconds, by the client it was issued to; a code presented
  again revokes every token it issued (RFC 6749 4.1.2);
- a refresh token is exchanged once for a new pair (rotation); presented again, the whole
  family of tokens issued from that code ends (reuse means a copy leaked: Keycloak's rule);
- an access token is opaque and read from the database at each use: revoked, or its session
  ended, it stops at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from nextgen_gql.models import Session
from nextgen_gql.models.oidc import OidcClientRecord, OidcCode, OidcToken
from nextgen_gql.services.audit import record
from nextgen_gql.services.clock import now

__all__ = [
    "ACCESS_PREFIX",
    "ACCESS_TTL",
    "CODE_TTL",
    "REFRESH_TTL",
    "Found",
    "Issued",
    "access_token",
    "find",
    "issue_code",
    "issue_tokens",
    "redeem_code",
    "revoke_family",
    "revoke_found",
    "rotate_refresh",
]

CODE_TTL = dt.timedelta(seconds=60)
ACCESS_TTL = dt.timedelta(minutes=10)
REFRESH_TTL = dt.timedelta(days=30)
#: Access tokens say what they are, as service keys do (``ngk_``): a bearer credential is
#: told apart before any database read (``oidc.access``).
ACCESS_PREFIX = "nga_"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def issue_code(
    code: str,
    *,
    client: OidcClientRecord,
    session: Session,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str,
) -> None:
    """Keep a new code (Authlib made it) for the signed-in person's session."""
    at = now()
    await OidcCode.create(
        code_hash=digest(code),
        client_id=client.id,
        account_id=session.account_id,
        session_id=session.id,
        redirect_uri=redirect_uri,
        scope=scope,
        nonce=nonce,
        code_challenge=code_challenge,
        auth_time=session.created_at,
        second_factor=session.second_factor,
        created_at=at,
        expires_at=at + CODE_TTL,
    )


async def redeem_code(code: str, client: OidcClientRecord) -> OidcCode | None:
    """The code's row if this call redeemed it (unused, unexpired, the client's own); else None.
    A code that was redeemed before revokes every token issued from it."""
    if not 0 < len(code) <= 128:
        return None
    hashed, at = digest(code), now()
    won = await OidcCode.filter(
        code_hash=hashed, client_id=client.id, used_at__isnull=True, expires_at__gt=at
    ).update(used_at=at)
    found = await OidcCode.get_or_none(code_hash=hashed, client_id=client.id)
    if won == 1:
        return found
    if found is not None and found.used_at is not None and found.used_at != at:
        ended = await OidcToken.filter(code_id=found.id, revoked_at__isnull=True).update(revoked_at=at)
        await record(
            "oidc.code.reuse",
            actor_id=found.account_id,
            detail=f"{client.client_id}: a used code presented again; {ended} token(s) revoked",
        )
    return None


@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str | None
    row: OidcToken


async def issue_tokens(
    *,
    client: OidcClientRecord,
    account_id: int,
    session_id: int,
    scope: str,
    refresh: bool,
    code: OidcCode | None = None,
    family: str | None = None,
) -> Issued:
    """A new access token (and refresh token when ``refresh``), of a new family for a code."""
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh_token = secrets.token_urlsafe(48) if refresh else None
    at = now()
    row = await OidcToken.create(
        access_hash=digest(access),
        refresh_hash=digest(refresh_token) if refresh_token else None,
        client_id=client.id,
        account_id=account_id,
        session_id=session_id,
        code_id=code.id if code is not None else None,
        family=family or secrets.token_hex(16),
        scope=scope,
        issued_at=at,
        access_expires_at=at + ACCESS_TTL,
        refresh_expires_at=at + REFRESH_TTL if refresh_token else None,
    )
    await record("oidc.token.issue", actor_id=account_id, court_code=client.court_id, detail=client.client_id)
    return Issued(access, refresh_token, row)


async def rotate_refresh(refresh_token: str, client: OidcClientRecord) -> OidcToken | None:
    """The token row whose refresh token this call exchanged (once); None if it cannot be. A
    refresh token exchanged before ends its whole family."""
    if not 0 < len(refresh_token) <= 256:
        return None
    hashed, at = digest(refresh_token), now()
    won = await OidcToken.filter(
        refresh_hash=hashed,
        client_id=client.id,
        refreshed_at__isnull=True,
        revoked_at__isnull=True,
        refresh_expires_at__gt=at,
    ).update(refreshed_at=at)
    found = await OidcToken.get_or_none(refresh_hash=hashed, client_id=client.id)
    if found is None:
        return None
    if won == 1:
        session = await Session.get_or_none(id=found.session_id, revoked_at__isnull=True, expires_at__gt=at)
        return found if session is not None else None
    if found.refreshed_at is not None and found.refreshed_at != at:
        ended = await revoke_family(found.family)
        await record(
            "oidc.refresh.reuse",
            actor_id=found.account_id,
            detail=f"{client.client_id}: a used refresh token presented again; {ended} token(s) revoked",
        )
    return None


async def revoke_family(family: str) -> int:
    """End every token of a family at once."""
    return await OidcToken.filter(family=family, revoked_at__isnull=True).update(revoked_at=now())


@dataclass(frozen=True)
class Found:
    """A token presented to revocation or introspection: its row, and which of the row's
    two tokens it is (``access_token`` or ``refresh_token``)."""

    row: OidcToken
    kind: str

    def live(self) -> bool:
        """Unrevoked, unexpired (a refresh token: not exchanged yet), its session live."""
        at = now()
        if self.row.revoked_at is not None or self.row.session.revoked_at is not None:
            return False
        if self.row.session.expires_at <= at or self.row.client.removed_at is not None:
            return False
        if self.kind == "refresh_token":
            expires = self.row.refresh_expires_at
            return self.row.refreshed_at is None and expires is not None and expires > at
        return self.row.access_expires_at > at


async def find(token: str, hint: str | None) -> Found | None:
    """The row of an access or refresh token (the hint says which to look for first)."""
    if not 0 < len(token) <= 256:
        return None
    hashed = digest(token)
    order = (
        ("refresh_token", "access_token") if hint == "refresh_token" else ("access_token", "refresh_token")
    )
    for kind in order:
        field = "access_hash" if kind == "access_token" else "refresh_hash"
        row = await OidcToken.filter(**{field: hashed}).select_related("client", "session").first()
        if row is not None:
            return Found(row, kind)
    return None


async def revoke_found(found: Found) -> int:
    """RFC 7009: an access token ends; a refresh token ends with its whole family."""
    if found.kind == "refresh_token":
        return await revoke_family(found.row.family)
    return await OidcToken.filter(id=found.row.id, revoked_at__isnull=True).update(revoked_at=now())


async def access_token(token: str) -> OidcToken | None:
    """The live token of an access token: unrevoked, unexpired, its session live and its
    client not removed; its client and session loaded."""
    if not 0 < len(token) <= 128:
        return None
    at = now()
    row = (
        await OidcToken.filter(access_hash=digest(token), revoked_at__isnull=True, access_expires_at__gt=at)
        .select_related("client", "session", "session__account")
        .first()
    )
    if row is None or row.client.removed_at is not None:
        return None
    if row.session.revoked_at is not None or row.session.expires_at <= at:
        return None
    return row
