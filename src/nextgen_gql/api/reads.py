"""The request's stage for a read replica (``nextgen_gql.replica``): where a query's data reads
go, and what a mutation leaves for its caller's next reads.

- a query over HTTP opens a route; the compiled path decides it with the session it reads
  (``api.compiled.runtime.Runtime.viewer``), the reference executor here (``decide_for``), once
  the credentials were checked on the database;
- a mutation, once it ran, keeps the database's WAL position with the live sessions of the
  accounts that made it and with the key that made it (``replica.record_write``), so that their
  queries read the database until the replica has replayed it.

Without a replica each step is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from graphql import OperationType

from nextgen_gql import replica
from nextgen_gql.api.context import Context

__all__ = ["decide_for", "routed"]

log = logging.getLogger("nextgen_gql.replica")


@asynccontextmanager
async def routed(context: Context, operation: OperationType) -> AsyncIterator[None]:
    """Around one operation's execution over HTTP."""
    if replica.current() is None:
        yield
    elif operation is OperationType.QUERY:
        with replica.query_reads():
            yield
    elif operation is OperationType.MUTATION:
        yield
        key = context.service_key
        try:
            await replica.record_write(context.acting_accounts(), key.id if key is not None else None)
        except Exception:  # the mutation stands; its caller may read the replica before it catches up
            log.warning("replica: the position of a write could not be kept", exc_info=True)
    else:
        yield


async def decide_for(context: Context) -> None:
    """The reference executor's route, after ``Context.check_credentials`` (the session is read)."""
    if replica.current() is None:
        return
    key = context.service_key
    if key is not None:
        await replica.decide(key.write_lsn)
        return
    session = await context.session() if context.token is not None else None
    await replica.decide(session.write_lsn if session is not None else None)
