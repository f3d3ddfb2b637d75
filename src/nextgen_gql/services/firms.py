"""Firms (PACER Administrative Accounts): creation, invitations, membership, client codes.

Rules (DOMAIN.md, "Firms"): an admin adds an existing PACER account by account number and
last name, and the user must accept; a user cannot add themselves; either side may end the
membership at any time and both are told; one firm per account; the firm may make a
client code mandatory for every member.

The invitee finds pending invitations on their own account (the mail carries the id after
``Invitation id:``); the firm's administrators may cancel one still pending; an invitation
answered or cancelled is ``ALREADY_DECIDED``. A firm may have several administrators: an
administrator makes a member one, and steps down only for themself. A firm with members
always keeps one administrator: the last one stepping down or leaving gets ``LAST_ADMIN``.
That is decided under a lock on the firm's row (``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite runs one transaction at a time), taken by every change of the firm's membership, so
two administrators stepping down at once cannot both go. Every change is audited and
mailed to the firm's administrators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind, InvitationStatus
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound
from nextgen_gql.models import Firm, FirmInvitation, FirmMembership, PacerAccount
from nextgen_gql.replica import data_read
from nextgen_gql.services import audit, email_addresses, outbox
from nextgen_gql.services.accounts import ACCOUNT_NUMBER_RE, new_account_number
from nextgen_gql.services.clock import now
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.pagination import Page, id_page, id_window
from nextgen_gql.services.text import single_line

__all__ = [
    "INVITATION_ID_LABEL",
    "FirmRole",
    "accept_invitation",
    "admin_firm",
    "cancel_invitation",
    "create_firm",
    "decline_invitation",
    "firm_role",
    "invitations_for_accounts",
    "invite_member",
    "is_admin_of_member",
    "list_members",
    "remove_member",
    "set_admin",
    "set_client_code_required",
]

#: A firm invitation's mail carries its id after these words (docs/reference.md, "Mail").
INVITATION_ID_LABEL = "Invitation id:"


@dataclass(frozen=True)
class FirmRole:
    """An account's place in its firm."""

    firm: Firm
    is_admin: bool


async def firm_role(account_id: int) -> FirmRole | None:
    membership = await FirmMembership.get_or_none(account_id=account_id).select_related("firm")
    return FirmRole(firm=membership.firm, is_admin=membership.is_admin) if membership else None


def check_admin_of(firm: Firm, admin_firm_id: int | None) -> None:
    """Only the firm's administrators see its members, invitations and statements:
    ``admin_firm_id`` is the firm the viewer administers (None when none)."""
    if admin_firm_id != firm.id:
        raise Forbidden(f"Only the administrators of {firm.name} see this.")


async def admin_firm(account: PacerAccount) -> Firm:
    """The firm ``account`` administers; FORBIDDEN otherwise."""
    role = await firm_role(account.id)
    if role is None or not role.is_admin:
        raise Forbidden("Only a firm's administrators may do this.")
    return role.firm


async def is_admin_of_member(admin_id: int, member_id: int) -> bool:
    """Whether ``admin_id`` administers the firm that ``member_id`` belongs to."""
    member = await FirmMembership.get_or_none(account_id=member_id)
    if member is None:
        return False
    return await FirmMembership.filter(firm_id=member.firm_id, account_id=admin_id, is_admin=True).exists()


async def _mail_admins(
    mailer: Mailer, firm: Firm, subject: str, body: str, *, skip: int | None = None
) -> None:
    admins = await PacerAccount.filter(membership__firm_id=firm.id, membership__is_admin=True)
    for admin in admins:
        if email_addresses.reachable(admin) and admin.id != skip:
            await mailer.send(admin.email, subject, body)


async def _lock_firm(conn: BaseDBAsyncClient, firm_id: int) -> None:
    """Hold the firm's row until the transaction ends: every change of who belongs to the
    firm, and who administers it, takes this lock first (PostgreSQL: FOR UPDATE; SQLite runs
    one transaction at a time)."""
    await Firm.filter(id=firm_id).using_db(conn).select_for_update().first()


def _last_admin(message: str) -> DomainError:
    return DomainError(ErrorCode.LAST_ADMIN, message, "accountId")


