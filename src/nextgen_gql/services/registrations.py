"""E-file registrations: a filer asks a court for a filing privilege; its clerks decide.

Rules (DOMAIN.md, "E-file registrations"): the account is upgraded and not shared; the
court is on NextGen and accepts the role; an attorney gives a bar number; a pro se party,
and an attorney admitted pro hac vice, give the case number; one open request per court
and role (a database guarantee, see ``models.registrations``). A decision is final.
Approval grants a filing privilege (source REGISTRATION) and may link the applicant's
legacy account of that court. The applicant is mailed the decision.

Case-restricted privileges (DOMAIN.md, "Filer permissions by role"): a pro se or pro hac
vice registration names its case, in the court's canonical form; its approval lists that
case on the applicant's live privilege of that role, made if need be (a second pro hac
vice admission adds its case to the same privilege), and a full attorney admission makes a
pro hac vice privilege court-wide. So such a holder may register again for another case;
a holder whose privilege already covers what is asked is ``ALREADY_PRIVILEGED``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from nextgen_gql.api.ids import encode_id
from nextgen_gql.enums import (
    AccountEventKind,
    FilerRole,
    PrivilegeSource,
    RegistrationEventKind,
    RegistrationStatus,
    WebhookEventType,
)
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound
from nextgen_gql.models import CmecfAccount, CmecfLink, FilingPrivilege, PacerAccount, Registration
from nextgen_gql.models.filing import LOGIN_MAX
from nextgen_gql.replica import data_read
from nextgen_gql.services import audit, counts, email_addresses, outbox, privileges
from nextgen_gql.services.case_numbers import parse_case_number
from nextgen_gql.services.clock import now
from nextgen_gql.services.linking import (
    LinkResult,
    cmecf_already_linked,
    court_already_linked,
    link_conflict,
    require_filer,
    require_nextgen,
    write_link,
)
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.ordering import (
    KeysetPage,
    Sort,
    Window,
    fold,
    keyset_page,
    page_of,
    rows_by_ids,
    search_condition,
    search_copy,
    search_index,
)
from nextgen_gql.services.pagination import Page, page_size
from nextgen_gql.services.permissions import describe, is_case_restricted, permissions_of
from nextgen_gql.services.text import multi_line
from nextgen_gql.tenancy import Court
from nextgen_gql.webhooks import payloads

__all__ = [
    "REGISTRATION_ORDERS",
    "Decision",
    "applicant_keys",
    "decide_registration",
    "list_registrations",
    "refresh_applicant",
    "registrations_by_account_ids",
    "registrations_by_ids",
    "submit_registration",
    "withdraw_registration",
]

BAR_NUMBER_RE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
STATE_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Decision:
    registration: Registration
    privilege: FilingPrivilege | None
    link: LinkResult | None


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


async def submit_registration(
    account: PacerAccount,
    court: Court,
    *,
    role: FilerRole,
    pro_hac_vice: bool = False,
    case_number: str | None = None,
    bar_number: str | None = None,
    bar_state: str | None = None,
) -> Registration:
    """Ask ``court`` for a filing privilege in ``role``."""
    require_nextgen(court)
    require_filer(account, action="file or register to file")
    if not court.accepts(role):
        accepted = ", ".join(r.name for r in court.accepted_roles)
        raise DomainError(
            ErrorCode.ROLE_NOT_ACCEPTED,
            f"{court.name} does not accept {role.name} registrations (it accepts {accepted}).",
            "role",
        )
    case_number, bar_number = _clean(case_number), _clean(bar_number)
    bar_state = _clean(bar_state.upper() if bar_state else None)
    if pro_hac_vice and role is not FilerRole.ATTORNEY:
        raise DomainError(ErrorCode.INVALID_INPUT, "Only attorneys are admitted pro hac vice.", "proHacVice")
    if role is FilerRole.ATTORNEY and not bar_number:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "An attorney registration needs a bar number.", "barNumber"
        )
    if (role is FilerRole.PRO_SE or pro_hac_vice) and not case_number:
        who = "A pro hac vice admission" if pro_hac_vice else "A pro se registration"
        raise DomainError(ErrorCode.INVALID_INPUT, f"{who} needs the case number.", "caseNumber")
    if case_number:
        case_number = parse_case_number(case_number, court.kind)
    if bar_number and not BAR_NUMBER_RE.match(bar_number):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A bar number is 1 to 32 letters, digits or dashes.", "barNumber"
        )
    if bar_state and not STATE_RE.match(bar_state):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The bar state is a two-letter code such as MA.", "barState"
        )
    await _refuse_if_privileged(account, court, role, pro_hac_vice, case_number)
    open_key = Registration.make_open_key(account.id, court.code, role)
    try:
        async with in_transaction() as conn:
            registration = await Registration.create(
                court_id=court.code,
                account_id=account.id,
                role=role,
                pro_hac_vice=pro_hac_vice,
                case_number=case_number,
                bar_number=bar_number,
                bar_state=bar_state,
                open_key=open_key,
                submitted_at=now(),
                using_db=conn,
                **applicant_keys(account, bar_number),
            )
            await audit.record(
                "registration.submit",
                actor_id=account.id,
                court_code=court.code,
                detail=f"registration {registration.id}, {role.name}",
                using_db=conn,
            )
            await payloads.registration_event(conn, WebhookEventType.REGISTRATION_SUBMITTED, registration)
            await outbox.publish(
                conn,
                [outbox.registration_event(RegistrationEventKind.SUBMITTED, court.code, registration.id)],
            )
    except IntegrityError:
        raise DomainError(
            ErrorCode.REGISTRATION_PENDING,
            f"You already have an open {role.name} registration in {court.code}.",
            "role",
        ) from None
    return registration


async def _refuse_if_privileged(
    account: PacerAccount, court: Court, role: FilerRole, pro_hac_vice: bool, case_number: str | None
) -> None:
    """``ALREADY_PRIVILEGED`` when the live privilege of that role already covers what is asked."""
    live = await FilingPrivilege.get_or_none(
        account_id=account.id, court_id=court.code, role=role, revoked_at__isnull=True
    )
    if live is None:
        return
    if is_case_restricted(live.role, live.pro_hac_vice):
        if not pro_hac_vice and live.pro_hac_vice:
            return  # a full admission makes it court-wide
        listed = await privileges.cases_by_privilege_ids([live.id])
        if case_number and case_number not in listed[0]:
            return  # another case for the same privilege
        if case_number:
            raise DomainError(
                ErrorCode.ALREADY_PRIVILEGED,
                f"You may already file in case {case_number} in {court.code} as {role.name}.",
                "caseNumber",
            )
    raise DomainError(
        ErrorCode.ALREADY_PRIVILEGED, f"You may already file in {court.code} as {role.name}.", "role"
    )


async def _in_court(court: Court, registration_id: int) -> Registration:
    registration = await Registration.get_or_none(id=registration_id, court_id=court.code)
    if registration is None:
        raise NotFound(f"No registration with that id in {court.code}.", "id")
    return registration


def _already_decided(registration: Registration) -> DomainError:
    return DomainError(
        ErrorCode.ALREADY_DECIDED,
        f"This registration was {registration.status.value} before; the decision is final.",
    )


async def withdraw_registration(account: PacerAccount, court: Court, registration_id: int) -> Registration:
    """The applicant withdraws a pending request. Others learn nothing (NOT_FOUND)."""
    registration = await _in_court(court, registration_id)
    if registration.account_id != account.id:
        raise NotFound(f"No registration with that id in {court.code}.", "id")
    async with in_transaction() as conn:
        changed = (
            await Registration.filter(id=registration.id, status=RegistrationStatus.PENDING)
            .using_db(conn)
            .update(status=RegistrationStatus.WITHDRAWN, open_key=None, decided_at=now())
        )
        if changed:
            await audit.record(
                "registration.withdraw",
                actor_id=account.id,
                court_code=court.code,
                detail=f"registration {registration.id}",
                using_db=conn,
            )
            await payloads.registration_event(conn, WebhookEventType.REGISTRATION_WITHDRAWN, registration)
            await outbox.publish(
                conn,
                [outbox.registration_event(RegistrationEventKind.WITHDRAWN, court.code, registration.id)],
            )
    await registration.refresh_from_db()
    if not changed:
        raise _already_decided(registration)
    return registration


async def decide_registration(
    clerk: PacerAccount,
    court: Court,
    registration_id: int,
    *,
    approve: bool,
    reason: str | None,
    link_cmecf_login: str | None,
    mailer: Mailer,
) -> Decision:
    """A clerk of ``court`` approves or rejects a pending registration (the caller checked
    the clerk role); final, and mailed to the applicant. A clerk never decides their own
    registration (``FORBIDDEN``): another clerk of the court must."""
    registration = await _in_court(court, registration_id)
    if registration.account_id == clerk.id:
        raise Forbidden("You may not decide your own registration: another clerk of the court must.", "id")
    reason = _clean(reason)
    link_login = _clean(link_cmecf_login)
    if not approve and not reason:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A rejection needs a reason the applicant can act on.", "reason"
        )
    if reason:
        multi_line(reason, "reason", "A decision's reason")
    if not approve and link_login:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Only an approval links a legacy account.", "linkCmecfLogin"
        )
    if registration.status is not RegistrationStatus.PENDING:
        raise _already_decided(registration)
    applicant = await PacerAccount.get(id=registration.account_id)
    legacy: CmecfAccount | None = None
    if link_login:
        legacy = (
            await CmecfAccount.get_or_none(court_id=court.code, login_key=link_login.lower())
            if len(link_login) <= LOGIN_MAX
            else None
        )
        if legacy is None:
            raise NotFound(f"{court.code} has no legacy CM/ECF login {link_login!r}.", "linkCmecfLogin")
        if legacy.password_hash is None or await CmecfLink.filter(cmecf_account_id=legacy.id).exists():
            raise cmecf_already_linked(legacy, "linkCmecfLogin")
        if await CmecfLink.filter(account_id=applicant.id, court_id=court.code).exists():
            raise court_already_linked(court)
    status = RegistrationStatus.APPROVED if approve else RegistrationStatus.REJECTED
    case = _case_of(registration, court) if approve else None
    privilege: FilingPrivilege | None = None
    link: LinkResult | None = None
    for attempt in (1, 2):
        try:
            async with in_transaction() as conn:
                privilege, link = await _decide(
                    conn, clerk, court, registration, applicant, status, reason, legacy, case
                )
            break
        except IntegrityError:
            conflict = await link_conflict(applicant, court, legacy, "linkCmecfLogin") if legacy else None
            if conflict is not None:
                raise conflict from None
            if attempt == 2:
                raise
            # A racing grant made the same live privilege first: once more, adding to it.
    await registration.refresh_from_db()
    await _mail_decision(mailer, applicant, court, registration, privilege, link)
    return Decision(registration=registration, privilege=privilege, link=link)


def _case_of(registration: Registration, court: Court) -> str | None:
    """The registration's case, canonical, when its privilege takes cases. Requests sent before
    case numbers were checked may not parse: the approval then lists no case (the clerk adds it)."""
    if not registration.case_number or not is_case_restricted(registration.role, registration.pro_hac_vice):
        return None
    try:
        return parse_case_number(registration.case_number, court.kind)
    except DomainError:
        return None


async def _decide(
    conn: BaseDBAsyncClient,
    clerk: PacerAccount,
    court: Court,
    registration: Registration,
    applicant: PacerAccount,
    status: RegistrationStatus,
    reason: str | None,
    legacy: CmecfAccount | None,
    case: str | None,
) -> tuple[FilingPrivilege | None, LinkResult | None]:
    """The decision's writes, in ``conn``: the status, the privilege, the link, the audit."""
    changed = (
        await Registration.filter(id=registration.id, status=RegistrationStatus.PENDING)
        .using_db(conn)
        .update(
            status=status,
            open_key=None,
            decided_at=now(),
            decided_by_id=clerk.id,
            reason=reason,
            linked_cmecf_account_id=legacy.id if legacy else None,
        )
    )
    if not changed:
        raise _already_decided(registration)
    approve = status is RegistrationStatus.APPROVED
    privilege = link = None
    details = [f"registration {registration.id}, {registration.role.name}"]
    if approve:
        granted = await privileges.grant(
            conn,
            account_id=applicant.id,
            court=court,
            role=registration.role,
            source=PrivilegeSource.REGISTRATION,
            pro_hac_vice=registration.pro_hac_vice,
            cases=[case] if case else [],
        )
        privilege = granted.privilege
        await Registration.filter(id=registration.id).using_db(conn).update(privilege_id=privilege.id)
        if granted.widened:
            details.append("pro hac vice privilege made court-wide")
        if granted.added_cases:
            details.append(f"case {', '.join(granted.added_cases)}")
        elif (
            registration.case_number
            and case is None
            and is_case_restricted(registration.role, registration.pro_hac_vice)
        ):
            details.append(f"case number {registration.case_number!r} does not parse: add the case by hand")
        if legacy is not None:
            link = await write_link(
                conn, clerk, applicant, court, legacy, why=f"on approval of registration {registration.id}"
            )
    await audit.record(
        f"registration.{'approve' if approve else 'reject'}",
        actor_id=clerk.id,
        subject_id=applicant.id,
        court_code=court.code,
        detail=", ".join(details) + (f": {reason}" if reason else ""),
        using_db=conn,
    )
    kind = RegistrationEventKind.APPROVED if approve else RegistrationEventKind.REJECTED
    await payloads.registration_event(
        conn,
        WebhookEventType.REGISTRATION_DECIDED,
        registration,
        status=status.name,
        privilegeId=encode_id("FilingPrivilege", privilege.id) if privilege else None,
    )
    await outbox.publish(
        conn,
        [
            outbox.registration_event(kind, court.code, registration.id),
            outbox.account_event(
                AccountEventKind.REGISTRATION_DECIDED,
                applicant.id,
                court=court.code,
                registration_id=registration.id,
                privilege_id=privilege.id if privilege else None,
            ),
        ],
    )
    return privilege, link


