"""The move to NextGen as a court's clerks watch it: progress by role and by week, reminder jobs."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node, describe_values
from nextgen_gql.api.types.courts import FilerRoleEnum
from nextgen_gql.errors import DomainError
from nextgen_gql.services import progress as progress_service
from nextgen_gql.services import reminders
from nextgen_gql.tenancy import Court as CourtValue

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = [
    "LinkingProgress",
    "ReminderJob",
    "ReminderJobStateEnum",
    "RoleProgress",
    "RoleWeekProgress",
    "WeekProgress",
    "court_linking_progress",
    "court_reminder_job",
]

_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]


class ReminderJobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ReminderJobStateEnum = describe_values(
    strawberry.enum(ReminderJobState, name="ReminderJobState", description="Where a reminder job is."),
    {
        "QUEUED": "Made, waiting for a worker.",
        "RUNNING": "A worker is mailing it, batch by batch (or will resume it after a restart).",
        "DONE": "Every recipient was reached.",
        "FAILED": "It stopped after failing repeatedly; a new job may be started.",
    },
)


@strawberry.type(description="A role's legacy accounts in a court, and how many are linked.")
class RoleProgress:
    role: FilerRoleEnum = strawberry.field(description="The role.")
    legacy_accounts: int = strawberry.field(description="The court's legacy accounts of this role.")
    linked: int = strawberry.field(description="Of those, the ones linked to a PACER account.")


@strawberry.type(description="A role's share of one week of a court's move to NextGen.")
class RoleWeekProgress:
    role: FilerRoleEnum = strawberry.field(description="The role.")
    linked: int = strawberry.field(description="Legacy accounts of this role linked that week.")


@strawberry.type(description="One week (Monday to Sunday, UTC) of a court's move to NextGen.")
class WeekProgress:
    week_start: dt.date = strawberry.field(description="The week's Monday (UTC).")
    linked: int = strawberry.field(description="Legacy accounts linked that week.")
    registrations_approved: int = strawberry.field(description="E-file registrations approved that week.")
    reminders_sent: int = strawberry.field(description="Linking reminders sent that week.")
    by_role: list[RoleWeekProgress] = strawberry.field(
        description="That week's links by role: one per role of LinkingProgress.byRole, in the same "
        "order, 0 when none."
    )


@strawberry.type(
    description="How a court's legacy filers are moving to NextGen: every number a kept count, exact, "
    "read without counting the roster."
)
class LinkingProgress:
    court_code: strawberry.Private[str]
    legacy_accounts: int = strawberry.field(description="The court's legacy CM/ECF accounts.")
    linked: int = strawberry.field(description="Legacy accounts linked to a PACER account.")
    unlinked: int = strawberry.field(description="Legacy accounts not linked yet.")
    unlinked_without_email: int = strawberry.field(
        description="Unlinked legacy accounts without an email: a reminder cannot reach them."
    )
    by_role: list[RoleProgress] = strawberry.field(
        description="Each role the court accepts (and any other its roster holds), in the court's order."
    )

    @strawberry.field(
        description="The last `weeks` weeks, this one included, oldest first (default 26, 1 to 520; "
        "otherwise INVALID_INPUT)."
    )
    async def weekly(
        self,
        weeks: Annotated[
            int | None, strawberry.argument(description="How many weeks: 1 to 520 (default 26).")
        ] = None,
    ) -> list[WeekProgress]:
        try:
            found = await progress_service.weekly(self.court_code, weeks, [r.role for r in self.by_role])
        except DomainError as exc:
            raise graphql_error(exc) from None
        return [
            WeekProgress(
                week_start=w.week_start,
                linked=w.linked,
                registrations_approved=w.registrations_approved,
                reminders_sent=w.reminders_sent,
                by_role=[RoleWeekProgress(role=r.role, linked=r.linked) for r in w.by_role],
            )
            for w in found
        ]

    @classmethod
    def of(cls, found: progress_service.Progress) -> LinkingProgress:
        return cls(
            court_code=found.court.code,
            legacy_accounts=found.legacy_accounts,
            linked=found.linked,
            unlinked=found.unlinked,
            unlinked_without_email=found.unlinked_without_email,
            by_role=[
                RoleProgress(role=r.role, legacy_accounts=r.legacy_accounts, linked=r.linked)
                for r in found.by_role
            ],
        )


@strawberry.type(
    description="A court's job mailing linking reminders to its unlinked legacy filers, in batches, in "
    "the background (it survives a restart: a worker resumes it)."
)
class ReminderJob(Node):
    job: strawberry.Private[reminders.Job]

    @classmethod
    def of(cls, job: reminders.Job) -> ReminderJob:
        return cls(job=job, id=strawberry.ID(encode_id("ReminderJob", job.id)))

    @strawberry.field(description="Queued, running, done or failed.")
    def state(self) -> ReminderJobStateEnum:  # type: ignore[valid-type]
        return ReminderJobState(self.job.state)

    @strawberry.field(description="The accounts the job will mail, counted when it started.")
    def total(self) -> int:
        return self.job.total

    @strawberry.field(
        description="Reminders recorded so far (each mailed at most once); may end below total when "
        "accounts were linked meanwhile."
    )
    def sent(self) -> int:
        return self.job.sent

    @strawberry.field(description="When a clerk started it.")
    def started_at(self) -> dt.datetime:
        return self.job.started_at

    @strawberry.field(description="When it was done or failed; null until then.")
    def finished_at(self) -> dt.datetime | None:
        return self.job.finished_at

    @strawberry.field(description="The clerk who started it.")
    async def started_by(self, info: Info) -> _PacerAccount | None:
        from nextgen_gql.api.types.filing import load_account

        return await load_account(info, self.job.started_by_id)


async def _clerk_court(info: Info, code: str) -> CourtValue | None:
    """The court, when the viewer is one of its clerks (a person: never a service key)."""
    ctx = info.context
    if ctx.service_key is not None or code not in ctx.courts:
        return None
    viewer = await ctx.viewer()
    if viewer is None or code not in await ctx.clerk_courts():
        return None
    return ctx.courts.get(code)


async def court_linking_progress(info: Info, code: str) -> LinkingProgress | None:
    """``Court.linkingProgress``: the court's clerks only."""
    court = await _clerk_court(info, code)
    return LinkingProgress.of(await progress_service.progress(court)) if court else None


async def court_reminder_job(info: Info, code: str) -> ReminderJob | None:
    """``Court.reminderJob``: the court's latest job, to its clerks only."""
    court = await _clerk_court(info, code)
    job = await reminders.latest_job(court.code) if court else None
    return ReminderJob.of(job) if job else None