async def _keeps_an_admin(conn: BaseDBAsyncClient, firm_id: int, admin_id: int, *, leaving: bool) -> None:
    """``LAST_ADMIN`` unless the firm keeps an administrator when ``admin_id`` steps down
    (``leaving=False``) or leaves (``leaving=True``); a firm left with no member needs none."""
    others = FirmMembership.filter(firm_id=firm_id).exclude(account_id=admin_id).using_db(conn)
    if await others.filter(is_admin=True).exists():
        return
    if not leaving:
        raise _last_admin(
            "You are the firm's last administrator: make another member an administrator first."
        )
    if await others.exists():
        raise _last_admin(
            "The firm's last administrator cannot leave while it has members: make another member "
            "an administrator first."
        )


async def create_firm(account: PacerAccount, *, name: str) -> Firm:
    """Create a firm; its creator becomes its first administrator."""
    name = name.strip()
    if not name or len(name) > 200:
        raise DomainError(ErrorCode.INVALID_INPUT, "A firm name of 1 to 200 characters is required.", "name")
    single_line(name, "name", "A firm name")
    if account.is_legacy:
        raise DomainError(ErrorCode.UPGRADE_REQUIRED, "Upgrade your PACER account before you create a firm.")
    if await FirmMembership.filter(account_id=account.id).exists():
        raise DomainError(ErrorCode.ALREADY_MEMBER, "You already belong to a firm: leave it first.")
    for _attempt in range(5):
        number = new_account_number()
        if await PacerAccount.filter(account_number=number).exists():
            continue  # keep firm and user account numbers apart
        try:
            async with in_transaction() as conn:
                firm = await Firm.create(account_number=number, name=name, created_at=now(), using_db=conn)
                await FirmMembership.create(
                    firm_id=firm.id, account_id=account.id, is_admin=True, joined_at=now(), using_db=conn
                )
                await audit.record(
                    "firm.create", actor_id=account.id, detail=f"firm {firm.account_number}", using_db=conn
                )
                return firm
        except IntegrityError:
            if await FirmMembership.filter(account_id=account.id).exists():
                raise DomainError(
                    ErrorCode.ALREADY_MEMBER, "You already belong to a firm: leave it first."
                ) from None
    raise RuntimeError("could not allocate a unique firm account number")  # pragma: no cover


async def invite_member(
    admin: PacerAccount,
    *,
    account_number: str,
    last_name: str,
    mailer: Mailer,
    public_id: Callable[[int], str] = str,
) -> FirmInvitation:
    """Invite an existing PACER account, named by account number and last name (any case).
    The invitee's mail carries the invitation's id (``public_id`` of its row id: the API's
    global id) after ``Invitation id:``, and says where to answer."""
    firm = await admin_firm(admin)
    nobody = NotFound("No PACER account matches that account number and last name.")
    number = account_number.strip()
    if not ACCOUNT_NUMBER_RE.match(number):
        raise nobody
    invitee = await PacerAccount.get_or_none(account_number=number)
    if invitee is None or invitee.last_name.casefold() != last_name.strip().casefold():
        raise nobody
    if invitee.id == admin.id:
        raise DomainError(ErrorCode.INVALID_INPUT, "You cannot invite yourself.", "accountNumber")
    membership = await FirmMembership.get_or_none(account_id=invitee.id)
    if membership is not None:
        where = "this firm" if membership.firm_id == firm.id else "a firm"
        raise DomainError(
            ErrorCode.ALREADY_MEMBER, f"That account already belongs to {where}.", "accountNumber"
        )
    open_key = f"{firm.id}:{invitee.id}"
    existing = await FirmInvitation.get_or_none(open_key=open_key)
    if existing is not None:
        return existing  # inviting twice is asking once
    try:
        async with in_transaction() as conn:
            invitation = await FirmInvitation.create(
                firm_id=firm.id,
                account_id=invitee.id,
                invited_by_id=admin.id,
                open_key=open_key,
                created_at=now(),
                using_db=conn,
            )
            await audit.record(
                "firm.invite",
                actor_id=admin.id,
                subject_id=invitee.id,
                detail=f"firm {firm.account_number}",
                using_db=conn,
            )
            await outbox.publish(
                conn,
                [
                    outbox.account_event(
                        AccountEventKind.INVITATION_RECEIVED, invitee.id, invitation_id=invitation.id
                    )
                ],
            )
    except IntegrityError:
        return await FirmInvitation.get(open_key=open_key)
    if email_addresses.reachable(invitee):
        await mailer.send(
            invitee.email,
            f"Invitation to join {firm.name} on PACER",
            f"{admin.first_name} {admin.last_name} invites you to join the PACER administrative account "
            f"{firm.name} ({firm.account_number}). Its members' PACER fees are billed to the firm.\n\n"
            f"{INVITATION_ID_LABEL} {public_id(invitation.id)}\n\n"
            "To answer, sign in with your PACER account: the NextGen CM/ECF app (its home page, / on "
            "this service) lists your pending invitations under My account, with Accept and Decline. "
            "Through the API, send acceptFirmInvitation(id: ...) or declineFirmInvitation(id: ...) "
            "with this id to /graphql.\n",
        )
    await _mail_admins(
        mailer,
        firm,
        f"{firm.name}: invitation sent",
        f"{invitee.first_name} {invitee.last_name} was invited.\n",
    )
    return invitation


