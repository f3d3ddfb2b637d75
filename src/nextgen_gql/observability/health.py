"""``GET /healthz`` (alive) and ``GET /readyz`` (ready to serve).

- ``/healthz``: ``200 {"status": "ok"}`` while the process runs and its database answers,
  ``503 {"status": "unavailable"}`` when the database does not (the contract).
- ``/readyz``: ``200 {"status": "ready"}`` once start-up is done, the database answers, every
  migration of this version is applied and every court served has its live row in the
  catalog (``courts``); otherwise
  ``503 {"status": "not ready", "reasons": [...]}``, each reason a sentence.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
from collections.abc import Callable, Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

from nextgen_gql.db import MIGRATIONS_MODULE
from nextgen_gql.tenancy import Court

__all__ = ["Readiness", "healthz", "migration_names"]

log = logging.getLogger("nextgen_gql.health")
_MIGRATION = re.compile(r"(\d{4}_\w+)\.py")


async def healthz(request: Request) -> JSONResponse:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # any failure of the database means "not healthy"
        log.exception("health check failed")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def migration_names() -> frozenset[str]:
    """The migrations this version ships (``nextgen_gql/migrations/NNNN_name.py``)."""
    files = importlib.resources.files(MIGRATIONS_MODULE).iterdir()
    return frozenset(m.group(1) for f in files if (m := _MIGRATION.fullmatch(f.name)))


class Readiness:
    """``GET /readyz`` for one app: ``started`` is set at the end of its start-up."""

    def __init__(self, courts: Callable[[], Iterable[Court]]) -> None:
        #: The courts served now (they follow the catalog while the service runs).
        self.courts = courts
        self.migrations = migration_names()
        self.started = False

    async def reasons(self) -> list[str]:
        """Why the service is not ready; empty when it is."""
        if not self.started:
            return ["The service is starting."]
        try:
            conn = connections.get("default")
            _, applied = await conn.execute_query("SELECT name FROM tortoise_migrations WHERE app = 'models'")
            _, rows = await conn.execute_query("SELECT code FROM courts WHERE retired_at IS NULL")
        except Exception as exc:  # the database is down, or not this service's
            log.warning("readiness: the database does not answer: %s", type(exc).__name__)
            return ["The database does not answer."]
        reasons = []
        missing = sorted(self.migrations - {str(row["name"]) for row in applied})
        if missing:
            reasons.append(f"Migrations not applied: {', '.join(missing)}.")
        known = {str(row["code"]) for row in rows}
        served = [court.code for court in self.courts()]
        if not served:
            reasons.append("No court is served.")
        unloaded = sorted(code for code in served if code not in known)
        if unloaded:
            shown = ", ".join(unloaded[:10]) + (
                f" and {len(unloaded) - 10} more" if len(unloaded) > 10 else ""
            )
            reasons.append(f"Courts not loaded: {shown}.")
        return reasons

    async def endpoint(self, request: Request) -> JSONResponse:
        reasons = await self.reasons()
        if reasons:
            return JSONResponse({"status": "not ready", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready"})
