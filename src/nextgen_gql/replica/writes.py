"""Each caller reads its own writes: the position of its last write, kept on the database.

After a mutation over HTTP, the accounts that made it (the session's, and one a sign-in or a
registration just proved) and the service key that made it get the database's WAL insert
position, taken after the mutation's transactions committed, on their live sessions
(``sessions.write_lsn``) or on the key (``court_service_keys.write_lsn``). A later query of
theirs reads that position with the session or key, on the database, and reads the replica
only once it has replayed that far (``routing.decide``); until then, the database.

The insert position (``pg_current_wal_insert_lsn()``), not the write position: with
``synchronous_commit = off`` a commit record may be inserted but not written yet, and the
write position would then promise less than was committed. The statement that keeps the
position writes records of its own after it, so the replica always replays past it.
"""

from __future__ import annotations

from collections.abc import Collection

from tortoise.connection import get_connections

from nextgen_gql.replica.routing import LSN_BYTES, current
from nextgen_gql.services.clock import now

__all__ = ["record_write"]

_POSITION = LSN_BYTES.format("pg_current_wal_insert_lsn()")
_SESSIONS = (
    f"UPDATE sessions SET write_lsn = {_POSITION}"
    " WHERE account_id = ANY($1::int[]) AND revoked_at IS NULL AND expires_at > $2"
)
_KEY = f"UPDATE court_service_keys SET write_lsn = {_POSITION} WHERE id = $1"


async def record_write(account_ids: Collection[int], key_id: int | None) -> None:
    """Keep the database's position with the live sessions of ``account_ids`` and with the key
    ``key_id``: nothing is done without a replica."""
    if current() is None or (not account_ids and key_id is None):
        return
    connection = get_connections().get("default")
    if account_ids:
        await connection.execute_query(_SESSIONS, [sorted(set(account_ids)), now()])
    if key_id is not None:
        await connection.execute_query(_KEY, [key_id])
