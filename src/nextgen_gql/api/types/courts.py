"""Courts (tenants), as the court files describe them: no database access.

A court's GraphQL object has plain attributes (no resolvers: the fastest path through
Strawberry) and is built once per court and day, then shared by every request.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node, describe_values
from nextgen_gql.enums import CourtKind, FilerRole
from nextgen_gql.tenancy import Court as CourtValue

if TYPE_CHECKING:  # (no import cycle for mypy: api.types.progress imports this module)
    _LinkingProgress = Any
    _ReminderJob = Any
else:
    _LinkingProgress = Annotated["LinkingProgress", strawberry.lazy("nextgen_gql.api.types.progress")]  # noqa: F821
    _ReminderJob = Annotated["ReminderJob", strawberry.lazy("nextgen_gql.api.types.progress")]  # noqa: F821

__all__ = ["Court", "CourtKindEnum", "FilerRoleEnum", "HelpDesk", "court_node"]

CourtKindEnum = describe_values(
    strawberry.enum(CourtKind, name="CourtKind", description="Appellate, district or bankruptcy."),
    {
        "APPELLATE": "A court of appeals (ca1 .. ca11, cadc, cafc).",
        "DISTRICT": "A district court (mad, nysd).",
        "BANKRUPTCY": "A bankruptcy court (mab, nysb).",
    },
)
FilerRoleEnum = describe_values(
    strawberry.enum(FilerRole, name="FilerRole", description="The role in which a filer files in a court."),
    {
        "ATTORNEY": "An attorney admitted to the court's bar (or pro hac vice, for listed cases).",
        "PRO_SE": "A party representing themself, in the cases the court permits.",
        "MEDIA": "A media account: receives notices, never files.",
        "CREDITOR": "A creditor in bankruptcy: files claims and related documents.",
        "FILING_AGENT": "A filing agent in bankruptcy, filing for the attorneys or trustees who designated it.",
        "TRUSTEE": "A bankruptcy trustee.",
    },
)


@strawberry.type(description="How to reach a court's CM/ECF help desk.")
class HelpDesk:
    phone: str | None = strawberry.field(
        description="The help desk's telephone number, as the court writes it."
    )
    email: str | None = strawberry.field(description="The help desk's email address.")
    url: str | None = strawberry.field(description="The court's web page for CM/ECF help.")


@strawberry.type(description="A federal court: a tenant of the service, with its own filers and clerks.")
class Court(Node):
    code: str = strawberry.field(description='PACER court id: "ca1", "mad", "mab".')
    name: str = strawberry.field(description="The court's full name.")
    kind: CourtKindEnum = strawberry.field(description="Appellate, district or bankruptcy.")  # type: ignore[valid-type]
    nextgen_since: dt.date | None = strawberry.field(
        description="When the court moved to NextGen CM/ECF; null while still on legacy CM/ECF."
    )
    is_nextgen: bool = strawberry.field(
        description="Whether linking and NextGen filing are available here now."
    )
    accepted_roles: list[FilerRoleEnum] = strawberry.field(  # type: ignore[valid-type]
        description="The filer roles this court accepts."
    )
    help_desk: HelpDesk | None = strawberry.field(description="The court's help desk.")

    @strawberry.field(
        description="How the court's legacy filers are moving to NextGen: totals, by role, by week "
        "(the court's clerks only; null to everyone else)."
    )
    async def linking_progress(self, info: strawberry.Info) -> _LinkingProgress | None:
        return await _progress_types().court_linking_progress(info, self.code)

    @strawberry.field(
        description="The court's latest linking-reminder job (its clerks only; null otherwise)."
    )
    async def reminder_job(self, info: strawberry.Info) -> _ReminderJob | None:
        return await _progress_types().court_reminder_job(info, self.code)


def _progress_types() -> Any:
    """``api.types.progress`` (which imports this module), looked up when first needed."""
    return importlib.import_module("nextgen_gql.api.types.progress")


@functools.lru_cache(maxsize=4096)
def _court_node(value: CourtValue, today: dt.date) -> Court:
    desk = value.help_desk
    return Court(
        id=strawberry.ID(encode_id("Court", value.code)),
        code=value.code,
        name=value.name,
        kind=value.kind,
        nextgen_since=value.nextgen_since,
        is_nextgen=value.is_nextgen(today),
        accepted_roles=list(value.accepted_roles),
        help_desk=HelpDesk(phone=desk.phone, email=desk.email, url=desk.url) if desk else None,
    )


def court_node(value: CourtValue) -> Court:
    """The (shared, immutable) GraphQL object of a court, as of today."""
    return _court_node(value, dt.datetime.now(dt.UTC).date())
