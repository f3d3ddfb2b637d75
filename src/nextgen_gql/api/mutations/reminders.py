"""sendLinkingReminders: a court's clerks remind its unlinked legacy filers (services.reminders)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import UserError, payload_errors
from nextgen_gql.api.types.courts import FilerRoleEnum
from nextgen_gql.api.types.progress import ReminderJob
from nextgen_gql.services import reminders

__all__ = ["ReminderMutations"]


@strawberry.input(description="Which of the court's unlinked legacy filers to remind, or only count them.")
class SendLinkingRemindersInput:
    roles: list[FilerRoleEnum] | None = strawberry.field(
        default=None,
        description="The roles to remind (each one the court accepts, else ROLE_NOT_ACCEPTED); default: every "
        "role the court accepts.",
    )
    dry_run: bool | None = strawberry.field(
        default=None, description="Count the recipients and send nothing (no job is made)."
    )


@strawberry.type(description="The recipients counted, and the job that mails them.")
class LinkingRemindersPayload:
    recipients: int = strawberry.field(
        default=0,
        description="Accounts the job will mail (with dryRun: would mail): unlinked, with an email, not "
        "reminded in the last 7 days.",
    )
    skipped: int = strawberry.field(
        default=0,
        description="Unlinked accounts of the roles left out: no email, or reminded in the last 7 days.",
    )
    job: ReminderJob | None = strawberry.field(default=None, description="The job made; null with dryRun.")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done; empty on success."
    )


@strawberry.type
class ReminderMutations:
    @strawberry.mutation(
        description="Mail every unlinked legacy account of the chosen roles that has an email and was not "
        "reminded in the last 7 days: the legacy login, the two steps (upgrade, then link) and the court's "
        "help desk. One job per court at a time (REMINDER_JOB_RUNNING); it runs in the background, in "
        "batches, and each account is mailed at most once. The addressed court's clerks; audited."
    )
    @payload_errors(LinkingRemindersPayload)
    async def send_linking_reminders(
        self,
        info: Info,
        input: Annotated[
            SendLinkingRemindersInput,
            strawberry.argument(description="The roles, and whether only to count."),
        ],
    ) -> LinkingRemindersPayload:
        ctx = info.context
        if ctx.service_key is not None:
            await ctx.require_viewer()  # a service key acts for no person: FORBIDDEN
        started = await reminders.start(
            await ctx.viewer(),
            ctx.court,
            list(input.roles) if input.roles is not None else None,
            dry_run=bool(input.dry_run),
        )
        return LinkingRemindersPayload(
            recipients=started.recipients,
            skipped=started.skipped,
            job=ReminderJob.of(started.job) if started.job else None,
        )
