"""Secrets at rest: authenticator secrets sealed with Fernet (AES-128-CBC and HMAC-SHA256,
from the ``cryptography`` package), and keyed hashes (HMAC-SHA256) of the short codes the
service checks but never needs back (mailed security codes, backup codes).

Both keys are derived with HKDF-SHA256 from ``NEXTGEN_GQL_SECRET_KEY``, each for its own
purpose, so a stolen database alone yields neither an authenticator secret nor a backup
code. Without the setting, a SQLite database keeps a generated key in a file beside it
(``<database>.secret-key``, readable by its owner only); PostgreSQL has no such place, and
the service refuses to start without the setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["MissingSecretKey", "Sealer", "resolve_secret_key", "secret_key_file"]

_SEAL_INFO = b"nextgen-gql/authenticator-secrets/v1"
_HASH_INFO = b"nextgen-gql/code-hashes/v1"


class MissingSecretKey(ValueError):
    """The service needs NEXTGEN_GQL_SECRET_KEY and has none."""


def _derive(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret_key.encode())


class Sealer:
    """Seals and opens secrets, and hashes codes, with keys derived from one secret key."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret_key, _SEAL_INFO)))
        self._hash_key = _derive(secret_key, _HASH_INFO)

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        """The plain text; ``ValueError`` if it was sealed with another key or altered."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise ValueError("a sealed secret does not open with this NEXTGEN_GQL_SECRET_KEY") from None

    def code_hash(self, code: str) -> str:
        """The keyed hash of a code, as stored (hex)."""
        return hmac.new(self._hash_key, code.encode(), hashlib.sha256).hexdigest()


def secret_key_file(database_url: str) -> Path | None:
    """Where a SQLite database keeps its generated key (None: not a SQLite file)."""
    if not database_url.startswith("sqlite://"):
        return None
    path = database_url.removeprefix("sqlite://").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path + ".secret-key")


def resolve_secret_key(configured: str | None, database_url: str) -> str:
    """The key to use: the setting; else, for a SQLite file, the key kept beside it (made on
    first start); else one for this process only (in-memory SQLite). PostgreSQL without the
    setting: ``MissingSecretKey``."""
    if configured:
        return configured
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        raise MissingSecretKey(
            "NEXTGEN_GQL_SECRET_KEY is required on PostgreSQL: it encrypts authenticator secrets at rest. "
            "Set it to a random value of at least 32 characters (openssl rand -base64 48), the same "
            "for every worker and machine, and keep it: secrets sealed with a lost key cannot be opened."
        )
    path = secret_key_file(database_url)
    if path is None:
        return secrets.token_urlsafe(48)
    if path.exists():
        kept = path.read_text(encoding="ascii").strip()
        if len(kept) < 32:
            raise MissingSecretKey(f"{path} does not hold a secret key of at least 32 characters")
        return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written readable by its owner only, then linked into place (never overwritten): a second
    # process starting at the same moment reads the first one's key, whole.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return resolve_secret_key(None, database_url)
    finally:
        tmp.unlink()
    return key
