"""An account's email address counts once its owner proved they read it.

An address given at registration or upgrade is held unverified until confirmed with the
token mailed to it (after ``Email verification token:``, 24 hours, ``verifyEmail``); a new
address asked for with ``requestEmailChange`` is confirmed the same way (after ``Email
change token:``, one hour, ``services.profile``). Both are one kind of token, an
``EmailChange`` row: the SHA-256 of a random token, the address it was mailed to, an expiry,
single use, one outstanding per account (a new one ends the last). Redeeming one makes its
address the account's verified address.

The rules, kept here and nowhere else:

- An unverified address receives no mail but its verification (``reachable``).
- It blocks nobody: uniqueness holds among verified addresses only (the partial unique
  index ``pacer_accounts_verified_email`` on ``lower(email)``, migration 0016), so two
  accounts confirming one address at the same moment cannot both win.
- ``EMAIL_TAKEN`` is answered only where an address is claimed for good (a token
  redeemed), when another account verified it first.
- An address another account verified is never mailed a token: its owner is told instead
  (``mail_token``), so no answer tells a requester whose the address is.
- Lookups by address (password reset) match verified addresses only (``verified_holder``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.functions import Lower
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import EmailChange, PacerAccount
from nextgen_gql.services import audit, outbox, throttle
from nextgen_gql.services.auth import token_hash
from nextgen_gql.services.clock import now
from nextgen_gql.services.mail import Mailer

__all__ = [
    "RESEND_VERIFICATION",
    "VERIFICATION",
    "VERIFY_TOKENS",
    "Purpose",
    "claim",
    "holders",
    "mail_token",
    "reachable",
    "redeem",
    "resend_verification",
    "send_verification",
    "verified_holder",
    "verify_email",
]


@dataclass(frozen=True)
class Purpose:
    """What a mailed token is for: the words before it, how long it lasts, what to call."""

    label: str
    ttl: dt.timedelta
    subject: str
    #: The request, in the mail: "asked to use this address from now on".
    asked: str
    mutation: str


VERIFICATION = Purpose(
    label="Email verification token:",
    ttl=dt.timedelta(hours=24),
    subject="PACER: verify your email",
    asked="gave this address as its email",
    mutation="verifyEmail",
)

#: Verification mails one account may ask for again (``resendEmailVerification``).
RESEND_VERIFICATION = throttle.Policy("verify_mail", 5, dt.timedelta(hours=1), dt.timedelta(hours=1))
#: Invalid verification tokens from one source address (``verifyEmail`` needs no sign-in).
VERIFY_TOKENS = throttle.Policy("verify_token", 10, dt.timedelta(minutes=15), dt.timedelta(minutes=15))


def reachable(account: PacerAccount) -> bool:
    """Whether the account may be mailed (anything but a verification): a verified address."""
    return bool(account.email) and account.email_verified


def holders(email: str) -> QuerySet[PacerAccount]:
    """Accounts holding ``email`` in any case, verified or not."""
    return PacerAccount.annotate(email_key=Lower("email")).filter(email_key=email.strip().lower())


async def verified_holder(email: str, *, other_than: int | None = None) -> PacerAccount | None:
    """The account that verified ``email`` (in any case), if any, other than ``other_than``."""
    if not email:
        return None
    query = holders(email).filter(email_verified=True)
    if other_than is not None:
        query = query.exclude(id=other_than)
    return await query.first()


async def _issue(account: PacerAccount, address: str, ttl: dt.timedelta, conn: BaseDBAsyncClient) -> str:
    token = secrets.token_urlsafe(32)
    at = now()
    # One address confirmation at a time: an earlier token dies with this one.
    await EmailChange.filter(account_id=account.id, used_at__isnull=True).using_db(conn).update(used_at=at)
    await EmailChange.create(
        account_id=account.id,
        new_email=address,
        token_hash=token_hash(token),
        created_at=at,
        expires_at=at + ttl,
        using_db=conn,
    )
    return token


async def mail_token(
    account: PacerAccount, address: str, purpose: Purpose, *, mailer: Mailer, audit_action: str
) -> None:
    """Mail ``address`` a token that makes it the account's verified address; or, when another
    account verified it already, tell that account instead (no token is made)."""
    owner = await verified_holder(address, other_than=account.id)
    if owner is not None:
        await audit.record(audit_action, actor_id=account.id, detail="address verified by another account")
        await mailer.send(
            owner.email,
            "PACER: another account gave your email",
            f"Dear {owner.first_name} {owner.last_name},\n\n"
            f"The PACER account {account.username} {purpose.asked}. It is already the email of your "
            f"account {owner.username}, which keeps it: nothing changes for you, and no token was sent.\n\n"
            "If you do not know this account, you need do nothing.\n",
        )
        return
    async with in_transaction() as conn:
        token = await _issue(account, address, purpose.ttl, conn)
        await audit.record(audit_action, actor_id=account.id, using_db=conn)
    hours = int(purpose.ttl.total_seconds()) // 3600
    lasts = f"{hours} hours" if hours > 1 else f"{int(purpose.ttl.total_seconds()) // 60} minutes"
    await mailer.send(
        address,
        purpose.subject,
        f"Dear {account.first_name} {account.last_name},\n\n"
        f"The PACER account {account.username} {purpose.asked}.\n"
        f"To confirm it is yours, use this token within {lasts} ({purpose.mutation}); it works once.\n\n"
        f"{purpose.label} {token}\n\n"
        "If you did not ask for this, ignore this message: the address is not used until confirmed.\n",
    )


async def send_verification(account: PacerAccount, *, mailer: Mailer) -> None:
    """Mail the account's unverified address its verification token (nothing when it has no
    address or it is verified)."""
    if not account.email or account.email_verified:
        return
    await mail_token(
        account, account.email, VERIFICATION, mailer=mailer, audit_action="account.email_verification_sent"
    )


async def redeem(token: str, invalid: DomainError, *, account_id: int | None = None) -> EmailChange:
    """The live token (unused, unexpired), of ``account_id`` when given; else ``invalid``."""
    text = token.strip()
    query = EmailChange.filter(token_hash=token_hash(text))
    if account_id is not None:
        query = query.filter(account_id=account_id)
    change = await query.first() if 0 < len(text) <= 256 else None
    if change is None or change.used_at is not None or change.expires_at <= now():
        raise invalid
    return change


async def claim(
    account: PacerAccount, change: EmailChange, invalid: DomainError, *, audit_action: str
) -> None:
    """Make the token's address the account's verified address, using the token (once).

    ``EMAIL_TAKEN`` (on ``token``) when another account verified the address first, even at
    the same moment (the partial unique index decides)."""
    taken = DomainError(ErrorCode.EMAIL_TAKEN, "Another PACER account has this email.", "token")
    if await verified_holder(change.new_email, other_than=account.id) is not None:
        raise taken
    at = now()
    try:
        async with in_transaction() as conn:
            if not (
                await EmailChange.filter(id=change.id, used_at__isnull=True).using_db(conn).update(used_at=at)
            ):
                raise invalid
            await (
                PacerAccount.filter(id=account.id)
                .using_db(conn)
                .update(email=change.new_email, email_verified=True)
            )
            await audit.record(audit_action, actor_id=account.id, using_db=conn)
            # The registrations' copies of the applicant (their search) follow the email.
            from nextgen_gql.services.registrations import refresh_applicant  # imports this module

            await account.refresh_from_db(using_db=conn)
            await refresh_applicant(account, conn)
            await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    except IntegrityError:
        raise taken from None
    await account.refresh_from_db()


async def verify_email(token: str, *, source: str | None = None) -> PacerAccount:
    """Confirm the address an account holds with the token mailed to it (signed in or not:
    the token names the account)."""
    invalid = DomainError(
        ErrorCode.INVALID_INPUT, "The email verification token is invalid, used or expired.", "token"
    )
    address = source or "unknown"
    await throttle.refuse_if_limited(VERIFY_TOKENS, address, "email verifications from your network")
    try:
        change = await redeem(token, invalid)
        account = await PacerAccount.get(id=change.account_id)
        # A token for another address (an email change's, or an address replaced since) is no good here.
        if change.new_email.lower() != account.email.lower():
            raise invalid
    except DomainError:
        await throttle.record_failure(VERIFY_TOKENS, address)
        raise
    await claim(account, change, invalid, audit_action="account.email_verify")
    return account


async def resend_verification(account: PacerAccount, *, mailer: Mailer) -> None:
    """Mail the account's unverified address a new verification token (the last one dies)."""
    if not account.email:
        raise DomainError(ErrorCode.INVALID_INPUT, "Your account has no email to verify: give one first.")
    if account.email_verified:
        raise DomainError(ErrorCode.INVALID_INPUT, "Your email is already verified.")
    key = str(account.id)
    if await throttle.locked_until(RESEND_VERIFICATION, key) is not None:
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"At most {RESEND_VERIFICATION.limit} verification mails an hour: use the last one, "
            "or try again later.",
        )
    await throttle.record_failure(RESEND_VERIFICATION, key)
    await send_verification(account, mailer=mailer)