async def _invitation_for_invitee(account: PacerAccount, invitation_id: int) -> FirmInvitation:
    invitation = await FirmInvitation.get_or_none(id=invitation_id).select_related("firm")
    if invitation is None:
        raise NotFound("No invitation has that id.", "id")
    if invitation.account_id != account.id:
        if await FirmMembership.filter(
            firm_id=invitation.firm_id, account_id=account.id, is_admin=True
        ).exists():
            raise Forbidden("Only the invited account may answer its invitation.", "id")
        raise NotFound("No invitation has that id.", "id")
    if invitation.status is not InvitationStatus.PENDING:
        raise DomainError(
            ErrorCode.ALREADY_DECIDED, f"This invitation was {invitation.status.value} before.", "id"
        )
    return invitation


async def accept_invitation(account: PacerAccount, invitation_id: int, *, mailer: Mailer) -> Firm:
    """The invitee joins the firm (one firm per account)."""
    invitation = await _invitation_for_invitee(account, invitation_id)
    firm = invitation.firm
    if await FirmMembership.filter(account_id=account.id).exists():
        raise DomainError(ErrorCode.ALREADY_MEMBER, "You already belong to a firm: leave it first.")
    try:
        async with in_transaction() as conn:
            await _lock_firm(conn, firm.id)
            changed = (
                await FirmInvitation.filter(id=invitation.id, status=InvitationStatus.PENDING)
                .using_db(conn)
                .update(status=InvitationStatus.ACCEPTED, open_key=None, answered_at=now())
            )
            if not changed:
                raise DomainError(
                    ErrorCode.ALREADY_DECIDED, "This invitation was answered or cancelled before.", "id"
                )
            await FirmMembership.create(
                firm_id=firm.id, account_id=account.id, is_admin=False, joined_at=now(), using_db=conn
            )
            await audit.record(
                "firm.member.join", actor_id=account.id, detail=f"firm {firm.account_number}", using_db=conn
            )
    except IntegrityError:
        raise DomainError(ErrorCode.ALREADY_MEMBER, "You already belong to a firm: leave it first.") from None
    await _mail_admins(
        mailer,
        firm,
        f"{firm.name}: invitation accepted",
        f"{account.first_name} {account.last_name} joined the firm.\n",
    )
    if email_addresses.reachable(account):
        await mailer.send(
            account.email, f"You joined {firm.name}", f"Your PACER fees are now billed to {firm.name}.\n"
        )
    return firm


async def decline_invitation(account: PacerAccount, invitation_id: int, *, mailer: Mailer) -> FirmInvitation:
    invitation = await _invitation_for_invitee(account, invitation_id)
    async with in_transaction() as conn:
        changed = (
            await FirmInvitation.filter(id=invitation.id, status=InvitationStatus.PENDING)
            .using_db(conn)
            .update(status=InvitationStatus.DECLINED, open_key=None, answered_at=now())
        )
        if not changed:
            raise DomainError(
                ErrorCode.ALREADY_DECIDED, "This invitation was answered or cancelled before.", "id"
            )
        await audit.record(
            "firm.invitation.decline",
            actor_id=account.id,
            detail=f"firm {invitation.firm.account_number}",
            using_db=conn,
        )
    await _mail_admins(
        mailer,
        invitation.firm,
        f"{invitation.firm.name}: invitation declined",
        f"{account.first_name} {account.last_name} declined the invitation.\n",
    )
    await invitation.refresh_from_db()
    return invitation


