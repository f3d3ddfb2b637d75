"""Brute-force resistance: failure counters and lockouts, kept in the database.

Each ``Policy`` counts failures of one kind for one key (an account, a source address, a
legacy login) in a window; at ``limit`` failures the key is locked for ``lock_for``. The
counters are rows, updated atomically, so every worker process and machine sees the same
state, and a lock survives a restart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import Throttle
from nextgen_gql.services import events
from nextgen_gql.services.clock import now

__all__ = [
    "ACCOUNT_SIGN_IN",
    "ADDRESS_SIGN_IN",
    "CMECF_LOGIN",
    "CMECF_RETRIEVALS",
    "CMECF_RETRIEVALS_TO",
    "LINK_ATTEMPTS",
    "MFA_CODES",
    "PAIR_SIGN_IN",
    "REGISTRATIONS",
    "RESET_REQUESTS",
    "RESET_TOKENS",
    "Policy",
    "clear",
    "clear_sign_in",
    "locked_until",
    "pair_key",
    "record_failure",
    "refuse_if_limited",
    "take_turn",
    "wait_words",
]


@dataclass(frozen=True)
class Policy:
    kind: str
    limit: int
    window: dt.timedelta
    lock_for: dt.timedelta


_15_MIN = dt.timedelta(minutes=15)
# Sign-in failures (wrong passwords, and wrong second-factor codes) count under three keys,
# all of them names as typed, so that a username nobody has behaves exactly like a real one:
#: Failed sign-ins from one source address, whatever the username: RATE_LIMITED there.
ADDRESS_SIGN_IN = Policy("address", 20, _15_MIN, _15_MIN)
#: Failures for one username from one address: that pair locks first (ACCOUNT_LOCKED there),
#: and nowhere else.
PAIR_SIGN_IN = Policy("acct_addr", 5, _15_MIN, _15_MIN)
#: Failures for one username from every address together (guessing spread over many
#: addresses): the password alone no longer signs in, from anywhere; an account with a
#: second factor still does, with it.
ACCOUNT_SIGN_IN = Policy("account", 20, _15_MIN, _15_MIN)
#: Wrong second-factor codes for one account (past its password), from anywhere.
MFA_CODES = Policy("mfa", 10, _15_MIN, _15_MIN)
#: Wrong passwords for one legacy CM/ECF login, through linkCmecfAccount.
CMECF_LOGIN = Policy("cmecf", 5, _15_MIN, dt.timedelta(minutes=30))
#: Failed link attempts by one PACER account (any login).
LINK_ATTEMPTS = Policy("linker", 10, _15_MIN, _15_MIN)
#: Invalid reset tokens from one source address.
RESET_TOKENS = Policy("reset", 10, _15_MIN, _15_MIN)
#: Password-reset requests from one source address (mail bombing).
RESET_REQUESTS = Policy("reset_req", 10, _15_MIN, _15_MIN)
_HOUR = dt.timedelta(hours=1)
#: CM/ECF login reminders (retrieveCmecfLogin) asked from one source address, at any court:
#: each may mail someone, and each tells a little about a roster.
CMECF_RETRIEVALS = Policy("retrieve", 10, _15_MIN, _15_MIN)
#: CM/ECF login reminders asked for one email (folded), from anywhere: its owner's mailbox.
CMECF_RETRIEVALS_TO = Policy("retrieve_to", 5, _HOUR, _HOUR)
#: Account registrations (registerPacerAccount) from one source address, answered or
#: refused: each answer says whether a username is taken.
REGISTRATIONS = Policy("register", 20, _HOUR, _HOUR)


def pair_key(username_key: str, address: str) -> str:
    """The key of PAIR_SIGN_IN: a username (folded) and an address."""
    return f"{username_key[:96]}|{address[:63]}"


async def locked_until(policy: Policy, key: str) -> dt.datetime | None:
    """When the key unlocks, if it is locked now."""
    row = await Throttle.get_or_none(kind=policy.kind, key=key[:160])
    if row is None or row.locked_until is None or row.locked_until <= now():
        return None
    return row.locked_until


async def record_failure(policy: Policy, key: str) -> dt.datetime | None:
    """Count one failure; return when the key unlocks if this (or an earlier) failure locked it."""
    key, at = key[:160], now()
    query = Throttle.filter(kind=policy.kind, key=key)
    restarted = await query.filter(window_started__lt=at - policy.window).update(
        failures=1, window_started=at, locked_until=None
    )
    if not restarted and not await query.update(failures=F("failures") + 1):
        try:
            await Throttle.create(kind=policy.kind, key=key, failures=1, window_started=at)
        except IntegrityError:
            await query.update(failures=F("failures") + 1)  # another request created it first
    row = await query.first()
    if row is None:  # pragma: no cover - the row was just written
        return None
    if row.failures >= policy.limit:
        if row.locked_until is None or row.locked_until <= at:
            row.locked_until = at + policy.lock_for
            await query.update(locked_until=row.locked_until)
            events.emit("throttle.locked", policy=policy.kind, key=key)
        return row.locked_until
    return None


async def clear(policy: Policy, key: str) -> None:
    """Forget the failures of a key (after a success, or a password reset)."""
    await Throttle.filter(kind=policy.kind, key=key[:160]).delete()


async def clear_sign_in(username_key: str) -> None:
    """Forget the sign-in failures of a username, from every address (its password was reset)."""
    await Throttle.filter(kind=ACCOUNT_SIGN_IN.kind, key=username_key[:160]).delete()
    await Throttle.filter(kind=PAIR_SIGN_IN.kind, key__startswith=pair_key(username_key, "")).delete()


def wait_words(until: dt.datetime) -> str:
    """How long until ``until``, in words a message can hold ("3 minutes")."""
    return _wait(until)


def _wait(until: dt.datetime) -> str:
    minutes = max(1, int((until - now()).total_seconds() + 59) // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def refuse_if_limited(policy: Policy, key: str, what: str) -> None:
    """RATE_LIMITED while ``key`` is locked under ``policy``."""
    until = await locked_until(policy, key)
    if until is not None:
        raise DomainError(ErrorCode.RATE_LIMITED, f"Too many failed {what}; try again in {_wait(until)}.")


def locked_message(until: dt.datetime, what: str) -> str:
    return f"{what} is locked after too many failed attempts; try again in {_wait(until)}"


async def take_turn(policy: Policy, key: str) -> bool:
    """Count one request under ``policy`` (every request, not only failures: mail sent,
    accounts made), as ``RESET_REQUESTS`` counts: ``limit`` requests in a window go through,
    and the ``limit``-th locks the key. False, counting nothing, while the key is locked:
    the request should do nothing."""
    if await locked_until(policy, key) is not None:
        return False
    await record_failure(policy, key)
    return True
