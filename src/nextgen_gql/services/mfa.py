"""Multi-factor authentication: who must have it, authenticator apps, backup codes, and the
check of a second factor.

- **Required** of every account holding a live filing privilege in any court, and of court
  staff (clerks); others may turn it on. **Enabled** once an authenticator app is confirmed.
- An account that must enrol and has not signs in normally three times (the skips); its
  later sign-ins give restricted sessions (``Session.mfa_restricted``) until it enrols.
  The count is kept on the account and only moves while MFA is required, so becoming a
  filer or a clerk starts it.
- Adding an app takes the security code mailed to the email on file (after
  ``Security code:``) and a first code of the app. At most five apps, each named.
- Ten single-use backup codes are given at the first enrolment and by ``regenerate``,
  which replaces them all; only keyed hashes are stored. Each use is audited and mailed.
- App secrets are sealed (``services.crypto``); a TOTP code works once
  (``services.totp``). Wrong codes count under ``throttle.MFA_CODES``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind, MfaMethod
from nextgen_gql.errors import DomainError, ErrorCode, NotFound
from nextgen_gql.models import (
    Authenticator,
    BackupCode,
    Clerk,
    FilingPrivilege,
    PacerAccount,
    Session,
)
from nextgen_gql.services import audit, email_addresses, outbox, throttle, totp
from nextgen_gql.services.clock import now
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.text import single_line

__all__ = [
    "BACKUP_CODE_COUNT",
    "ENROLLMENT_TTL",
    "MAX_AUTHENTICATORS",
    "SECURITY_CODE_LABEL",
    "SKIPS",
    "Enrollment",
    "MfaState",
    "check_second_factor",
    "confirm_enrollment",
    "count_sign_in",
    "enabled_of",
    "is_enabled",
    "is_required",
    "regenerate_backup_codes",
    "remove_authenticator",
    "skips_left",
    "start_enrollment",
    "status",
]

SECURITY_CODE_LABEL = "Security code:"
MAX_AUTHENTICATORS = 5
BACKUP_CODE_COUNT = 10
SKIPS = 3
ENROLLMENT_TTL = dt.timedelta(minutes=10)
#: Wrong security codes a pending enrolment takes before it is discarded.
ENROLLMENT_ATTEMPTS = 5
# Backup codes: 10 characters of an alphabet without look-alikes (about 49 bits), shown as xxxxx-xxxxx.
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Enrollment:
    """A started enrolment: the pending authenticator, and what the app needs (shown once)."""

    authenticator: Authenticator
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class MfaState:
    enabled: bool
    required: bool
    skips_left: int | None
    authenticators: list[Authenticator]
    backup_codes_left: int


async def is_required(account_id: int, using_db: BaseDBAsyncClient | None = None) -> bool:
    """Filers (a live privilege in any court) and court staff must have MFA."""
    privileged = (
        await FilingPrivilege.filter(account_id=account_id, revoked_at__isnull=True)
        .using_db(using_db)
        .exists()
    )
    return privileged or await Clerk.filter(account_id=account_id).using_db(using_db).exists()


async def is_enabled(account_id: int, using_db: BaseDBAsyncClient | None = None) -> bool:
    return (
        await Authenticator.filter(account_id=account_id, confirmed_at__isnull=False)
        .using_db(using_db)
        .exists()
    )


async def enabled_of(account_ids: Sequence[int]) -> list[bool]:
    """Whether each account has MFA on, in the order asked (one query, for loaders)."""
    rows = await Authenticator.filter(
        account_id__in=set(account_ids), confirmed_at__isnull=False
    ).values_list("account_id", flat=True)
    on = {int(i) for i in rows}  # type: ignore[call-overload]
    return [i in on for i in account_ids]


def skips_left(sign_ins_unenrolled: int) -> int:
    """Sign-ins left that are not restricted, counting the one in progress: 3 before and at the
    first sign-in, then 2, 1, and 0 once sign-ins are restricted."""
    return min(SKIPS, max(0, SKIPS + 1 - sign_ins_unenrolled))


async def count_sign_in(account: PacerAccount, using_db: BaseDBAsyncClient) -> bool:
    """Count a password-only sign-in; whether its session is restricted to enrolment (the
    account must have MFA, has none, and used its skips)."""
    if await is_enabled(account.id, using_db) or not await is_required(account.id, using_db):
        return False
    used = int(account.mfa_sign_ins_unenrolled)
    if used <= SKIPS:
        account.mfa_sign_ins_unenrolled = used + 1
        await (
            PacerAccount.filter(id=account.id)
            .using_db(using_db)
            .update(mfa_sign_ins_unenrolled=account.mfa_sign_ins_unenrolled)
        )
    return used >= SKIPS


async def status(account: PacerAccount) -> MfaState:
    apps = await Authenticator.filter(account_id=account.id, confirmed_at__isnull=False).order_by("id")
    required = await is_required(account.id)
    left = await BackupCode.filter(account_id=account.id, used_at__isnull=True).count() if apps else 0
    return MfaState(
        enabled=bool(apps),
        required=required,
        skips_left=skips_left(account.mfa_sign_ins_unenrolled) if required else None,
        authenticators=apps,
        backup_codes_left=left,
    )


def _check_name(name: str) -> str:
    single_line(name.strip(), "name", "An app's name")
    value = " ".join(name.split())
    if not 1 <= len(value) <= 64:
        raise DomainError(ErrorCode.INVALID_INPUT, "Name the app in 1 to 64 characters.", "name")
    return value


async def start_enrollment(account: PacerAccount, name: str, *, sealer: Sealer, mailer: Mailer) -> Enrollment:
    """Begin adding an app: a new secret for it, and a security code mailed to the email on file."""
    if account.is_legacy:
        raise DomainError(ErrorCode.UPGRADE_REQUIRED, "Upgrade your PACER account before adding an app.")
    if not email_addresses.reachable(account):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Your account has no verified email for the security code: verify it (verifyEmail) or "
            "change it first.",
        )
    name = _check_name(name)
    confirmed = await Authenticator.filter(account_id=account.id, confirmed_at__isnull=False)
    if len(confirmed) >= MAX_AUTHENTICATORS:
        raise DomainError(
            ErrorCode.TOO_MANY_AUTHENTICATORS,
            f"An account has at most {MAX_AUTHENTICATORS} authenticator apps: remove one first.",
        )
    if any(a.name.lower() == name.lower() for a in confirmed):
        raise DomainError(ErrorCode.INVALID_INPUT, f"You already have an app named {name!r}.", "name")
    secret = totp.new_secret()
    code = f"{secrets.randbelow(10**8):08d}"
    at = now()
    async with in_transaction() as conn:
        # One enrolment at a time: a new start replaces any pending one.
        await Authenticator.filter(account_id=account.id, confirmed_at__isnull=True).using_db(conn).delete()
        pending = await Authenticator.create(
            account_id=account.id,
            name=name,
            secret_sealed=sealer.seal(secret),
            created_at=at,
            security_code_hash=sealer.code_hash(code),
            expires_at=at + ENROLLMENT_TTL,
            using_db=conn,
        )
        await audit.record("mfa.enrollment_start", actor_id=account.id, detail=name, using_db=conn)
    minutes = int(ENROLLMENT_TTL.total_seconds()) // 60
    await mailer.send(
        account.email,
        "PACER: your security code",
        f"Dear {account.first_name} {account.last_name},\n\n"
        f"Someone signed in as {account.username} is adding the authenticator app {name!r}.\n"
        f"If it is you, enter this code within {minutes} minutes.\n\n"
        f"{SECURITY_CODE_LABEL} {code}\n\n"
        "If it is not you, do not share the code: change your password now.\n",
    )
    uri = totp.otpauth_uri(secret, account.username)
    return Enrollment(authenticator=pending, secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


def _new_backup_codes() -> list[str]:
    codes = []
    for _ in range(BACKUP_CODE_COUNT):
        raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def _normalize_backup(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


async def _replace_backup_codes(account_id: int, sealer: Sealer, conn: BaseDBAsyncClient) -> list[str]:
    codes = _new_backup_codes()
    at = now()
    await BackupCode.filter(account_id=account_id).using_db(conn).delete()
    await BackupCode.bulk_create(
        [
            BackupCode(account_id=account_id, code_hash=sealer.code_hash(_normalize_backup(c)), created_at=at)
            for c in codes
        ],
        using_db=conn,
    )
    return codes


async def _refuse_if_locked(account: PacerAccount) -> None:
    until = await throttle.locked_until(throttle.MFA_CODES, str(account.id))
    if until is not None:
        raise DomainError(
            ErrorCode.ACCOUNT_LOCKED, throttle.locked_message(until, "Checking codes for this account")
        )


async def _failed_code(account: PacerAccount, what: str) -> None:
    locked = await throttle.record_failure(throttle.MFA_CODES, str(account.id))
    await audit.record("mfa.code_failed", actor_id=None, subject_id=account.id, detail=what)
    if locked is not None:
        await audit.record("mfa.locked", actor_id=None, subject_id=account.id, detail=f"until {locked}")


async def confirm_enrollment(
    account: PacerAccount,
    enrollment_id: int | None,
    security_code: str,
    totp_code: str,
    *,
    sealer: Sealer,
    mailer: Mailer,
) -> tuple[Authenticator, list[str] | None]:
    """Finish adding an app with the mailed security code and a first code of the app.
    Returns it, and the backup codes when it is the account's first app (else None)."""
    await _refuse_if_locked(account)
    pending = (
        await Authenticator.get_or_none(id=enrollment_id, account_id=account.id, confirmed_at__isnull=True)
        if enrollment_id is not None
        else None
    )
    if pending is None:
        raise NotFound("No enrolment of yours has this id: start again.", "enrollmentId")
    at = now()
    if pending.expires_at is None or pending.expires_at <= at:
        raise DomainError(
            ErrorCode.INVALID_SECURITY_CODE, "The security code has expired: start again.", "securityCode"
        )
    given = sealer.code_hash("".join(security_code.split()))
    if pending.security_code_hash is None or not hmac.compare_digest(given, pending.security_code_hash):
        await _failed_code(account, "security code")
        attempts = pending.failed_attempts + 1
        if attempts >= ENROLLMENT_ATTEMPTS:
            await Authenticator.filter(id=pending.id, confirmed_at__isnull=True).delete()
        else:
            await Authenticator.filter(id=pending.id).update(failed_attempts=attempts)
        raise DomainError(ErrorCode.INVALID_SECURITY_CODE, "The security code is not right.", "securityCode")
    step = totp.matching_step(sealer.open(pending.secret_sealed), totp_code, at)
    if step is None:
        await _failed_code(account, "authenticator code")
        raise DomainError(
            ErrorCode.INVALID_MFA_CODE,
            "The app's code is not right: check the time on your phone, and type the code it shows now.",
            "totpCode",
        )
    async with in_transaction() as conn:
        # Under a lock on the account (PostgreSQL), so two confirmations cannot make a sixth app.
        await PacerAccount.filter(id=account.id).using_db(conn).select_for_update().first()
        count = (
            await Authenticator.filter(account_id=account.id, confirmed_at__isnull=False)
            .using_db(conn)
            .count()
        )
        if count >= MAX_AUTHENTICATORS:
            raise DomainError(
                ErrorCode.TOO_MANY_AUTHENTICATORS,
                f"An account has at most {MAX_AUTHENTICATORS} authenticator apps: remove one first.",
            )
        done = (
            await Authenticator.filter(id=pending.id, confirmed_at__isnull=True)
            .using_db(conn)
            .update(
                confirmed_at=at, last_used_at=at, last_step=step, security_code_hash=None, expires_at=None
            )
        )
        if not done:
            raise NotFound("No enrolment of yours has this id: start again.", "enrollmentId")
        codes = await _replace_backup_codes(account.id, sealer, conn) if count == 0 else None
        # Enrolled: no session of the account is restricted any more.
        await (
            Session.filter(account_id=account.id, mfa_restricted=True)
            .using_db(conn)
            .update(mfa_restricted=False)
        )
        await audit.record("mfa.enroll", actor_id=account.id, detail=pending.name, using_db=conn)
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    await _notify(
        mailer, account, "an authenticator app was added", f"The authenticator app {pending.name!r} was added"
    )
    await pending.refresh_from_db()
    return pending, codes


