"""Passwords and usernames: argon2id hashing off the event loop, and today's rules.

The 2025 PACER password policy: 14 to 45 characters, with a lowercase letter, an
uppercase letter and a special character, and containing no part of the user's first or
last name, username or email.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nextgen_gql.errors import DomainError, ErrorCode

__all__ = [
    "check_password_policy",
    "check_username",
    "hash_password",
    "is_argon2_hash",
    "password_policy_problem",
    "verify_password",
]

T = TypeVar("T")
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
# Verified against when no account matches, so that a wrong username costs what a wrong
# password costs and the timing says nothing about which accounts exist. Written out rather
# than hashed at import (an argon2 hash, ~0.15 s, paid by every command that imports this
# module); made with ``_hasher``'s parameters, which a test checks (``check_needs_rehash``).
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$Ot9OunQIpgS5WTKbSRVgpQ$FaW6+BlzWasNs9HxGeMv62VveGFgSfzAfxf6Kwtg7wo"
)

PASSWORD_MIN, PASSWORD_MAX = 14, 45
USERNAME_MIN, USERNAME_MAX = 8, 64
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LEGACY_USERNAME_RE = re.compile(r"^[A-Za-z]+[0-9]+$")
#: The form of an argon2 PHC string (``is_argon2_hash``).
ARGON2_RE = re.compile(r"^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


# argon2 takes ~50 ms and 64 MiB a hash. A small pool of its own bounds both: a burst of
# sign-ins queues here instead of taking every core and hundreds of MB from other requests.
_pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2")


async def _in_pool(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool, fn, *args)


async def hash_password(password: str) -> str:
    """An argon2id PHC string for ``password``, computed in the argon2 worker pool."""
    return await _in_pool(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; never raises, costs the same when None."""
    return await _in_pool(_verify, stored, password)


def is_argon2_hash(value: str) -> bool:
    """Whether ``value`` has the form of an argon2 PHC string."""
    return bool(ARGON2_RE.match(value))


def _personal_parts(values: Iterable[str]) -> set[str]:
    parts: set[str] = set()
    for value in values:
        value = value.strip().lower()
        if not value:
            continue
        local = value.split("@", 1)[0]
        for piece in [value, local, *re.split(r"[^a-z0-9]+", local)]:
            if len(piece) >= 3:
                parts.add(piece)
    return parts


def password_policy_problem(
    password: str, *, username: str, first_name: str, last_name: str, email: str
) -> str | None:
    """The first way ``password`` fails the 2025 policy, as a sentence; None when it passes."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return f"The password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long."
    if not any(c.islower() for c in password):
        return "The password must contain a lowercase letter."
    if not any(c.isupper() for c in password):
        return "The password must contain an uppercase letter."
    if all(c.isalnum() for c in password):
        return "The password must contain a special character (such as ! # $ - _)."
    lowered = password.lower()
    for part in sorted(_personal_parts([username, first_name, last_name, email])):
        if part in lowered:
            return "The password must not contain any part of your name, username or email."
    return None


def check_password_policy(
    password: str, *, field: str, username: str, first_name: str, last_name: str, email: str
) -> None:
    """Raise ``PASSWORD_POLICY`` on ``field`` unless the password meets the 2025 policy."""
    problem = password_policy_problem(
        password, username=username, first_name=first_name, last_name=last_name, email=email
    )
    if problem:
        raise DomainError(ErrorCode.PASSWORD_POLICY, problem, field)


def check_username(username: str, *, field: str = "username") -> str:
    """Validate an upgraded-account username; return it stripped, else ``USERNAME_INVALID``."""
    name = username.strip()
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX:
        raise DomainError(
            ErrorCode.USERNAME_INVALID,
            f"A username must be {USERNAME_MIN} to {USERNAME_MAX} characters long.",
            field,
        )
    if not USERNAME_RE.match(name):
        raise DomainError(
            ErrorCode.USERNAME_INVALID,
            "A username may hold only letters, digits, '.', '_' and '-', "
            "and must start with a letter or digit.",
            field,
        )
    return name
