"""Linking reminders: a court's clerks mail the unlinked legacy filers of chosen roles.

A job (``reminder_jobs``, migration 0013) is made by ``start``: its recipients (unlinked
legacy accounts of the roles, with an email, not reminded in the last 7 days) are counted
then, from kept counts and the last 7 days of reminders (an index range); one queued or
running job per court (a partial unique index: ``REMINDER_JOB_RUNNING``); one audit event.

A worker (``run_pending``: ``serve`` runs one per process every
``NEXTGEN_GQL_REMINDER_INTERVAL_S``) claims a job with a lease (a conditional update of the
job's row: of two workers, one wins; on PostgreSQL the row's lock decides), then works in
batches along the roster's unlinked index (login order, keyset). Each batch, in one
transaction: the reminders recorded (``linking_reminders``), the accounts' ``reminded_at``
set, the job's progress and position moved on. After it commits, each recorded reminder is
claimed (``mailed_at`` set where it was null) and only then handed to the mailer: a crash
may delay a mail (the next run mails what was recorded and not claimed) but never sends one
twice (at most once). A worker that dies leaves its lease to expire; another resumes from the
job's position. The 7-day rule reads ``reminded_at``, so it holds across jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from nextgen_gql.enums import FilerRole
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import PacerAccount
from nextgen_gql.services import audit
from nextgen_gql.services.clock import now
from nextgen_gql.services.courts import require_clerk
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.ordering import moment, query
from nextgen_gql.services.progress import role_counts
from nextgen_gql.tenancy import Court, CourtRegistry

__all__ = [
    "BATCH",
    "LEASE",
    "QUIET_DAYS",
    "Job",
    "Started",
    "latest_job",
    "reminder_mail",
    "run_pending",
    "start",
]

log = logging.getLogger("nextgen_gql.reminders")

#: An account reminded is not reminded again for this long, by any job.
QUIET_DAYS = 7
#: Accounts recorded (and then mailed) per transaction.
BATCH = 200
#: A worker's hold on a job; renewed each batch. A job whose lease ran out is resumed by any worker.
LEASE = dt.timedelta(seconds=60)
#: A job failing this many times in a row is FAILED.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Job:
    id: int
    court_id: str
    state: str  # queued, running, done, failed
    roles: tuple[FilerRole, ...]
    total: int
    sent: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    started_by_id: int | None


@dataclass(frozen=True)
class Started:
    recipients: int
    skipped: int
    job: Job | None


_COLUMNS = "id, court_id, state, roles, total, sent, started_at, finished_at, started_by_id"


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    moment: dt.datetime = value.astimezone(dt.UTC)
    return moment


def _job(r: Sequence[Any]) -> Job:
    started = _when(r[6])
    assert started is not None
    return Job(
        int(r[0]),
        str(r[1]),
        str(r[2]),
        tuple(FilerRole(x) for x in str(r[3]).split(",") if x),
        int(r[4]),
        int(r[5]),
        started,
        _when(r[7]),
        int(r[8]) if r[8] is not None else None,
    )


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


async def latest_job(court_code: str) -> Job | None:
    """The court's latest reminder job, whatever its state."""
    found = await query(
        f"SELECT {_COLUMNS} FROM reminder_jobs WHERE court_id = ? ORDER BY id DESC LIMIT 1", [court_code]
    )
    return _job(found[0]) if found else None


async def job_by_id(job_id: int) -> Job | None:
    found = await query(f"SELECT {_COLUMNS} FROM reminder_jobs WHERE id = ?", [job_id])
    return _job(found[0]) if found else None


def _roles(court: Court, roles: Sequence[FilerRole] | None) -> tuple[FilerRole, ...]:
    if roles is None:
        return tuple(court.accepted_roles)
    for role in roles:
        if role not in court.accepted_roles:
            raise DomainError(
                ErrorCode.ROLE_NOT_ACCEPTED, f"{court.code} does not accept the role {role.name}.", "roles"
            )
    if not roles:
        raise DomainError(ErrorCode.INVALID_INPUT, "Name at least one role, or leave roles out.", "roles")
    return tuple(dict.fromkeys(roles))


async def count(court: Court, roles: Sequence[FilerRole]) -> tuple[int, int]:
    """(recipients, skipped) among the court's unlinked legacy accounts of ``roles``: kept
    counts per role, less those reminded in the last 7 days (an index range of reminders)."""
    kept = await role_counts(court.code)
    unlinked = sum(kept[r].legacy_accounts - kept[r].linked for r in roles if r in kept)
    reachable = sum(
        kept[r].legacy_accounts - kept[r].linked - kept[r].unlinked_without_email for r in roles if r in kept
    )
    recent = await query(
        "SELECT COUNT(DISTINCT c.id) FROM linking_reminders r JOIN cmecf_accounts c ON c.id = r.cmecf_account_id"
        " WHERE r.court_id = ? AND r.sent_at >= ? AND c.linked_at IS NULL AND c.email <> ''"
        f" AND c.role IN ({_marks(len(roles))})",
        [court.code, moment(now() - dt.timedelta(days=QUIET_DAYS)), *(r.value for r in roles)],
    )
    recipients = max(0, reachable - int(recent[0][0]))
    return recipients, unlinked - recipients


