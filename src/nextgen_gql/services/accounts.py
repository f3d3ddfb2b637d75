"""National PACER accounts: registration and the one-time upgrade."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from nextgen_gql.enums import AccountEventKind
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import PacerAccount
from nextgen_gql.replica import data_read
from nextgen_gql.services import audit, email_addresses, outbox, throttle
from nextgen_gql.services.clock import now
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.passwords import check_password_policy, check_username, hash_password
from nextgen_gql.services.text import control_character, single_line

__all__ = [
    "accounts_by_ids",
    "check_email",
    "new_account_number",
    "register",
    "upgrade",
]

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
ACCOUNT_NUMBER_RE = re.compile(r"^\d{7}$")


def check_email(email: str, *, field: str = "email") -> str:
    """Validate an email address; return it stripped, else ``INVALID_INPUT`` on ``field``."""
    value = email.strip()
    if len(value) > 254 or not EMAIL_RE.match(value) or control_character(value) is not None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{value!r} is not a valid email address.", field)
    return value


def _check_name(value: str, field: str, label: str) -> str:
    name = value.strip()
    if not name or len(name) > 100:
        raise DomainError(ErrorCode.INVALID_INPUT, f"A {label} of 1 to 100 characters is required.", field)
    return single_line(name, field, f"A {label}")


async def _take_registration_turn(address: str) -> None:
    if not await throttle.take_turn(throttle.REGISTRATIONS, address):
        until = await throttle.locked_until(throttle.REGISTRATIONS, address)
        wait = throttle.wait_words(until) if until is not None else "a while"
        raise DomainError(
            ErrorCode.RATE_LIMITED,
            f"Too many accounts were registered from your network; try again in {wait}.",
        )


def new_account_number() -> str:
    """A random 7-digit account number (uniqueness is the database's to enforce)."""
    return str(secrets.randbelow(9_000_000) + 1_000_000)


async def _username_free(username: str, *, exclude_id: int | None = None) -> None:
    query = PacerAccount.filter(username_key=username.lower())
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    if await query.exists():
        raise DomainError(ErrorCode.USERNAME_TAKEN, f"The username {username!r} is taken.", "username")


@data_read
async def accounts_by_ids(ids: Sequence[int]) -> list[PacerAccount | None]:
    """Accounts in the order of ``ids`` (None where missing): one query, for loaders."""
    found = {a.id: a for a in await PacerAccount.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]


async def register(
    *,
    username: str,
    password: str,
    first_name: str,
    last_name: str,
    email: str,
    mailer: Mailer,
    source: str | None = None,
) -> PacerAccount:
    """Register a new PACER account. It is born upgraded (created after 2014-08-11); its email
    is held unverified until confirmed with the token mailed to it (``email_addresses``).

    Every attempt over the API counts toward ``throttle.REGISTRATIONS`` of its ``source``
    address, answered or refused (a refusal may say a username is taken): past it,
    ``RATE_LIMITED``. A caller without a source (a command) is not counted.
    """
    if source is not None:
        await _take_registration_turn(source)
    username = check_username(username)
    first_name = _check_name(first_name, "firstName", "first name")
    last_name = _check_name(last_name, "lastName", "last name")
    email = check_email(email)
    check_password_policy(
        password,
        field="password",
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    await _username_free(username)
    password_hash = await hash_password(password)
    for _attempt in range(5):
        try:
            async with in_transaction() as conn:
                account = await PacerAccount.create(
                    account_number=new_account_number(),
                    username=username,
                    username_key=username.lower(),
                    first_name=first_name,
                    last_name=last_name,
                    email=email,
                    password_hash=password_hash,
                    password_compliant=True,
                    created_at=now(),
                    using_db=conn,
                )
                await audit.record("account.register", actor_id=account.id, using_db=conn)
        except IntegrityError:
            # Either the username was taken a moment ago, or the account number collided.
            await _username_free(username)
            continue
        await email_addresses.send_verification(account, mailer=mailer)
        return account
    raise RuntimeError("could not allocate a unique account number")  # pragma: no cover


async def upgrade(
    account: PacerAccount,
    *,
    email: str,
    new_username: str | None,
    new_password: str | None,
    mailer: Mailer,
) -> PacerAccount:
    """Upgrade a legacy account, once.

    The email given is held unverified until confirmed with the token mailed to it, unless it
    is the account's verified address already. A legacy username shorter than 8 characters must be replaced, and so must a password
    that does not meet today's policy (as last checked at sign-in).
    """
    if not account.is_legacy:
        raise DomainError(ErrorCode.ALREADY_UPGRADED, "This PACER account is already upgraded.")
    email = check_email(email)
    username = account.username
    if new_username is not None and new_username.strip():
        username = check_username(new_username, field="newUsername")
        try:
            await _username_free(username, exclude_id=account.id)
        except DomainError as exc:
            exc.field = "newUsername"
            raise
    elif len(account.username) < 8:
        raise DomainError(
            ErrorCode.USERNAME_INVALID,
            f"Your legacy username {account.username!r} is shorter than 8 characters: "
            "choose a new username (newUsername) to upgrade.",
            "newUsername",
        )
    password_hash = account.password_hash
    if new_password:
        check_password_policy(
            new_password,
            field="newPassword",
            username=username,
            first_name=account.first_name,
            last_name=account.last_name,
            email=email,
        )
        password_hash = await hash_password(new_password)
    elif account.password_compliant is not True:
        raise DomainError(
            ErrorCode.PASSWORD_POLICY,
            "Your current password does not meet today's rules (14 to 45 characters, with "
            "a lowercase letter, an uppercase letter and a special character, and no part of "
            "your name, username or email): choose a new password (newPassword).",
            "newPassword",
        )
    changed = _changes(account, username=username, email=email, new_password=bool(new_password))
    verified = account.email_verified and email.lower() == account.email.lower()
    try:
        async with in_transaction() as conn:
            updated = (
                await PacerAccount.filter(id=account.id, upgraded_at__isnull=True)
                .using_db(conn)
                .update(
                    username=username,
                    username_key=username.lower(),
                    email=email,
                    email_verified=verified,
                    password_hash=password_hash,
                    password_compliant=True,
                    upgraded_at=now(),
                )
            )
            if not updated:
                raise DomainError(ErrorCode.ALREADY_UPGRADED, "This PACER account is already upgraded.")
            await audit.record("account.upgrade", actor_id=account.id, detail=changed, using_db=conn)
            from nextgen_gql.services.registrations import refresh_applicant  # imports this module

            await account.refresh_from_db(using_db=conn)
            await refresh_applicant(account, conn)
            await outbox.publish(conn, [outbox.account_event(AccountEventKind.SECURITY_CHANGED, account.id)])
    except IntegrityError:
        raise DomainError(
            ErrorCode.USERNAME_TAKEN, f"The username {username!r} is taken.", "newUsername"
        ) from None
    await account.refresh_from_db()
    await email_addresses.send_verification(account, mailer=mailer)
    return account


def _changes(account: PacerAccount, *, username: str, email: str, new_password: bool) -> str:
    parts: Iterable[str] = (
        f"username {account.username} -> {username}" if username != account.username else "",
        "email set" if email != account.email else "",
        "password changed" if new_password else "",
    )
    return "; ".join(p for p in parts if p) or "no detail changed"
