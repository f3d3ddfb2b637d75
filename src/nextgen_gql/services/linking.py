"""Linking a court's legacy CM/ECF account to an upgraded PACER account: once, for good.

The rules (DOMAIN.md, "Linking"): the court must be on NextGen; the PACER account must be
upgraded and not shared; the caller must confirm, since the step cannot be undone; the
legacy login matches in any case; one legacy account per PACER account per court. On
success the legacy credentials are retired and the PACER account holds a filing
privilege in that court with the legacy account's role.

The database decides races: ``cmecf_links`` is unique on the legacy account and on
(PACER account, court), so of two requests racing only one insert succeeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from nextgen_gql.enums import PrivilegeSource
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound
from nextgen_gql.models import CmecfAccount, CmecfLink, FilingPrivilege, PacerAccount
from nextgen_gql.services import audit
from nextgen_gql.services.clock import now
from nextgen_gql.services.passwords import verify_password
from nextgen_gql.tenancy import Court

__all__ = [
    "LinkResult",
    "can_file",
    "link_cmecf_account",
    "links_by_account_ids",
    "links_by_cmecf_ids",
    "privileges_by_account_ids",
    "require_filer",
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
    raise Forbidden("Only an administrator of that account's firm may link on its behalf.", "onBehalfOf")


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
        raise DomainError(
            ErrorCode.COURT_ALREADY_LINKED,
            f"This PACER account has already linked a CM/ECF account in {court.code}.",
        )
    legacy = await CmecfAccount.get_or_none(court_id=court.code, login_key=login.strip().lower())
    if legacy is not None and legacy.password_hash is None:
        raise DomainError(
            ErrorCode.CMECF_ALREADY_LINKED,
            f"The CM/ECF account {legacy.login!r} is already linked to a PACER account.",
            "login",
        )
    if legacy is None or not await verify_password(legacy.password_hash if legacy else None, password):
        raise DomainError(
            ErrorCode.INVALID_CMECF_CREDENTIALS,
            f"The CM/ECF login or password is incorrect for {court.code}.",
        )
    return await _write_link(actor, target, court, legacy)


async def _write_link(
    actor: PacerAccount, target: PacerAccount, court: Court, legacy: CmecfAccount
) -> LinkResult:
    at = now()
    try:
        async with in_transaction() as conn:
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
            if not retired:
                raise IntegrityError("legacy credentials already retired")
            privilege, _ = await FilingPrivilege.get_or_create(
                account_id=target.id,
                court_id=court.code,
                role=legacy.role,
                defaults={"source": PrivilegeSource.LINKED_LEGACY_ACCOUNT, "granted_at": at},
                using_db=conn,
            )
            detail = f"login {legacy.login}" + (
                f", on behalf of {target.username}" if actor.id != target.id else ""
            )
            await audit.record(
                "cmecf.link",
                actor_id=actor.id,
                subject_id=target.id,
                court_code=court.code,
                detail=detail,
                using_db=conn,
            )
    except IntegrityError:
        # Lost a race: say which constraint the winner took.
        if await CmecfLink.filter(account_id=target.id, court_id=court.code).exists():
            raise DomainError(
                ErrorCode.COURT_ALREADY_LINKED,
                f"This PACER account has already linked a CM/ECF account in {court.code}.",
            ) from None
        raise DomainError(
            ErrorCode.CMECF_ALREADY_LINKED,
            f"The CM/ECF account {legacy.login!r} is already linked to a PACER account.",
            "login",
        ) from None
    legacy.password_hash = None
    return LinkResult(cmecf_account=legacy, link=link, privilege=privilege)


async def can_file(account: PacerAccount, court: Court) -> bool:
    """Whether the account may file in ``court`` now."""
    if account.is_legacy or account.is_shared or not court.is_nextgen():
        return False
    return await FilingPrivilege.filter(account_id=account.id, court_id=court.code).exists()


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


async def links_by_cmecf_ids(ids: Sequence[int]) -> list[CmecfLink | None]:
    found = {r.cmecf_account_id: r for r in await CmecfLink.filter(cmecf_account_id__in=set(ids))}
    return [found.get(i) for i in ids]