async def start(
    viewer: PacerAccount | None, court: Court | None, roles: Sequence[FilerRole] | None, *, dry_run: bool
) -> Started:
    """Count the recipients and, unless ``dry_run``, queue the court's job (its clerks only)."""
    court = await require_clerk(viewer, court)
    assert viewer is not None
    chosen = _roles(court, roles)
    if not dry_run and await _active(court.code):
        raise _running(court)
    recipients, skipped = await count(court, chosen)
    if dry_run:
        return Started(recipients, skipped, None)
    at = now()
    try:
        async with in_transaction() as conn:
            await conn.execute_query(
                _sql(
                    "INSERT INTO reminder_jobs (court_id, state, roles, total, sent, started_at, started_by_id)"
                    " VALUES (?, 'queued', ?, ?, 0, ?, ?)"
                ),
                [court.code, ",".join(r.value for r in chosen), recipients, moment(at), viewer.id],
            )
            found = await conn.execute_query_dict(
                _sql("SELECT id FROM reminder_jobs WHERE court_id = ? AND state = 'queued'"), [court.code]
            )
            job_id = int(found[0]["id"])
            await audit.record(
                "reminders.start",
                actor_id=viewer.id,
                court_code=court.code,
                detail=f"job {job_id}: {recipients} recipients ({', '.join(r.name for r in chosen)})",
                using_db=conn,
            )
    except Exception as exc:  # the partial unique index: a job began meanwhile
        if await _active(court.code):
            raise _running(court) from exc
        raise
    wake()
    job = await job_by_id(job_id)
    assert job is not None
    return Started(recipients, skipped, job)


def _running(court: Court) -> DomainError:
    return DomainError(
        ErrorCode.REMINDER_JOB_RUNNING,
        f"A reminder job of {court.code} is still running: wait until it is done.",
    )


async def _active(court_code: str) -> bool:
    found = await query(
        "SELECT 1 FROM reminder_jobs WHERE court_id = ? AND state IN ('queued', 'running')", [court_code]
    )
    return bool(found)


def _sql(text: str) -> str:
    if connections.get("default").capabilities.dialect != "postgres":
        return text
    parts = text.split("?")
    return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))


# ---------------------------------------------------------------------------- the mail


def reminder_mail(court: Court, login: str) -> tuple[str, str]:
    """(subject, body) of one reminder: the court, the legacy login, the two steps, the help desk."""
    desk = court.help_desk
    reach = []
    if desk is not None:
        reach = [x for x in (desk.phone, desk.email, desk.url) if x]
    help_line = (
        f"Questions? The {court.name} CM/ECF help desk: {'; '.join(reach)}."
        if reach
        else f"Questions? Contact the {court.name} CM/ECF help desk."
    )
    body = (
        f"The {court.name} has moved to NextGen CM/ECF. Your legacy CM/ECF account there is not yet "
        "linked to an upgraded PACER account, so it cannot be used to file.\n\n"
        f"Legacy login: {login}\n\n"
        "Two steps, once each:\n"
        "1. Upgrade your PACER account (it needs an email address and today's password rules).\n"
        f"2. Link this legacy login to the upgraded PACER account, at the {court.name}.\n\n"
        f"{help_line}\n"
    )
    return f"Link your legacy CM/ECF account in the {court.name}", body


# ---------------------------------------------------------------------------- the worker

_wake_hooks: list[Callable[[], None]] = []


def on_wake(hook: Callable[[], None]) -> None:
    """Call ``hook`` when a job is queued in this process (the worker loop wakes up)."""
    _wake_hooks.append(hook)


def off_wake(hook: Callable[[], None]) -> None:
    if hook in _wake_hooks:
        _wake_hooks.remove(hook)


def wake() -> None:
    for hook in list(_wake_hooks):
        hook()


class LostLease(Exception):
    """Another worker holds the job now: this one stops."""


async def _claim(runner: str) -> Job | None:
    """Take the oldest queued or running job whose lease is free (none held, or run out)."""
    at = now()
    candidates = await query(
        "SELECT id FROM reminder_jobs WHERE state IN ('queued', 'running')"
        " AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT 5",
        [moment(at)],
    )
    for (job_id,) in candidates:
        async with in_transaction() as conn:
            changed, _ = await conn.execute_query(
                _sql(
                    "UPDATE reminder_jobs SET state = 'running', runner = ?, lease_until = ?,"
                    " attempts = attempts + 1 WHERE id = ? AND state IN ('queued', 'running')"
                    " AND (lease_until IS NULL OR lease_until < ?)"
                ),
                [runner, moment(at + LEASE), int(job_id), moment(at)],
            )
        if changed:
            return await job_by_id(int(job_id))
    return None