async def check_second_factor(
    account: PacerAccount, code: str, method: MfaMethod, *, sealer: Sealer, mailer: Mailer
) -> None:
    """Accept a code of one of the account's apps (once: never again, nor an earlier one) or
    one of its unused backup codes (used up, audited and mailed); ``INVALID_MFA_CODE`` otherwise."""
    await _refuse_if_locked(account)
    at = now()
    if method is MfaMethod.TOTP:
        for app in await Authenticator.filter(account_id=account.id, confirmed_at__isnull=False).order_by(
            "id"
        ):
            step = totp.matching_step(sealer.open(app.secret_sealed), code, at, after=app.last_step)
            if step is None:
                continue
            # Conditional: of two requests with the same code, one wins.
            if await Authenticator.filter(id=app.id, last_step__lt=step).update(
                last_step=step, last_used_at=at
            ):
                return
    elif len(code) <= 64:
        hashed = sealer.code_hash(_normalize_backup(code))
        async with in_transaction() as conn:
            used = (
                await BackupCode.filter(account_id=account.id, code_hash=hashed, used_at__isnull=True)
                .using_db(conn)
                .update(used_at=at)
            )
            if used:
                await audit.record("mfa.backup_code_use", actor_id=account.id, using_db=conn)
        if used:
            left = await BackupCode.filter(account_id=account.id, used_at__isnull=True).count()
            await _notify(
                mailer,
                account,
                "a backup code was used",
                f"One of your backup codes was used to confirm it is you; {left} are left",
            )
            return
    await _failed_code(account, "authenticator code" if method is MfaMethod.TOTP else "backup code")
    raise DomainError(ErrorCode.INVALID_MFA_CODE, "The code is wrong, expired, or already used.", "code")


