"""Linking a court's legacy CM/ECF account to an upgraded PACER account: once, for good.

The rules (DOMAIN.md, "Linking"): the court must be on NextGen; the PACER account must be
upgraded and not shared; the caller must confirm, since the step cannot be undone; the
legacy login matches in any case; one legacy account per PACER account per court. On
success the legacy credentials are retired and the PACER account holds a filing
privilege in that court with the legacy account's role (and, for pro se, its cases).

The database decides races: ``cmecf_links`` is unique on the legacy account and on
(PACER account, court), so of two requests racing only one insert succeeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind, PrivilegeSource
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound
from nextgen_gql.models import CmecfAccount, CmecfLink, FilingPrivilege, PacerAccount
from nextgen_gql.models.filing import LOGIN_MAX
from nextgen_gql.replica import data_read
from nextgen_gql.services import audit, outbox, privileges, throttle
from nextgen_gql.services.clock import now
from nextgen_gql.services.firms import is_admin_of_member
from nextgen_gql.services.passwords import verify_password
from nextgen_gql.services.permissions import can_file
from nextgen_gql.tenancy import Court
from nextgen_gql.webhooks import payloads

__all__ = [
    "LinkResult",
    "can_file",
    "cmecf_already_linked",
    "court_already_linked",
    "link_cmecf_account",
    "link_conflict",
    "links_by_account_ids",
    "links_by_cmecf_ids",
    "privileges_by_account_ids",
    "require_filer",
    "require_nextgen",
    "write_link",
]


@dataclass(frozen=True)
class LinkResult:
    cmecf_account: CmecfAccount
    link: CmecfLink
    privilege: FilingPrivilege


def require_filer(account: PacerAccount, *, action: str) -> None:
    """Only upgraded, unshared accounts may link or file."""
    if account.is_legacy:
        raise DomainError(
            ErrorCode.UPGRADE_REQUIRED,
            f"This PACER account is a legacy account: upgrade it before you {action}.",
        )
    if account.is_shared:
        raise DomainError(
            ErrorCode.SHARED_ACCOUNT,
            f"Shared PACER accounts may not {action}: each e-filer needs an account of their own.",
        )


def require_nextgen(court: Court) -> None:
    if not court.is_nextgen():
        raise DomainError(
            ErrorCode.COURT_NOT_NEXTGEN,
            f"{court.name} has not moved to NextGen CM/ECF yet: linking is not available there.",
        )


async def _target_account(actor: PacerAccount, on_behalf_of: int | None) -> PacerAccount:
    if on_behalf_of is None or on_behalf_of == actor.id:
        return actor
    target = await PacerAccount.get_or_none(id=on_behalf_of)
    if target is None:
        raise NotFound("No PACER account has that id.", "onBehalfOf")
    # Linking for someone else is an act of their firm's administrators only.
    if not await is_admin_of_member(actor.id, target.id):
        raise Forbidden("Only an administrator of that account's firm may link on its behalf.", "onBehalfOf")
    return target


async def link_cmecf_account(
    actor: PacerAccount,
    court: Court,
    *,
    login: str,
    password: str,
    confirm: bool,
    on_behalf_of: int | None = None,
) -> LinkResult:
    """Bind the legacy account ``login`` of ``court`` to a PACER account, for good."""
    require_nextgen(court)
    target = await _target_account(actor, on_behalf_of)
    require_filer(target, action="link a CM/ECF account")
    if not confirm:
        raise DomainError(
            ErrorCode.CONFIRMATION_REQUIRED,
            "Linking can never be undone: be sure whose accounts you are linking, then send confirm: true.",
            "confirm",
        )
    if await CmecfLink.filter(account_id=target.id, court_id=court.code).exists():
        raise court_already_linked(court)
    await throttle.refuse_if_limited(throttle.LINK_ATTEMPTS, str(actor.id), "link attempts")
    login_key = login.strip().lower()
    legacy = (
        await CmecfAccount.get_or_none(court_id=court.code, login_key=login_key)
        if len(login_key) <= LOGIN_MAX
        else None
    )
    if legacy is not None and legacy.password_hash is None:
        # A linked login has no password left to check, so its owner is told so at once; the
        # answer says the login exists, so it counts as a failed attempt of the caller.
        await throttle.record_failure(throttle.LINK_ATTEMPTS, str(actor.id))
        raise cmecf_already_linked(legacy)
    login_lock = f"{court.code}:{login_key}"
    until = await throttle.locked_until(throttle.CMECF_LOGIN, login_lock)
    if until is not None:
        await throttle.record_failure(throttle.LINK_ATTEMPTS, str(actor.id))
        raise DomainError(
            ErrorCode.ACCOUNT_LOCKED, throttle.locked_message(until, "This CM/ECF login") + ".", "login"
        )
    if legacy is None or not await verify_password(legacy.password_hash if legacy else None, password):
        await throttle.record_failure(throttle.LINK_ATTEMPTS, str(actor.id))
        await throttle.record_failure(throttle.CMECF_LOGIN, login_lock)
        raise DomainError(
            ErrorCode.INVALID_CMECF_CREDENTIALS,
            f"The CM/ECF login or password is incorrect for {court.code}.",
        )
    await throttle.clear(throttle.CMECF_LOGIN, login_lock)
    for attempt in (1, 2):
        try:
            async with in_transaction() as conn:
                result = await write_link(conn, actor, target, court, legacy)
                kind = (
                    AccountEventKind.PRIVILEGE_GRANTED
                    if actor.id == target.id
                    else AccountEventKind.LINKED_ON_YOUR_BEHALF
                )
                await outbox.publish(
                    conn,
                    [
                        outbox.account_event(
                            kind, target.id, court=court.code, privilege_id=result.privilege.id
                        )
                    ],
                )
                return result
        except IntegrityError:
            conflict = await link_conflict(target, court, legacy)
            if conflict is not None:
                await throttle.record_failure(throttle.LINK_ATTEMPTS, str(actor.id))
                raise conflict from None
            if attempt == 2:
                raise
            # A racing grant of the same role made the live privilege first: once more.
    raise AssertionError("unreachable")


async def write_link(
    conn: BaseDBAsyncClient,
    actor: PacerAccount,
    target: PacerAccount,
    court: Court,
    legacy: CmecfAccount,
    *,
    why: str | None = None,
) -> LinkResult:
    """Insert the link, retire the legacy credentials, grant the privilege, audit; in ``conn``.

    Publishes no event: the caller does, last in its transaction (``outbox.publish``).
    Raises ``IntegrityError`` when a constraint refuses the link (a racing request won):
    the caller rolls back and asks :func:`link_conflict` what to tell the user (None: a
    racing grant of the same privilege, worth one more try).
    """
    at = now()
    link = await CmecfLink.create(
        cmecf_account_id=legacy.id,
        court_id=court.code,
        account_id=target.id,
        linked_by_id=actor.id,
        linked_at=at,
        using_db=conn,
    )
    retired = (
        await CmecfAccount.filter(id=legacy.id, password_hash__isnull=False)
        .using_db(conn)
        .update(password_hash=None)
    )
    if not retired and legacy.password_hash is not None:
        raise IntegrityError("legacy credentials already retired")
    # The roster's copy of the link's date (its LINKED_AT order and linked filter read it).
    await CmecfAccount.filter(id=legacy.id).using_db(conn).update(linked_at=at)
    granted = await privileges.grant(
        conn,
        account_id=target.id,
        court=court,
        role=legacy.role,
        source=PrivilegeSource.LINKED_LEGACY_ACCOUNT,
        cases=privileges.legacy_cases(legacy),
    )
    details = [f"login {legacy.login}"]
    if granted.added_cases:
        details.append(f"cases {', '.join(granted.added_cases)}")
    if actor.id != target.id:
        details.append(f"on behalf of {target.username}")
    if why:
        details.append(why)
    await audit.record(
        "cmecf.link",
        actor_id=actor.id,
        subject_id=target.id,
        court_code=court.code,
        detail=", ".join(details),
        using_db=conn,
    )
    await payloads.account_linked(conn, court.code, legacy, target.id, granted.privilege.id)
    legacy.password_hash = None
    return LinkResult(cmecf_account=legacy, link=link, privilege=granted.privilege)


def court_already_linked(court: Court) -> DomainError:
    return DomainError(
        ErrorCode.COURT_ALREADY_LINKED,
        f"This PACER account has already linked a CM/ECF account in {court.code}.",
    )


def cmecf_already_linked(legacy: CmecfAccount, field: str = "login") -> DomainError:
    return DomainError(
        ErrorCode.CMECF_ALREADY_LINKED,
        f"The CM/ECF account {legacy.login!r} is already linked to a PACER account.",
        field,
    )


async def link_conflict(
    target: PacerAccount, court: Court, legacy: CmecfAccount, field: str = "login"
) -> DomainError | None:
    """After a refused insert (outside the failed transaction): which link constraint was hit;
    None when neither was (the live-privilege index was: a racing grant of the same role)."""
    if await CmecfLink.filter(account_id=target.id, court_id=court.code).exists():
        return court_already_linked(court)
    if await CmecfLink.filter(cmecf_account_id=legacy.id).exists():
        return cmecf_already_linked(legacy, field)
    return None


# ``can_file`` (re-exported above) is decided in ``services.permissions``, with the table.


async def privileges_by_account_ids(ids: Sequence[int]) -> list[list[FilingPrivilege]]:
    rows = await FilingPrivilege.filter(account_id__in=set(ids)).order_by("court_id", "id")
    grouped: dict[int, list[FilingPrivilege]] = {}
    for row in rows:
        grouped.setdefault(row.account_id, []).append(row)
    return [grouped.get(i, []) for i in ids]


async def links_by_account_ids(ids: Sequence[int]) -> list[list[CmecfLink]]:
    rows = (
        await CmecfLink.filter(account_id__in=set(ids)).select_related("cmecf_account").order_by("court_id")
    )
    grouped: dict[int, list[CmecfLink]] = {}
    for row in rows:
        grouped.setdefault(row.account_id, []).append(row)
    return [grouped.get(i, []) for i in ids]


@data_read
async def links_by_cmecf_ids(ids: Sequence[int]) -> list[CmecfLink | None]:
    found = {r.cmecf_account_id: r for r in await CmecfLink.filter(cmecf_account_id__in=set(ids))}
    return [found.get(i) for i in ids]
