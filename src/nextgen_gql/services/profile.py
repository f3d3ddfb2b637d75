"""A signed-in account's own details: its password and its email.

Both ask for the current password again (wrong ones count as failed sign-ins). A new
password follows the 2025 rules and ends every other session; a new email is confirmed
from the new address with a token mailed there (after ``Email change token:``, one hour,
single use; ``services.email_addresses``), and the old address, when verified, is told of
both steps. Legacy accounts upgrade first.
"""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import PacerAccount, PasswordReset, Session
from nextgen_gql.oidc import logouts
from nextgen_gql.services import audit, email_addresses, outbox
from nextgen_gql.services.accounts import check_email
from nextgen_gql.services.auth import check_password_of
from nextgen_gql.services.clock import now
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.passwords import check_password_policy, hash_password, verify_password

__all__ = [
    "EMAIL_CHANGE_TOKEN_LABEL",
    "EMAIL_CHANGE_TTL",
    "change_password",
    "confirm_email_change",
    "request_email_change",
]

EMAIL_CHANGE_TOKEN_LABEL = "Email change token:"
EMAIL_CHANGE_TTL = dt.timedelta(hours=1)


def _require_upgraded(account: PacerAccount) -> None:
    if account.is_legacy:
        raise DomainError(
            ErrorCode.UPGRADE_REQUIRED, "Upgrade your PACER account before changing its details."
        )


async def change_password(
    account: PacerAccount,
    *,
    current_session_id: int | None,
    current_password: str,
    new_password: str,
    mailer: Mailer,
    source: str | None = None,
) -> None:
    """Set a new password; every session but the current one ends, and the owner is told."""
    _require_upgraded(account)
    await check_password_of(account, current_password, source=source, field="currentPassword")
    check_password_policy(
        new_password,
        field="newPassword",
        username=account.username,
        first_name=account.first_name,
        last_name=account.last_name,
        email=account.email,
    )
    if await verify_password(account.password_hash, new_password):
        raise DomainError(
            ErrorCode.PASSWORD_POLICY, "Choose a password other than the current one.", "newPassword"
        )
    password_hash = await hash_password(new_password)
    at = now()
    async with in_transaction() as conn:
        await (
            PacerAccount.filter(id=account.id)
            .using_db(conn)
            .update(password_hash=password_hash, password_compliant=True)
        )
        others = Session.filter(account_id=account.id, revoked_at__isnull=True)
        if current_session_id is not None:
            others = others.exclude(id=current_session_id)
        ended = await others.using_db(conn).update(revoked_at=at)
        await logouts.note_ended(conn, account.id, at)
        # A reset token asked for earlier would undo the change: it dies with it.
        await (
            PasswordReset.filter(account_id=account.id, used_at__isnull=True)
            .using_db(conn)
            .update(used_at=at)
        )
        await audit.record(
            "account.password_change",
            actor_id=account.id,
            detail=f"{ended} other sessions ended",
            using_db=conn,
        )
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    account.password_hash = password_hash
    if email_addresses.reachable(account):
        await mailer.send(
            account.email,
            "PACER: your password was changed",
            f"Dear {account.first_name} {account.last_name},\n\n"
            f"The password of the PACER account {account.username} was changed at {at:%Y-%m-%d %H:%M} UTC, "
            "and every other sign-in was ended.\n\n"
            "If this was not you, reset your password now (Forgot password) and call the PACER Service Center.\n",
        )


EMAIL_CHANGE = email_addresses.Purpose(
    label=EMAIL_CHANGE_TOKEN_LABEL,
    ttl=EMAIL_CHANGE_TTL,
    subject="PACER: confirm your new email",
    asked="asked to use this address from now on",
    mutation="confirmEmailChange",
)


async def request_email_change(
    account: PacerAccount,
    *,
    new_email: str,
    password: str,
    mailer: Mailer,
    source: str | None = None,
) -> None:
    """Mail a token to the new address, and a notice to the old one.

    The answer is the same whoever holds the new address: when another account verified it,
    that account is told instead of a token being sent (``email_addresses.mail_token``).
    """
    _require_upgraded(account)
    await check_password_of(account, password, source=source)
    email = check_email(new_email, field="newEmail")
    if email.lower() == account.email.lower():
        raise DomainError(ErrorCode.INVALID_INPUT, "This is already your email.", "newEmail")
    await email_addresses.mail_token(
        account, email, EMAIL_CHANGE, mailer=mailer, audit_action="account.email_change_request"
    )
    if email_addresses.reachable(account):
        await mailer.send(
            account.email,
            "PACER: a change of your email was asked for",
            f"Dear {account.first_name} {account.last_name},\n\n"
            f"Someone signed in as {account.username} asked to change the account's email to {email}. "
            "It changes once confirmed from that address.\n\n"
            "If this was not you, change your password now.\n",
        )


async def confirm_email_change(account: PacerAccount, token: str, *, mailer: Mailer) -> PacerAccount:
    """Make the new email the account's, verified, with the token mailed there (once)."""
    invalid = DomainError(
        ErrorCode.INVALID_INPUT, "The email change token is invalid, used or expired.", "token"
    )
    change = await email_addresses.redeem(token, invalid, account_id=account.id)
    old, was_reachable = account.email, email_addresses.reachable(account)
    await email_addresses.claim(account, change, invalid, audit_action="account.email_change")
    if was_reachable and old.lower() != account.email.lower():
        await mailer.send(
            old,
            "PACER: your email was changed",
            f"Dear {account.first_name} {account.last_name},\n\n"
            f"The email of the PACER account {account.username} is now {change.new_email}; "
            "mail no longer comes to this address.\n\n"
            "If this was not you, call the PACER Service Center now.\n",
        )
    return account
