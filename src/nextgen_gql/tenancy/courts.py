"""The court, as its file describes it: an immutable value passed explicitly everywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from nextgen_gql.enums import CourtKind, FilerRole

__all__ = ["Court", "HelpDesk"]


@dataclass(frozen=True, slots=True)
class HelpDesk:
    phone: str | None = None
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Court:
    """One federal court, a tenant of the service.

    ``code`` is the court's PACER id (``mad``), also its primary key in the database.
    """

    code: str
    name: str
    kind: CourtKind
    nextgen_since: dt.date | None
    accepted_roles: tuple[FilerRole, ...]
    hosts: tuple[str, ...] = ()
    help_desk: HelpDesk | None = None

    def is_nextgen(self, today: dt.date | None = None) -> bool:
        """True once the court has moved to NextGen CM/ECF (a past or present date)."""
        if self.nextgen_since is None:
            return False
        return self.nextgen_since <= (today or dt.datetime.now(dt.UTC).date())

    def accepts(self, role: FilerRole) -> bool:
        return role in self.accepted_roles

    def definition(self) -> dict[str, Any]:
        """What the court file says, as JSON values (kept in the database; ``from_definition``)."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "nextgen_since": self.nextgen_since.isoformat() if self.nextgen_since else None,
            "accepted_roles": [r.value for r in self.accepted_roles],
            "hosts": list(self.hosts),
            "help_desk": (
                {"phone": self.help_desk.phone, "email": self.help_desk.email, "url": self.help_desk.url}
                if self.help_desk
                else None
            ),
        }

    @classmethod
    def from_definition(cls, code: str, definition: dict[str, Any]) -> Court:
        since = definition.get("nextgen_since")
        desk = definition.get("help_desk")
        return cls(
            code=code,
            name=definition["name"],
            kind=CourtKind(definition["kind"]),
            nextgen_since=dt.date.fromisoformat(since) if since else None,
            accepted_roles=tuple(FilerRole(r) for r in definition["accepted_roles"]),
            hosts=tuple(definition.get("hosts") or ()),
            help_desk=HelpDesk(**desk) if desk else None,
        )
