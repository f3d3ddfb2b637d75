"""Central Sign-On: sign-in, sessions and sign-out.

A session token is 128 URL-safe characters (like the real ``nextGenCSO``); only its
SHA-256 is stored, so a stolen database yields no usable token. One token serves every
court; ``sign_out`` revokes it everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import FilingPrivilege, FirmMembership, PacerAccount, Session
from nextgen_gql.services import audit, outbox, throttle
from nextgen_gql.services.clock import now
from nextgen_gql.services.passwords import USERNAME_MAX, password_policy_problem, verify_password

__all__ = ["REDACTION_RULE", "SignedIn", "check_client_code", "session_for_token", "sign_in", "sign_out"]

REDACTION_RULE = (
    "All filers must redact: Social Security or taxpayer-identification numbers; dates of "
    "birth; names of minor children; financial account numbers; and, in criminal cases, "
    "home addresses."
)
CLIENT_CODE_RE = re.compile(r"^[^\s,]{1,32}$")


@dataclass(frozen=True)
class SignedIn:
    token: str
    session: Session
    account: PacerAccount


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_client_code(client_code: str | None) -> str | None:
    """A client code is at most 32 characters, with no spaces or commas."""
    if client_code is None or client_code == "":
        return None
    if not CLIENT_CODE_RE.match(client_code):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A client code is 1 to 32 characters with no spaces or commas.",
            "clientCode",
        )
    return client_code


async def sign_in(
    *,
    username: str,
    password: str,
    client_code: str | None = None,
    redaction_acknowledged: bool = False,
    ttl_seconds: int,
    source: str | None = None,
) -> SignedIn:
    """Check the credentials (username in any case) and open a session."""
    client_code = check_client_code(client_code)
    address = source or "unknown"
    await throttle.refuse_if_limited(throttle.ADDRESS_SIGN_IN, address, "sign-ins from your network")
    key = username.strip().lower()
    account = await PacerAccount.get_or_none(username_key=key) if len(key) <= USERNAME_MAX else None
    if account is not None:
        until = await throttle.locked_until(throttle.ACCOUNT_SIGN_IN, str(account.id))
        if until is not None:
            raise DomainError(
                ErrorCode.ACCOUNT_LOCKED,
                throttle.locked_message(until, "This account")
                + ", or reset your password (requestPasswordReset).",
            )
    ok = await verify_password(account.password_hash if account else None, password)
    if account is None or not ok:
        await throttle.record_failure(throttle.ADDRESS_SIGN_IN, address)
        if account is not None:
            locked = await throttle.record_failure(throttle.ACCOUNT_SIGN_IN, str(account.id))
            await audit.record(
                "account.sign_in_failed", actor_id=None, subject_id=account.id, detail=f"from {address}"
            )
            if locked is not None:
                await audit.record(
                    "account.locked", actor_id=None, subject_id=account.id, detail=f"until {locked}"
                )
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "The username or password is incorrect.")
    await throttle.clear(throttle.ACCOUNT_SIGN_IN, str(account.id))
    # A filer holds a live privilege; a revoked one is history.
    if (
        not redaction_acknowledged
        and await FilingPrivilege.filter(account_id=account.id, revoked_at__isnull=True).exists()
    ):
        raise DomainError(
            ErrorCode.REDACTION_ACK_REQUIRED,
            "Filers must acknowledge the redaction rules to sign in "
            f"(redactionAcknowledged: true). {REDACTION_RULE}",
            "redactionAcknowledged",
        )
    if client_code is None:
        membership = await FirmMembership.get_or_none(account_id=account.id).select_related("firm")
        if membership is not None and membership.firm.client_code_required:
            raise DomainError(
                ErrorCode.CLIENT_CODE_REQUIRED,
                f"{membership.firm.name} requires a client code at sign-in (clientCode).",
                "clientCode",
            )
    compliant = (
        password_policy_problem(
            password,
            username=account.username,
            first_name=account.first_name,
            last_name=account.last_name,
            email=account.email,
        )
        is None
    )
    token = secrets.token_urlsafe(96)
    at = now()
    async with in_transaction() as conn:
        if account.password_compliant is not compliant:
            account.password_compliant = compliant
            await account.save(update_fields=["password_compliant"], using_db=conn)
        session = await Session.create(
            token_hash=token_hash(token),
            account_id=account.id,
            created_at=at,
            expires_at=at + dt.timedelta(seconds=ttl_seconds),
            client_code=client_code,
            redaction_acknowledged=bool(redaction_acknowledged),
            using_db=conn,
        )
        await audit.record("account.sign_in", actor_id=account.id, using_db=conn)
    return SignedIn(token=token, session=session, account=account)


async def session_for_token(token: str | None) -> Session | None:
    """The live session for ``token`` (with its account loaded), or None."""
    if not token or len(token) > 512:
        return None
    session = (
        await Session.filter(token_hash=token_hash(token), revoked_at__isnull=True, expires_at__gt=now())
        .select_related("account")
        .first()
    )
    return session


async def sign_out(session: Session) -> None:
    """Revoke the session's token, for every court."""
    async with in_transaction() as conn:
        await Session.filter(id=session.id).using_db(conn).update(revoked_at=now())
        await audit.record("account.sign_out", actor_id=session.account_id, using_db=conn)
        await outbox.publish(
            conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, session.account_id)]
        )
