"""A court's service keys: its own systems (CM/ECF, billing feeds) act with a key, not a
person's password (docs/integrators.md, "Court systems: service keys").

A key is the bearer secret ``ngk_<id>_<secret>``: ``ngk_`` so that secret scanners find one
that leaks, ``<id>`` 8 characters naming the key (its ``prefix`` is ``ngk_<id>``, unique),
``<secret>`` 40 random letters and digits, stored only as its SHA-256 and compared in
constant time (no password hashing on this path: a key is random, not guessable). The
secret is shown once, when the key is made.

A key acts only at its own court and within its scopes; anywhere else it is ``FORBIDDEN``.
It is no person (``me`` is null for it) and what it does is audited with the key. Its
``last_used_at`` is written at most once a minute, never on every request. Revoking it
ends it at once on every worker: every request reads the key's row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound
from nextgen_gql.models import CourtServiceKey, PacerAccount
from nextgen_gql.services import audit
from nextgen_gql.services.clock import now
from nextgen_gql.services.text import single_line
from nextgen_gql.tenancy import Court

__all__ = [
    "KEY_PREFIX",
    "KeyGrant",
    "NewKey",
    "authenticate",
    "create_key",
    "keys_by_ids",
    "list_keys",
    "looks_like_key",
    "parse_scopes",
    "refuse_key",
    "revoke_key",
    "revoke_key_by_prefix",
    "scopes_of",
]

KEY_PREFIX = "ngk_"
NAME_MAX = 100
#: ``last_used_at`` is written at most this often.
TOUCH_EVERY = dt.timedelta(minutes=1)
_ALPHABET_ID = string.ascii_lowercase + string.digits
_ALPHABET_SECRET = string.ascii_letters + string.digits
_SECRET_LENGTH = 40
_KEY_RE = re.compile(r"^ngk_([a-z0-9]{8})_([A-Za-z0-9]{32,128})$")
#: Compared against when no key has the prefix, so that an unknown prefix costs the same.
_NO_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class KeyGrant:
    """A live key that authenticated a request: who it is, where and what it may act."""

    id: int
    court_id: str
    name: str
    prefix: str
    scopes: frozenset[CourtKeyScope]
    #: The database's WAL position after the key's last write (``nextgen_gql.replica``).
    write_lsn: int | None = None

    def allows(self, court: Court | None, scope: CourtKeyScope) -> bool:
        return court is not None and court.code == self.court_id and scope in self.scopes


@dataclass(frozen=True)
class NewKey:
    """A key just made, with its secret: shown once, never stored."""

    key: CourtServiceKey
    secret: str


def scopes_of(key: CourtServiceKey) -> list[CourtKeyScope]:
    """The key's scopes, in the enum's order."""
    held = set(key.scopes.split())
    return [scope for scope in CourtKeyScope if scope.value in held]


def parse_scopes(raw: Iterable[str]) -> list[CourtKeyScope]:
    """``RECORD_USAGE``, ``record-usage``, ``record_usage`` -> the scope; ValueError otherwise."""
    found = []
    for item in raw:
        key = item.strip().lower().replace("-", "_")
        try:
            found.append(CourtKeyScope(key))
        except ValueError:
            names = ", ".join(s.name for s in CourtKeyScope)
            raise ValueError(f"unknown scope {item!r} (one of: {names})") from None
    return found


def looks_like_key(token: str) -> bool:
    """Whether a bearer credential is meant as a court's service key (``ngk_...``)."""
    return token.startswith(KEY_PREFIX)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def authenticate(token: str) -> KeyGrant | None:
    """The live key a bearer secret names, or None (malformed, unknown, wrong secret, revoked).
    Its ``last_used_at`` is brought up to date when it is a minute old or more."""
    match = _KEY_RE.match(token)
    if match is None:
        return None
    prefix = KEY_PREFIX + match.group(1)
    key = await CourtServiceKey.get_or_none(prefix=prefix)
    stored = key.secret_hash if key is not None else _NO_HASH
    if not hmac.compare_digest(_hash(match.group(2)), stored) or key is None or key.revoked_at is not None:
        return None
    at = now()
    if key.last_used_at is None or at - key.last_used_at >= TOUCH_EVERY:
        # Conditional: of workers touching it at once, one writes.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=at - TOUCH_EVERY)
        await CourtServiceKey.filter(stale, id=key.id).update(last_used_at=at)
    return KeyGrant(key.id, key.court_id, key.name, key.prefix, frozenset(scopes_of(key)), key.write_lsn)


