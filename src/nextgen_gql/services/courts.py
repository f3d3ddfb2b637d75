"""Court staff (clerks), and the rules of addressing an operation to a court.

The catalog of courts itself (files applied to the database, followed live) is
``services.court_catalog``.

Every function that works inside one court takes that ``Court`` explicitly.
"""

from __future__ import annotations

from collections.abc import Collection

from tortoise.transactions import in_transaction

from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound, Unauthenticated
from nextgen_gql.models import Clerk, PacerAccount
from nextgen_gql.services import audit
from nextgen_gql.services.clock import now
from nextgen_gql.services.keys import KeyGrant, refuse_key
from nextgen_gql.services.passwords import USERNAME_MAX
from nextgen_gql.tenancy import Court

__all__ = [
    "check_clerk",
    "check_reader",
    "grant_clerk",
    "is_clerk",
    "require_clerk",
    "require_court",
    "require_reader",
    "revoke_clerk",
]


def require_court(court: Court | None) -> Court:
    """The court a court-scoped operation works in; ``COURT_REQUIRED`` on the national endpoint."""
    if court is None:
        raise DomainError(
            ErrorCode.COURT_REQUIRED,
            "This operation belongs to a court: send it to /courts/{code}/graphql "
            "or name the court in an X-Court header.",
        )
    return court


async def is_clerk(account_id: int, court: Court) -> bool:
    return await Clerk.filter(account_id=account_id, court_id=court.code).exists()


async def require_clerk(
    account: PacerAccount | None, court: Court | None, key: KeyGrant | None = None
) -> Court:
    """The court, if ``account`` is one of its clerks; else a DomainError that says why (a
    court's service key, ``key``, is no clerk: ``FORBIDDEN``)."""
    court = require_court(court)
    if account is None or key is not None:
        return check_clerk(court, None, (), key)
    return check_clerk(court, account.id, {court.code} if await is_clerk(account.id, court) else set())


def check_clerk(
    court: Court | None, account_id: int | None, clerk_of: Collection[str], key: KeyGrant | None = None
) -> Court:
    """``require_clerk``'s rule on facts the caller read (the courts the account is a clerk of)."""
    court = require_court(court)
    if key is not None:
        raise refuse_key(key, "do this (its court's clerks only)")
    if account_id is None:
        raise Unauthenticated()
    if court.code not in clerk_of:
        raise Forbidden(f"Only the clerks of {court.code} may do this.")
    return court


def check_reader(
    court: Court | None,
    account_id: int | None,
    clerk_of: Collection[str],
    key: KeyGrant | None,
    scope: CourtKeyScope,
) -> Court:
    """What the court's clerks may do, and a service key of the court with ``scope``."""
    court = require_court(court)
    if key is not None:
        if not key.allows(court, scope):
            raise refuse_key(key, f"do this without the scope {scope.name}")
        return court
    return check_clerk(court, account_id, clerk_of)


async def require_reader(
    account: PacerAccount | None, court: Court | None, key: KeyGrant | None, scope: CourtKeyScope
) -> Court:
    """``check_reader`` on facts read here."""
    court = require_court(court)
    if account is None or key is not None:
        return check_reader(court, None, (), key, scope)
    return check_reader(
        court, account.id, {court.code} if await is_clerk(account.id, court) else set(), None, scope
    )


async def _account_by_username(username: str) -> PacerAccount:
    key = username.strip().lower()
    account = await PacerAccount.get_or_none(username_key=key) if len(key) <= USERNAME_MAX else None
    if account is None:
        raise NotFound(f"No PACER account has the username {username!r}.", "username")
    return account


async def grant_clerk(court: Court, username: str, *, actor_id: int | None = None) -> Clerk:
    """Make the account a clerk of ``court`` (idempotent)."""
    account = await _account_by_username(username)
    async with in_transaction() as conn:
        clerk, created = await Clerk.get_or_create(
            court_id=court.code, account_id=account.id, defaults={"granted_at": now()}, using_db=conn
        )
        if created:
            await audit.record(
                "clerk.grant", actor_id=actor_id, subject_id=account.id, court_code=court.code, using_db=conn
            )
    return clerk


async def revoke_clerk(court: Court, username: str, *, actor_id: int | None = None) -> bool:
    """Take the clerk role away; False when the account was not a clerk of ``court``."""
    account = await _account_by_username(username)
    async with in_transaction() as conn:
        deleted = await Clerk.filter(court_id=court.code, account_id=account.id).using_db(conn).delete()
        if deleted:
            await audit.record(
                "clerk.revoke", actor_id=actor_id, subject_id=account.id, court_code=court.code, using_db=conn
            )
    return bool(deleted)
