"""Claiming due rows of a durable delivery table with a lease: webhook deliveries, back-channel
logout tokens.

A table that uses it has ``outcome`` (``pending`` until it ends), ``next_attempt_at`` and
``lease_until``. ``claim`` leases up to ``batch`` due rows (pending, due, no live lease) in one
statement that commits at once: on PostgreSQL the candidates are locked ``FOR UPDATE SKIP
LOCKED``, so workers on any number of processes and machines claim different rows and never
wait on each other; SQLite has one writer at a time, so the statement alone decides. The
caller then sends with no transaction or connection held, and records the attempt only while
the lease is still its own. A worker that dies leaves the lease to run out, and the row is
claimed again.
"""

from __future__ import annotations

import datetime as dt

from tortoise import connections

from nextgen_gql.services.ordering import moment, query

__all__ = ["claim"]


async def claim(
    table: str, at: dt.datetime, lease: dt.timedelta, batch: int, *, join: str = "", where: str = ""
) -> list[int]:
    """Lease up to ``batch`` due rows of ``table`` (aliased ``d``; ``join`` and ``where`` narrow
    the candidates); their ids, the most overdue first."""
    postgres = connections.get("default").capabilities.dialect == "postgres"
    lock = " FOR UPDATE OF d SKIP LOCKED" if postgres else ""
    narrowed = f" AND ({where})" if where else ""
    # A statement that starts with WITH: Tortoise's PostgreSQL client returns no rows for one
    # that starts with UPDATE (it reads the row count instead of RETURNING's rows).
    rows = await query(
        f"WITH due AS (SELECT d.id FROM {table} d {join}"
        " WHERE d.outcome = 'pending' AND d.next_attempt_at <= ?"
        f" AND (d.lease_until IS NULL OR d.lease_until < ?){narrowed}"
        f" ORDER BY d.next_attempt_at LIMIT {int(batch)}{lock})"
        f" UPDATE {table} SET lease_until = ? WHERE id IN (SELECT id FROM due) RETURNING id",
        [moment(at), moment(at), moment(at + lease)],
    )
    return [int(r[0]) for r in rows]
