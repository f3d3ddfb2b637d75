"""What counts as "the database cannot be reached": one classification for every path.

A request that cannot reach the database is answered ``503`` with ``Retry-After`` and
``DATABASE_UNAVAILABLE`` (``api.outages``); this module only says which failures those are,
on either database:

- ``DatabaseUnavailable``: raised by our own engines (``db_backends.asyncpg``) where they turn
  a driver's connection failure into one exception;
- PostgreSQL (asyncpg): the server refused or dropped the connection (``ConnectionRefusedError``
  and other socket errors, raised while connecting, are converted where they are raised, so an
  unrelated ``OSError``, a mail server's say, is never mistaken for one), is shutting down or
  starting up (``CannotConnectNowError``, ``AdminShutdownError``, ``CrashShutdownError``), the
  connection is gone (``ConnectionDoesNotExistError`` and class 08), a pooled connection closed
  under the caller (``InterfaceError``: "connection is closed", "released back to the pool",
  "pool is closing"), or its protocol was left mid-message by a session the server ended
  (``InternalClientError``: "cannot switch to state ...");
- SQLite: the file cannot be opened or read ("unable to open database file", "disk I/O error"),
  or the connection was closed under the caller.

Never counted: a statement cancelled by ``statement_timeout`` (``QueryCanceledError``, an
``INTERNAL_ERROR`` naming the limit), a constraint, a wait for a pool connection past the
request's deadline (``DatabaseBusy``, ``OVERLOADED``), a plain ``TimeoutError``.
"""

from __future__ import annotations

import sqlite3

import asyncpg

__all__ = ["RETRY_AFTER_S", "DatabaseUnavailable", "connecting_failed", "is_unavailable"]

#: What ``Retry-After`` tells a client refused for an outage (a restart takes about a second).
RETRY_AFTER_S = 1


class DatabaseUnavailable(Exception):
    """The database cannot be reached now (refused, shutting down, starting up, or the
    connection was lost)."""

    def __init__(self, cause: BaseException | None = None) -> None:
        detail = f" ({type(cause).__name__})" if cause is not None else ""
        super().__init__(f"The database cannot be reached now{detail}.")


_ASYNCPG_LOST = (
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.PostgresConnectionError,  # class 08, ConnectionDoesNotExistError among them
)
_INTERFACE_LOST = (
    "connection is closed",
    "underlying connection is closed",
    "released back to the pool",
    "pool is closing",
    "pool is closed",
)
_INTERNAL_LOST = ("cannot switch to state", 'protocol is in the "failed" state', "unexpected state")
_SQLITE_LOST = ("unable to open database file", "disk i/o error", "no active connection", "connection closed")


def _lost(exc: BaseException) -> bool:
    if isinstance(exc, (DatabaseUnavailable, *_ASYNCPG_LOST)):
        return True
    text = str(exc).lower()
    if isinstance(exc, asyncpg.exceptions.InterfaceError):
        return any(words in text for words in _INTERFACE_LOST)
    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        return any(words in text for words in _INTERNAL_LOST)
    if isinstance(exc, sqlite3.OperationalError | sqlite3.ProgrammingError):
        return any(words in text for words in _SQLITE_LOST)
    # Tortoise's OperationalError around sqlite3's: the message is sqlite3's.
    if type(exc).__module__.startswith("tortoise") and type(exc).__name__ == "OperationalError":
        return any(words in text for words in _SQLITE_LOST[:2])
    return False


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from or during) says the database
    cannot be reached."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if _lost(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def connecting_failed(exc: BaseException) -> bool:
    """A failure to open a connection to PostgreSQL (refused, reset, no route, no socket file),
    where no other kind of ``OSError`` can come from."""
    return isinstance(exc, OSError) and not isinstance(exc, TimeoutError)