async def _deliver(
    job: Job, court: Court, mailer: Mailer, *, crash: Callable[[str], Awaitable[None]]
) -> None:
    """Mail the job's reminders recorded and not yet claimed: claim each, then send it."""
    while True:
        found = await query(
            "SELECT r.id, c.login, c.email FROM linking_reminders r JOIN cmecf_accounts c"
            " ON c.id = r.cmecf_account_id WHERE r.job_id = ? AND r.mailed_at IS NULL ORDER BY r.id LIMIT ?",
            [job.id, BATCH],
        )
        if not found:
            return
        for reminder_id, login, email in found:
            async with in_transaction() as conn:
                changed, _ = await conn.execute_query(
                    _sql("UPDATE linking_reminders SET mailed_at = ? WHERE id = ? AND mailed_at IS NULL"),
                    [moment(now()), int(reminder_id)],
                )
            if not changed:
                continue  # another worker claimed it
            await crash("claimed")
            subject, body = reminder_mail(court, str(login))
            await mailer.send(str(email), subject, body)


async def _batch(job: Job, runner: str, after: tuple[str, int] | None) -> tuple[int, tuple[str, int] | None]:
    """Record one batch of reminders; (how many, the position after it, None at the end)."""
    at = now()
    cutoff = at - dt.timedelta(days=QUIET_DAYS)
    roles = [r.value for r in job.roles]
    where = "court_id = ? AND linked_at IS NULL"
    params: list[Any] = [job.court_id]
    if after is not None:
        where += " AND (login_key > ? OR (login_key = ? AND id > ?))"
        params += [after[0], after[0], after[1]]
    async with in_transaction() as conn:
        found = await conn.execute_query_dict(
            _sql(
                f"SELECT id, login_key, role, email, reminded_at FROM cmecf_accounts WHERE {where}"
                " ORDER BY login_key, id LIMIT ?"
            ),
            [*params, BATCH],
        )
        chosen = [
            r
            for r in found
            if r["role"] in roles
            and r["email"]
            and (r["reminded_at"] is None or (_when(r["reminded_at"]) or at) < cutoff)
        ]
        position = (str(found[-1]["login_key"]), int(found[-1]["id"])) if found else None
        for r in chosen:
            await conn.execute_query(
                _sql(
                    "INSERT INTO linking_reminders (court_id, cmecf_account_id, job_id, sent_at)"
                    " VALUES (?, ?, ?, ?)"
                ),
                [job.court_id, int(r["id"]), job.id, moment(at)],
            )
        if chosen:
            ids = [int(r["id"]) for r in chosen]
            await conn.execute_query(
                _sql(f"UPDATE cmecf_accounts SET reminded_at = ? WHERE id IN ({_marks(len(ids))})"),
                [moment(at), *ids],
            )
        done = len(found) < BATCH
        changed, _ = await conn.execute_query(
            _sql(
                "UPDATE reminder_jobs SET sent = sent + ?, after_key = ?, after_id = ?, lease_until = ?,"
                " attempts = 0 WHERE id = ? AND runner = ? AND state = 'running'"
            ),
            [
                len(chosen),
                position[0] if position else (after[0] if after else None),
                position[1] if position else (after[1] if after else None),
                moment(at + LEASE),
                job.id,
                runner,
            ],
        )
        if not changed:
            raise LostLease()
    return len(chosen), None if done else position


async def _position(job_id: int) -> tuple[str, int] | None:
    found = await query("SELECT after_key, after_id FROM reminder_jobs WHERE id = ?", [job_id])
    if not found or found[0][0] is None:
        return None
    return str(found[0][0]), int(found[0][1])


async def _finish(job: Job, runner: str, state: str) -> None:
    async with in_transaction() as conn:
        await conn.execute_query(
            _sql(
                "UPDATE reminder_jobs SET state = ?, finished_at = ?, lease_until = NULL"
                " WHERE id = ? AND runner = ?"
            ),
            [state, moment(now()), job.id, runner],
        )


async def _no_crash(_: str) -> None:
    return None


async def run_pending(
    courts: CourtRegistry,
    mailer: Mailer,
    *,
    crash: Callable[[str], Awaitable[None]] = _no_crash,
) -> int:
    """Work every job that is free until none is left; the number of jobs finished.

    ``crash`` is called at each point a process may die (tests raise from it): after a
    batch commits (``"recorded"``) and after a reminder is claimed, before it is mailed
    (``"claimed"``)."""
    runner = uuid.uuid4().hex
    finished = 0
    while (job := await _claim(runner)) is not None:
        try:
            if job.court_id not in courts:
                await _finish(job, runner, "failed")
                continue
            court = courts.get(job.court_id)
            # What an earlier run recorded and did not mail, first.
            await _deliver(job, court, mailer, crash=crash)
            after = await _position(job.id)
            first = True
            while True:
                if not first and after is None:
                    break
                first = False
                _, after = await _batch(job, runner, after)
                await crash("recorded")
                await _deliver(job, court, mailer, crash=crash)
                if after is None:
                    break
            await _finish(job, runner, "done")
            finished += 1
        except LostLease:
            continue
        except Exception:
            log.warning("reminders: job %d failed this time", job.id, exc_info=True)
            found = await query("SELECT attempts FROM reminder_jobs WHERE id = ?", [job.id])
            if found and int(found[0][0]) >= MAX_ATTEMPTS:
                await _finish(job, runner, "failed")
            raise
    return finished
