"""Writing the audit trail. Call ``record`` inside the transaction of the change it records."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from nextgen_gql.models import AuditEvent
from nextgen_gql.services.clock import now

__all__ = ["record"]


async def record(
    action: str,
    *,
    actor_id: int | None,
    subject_id: int | None = None,
    court_code: str | None = None,
    detail: str | None = None,
    using_db: BaseDBAsyncClient | None = None,
) -> AuditEvent:
    """Append one event: ``action`` (``"cmecf.link"``) by ``actor`` to ``subject`` in ``court``."""
    return await AuditEvent.create(
        at=now(),
        action=action,
        actor_id=actor_id,
        subject_id=subject_id if subject_id is not None else actor_id,
        court_id=court_code,
        detail=detail,
        using_db=using_db,
    )