async def _mail_decision(
    mailer: Mailer,
    applicant: PacerAccount,
    court: Court,
    registration: Registration,
    privilege: FilingPrivilege | None,
    link: LinkResult | None,
) -> None:
    if not email_addresses.reachable(applicant):
        return
    role = registration.role.name.replace("_", " ").title()
    if registration.status is RegistrationStatus.APPROVED and privilege is not None:
        [cases] = await privileges.cases_by_privilege_ids([privilege.id])
        subject = f"{court.code}: your {role} e-file registration is approved"
        lines = [
            f"{court.name} approved your e-file registration as {role}.",
            describe(permissions_of(privilege), cases).replace("You may", "You may now", 1),
        ]
        if link:
            lines.append(
                f"Your legacy CM/ECF account {link.cmecf_account.login!r} is now linked to your PACER account."
            )
    else:
        subject = f"{court.code}: your {role} e-file registration was not approved"
        lines = [
            f"{court.name} did not approve your e-file registration as {role}.",
            f"Reason: {registration.reason}",
        ]
    await mailer.send(
        applicant.email, subject, "\n\n".join([f"Dear {applicant.first_name} {applicant.last_name},", *lines])
    )


#: The queue's orders (``RegistrationOrderField``; None: by id, the order of arrival).
REGISTRATION_ORDERS = {
    None: Sort(),
    "submitted_at": Sort("submitted_at", datetime=True),
    "last_name": Sort("applicant_last_name_key"),
}
SEARCH_MAX = 100


