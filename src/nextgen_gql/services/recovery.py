"""Login retrieval: password reset by mailed token, and CM/ECF login reminders.

Neither request reveals whether an account exists: both answer the same either way, and
only the mailbox of the account's owner learns anything.
"""

from __future__ import annotations

import datetime as dt
import secrets

from tortoise.expressions import Q
from tortoise.functions import Lower
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import CmecfAccount, PacerAccount, PasswordReset, Session
from nextgen_gql.oidc import logouts
from nextgen_gql.services import audit, email_addresses, events, outbox, throttle
from nextgen_gql.services.auth import token_hash
from nextgen_gql.services.clock import now
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.passwords import USERNAME_MAX, check_password_policy, hash_password
from nextgen_gql.tenancy import Court

__all__ = ["request_password_reset", "reset_password", "retrieve_cmecf_login"]

RESET_TOKEN_LABEL = "Reset token:"


async def request_password_reset(
    username_or_email: str, *, mailer: Mailer, ttl_seconds: int, source: str | None = None
) -> None:
    """Mail a single-use reset token to the account named by username or verified email.

    An email matches verified addresses only; an account whose address is unverified is sent
    its verification mail instead, and nothing else (``email_addresses``). A source address
    asking too often is quietly ignored (the answer never changes).
    """
    key = username_or_email.strip().lower()
    if not key or len(key) > 254:
        return
    address = source or "unknown"
    if await throttle.locked_until(throttle.RESET_REQUESTS, address) is not None:
        return
    await throttle.record_failure(throttle.RESET_REQUESTS, address)
    matches = Q(email_key=key, email_verified=True)
    if len(key) <= USERNAME_MAX:
        matches |= Q(username_key=key)
    accounts = list(await PacerAccount.annotate(email_key=Lower("email")).filter(matches))
    if not accounts:
        # Nobody verified this address: whoever holds it unverified gets the verification mail.
        accounts = list(await email_addresses.holders(key).filter(email_verified=False))
    for account in accounts:
        if not account.email:
            continue  # a legacy account that never gave an email cannot be reached
        if not email_addresses.reachable(account):
            await email_addresses.send_verification(account, mailer=mailer)
            continue
        token = secrets.token_urlsafe(32)
        at = now()
        async with in_transaction() as conn:
            await PasswordReset.create(
                account_id=account.id,
                token_hash=token_hash(token),
                created_at=at,
                expires_at=at + dt.timedelta(seconds=ttl_seconds),
                using_db=conn,
            )
            await audit.record(
                "account.password_reset_request", actor_id=None, subject_id=account.id, using_db=conn
            )
        minutes = ttl_seconds // 60
        await mailer.send(
            account.email,
            "PACER password reset",
            f"Dear {account.first_name} {account.last_name},\n\n"
            f"Someone asked to reset the password of the PACER account {account.username}.\n"
            f"If it was you, use this token within {minutes} minutes; it works once.\n\n"
            f"{RESET_TOKEN_LABEL} {token}\n\n"
            "If it was not you, ignore this message: your password is unchanged.\n",
        )


async def reset_password(token: str, new_password: str, *, source: str | None = None) -> PacerAccount:
    """Set a new password with a mailed token (once); every session of the account ends,
    and a sign-in lockout of the account is lifted."""
    invalid = DomainError(ErrorCode.INVALID_INPUT, "The reset token is invalid, used or expired.", "token")
    address = source or "unknown"
    await throttle.refuse_if_limited(throttle.RESET_TOKENS, address, "password resets from your network")
    reset = (
        await PasswordReset.get_or_none(token_hash=token_hash(token.strip()))
        if 0 < len(token) <= 256
        else None
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now():
        await throttle.record_failure(throttle.RESET_TOKENS, address)
        events.emit("account.password_reset_invalid")
        raise invalid
    account = await PacerAccount.get(id=reset.account_id)
    check_password_policy(
        new_password,
        field="newPassword",
        username=account.username,
        first_name=account.first_name,
        last_name=account.last_name,
        email=account.email,
    )
    password_hash = await hash_password(new_password)
    at = now()
    async with in_transaction() as conn:
        used = await PasswordReset.filter(id=reset.id, used_at__isnull=True).using_db(conn).update(used_at=at)
        if not used:
            raise invalid
        # Any other outstanding token of this account dies with this one.
        await (
            PasswordReset.filter(account_id=account.id, used_at__isnull=True)
            .using_db(conn)
            .update(used_at=at)
        )
        await (
            PacerAccount.filter(id=account.id)
            .using_db(conn)
            .update(password_hash=password_hash, password_compliant=True)
        )
        await (
            Session.filter(account_id=account.id, revoked_at__isnull=True)
            .using_db(conn)
            .update(revoked_at=at)
        )
        await logouts.note_ended(conn, account.id, at)
        await audit.record("account.password_reset", actor_id=account.id, using_db=conn)
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    await throttle.clear_sign_in(account.username_key)
    await account.refresh_from_db()
    return account


async def retrieve_cmecf_login(
    court: Court, email: str, *, mailer: Mailer, source: str | None = None
) -> None:
    """Mail the court's legacy login(s) registered to ``email``, if any.

    Whether or not the roster holds the address, the request takes the same steps: the
    throttles count it, one statement reads the roster, and the mail (when there is one) is
    handed to a task (``Mailer.send_later``), so the answer's timing tells nothing. A source
    address, or an email, asked for too often is quietly ignored (the answer never changes).
    """
    key = email.strip().lower()
    if not key or len(key) > 254:
        return
    if not await throttle.take_turn(throttle.CMECF_RETRIEVALS, source or "unknown"):
        return
    if not await throttle.take_turn(throttle.CMECF_RETRIEVALS_TO, key):
        return
    rows = (
        await CmecfAccount.annotate(email_key=Lower("email"))
        .filter(court_id=court.code, email_key=key)
        .order_by("login_key")
    )
    if not rows:
        return
    lines = []
    for row in rows:
        # The roster keeps the link's date (``linking.write_link``): no statement more.
        linked = row.linked_at is not None or row.password_hash is None
        note = " (already linked: sign in with your PACER account)" if linked else ""
        lines.append(f"  CM/ECF login: {row.login} ({row.role.name}){note}")
    mailer.send_later(
        rows[0].email,
        f"{court.code}: your CM/ECF login",
        f"You asked for the legacy CM/ECF login(s) of {court.name} registered to this address.\n\n"
        + "\n".join(lines)
        + "\n\nTo link a login to your upgraded PACER account, sign in to the court with your PACER "
        "account and choose Link My Filer Account to My PACER Account.\n",
    )