async def create_key(
    court: Court, *, name: str, scopes: Collection[CourtKeyScope], created_by: PacerAccount | None
) -> NewKey:
    """A new key of ``court`` (its clerks, or the command line: ``created_by`` None); the
    secret is in the answer only."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise DomainError(ErrorCode.INVALID_INPUT, f"A key's name is 1 to {NAME_MAX} characters.", "name")
    single_line(name, "name", "A key's name")
    if not scopes:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Give the key at least one scope: " + ", ".join(s.name for s in CourtKeyScope) + ".",
            "scopes",
        )
    held = " ".join(scope.value for scope in CourtKeyScope if scope in set(scopes))
    for _attempt in range(5):
        key_id = "".join(secrets.choice(_ALPHABET_ID) for _ in range(8))
        secret = "".join(secrets.choice(_ALPHABET_SECRET) for _ in range(_SECRET_LENGTH))
        try:
            async with in_transaction() as conn:
                key = await CourtServiceKey.create(
                    court_id=court.code,
                    name=name,
                    scopes=held,
                    prefix=KEY_PREFIX + key_id,
                    secret_hash=_hash(secret),
                    created_at=now(),
                    created_by_id=created_by.id if created_by else None,
                    using_db=conn,
                )
                await audit.record(
                    "service_key.create",
                    actor_id=created_by.id if created_by else None,
                    court_code=court.code,
                    detail=f"{key.prefix} {name!r}: {held}",
                    using_db=conn,
                )
        except IntegrityError:  # the 8-character id was taken: draw another
            continue
        return NewKey(key, f"{key.prefix}_{secret}")
    raise RuntimeError("could not allocate a unique key id")  # pragma: no cover


async def _revoke(key: CourtServiceKey, actor: PacerAccount | None) -> CourtServiceKey:
    async with in_transaction() as conn:
        changed = (
            await CourtServiceKey.filter(id=key.id, revoked_at__isnull=True)
            .using_db(conn)
            .update(revoked_at=now(), revoked_by_id=actor.id if actor else None)
        )
        if not changed:
            raise DomainError(ErrorCode.INVALID_INPUT, f"The key {key.prefix} was revoked before.", "id")
        await audit.record(
            "service_key.revoke",
            actor_id=actor.id if actor else None,
            court_code=key.court_id,
            detail=f"{key.prefix} {key.name!r}",
            using_db=conn,
        )
    await key.refresh_from_db()
    return key


async def revoke_key(clerk: PacerAccount, court: Court, key_id: int) -> CourtServiceKey:
    """End a key of ``court`` at once (the caller checked the clerk); another court's key is
    ``NOT_FOUND``."""
    key = await CourtServiceKey.get_or_none(id=key_id, court_id=court.code)
    if key is None:
        raise NotFound(f"No service key of {court.code} has that id.", "id")
    return await _revoke(key, clerk)


async def revoke_key_by_prefix(court: Court, prefix: str) -> CourtServiceKey:
    """The command line's revocation, by the key's prefix (``ngk_...``)."""
    key = await CourtServiceKey.get_or_none(prefix=prefix.strip(), court_id=court.code)
    if key is None:
        raise NotFound(f"No service key of {court.code} has the prefix {prefix!r}.", "prefix")
    return await _revoke(key, None)


async def list_keys(court: Court) -> list[CourtServiceKey]:
    """The court's keys, oldest first, revoked ones included (without their secrets: none is kept)."""
    return await CourtServiceKey.filter(court_id=court.code).order_by("id")


async def keys_by_ids(ids: Iterable[int]) -> dict[int, CourtServiceKey]:
    wanted = set(ids)
    return {k.id: k for k in await CourtServiceKey.filter(id__in=wanted)} if wanted else {}


def refuse_key(key: KeyGrant, what: str) -> Forbidden:
    """The refusal a key gets outside its court or its scopes."""
    return Forbidden(
        f"The service key {key.prefix} may not {what}: a key acts at its court ({key.court_id}) "
        "within its scopes, and for no person."
    )