async def remove_member(actor: PacerAccount, member_id: int, *, mailer: Mailer) -> Firm:
    """An admin removes a member, or a member leaves. Both sides are told. The firm's last
    administrator leaves only a firm with no other member (``LAST_ADMIN``); the pending
    invitations of a firm left empty are cancelled."""
    role = await firm_role(actor.id)
    if role is None:
        raise DomainError(ErrorCode.NOT_A_MEMBER, "You do not belong to a firm.")
    firm = role.firm
    async with in_transaction() as conn:
        await _lock_firm(conn, firm.id)
        # Read again under the lock: a concurrent change may have gone first.
        own = await FirmMembership.filter(account_id=actor.id, firm_id=firm.id).using_db(conn).first()
        if own is None:
            raise DomainError(ErrorCode.NOT_A_MEMBER, "You do not belong to a firm.")
        membership = await FirmMembership.filter(account_id=member_id, firm_id=firm.id).using_db(conn).first()
        if membership is None:
            raise DomainError(
                ErrorCode.NOT_A_MEMBER, "That account is not a member of your firm.", "accountId"
            )
        if member_id != actor.id and not own.is_admin:
            raise Forbidden("Only a firm's administrators remove other members; you may leave.", "accountId")
        if membership.is_admin:
            await _keeps_an_admin(conn, firm.id, member_id, leaving=True)
        await FirmMembership.filter(id=membership.id).using_db(conn).delete()
        if not await FirmMembership.filter(firm_id=firm.id).using_db(conn).exists():
            await (
                FirmInvitation.filter(firm_id=firm.id, status=InvitationStatus.PENDING)
                .using_db(conn)
                .update(status=InvitationStatus.CANCELLED, open_key=None, answered_at=now())
            )
        await audit.record(
            "firm.member.remove",
            actor_id=actor.id,
            subject_id=member_id,
            detail=f"firm {firm.account_number}" + (", left" if member_id == actor.id else ""),
            using_db=conn,
        )
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.MEMBERSHIP_ENDED, member_id)])
    member = await PacerAccount.get(id=member_id)
    subject = f"{firm.name}: membership ended"
    text = f"{member.first_name} {member.last_name} is no longer a member of {firm.name}.\n"
    if email_addresses.reachable(member):
        await mailer.send(
            member.email, subject, text + "Your PACER fees are billed to your own account again.\n"
        )
    await _mail_admins(mailer, firm, subject, text, skip=member.id)
    return firm


async def set_admin(actor: PacerAccount, account_id: int, admin: bool, *, mailer: Mailer) -> Firm:
    """An administrator makes a member of the firm an administrator (``admin=True``), or steps
    down (``admin=False``, for themself only: ``FORBIDDEN`` on anyone else). The last
    administrator cannot step down (``LAST_ADMIN``)."""
    role = await firm_role(actor.id)
    if role is None:
        raise DomainError(ErrorCode.NOT_A_MEMBER, "You do not belong to a firm.")
    firm = role.firm
    async with in_transaction() as conn:
        await _lock_firm(conn, firm.id)
        own = await FirmMembership.filter(account_id=actor.id, firm_id=firm.id).using_db(conn).first()
        if own is None:
            raise DomainError(ErrorCode.NOT_A_MEMBER, "You do not belong to a firm.")
        if not own.is_admin:
            raise Forbidden("Only a firm's administrators may do this.", "accountId")
        target = await FirmMembership.filter(account_id=account_id, firm_id=firm.id).using_db(conn).first()
        if target is None:
            raise DomainError(
                ErrorCode.NOT_A_MEMBER, "That account is not a member of your firm.", "accountId"
            )
        if not admin and account_id != actor.id:
            raise Forbidden(
                "An administrator steps down only for themself: another administrator's role is theirs "
                "to give up.",
                "accountId",
            )
        if target.is_admin == admin:
            return firm  # already so: nothing changes
        if not admin:
            await _keeps_an_admin(conn, firm.id, actor.id, leaving=False)
        await FirmMembership.filter(id=target.id).using_db(conn).update(is_admin=admin)
        await audit.record(
            "firm.admin.grant" if admin else "firm.admin.step_down",
            actor_id=actor.id,
            subject_id=account_id,
            detail=f"firm {firm.account_number}",
            using_db=conn,
        )
    person = await PacerAccount.get(id=account_id)
    name = f"{person.first_name} {person.last_name}"
    if admin:
        subject = f"{firm.name}: {name} is now an administrator"
        text = f"{actor.first_name} {actor.last_name} made {name} an administrator of {firm.name}.\n"
    else:
        subject = f"{firm.name}: {name} stepped down as administrator"
        text = f"{name} is no longer an administrator of {firm.name} (still a member).\n"
    await _mail_admins(mailer, firm, subject, text, skip=None if admin else person.id)
    if not admin and email_addresses.reachable(person):
        await mailer.send(person.email, subject, text)
    return firm


