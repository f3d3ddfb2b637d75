"""How a court's move to NextGen is going: its legacy accounts, linked or not, by role, and
week by week.

Every number is a kept count (``list_counts``, kept by the triggers of migrations 0011 and
0013 in the transaction of every write): per role ``roster.role.<role>``, ``.linked`` and
``.no_email_unlinked``; per Monday (UTC) ``week.<YYYY-MM-DD>.linked``, ``.approved`` and
``.reminded``, and ``week.<YYYY-MM-DD>.linked.<role>`` (migration 0015: the week's links by
role, sorting inside the week's range). A court's progress is two reads of the counts'
primary key, whatever the size of its roster, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from nextgen_gql.enums import FilerRole
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services.clock import now
from nextgen_gql.services.ordering import query
from nextgen_gql.tenancy import Court

__all__ = [
    "DEFAULT_WEEKS",
    "MAX_WEEKS",
    "Progress",
    "RoleCounts",
    "RoleWeek",
    "Week",
    "check_weeks",
    "monday",
    "progress",
    "role_counts",
    "weekly",
]

DEFAULT_WEEKS = 26
MAX_WEEKS = 520


@dataclass(frozen=True)
class RoleCounts:
    role: FilerRole
    legacy_accounts: int
    linked: int
    unlinked_without_email: int


@dataclass(frozen=True)
class Progress:
    court: Court
    by_role: list[RoleCounts]

    @property
    def legacy_accounts(self) -> int:
        return sum(r.legacy_accounts for r in self.by_role)

    @property
    def linked(self) -> int:
        return sum(r.linked for r in self.by_role)

    @property
    def unlinked(self) -> int:
        return self.legacy_accounts - self.linked

    @property
    def unlinked_without_email(self) -> int:
        return sum(r.unlinked_without_email for r in self.by_role)


@dataclass(frozen=True)
class RoleWeek:
    role: FilerRole
    linked: int


@dataclass(frozen=True)
class Week:
    week_start: dt.date
    linked: int
    registrations_approved: int
    reminders_sent: int
    #: The week's links by role: one per role asked for, in that order (0 when none).
    by_role: tuple[RoleWeek, ...] = ()


def monday(day: dt.date) -> dt.date:
    """The Monday that starts ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


async def role_counts(court_code: str) -> dict[FilerRole, RoleCounts]:
    """The kept counts of every role of the court's roster (roles without a legacy account absent)."""
    found = await query(
        "SELECT list, n FROM list_counts WHERE court_id = ? AND list >= 'roster.role.' AND list < 'roster.role/'",
        [court_code],
    )
    sizes = {str(name): int(n) for name, n in found}
    out: dict[FilerRole, RoleCounts] = {}
    for role in FilerRole:
        base = f"roster.role.{role.value}"
        total = sizes.get(base, 0)
        if total:
            out[role] = RoleCounts(
                role, total, sizes.get(base + ".linked", 0), sizes.get(base + ".no_email_unlinked", 0)
            )
    return out


async def progress(court: Court) -> Progress:
    """The court's totals and each role it accepts (and any other role its roster holds)."""
    counts = await role_counts(court.code)
    roles = list(court.accepted_roles) + [r for r in counts if r not in court.accepted_roles]
    return Progress(court, [counts.get(r) or RoleCounts(r, 0, 0, 0) for r in roles])


def check_weeks(weeks: int | None) -> int:
    """``weeks`` (default 26), or ``INVALID_INPUT`` outside 1..520."""
    if weeks is None:
        return DEFAULT_WEEKS
    if not 1 <= weeks <= MAX_WEEKS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"weeks must be 1 to {MAX_WEEKS}, got {weeks}.", "weeks")
    return weeks


async def weekly(court_code: str, weeks: int | None, roles: Sequence[FilerRole] = ()) -> list[Week]:
    """The last ``weeks`` weeks (this one included), oldest first, with each week's links of
    each of ``roles`` (in that order; a court's ``progress`` roles): one range of the kept counts."""
    n = check_weeks(weeks)
    last = monday(now().date())
    first = last - dt.timedelta(weeks=n - 1)
    found = await query(
        "SELECT list, n FROM list_counts WHERE court_id = ? AND list >= ? AND list < ?",
        [court_code, f"week.{first.isoformat()}", f"week.{(last + dt.timedelta(days=1)).isoformat()}"],
    )
    sizes = {str(name): int(k) for name, k in found}
    out = []
    for i in range(n):
        start = first + dt.timedelta(weeks=i)
        key = f"week.{start.isoformat()}."
        out.append(
            Week(
                start,
                sizes.get(key + "linked", 0),
                sizes.get(key + "approved", 0),
                sizes.get(key + "reminded", 0),
                tuple(RoleWeek(role, sizes.get(f"{key}linked.{role.value}", 0)) for role in roles),
            )
        )
    return out
