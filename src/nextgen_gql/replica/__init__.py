"""A streaming replica for queries' data reads (``NEXTGEN_GQL_REPLICA_DATABASE_URL``).

- ``routing``: which reads may go to the replica (``data_read``), for which requests
  (``query_reads``, ``decide``), and the fallback to the database when it fails;
- ``health``: whether the replica is up and close enough (``NEXTGEN_GQL_REPLICA_MAX_LAG_MS``),
  checked per worker and cached briefly, with a log line when it is left aside or taken back;
- ``writes``: the position of each caller's last write, kept with its sessions or key, so
  that it reads its own writes.

``serving`` runs it for the app's life (PostgreSQL only: the settings refuse a replica beside
SQLite). docs/operations.md ("A read replica") tells how to set one up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nextgen_gql.db import client_for
from nextgen_gql.replica.health import ReplicaState
from nextgen_gql.replica.routing import (
    Replica,
    current,
    data_read,
    database_reads,
    decide,
    expects_replica,
    install,
    query_reads,
    state,
)
from nextgen_gql.replica.writes import record_write
from nextgen_gql.settings import Settings

__all__ = [
    "Replica",
    "ReplicaState",
    "current",
    "data_read",
    "database_reads",
    "decide",
    "expects_replica",
    "query_reads",
    "record_write",
    "serving",
    "state",
]


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Replica | None]:
    """While the app serves (inside Tortoise's registration): the replica, checked once now and
    then on demand; nothing without ``NEXTGEN_GQL_REPLICA_DATABASE_URL``."""
    if settings.replica_database_url is None:
        yield None
        return
    from nextgen_gql.observability.metrics import count_replica_set_aside

    client = client_for(
        settings.replica_connection_url or settings.replica_database_url,
        "replica",
        statement_timeout_ms=settings.statement_timeout_ms,
        # Behind a PgBouncer in transaction mode too: the role's timeout, replicated with it.
        transaction_pooling=settings.transaction_pooling,
    )
    replica = Replica(client, settings.replica_max_lag_ms)
    replica.health.on_set_aside = count_replica_set_aside
    try:
        await replica.health.start()
        install(replica)
        yield replica
    finally:
        install(None)
        await replica.health.stop()
        await client.close()
