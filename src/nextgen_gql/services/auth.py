"""Central Sign-On: sign-in (with a second factor where the account has one), sessions and
sign-out.

A session token is 128 URL-safe characters (like the real ``nextGenCSO``); only its
SHA-256 is stored, so a stolen database yields no usable token. One token serves every
court; ``sign_out`` revokes it everywhere, and so does revoking a session.

Failed sign-ins count per address, per username and address, and per username
(``services.throttle``), keyed on the name as typed: a username nobody has is answered
exactly like a real one, and nothing before the right password tells whether an account
has MFA. A right password for an account with MFA gives a ``Challenge`` (single use, five
minutes), which ``verify_sign_in`` turns into a session with a code of an authenticator
app or a backup code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind, MfaMethod
from nextgen_gql.errors import DomainError, ErrorCode, NotFound
from nextgen_gql.models import FilingPrivilege, FirmMembership, MfaChallenge, PacerAccount, Session
from nextgen_gql.oidc import logouts
from nextgen_gql.services import audit, events, mfa, outbox, throttle
from nextgen_gql.services.clock import now
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.passwords import USERNAME_MAX, password_policy_problem, verify_password
from nextgen_gql.services.text import control_character

__all__ = [
    "CHALLENGE_TTL",
    "REDACTION_RULE",
    "TOUCH_EVERY",
    "Challenge",
    "SignedIn",
    "check_client_code",
    "check_password_of",
    "live_sessions",
    "revoke_session",
    "session_for_token",
    "sign_in",
    "sign_out",
    "sign_out_other_sessions",
    "touch",
    "verify_sign_in",
]

CHALLENGE_TTL = dt.timedelta(minutes=5)
#: A session's last use is written at most this often.
TOUCH_EVERY = dt.timedelta(minutes=1)

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


@dataclass(frozen=True)
class Challenge:
    """The password was right; a second factor is due (``verify_sign_in``)."""

    token: str
    expires_at: dt.datetime
    methods: tuple[MfaMethod, ...] = (MfaMethod.TOTP, MfaMethod.BACKUP_CODE)


@dataclass(frozen=True)
class Client:
    """Where a sign-in comes from, as the session list shows it."""

    address: str | None = None
    user_agent: str | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_client_code(client_code: str | None) -> str | None:
    """A client code is at most 32 characters, with no spaces or commas."""
    if client_code is None or client_code == "":
        return None
    if not CLIENT_CODE_RE.match(client_code) or control_character(client_code) is not None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A client code is 1 to 32 characters with no spaces or commas.",
            "clientCode",
        )
    return client_code


def _locked(until: dt.datetime) -> DomainError:
    return DomainError(
        ErrorCode.ACCOUNT_LOCKED,
        throttle.locked_message(until, "This account") + ", or reset your password (requestPasswordReset).",
    )


async def _count_failure(key: str, address: str, account: PacerAccount | None, what: str) -> None:
    """One failed sign-in step for the username ``key`` from ``address``."""
    await throttle.record_failure(throttle.ADDRESS_SIGN_IN, address)
    await throttle.record_failure(throttle.PAIR_SIGN_IN, throttle.pair_key(key, address))
    locked = await throttle.record_failure(throttle.ACCOUNT_SIGN_IN, key)
    if account is None:
        events.emit("account.sign_in_failed")  # a known account's failure is audited (and told) below
    else:
        await audit.record(
            "account.sign_in_failed", actor_id=None, subject_id=account.id, detail=f"{what} from {address}"
        )
        if locked is not None:
            await audit.record(
                "account.locked", actor_id=None, subject_id=account.id, detail=f"until {locked}"
            )


async def _refuse_if_locked_here(key: str, address: str) -> None:
    try:
        await throttle.refuse_if_limited(throttle.ADDRESS_SIGN_IN, address, "sign-ins from your network")
    except DomainError:
        events.emit("account.sign_in_refused", reason="address_limited")
        raise
    until = await throttle.locked_until(throttle.PAIR_SIGN_IN, throttle.pair_key(key, address))
    if until is not None:
        events.emit("account.sign_in_refused", reason="account_locked")
        raise _locked(until)


async def check_password_of(
    account: PacerAccount, password: str, *, source: str | None, field: str = "password"
) -> None:
    """A signed-in account's password, asked again (changing the password or the email):
    wrong ones count as failed sign-ins, and a locked account is refused."""
    address = source or "unknown"
    await _refuse_if_locked_here(account.username_key, address)
    if not await verify_password(account.password_hash, password):
        await _count_failure(account.username_key, address, account, "wrong password (signed in)")
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "The password is incorrect.", field)


async def sign_in(
    *,
    username: str,
    password: str,
    client_code: str | None = None,
    redaction_acknowledged: bool = False,
    ttl_seconds: int,
    source: str | None = None,
    user_agent: str | None = None,
) -> SignedIn | Challenge:
    """Check the credentials (username in any case) and open a session, or, for an account
    with MFA, a challenge for its second factor."""
    client_code = check_client_code(client_code)
    address = source or "unknown"
    key = username.strip().lower()[:128]
    await _refuse_if_locked_here(key, address)
    account = await PacerAccount.get_or_none(username_key=key) if len(key) <= USERNAME_MAX else None
    ok = await verify_password(account.password_hash if account else None, password)
    locked = await throttle.locked_until(throttle.ACCOUNT_SIGN_IN, key)
    if account is None or not ok:
        await _count_failure(key, address, account, "wrong password")
        if locked is not None:
            raise _locked(locked)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "The username or password is incorrect.")
    second_factor = await mfa.is_enabled(account.id)
    # Guessing spread over many addresses locks the password alone; the owner's second factor
    # still gets through.
    if locked is not None and not second_factor:
        events.emit("account.sign_in_refused", subject_id=account.id, reason="account_locked")
        raise _locked(locked)
    await throttle.clear(throttle.PAIR_SIGN_IN, throttle.pair_key(key, address))
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
    at = now()
    async with in_transaction() as conn:
        if account.password_compliant is not compliant:
            account.password_compliant = compliant
            await account.save(update_fields=["password_compliant"], using_db=conn)
        if second_factor:
            token = secrets.token_urlsafe(32)
            challenge = await MfaChallenge.create(
                token_hash=token_hash(token),
                account_id=account.id,
                created_at=at,
                expires_at=at + CHALLENGE_TTL,
                client_code=client_code,
                redaction_acknowledged=bool(redaction_acknowledged),
                using_db=conn,
            )
            await audit.record("account.sign_in_password", actor_id=account.id, using_db=conn)
            events.emit("mfa.challenge", subject_id=account.id, outcome="issued")
            return Challenge(token=token, expires_at=challenge.expires_at)
        restricted = await mfa.count_sign_in(account, conn)
        signed = await _open_session(
            account,
            conn,
            ttl_seconds=ttl_seconds,
            client_code=client_code,
            redaction_acknowledged=bool(redaction_acknowledged),
            client=Client(address, user_agent),
            restricted=restricted,
        )
        await audit.record(
            "account.sign_in",
            actor_id=account.id,
            detail="restricted to MFA enrolment" if restricted else None,
            using_db=conn,
        )
    return signed


async def _open_session(
    account: PacerAccount,
    conn: BaseDBAsyncClient,
    *,
    ttl_seconds: int,
    client_code: str | None,
    redaction_acknowledged: bool,
    client: Client,
    restricted: bool = False,
    second_factor: bool = False,
) -> SignedIn:
    token = secrets.token_urlsafe(96)
    at = now()
    session = await Session.create(
        token_hash=token_hash(token),
        account_id=account.id,
        created_at=at,
        last_used_at=at,
        expires_at=at + dt.timedelta(seconds=ttl_seconds),
        client_code=client_code,
        redaction_acknowledged=redaction_acknowledged,
        address=(client.address or None) and client.address[:64],
        user_agent=(client.user_agent or None) and client.user_agent[:255],
        mfa_restricted=restricted,
        second_factor=second_factor,
        using_db=conn,
    )
    return SignedIn(token=token, session=session, account=account)


def code_method(code: str) -> MfaMethod:
    """A code typed where either kind is taken (PACER's ``otpCode``, the OpenID sign-in page):
    six digits are an authenticator app's, anything else a backup code."""
    return MfaMethod.TOTP if re.fullmatch(r"\d{6}", code) else MfaMethod.BACKUP_CODE


async def verify_sign_in(
    *,
    challenge: str,
    code: str,
    method: MfaMethod,
    ttl_seconds: int,
    sealer: Sealer,
    mailer: Mailer,
    source: str | None = None,
    user_agent: str | None = None,
) -> SignedIn:
    """The second step: a code of an authenticator app, or a backup code, for a live challenge."""
    address = source or "unknown"
    expired = DomainError(
        ErrorCode.MFA_CHALLENGE_EXPIRED, "This sign-in has expired or was used: sign in again.", "challenge"
    )
    found = (
        await MfaChallenge.get_or_none(token_hash=token_hash(challenge))
        if 0 < len(challenge) <= 256
        else None
    )
    if found is None or found.used_at is not None or found.expires_at <= now():
        events.emit("mfa.challenge", outcome="expired")
        raise expired
    account = await PacerAccount.get(id=found.account_id)
    await _refuse_if_locked_here(account.username_key, address)
    try:
        await mfa.check_second_factor(account, code, method, sealer=sealer, mailer=mailer)
    except DomainError as exc:
        if exc.code is ErrorCode.INVALID_MFA_CODE:
            events.emit("mfa.challenge", subject_id=account.id, outcome="failed")
            await _count_failure(account.username_key, address, account, "wrong second factor")
        raise
    async with in_transaction() as conn:
        if (
            not await MfaChallenge.filter(id=found.id, used_at__isnull=True)
            .using_db(conn)
            .update(used_at=now())
        ):
            raise expired
        signed = await _open_session(
            account,
            conn,
            ttl_seconds=ttl_seconds,
            client_code=found.client_code,
            redaction_acknowledged=found.redaction_acknowledged,
            client=Client(address, user_agent),
            second_factor=True,
        )
        await audit.record(
            "account.sign_in",
            actor_id=account.id,
            detail="with an authenticator app" if method is MfaMethod.TOTP else "with a backup code",
            using_db=conn,
        )
    events.emit("mfa.challenge", subject_id=account.id, outcome="passed")
    await throttle.clear(throttle.PAIR_SIGN_IN, throttle.pair_key(account.username_key, address))
    return signed


async def session_for_token(token: str | None) -> Session | None:
    """The live session for ``token`` (with its account loaded), or None."""
    if not token or len(token) > 512:
        return None
    session = (
        await Session.filter(token_hash=token_hash(token), revoked_at__isnull=True, expires_at__gt=now())
        .select_related("account")
        .first()
    )
    if session is not None:
        await touch(session.id, session.last_used_at)
    return session


async def touch(session_id: int, last_used_at: dt.datetime | None) -> None:
    """Record that a session is in use, at most once every ``TOUCH_EVERY``."""
    at = now()
    if last_used_at is None or at - last_used_at >= TOUCH_EVERY:
        await Session.filter(id=session_id).update(last_used_at=at)


async def live_sessions(account_id: int) -> list[Session]:
    """The account's sign-ins that still hold, newest first."""
    return (
        await Session.filter(account_id=account_id, revoked_at__isnull=True, expires_at__gt=now())
        .order_by("-created_at", "-id")
        .limit(200)
    )


async def revoke_session(account: PacerAccount, session_id: int | None) -> Session:
    """End one of the account's own sessions (the token stops working at once, everywhere)."""
    at = now()
    session = (
        await Session.get_or_none(
            id=session_id, account_id=account.id, revoked_at__isnull=True, expires_at__gt=at
        )
        if session_id is not None
        else None
    )
    if session is None:
        raise NotFound("You have no live session with this id.", "id")
    async with in_transaction() as conn:
        await Session.filter(id=session.id, revoked_at__isnull=True).using_db(conn).update(revoked_at=at)
        await logouts.note_ended(conn, account.id, at)
        await audit.record(
            "account.session_revoke", actor_id=account.id, detail=_describe(session), using_db=conn
        )
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    return session


async def sign_out_other_sessions(account: PacerAccount, current: Session) -> int:
    """End every session of the account but ``current``; how many ended."""
    at = now()
    async with in_transaction() as conn:
        ended = (
            await Session.filter(account_id=account.id, revoked_at__isnull=True)
            .exclude(id=current.id)
            .using_db(conn)
            .update(revoked_at=at)
        )
        await logouts.note_ended(conn, account.id, at)
        await audit.record(
            "account.sessions_revoke_others", actor_id=account.id, detail=f"{ended} ended", using_db=conn
        )
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    return ended


def _describe(session: Session) -> str:
    return f"the sign-in of {session.created_at:%Y-%m-%d %H:%M} UTC from {session.address or 'an unknown address'}"


async def sign_out(session: Session) -> None:
    """Revoke the session's token, for every court."""
    at = now()
    async with in_transaction() as conn:
        await Session.filter(id=session.id).using_db(conn).update(revoked_at=at)
        await logouts.note_ended(conn, session.account_id, at)
        await audit.record("account.sign_out", actor_id=session.account_id, using_db=conn)
        await outbox.publish(
            conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, session.account_id)]
        )