@data_read
async def list_registrations(
    court: Court,
    *,
    status: RegistrationStatus | None = None,
    win: Window | None = None,
    search: str | None = None,
    order: str | None = None,
    descending: bool = False,
) -> Page[Registration]:
    """A window of the court's registrations (by default oldest first, a queue) in ``order``
    (``REGISTRATION_ORDERS``, ties by id). ``search`` matches the applicant's names, username
    and email and the bar number, in any case, on the registration's own folded copy
    (``search_text``): 3 characters or more anywhere (trigram indexes), 1 or 2 at the start
    of the applicant's last name (``ordering.search_condition``)."""
    found = await registration_window(
        court, status=status, win=win, search=search, order=order, descending=descending
    )
    return page_of(await rows_by_ids(Registration, found.ids), found)


@data_read
async def registration_window(
    court: Court,
    *,
    status: RegistrationStatus | None = None,
    win: Window | None = None,
    search: str | None = None,
    order: str | None = None,
    descending: bool = False,
) -> KeysetPage:
    """``list_registrations``' window as ids and cursors, its rules and checks all applied, for a
    caller that reads the rows its own way (``rows.registrations_by_ids``)."""
    win = win or Window(page_size(None))
    sort = replace(REGISTRATION_ORDERS[order], descending=descending)
    where, params = "court_id = ?", [court.code]
    if status is not None:
        where += " AND status = ?"
        params.append(status.value)
    searching = bool(search and search.strip())
    if search and searching:
        term = search.strip()
        if len(term) > SEARCH_MAX:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"search is at most {SEARCH_MAX} characters.", "search"
            )
        condition, values = search_condition("registrations", term, ["applicant_last_name_key"])
        where += f" AND {condition}"
        params += values
    # Unsearched, the list's size (or its status's) is kept; searched, its matches are counted.
    kept = "registrations" if status is None else f"registrations.{status.value}"
    total = None if searching else await counts.kept_count(court.code, kept)
    # Searched for 3 characters or more, the trigram candidates come first (``search_index``).
    index = search_index(search.strip()) if search and searching else None
    return await keyset_page(
        "registrations", where, params, sort, win, total=total, index=index, own_plan=searching
    )


