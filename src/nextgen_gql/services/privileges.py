"""Filing privileges as a court manages them: granted (by a link or an approval), given
cases, revoked, and listed for its clerks. What a privilege permits is decided in
``services.permissions``; this module keeps the rows that rule reads.

Rules (DOMAIN.md, "Filer permissions by role"):

- One live privilege per account, court and role (a partial unique index, see
  ``models.filing``). A second grant of the same role adds to that privilege: a pro se or
  pro hac vice approval adds its case; a full attorney admission makes a pro hac vice
  privilege court-wide (its cases go: a court-wide privilege lists none).
- Only the court's clerks add or remove a case, or revoke, and never on their own
  privilege. A revoked privilege grants nothing from that moment, keeps its cases for the
  record, and changes no more: a new registration is the way back.
- Case numbers are kept in their canonical form (``services.case_numbers``).

Functions that change a court's privilege take the acting clerk and the ``Court``; the
caller checked that the clerk is one of its clerks (``services.courts.require_clerk``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind, FilerRole, PrivilegeSource, WebhookEventType
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound
from nextgen_gql.models import CmecfAccount, FilingPrivilege, PacerAccount, PrivilegeCase
from nextgen_gql.models.filing import CASE_SEPARATOR
from nextgen_gql.services import audit, counts, email_addresses, outbox
from nextgen_gql.services.case_numbers import parse_case_number
from nextgen_gql.services.clock import now
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.pagination import Page, id_page
from nextgen_gql.services.permissions import CASE_RESTRICTED, is_case_restricted, is_live
from nextgen_gql.services.text import multi_line
from nextgen_gql.tenancy import Court
from nextgen_gql.webhooks import payloads

__all__ = [
    "REASON_MAX",
    "Granted",
    "add_case",
    "cases_by_privilege_ids",
    "grant",
    "legacy_cases",
    "list_privileges",
    "privileges_by_ids",
    "remove_case",
    "revoke",
]

REASON_MAX = 2000


@dataclass(frozen=True)
class Granted:
    """What a grant did: the live privilege, and whether it was new, gained cases, or widened."""

    privilege: FilingPrivilege
    created: bool
    added_cases: tuple[str, ...]
    widened: bool  # a pro hac vice privilege became court-wide


def legacy_cases(legacy: CmecfAccount) -> tuple[str, ...]:
    """The canonical case numbers a legacy account was imported with (pro se accounts)."""
    return tuple(c for c in legacy.cases.split(CASE_SEPARATOR) if c)


async def grant(
    conn: BaseDBAsyncClient,
    *,
    account_id: int,
    court: Court,
    role: FilerRole,
    source: PrivilegeSource,
    pro_hac_vice: bool = False,
    cases: Iterable[str] = (),
) -> Granted:
    """Give the account a live privilege in ``court`` and ``role``, or add to the one it holds; in ``conn``.

    ``cases`` (canonical) are listed only on a privilege that files in listed cases. Raises
    ``IntegrityError`` when a racing grant created the same live privilege first: the caller
    rolls back and tries once more (it will then find that privilege).
    """
    at = now()
    privilege = (
        await FilingPrivilege.filter(
            account_id=account_id, court_id=court.code, role=role, revoked_at__isnull=True
        )
        .using_db(conn)
        .first()
    )
    created = widened = False
    if privilege is None:
        privilege = await FilingPrivilege.create(
            account_id=account_id,
            court_id=court.code,
            role=role,
            source=source,
            granted_at=at,
            pro_hac_vice=pro_hac_vice,
            using_db=conn,
        )
        created = True
    elif privilege.pro_hac_vice and not pro_hac_vice:
        # A full admission over a pro hac vice one: court-wide from now on, so it lists no case.
        await FilingPrivilege.filter(id=privilege.id).using_db(conn).update(pro_hac_vice=False)
        await PrivilegeCase.filter(privilege_id=privilege.id).using_db(conn).delete()
        privilege.pro_hac_vice = False
        widened = True
    added: list[str] = []
    if is_case_restricted(privilege.role, privilege.pro_hac_vice):
        listed = {
            str(number)
            for number in await PrivilegeCase.filter(privilege_id=privilege.id)
            .using_db(conn)
            .values_list("case_number", flat=True)
        }
        for number in cases:
            if number not in listed and number not in added:
                await PrivilegeCase.create(
                    privilege_id=privilege.id, case_number=number, added_at=at, using_db=conn
                )
                added.append(number)
    if created:
        await payloads.privilege_event(conn, WebhookEventType.PRIVILEGE_GRANTED, privilege)
    elif added or widened:
        await payloads.privilege_event(conn, WebhookEventType.PRIVILEGE_CASES_CHANGED, privilege)
    return Granted(privilege=privilege, created=created, added_cases=tuple(added), widened=widened)


async def _managed(clerk: PacerAccount, court: Court, privilege_id: int, field: str) -> FilingPrivilege:
    """A live privilege of ``court`` that ``clerk`` may change; a DomainError saying why not otherwise."""
    # Another court's privilege is, to this court's clerk, no privilege at all: the same answer
    # as an id that names none, so that a foreign clerk learns nothing (not even that it exists).
    privilege = await FilingPrivilege.get_or_none(id=privilege_id, court_id=court.code)
    if privilege is None:
        raise NotFound("No filing privilege of this court has that id.", field)
    if privilege.account_id == clerk.id:
        raise Forbidden(
            "You may not change your own filing privilege: another clerk of the court must.", field
        )
    if not is_live(privilege):
        raise DomainError(
            ErrorCode.PRIVILEGE_REVOKED,
            "This privilege was revoked and changes no more: a new registration is the way back.",
            field,
        )
    return privilege


def _event(kind: AccountEventKind, privilege: FilingPrivilege) -> outbox.NewEvent:
    """For the holder (``myEvents``): a case added (the privilege grants more), or a revocation."""
    return outbox.account_event(
        kind, privilege.account_id, court=privilege.court_id, privilege_id=privilege.id
    )


def _role_name(role: FilerRole) -> str:
    return role.name.replace("_", " ").lower()


async def add_case(clerk: PacerAccount, court: Court, privilege_id: int, case_number: str) -> FilingPrivilege:
    """List a case on a case-restricted privilege of ``court`` (pro se, pro hac vice)."""
    privilege = await _managed(clerk, court, privilege_id, "privilegeId")
    if not is_case_restricted(privilege.role, privilege.pro_hac_vice):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"This {_role_name(privilege.role)} privilege is court-wide: it lists no cases.",
            "privilegeId",
        )
    number = parse_case_number(case_number, court.kind)
    already = DomainError(
        ErrorCode.INVALID_INPUT, f"Case {number} is already listed on this privilege.", "caseNumber"
    )
    if await PrivilegeCase.filter(privilege_id=privilege.id, case_number=number).exists():
        raise already
    try:
        async with in_transaction() as conn:
            await PrivilegeCase.create(
                privilege_id=privilege.id, case_number=number, added_at=now(), using_db=conn
            )
            await audit.record(
                "privilege.case.add",
                actor_id=clerk.id,
                subject_id=privilege.account_id,
                court_code=court.code,
                detail=f"privilege {privilege.id}, {privilege.role.name}: case {number}",
                using_db=conn,
            )
            await payloads.privilege_event(conn, WebhookEventType.PRIVILEGE_CASES_CHANGED, privilege)
            await outbox.publish(conn, [_event(AccountEventKind.PRIVILEGE_GRANTED, privilege)])
    except IntegrityError:
        raise already from None  # a racing request listed it first
    return privilege


async def remove_case(
    clerk: PacerAccount, court: Court, privilege_id: int, case_number: str
) -> FilingPrivilege:
    """Take a case off a privilege of ``court``: its holder files there no more."""
    privilege = await _managed(clerk, court, privilege_id, "privilegeId")
    number = parse_case_number(case_number, court.kind)
    async with in_transaction() as conn:
        removed = (
            await PrivilegeCase.filter(privilege_id=privilege.id, case_number=number).using_db(conn).delete()
        )
        if not removed:
            raise NotFound(f"Case {number} is not listed on this privilege.", "caseNumber")
        await audit.record(
            "privilege.case.remove",
            actor_id=clerk.id,
            subject_id=privilege.account_id,
            court_code=court.code,
            detail=f"privilege {privilege.id}, {privilege.role.name}: case {number}",
            using_db=conn,
        )
        await payloads.privilege_event(conn, WebhookEventType.PRIVILEGE_CASES_CHANGED, privilege)
    return privilege


async def revoke(
    clerk: PacerAccount, court: Court, privilege_id: int, reason: str, *, mailer: Mailer
) -> FilingPrivilege:
    """Revoke a privilege of ``court``, with a reason; the holder is mailed. Final."""
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"A revocation needs a reason the holder can act on (1 to {REASON_MAX} characters).",
            "reason",
        )
    multi_line(reason, "reason", "A revocation's reason")
    privilege = await _managed(clerk, court, privilege_id, "id")
    async with in_transaction() as conn:
        changed = (
            await FilingPrivilege.filter(id=privilege.id, revoked_at__isnull=True)
            .using_db(conn)
            .update(revoked_at=now(), revoked_by_id=clerk.id, revoked_reason=reason)
        )
        if not changed:  # another clerk revoked it a moment ago
            raise DomainError(ErrorCode.PRIVILEGE_REVOKED, "This privilege was revoked before.", "id")
        await audit.record(
            "privilege.revoke",
            actor_id=clerk.id,
            subject_id=privilege.account_id,
            court_code=court.code,
            detail=f"privilege {privilege.id}, {privilege.role.name}: {reason}",
            using_db=conn,
        )
        await payloads.privilege_event(conn, WebhookEventType.PRIVILEGE_REVOKED, privilege)
        await outbox.publish(conn, [_event(AccountEventKind.PRIVILEGE_REVOKED, privilege)])
    await privilege.refresh_from_db()
    holder = await PacerAccount.get(id=privilege.account_id)
    if email_addresses.reachable(holder):
        role = _role_name(privilege.role)
        await mailer.send(
            holder.email,
            f"{court.code}: your {role} filing privilege is revoked",
            "\n\n".join(
                [
                    f"Dear {holder.first_name} {holder.last_name},",
                    f"{court.name} revoked your {role} filing privilege. From now on it lets you do nothing there.",
                    f"Reason: {reason}",
                    "To file there again, send the court a new e-file registration.",
                ]
            ),
        )
    return privilege


def _needs_cases() -> Q:
    """Live, case-restricted, and no case listed: files nowhere until a clerk adds its case."""
    restricted = Q(*(Q(role=role, pro_hac_vice=phv) for role, phv in sorted(CASE_RESTRICTED)), join_type=Q.OR)
    with_cases = Subquery(PrivilegeCase.all().values("privilege_id"))
    return Q(restricted, Q(revoked_at__isnull=True), ~Q(id__in=with_cases))


async def list_privileges(
    court: Court,
    *,
    role: FilerRole | None = None,
    needs_cases: bool | None = None,
    revoked: bool | None = None,
    first: int | None = None,
    after: int | None = None,
) -> Page[FilingPrivilege]:
    """The court's privileges, oldest first; ``after`` is a privilege id.

    ``needs_cases``: only (true) or all but (false) the live case-restricted privileges with
    no case; ``revoked``: only revoked (true) or only live (false) ones.
    """
    query = FilingPrivilege.filter(court_id=court.code)
    if role is not None:
        query = query.filter(role=role)
    if revoked is not None:
        query = query.filter(revoked_at__isnull=not revoked)
    if needs_cases is not None:
        query = query.filter(_needs_cases() if needs_cases else ~_needs_cases())
    # Unfiltered, the court's privileges have a kept count; filtered, the matches are counted.
    unfiltered = role is None and needs_cases is None and revoked is None
    total = await counts.kept_count(court.code, "privileges") if unfiltered else None
    return await id_page(query, first=first, after=after, total=total)


async def cases_by_privilege_ids(ids: Sequence[int]) -> list[list[str]]:
    rows = (
        await PrivilegeCase.filter(privilege_id__in=set(ids))
        .order_by("case_number")
        .values_list("privilege_id", "case_number")
    )
    grouped: dict[int, list[str]] = {}
    for privilege_id, number in rows:
        grouped.setdefault(int(privilege_id), []).append(str(number))
    return [grouped.get(i, []) for i in ids]


async def privileges_by_ids(ids: Sequence[int]) -> list[FilingPrivilege | None]:
    found = {p.id: p for p in await FilingPrivilege.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]