async def remove_authenticator(
    account: PacerAccount,
    authenticator_id: int | None,
    code: str,
    method: MfaMethod,
    *,
    sealer: Sealer,
    mailer: Mailer,
) -> None:
    """Remove one of the account's apps, with a current code (of any app, or a backup code).
    Removing the last one turns MFA off and voids the backup codes."""
    app = (
        await Authenticator.get_or_none(
            id=authenticator_id, account_id=account.id, confirmed_at__isnull=False
        )
        if authenticator_id is not None
        else None
    )
    if app is None:
        raise NotFound("You have no authenticator app with this id.", "id")
    await check_second_factor(account, code, method, sealer=sealer, mailer=mailer)
    async with in_transaction() as conn:
        await Authenticator.filter(id=app.id).using_db(conn).delete()
        if (
            not await Authenticator.filter(account_id=account.id, confirmed_at__isnull=False)
            .using_db(conn)
            .exists()
        ):
            await BackupCode.filter(account_id=account.id).using_db(conn).delete()
        await audit.record("mfa.remove", actor_id=account.id, detail=app.name, using_db=conn)
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    await _notify(
        mailer, account, "an authenticator app was removed", f"The authenticator app {app.name!r} was removed"
    )


async def regenerate_backup_codes(
    account: PacerAccount, code: str, method: MfaMethod, *, sealer: Sealer, mailer: Mailer
) -> list[str]:
    """Replace every backup code with ten new ones (shown once), with a current code."""
    if not await is_enabled(account.id):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Add an authenticator app first: backup codes come with it."
        )
    await check_second_factor(account, code, method, sealer=sealer, mailer=mailer)
    async with in_transaction() as conn:
        codes = await _replace_backup_codes(account.id, sealer, conn)
        await audit.record("mfa.backup_codes_regenerate", actor_id=account.id, using_db=conn)
        await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    await _notify(
        mailer, account, "new backup codes", "New backup codes were made; the old ones no longer work"
    )
    return codes


async def _notify(mailer: Mailer, account: PacerAccount, subject: str, what: str) -> None:
    if not email_addresses.reachable(account):
        return
    await mailer.send(
        account.email,
        f"PACER: {subject}",
        f"Dear {account.first_name} {account.last_name},\n\n"
        f"{what} on the PACER account {account.username}, at {now():%Y-%m-%d %H:%M} UTC.\n\n"
        "If this was not you, change your password and review your sign-ins now.\n",
    )