def applicant_keys(account: PacerAccount, bar_number: str | None) -> dict[str, str]:
    """The registration's copies of its applicant (the LAST_NAME order, the search), as the
    columns hold them."""
    return {
        "applicant_last_name_key": fold(account.last_name),
        "search_text": search_copy(
            account.first_name, account.last_name, account.username, account.email, bar_number
        ),
    }


async def refresh_applicant(account: PacerAccount, using_db: BaseDBAsyncClient | None = None) -> None:
    """Keep the account's registrations in step with it, after its names, username or email
    changed (call it in the change's transaction)."""
    for registration in await Registration.filter(account_id=account.id).using_db(using_db):
        await (
            Registration.filter(id=registration.id)
            .using_db(using_db)
            .update(**applicant_keys(account, registration.bar_number))
        )


@data_read
async def registrations_by_ids(ids: Sequence[int]) -> list[Registration | None]:
    found = {r.id: r for r in await Registration.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]


async def registrations_by_account_ids(ids: Sequence[int]) -> list[list[Registration]]:
    rows = await Registration.filter(account_id__in=set(ids)).order_by("id")
    grouped: dict[int, list[Registration]] = {}
    for row in rows:
        grouped.setdefault(row.account_id, []).append(row)
    return [grouped.get(i, []) for i in ids]
