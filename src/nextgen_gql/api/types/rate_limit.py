"""``Query.rateLimit``: what the operation costs and what the caller has left this hour."""

from __future__ import annotations

import datetime as dt

import strawberry


@strawberry.type(
    description="What this operation costs and the caller's points for the hour (an account, a court's "
    "service key, or the address when anonymous)."
)
class RateLimit:
    cost: int = strawberry.field(description="Points this operation costs: max(1, ceil(nodeCount / 100)).")
    node_count: int = strawberry.field(description="The most list items (nodes) this operation may return.")
    limit: int = strawberry.field(description="Points per hour for this caller (0: budgets are off).")
    used: int = strawberry.field(
        description="Points spent this hour, this operation included (unless a dry run)."
    )
    remaining: int = strawberry.field(description="Points left this hour.")
    reset_at: dt.datetime = strawberry.field(description="When the hour's points are renewed.")