async def cancel_invitation(admin: PacerAccount, invitation_id: int, *, mailer: Mailer) -> FirmInvitation:
    """An administrator of the firm cancels an invitation still pending; the invitee is told.
    Another firm's invitation is ``NOT_FOUND``; a plain member (or the invitee) ``FORBIDDEN``."""
    invitation = await FirmInvitation.get_or_none(id=invitation_id).select_related("firm", "account")
    nobody = NotFound("No invitation of your firm has that id.", "id")
    if invitation is None:
        raise nobody
    own = await FirmMembership.get_or_none(account_id=admin.id, firm_id=invitation.firm_id)
    if own is None:
        if invitation.account_id == admin.id:
            raise Forbidden("An invitation addressed to you is declined, not cancelled.", "id")
        raise nobody
    if not own.is_admin:
        raise Forbidden("Only a firm's administrators cancel its invitations.", "id")
    firm = invitation.firm
    async with in_transaction() as conn:
        changed = (
            await FirmInvitation.filter(id=invitation.id, status=InvitationStatus.PENDING)
            .using_db(conn)
            .update(status=InvitationStatus.CANCELLED, open_key=None, answered_at=now())
        )
        if not changed:
            await invitation.refresh_from_db()
            raise DomainError(
                ErrorCode.ALREADY_DECIDED, f"This invitation was {invitation.status.value} before.", "id"
            )
        await audit.record(
            "firm.invitation.cancel",
            actor_id=admin.id,
            subject_id=invitation.account_id,
            detail=f"firm {firm.account_number}",
            using_db=conn,
        )
    invitee = invitation.account
    if email_addresses.reachable(invitee):
        await mailer.send(
            invitee.email,
            f"{firm.name} withdrew its invitation",
            f"{firm.name} ({firm.account_number}) cancelled its invitation to join its PACER "
            "administrative account. Nothing changes for you.\n",
        )
    await _mail_admins(
        mailer,
        firm,
        f"{firm.name}: invitation cancelled",
        f"{admin.first_name} {admin.last_name} cancelled the invitation of "
        f"{invitee.first_name} {invitee.last_name}.\n",
    )
    await invitation.refresh_from_db()
    return invitation


async def set_client_code_required(admin: PacerAccount, required: bool) -> Firm:
    firm = await admin_firm(admin)
    async with in_transaction() as conn:
        await Firm.filter(id=firm.id).using_db(conn).update(client_code_required=required)
        await audit.record(
            "firm.client_code_required",
            actor_id=admin.id,
            detail=f"firm {firm.account_number}: {'on' if required else 'off'}",
            using_db=conn,
        )
    await firm.refresh_from_db()
    return firm


@data_read
async def list_members(
    firm: Firm, *, first: int | None = None, after: int | None = None
) -> Page[PacerAccount]:
    """The firm's members (admins included), by account id."""
    query = PacerAccount.filter(membership__firm_id=firm.id)
    return await id_page(query, first=first, after=after)


@data_read
async def member_window(firm: Firm, *, first: int | None = None, after: int | None = None) -> Page[int]:
    """``list_members``' page as the members' account ids, for a caller that reads the rows its
    own way (``rows.accounts_by_ids``)."""
    return await id_window(PacerAccount.filter(membership__firm_id=firm.id), first=first, after=after)


@data_read
async def pending_invitations(firm_id: int) -> list[FirmInvitation]:
    """The firm's invitations still waiting for an answer, oldest first."""
    return await FirmInvitation.filter(firm_id=firm_id, status=InvitationStatus.PENDING).order_by("id")


@data_read
async def invitations_for_accounts(account_ids: Sequence[int]) -> list[list[FirmInvitation]]:
    """The pending invitations addressed to each account, oldest first (one query)."""
    found: dict[int, list[FirmInvitation]] = {i: [] for i in account_ids}
    rows = await FirmInvitation.filter(
        account_id__in=set(account_ids), status=InvitationStatus.PENDING
    ).order_by("id")
    for row in rows:
        found[row.account_id].append(row)
    return [found[i] for i in account_ids]


@data_read
async def invitations_by_ids(ids: Sequence[int]) -> list[FirmInvitation | None]:
    found = {i.id: i for i in await FirmInvitation.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]


@data_read
async def firms_by_ids(ids: Sequence[int]) -> list[Firm | None]:
    found = {f.id: f for f in await Firm.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]


async def memberships_by_account_ids(ids: Sequence[int]) -> list[FirmMembership | None]:
    found = {m.account_id: m for m in await FirmMembership.filter(account_id__in=set(ids))}
    return [found.get(i) for i in ids]
