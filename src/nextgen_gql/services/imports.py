"""Importing legacy PACER accounts and court CM/ECF rosters from CSV files.

An import is all or nothing: every row is validated first (problems are collected, up to
``MAX_PROBLEMS``, each naming file, line and field), clear passwords are hashed in worker
threads, and the rows are written in batches inside one transaction.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from nextgen_gql.enums import FilerRole
from nextgen_gql.errors import DomainError
from nextgen_gql.models import CmecfAccount, PacerAccount
from nextgen_gql.models.accounts import LEGACY_CUTOFF
from nextgen_gql.services import audit
from nextgen_gql.services.accounts import ACCOUNT_NUMBER_RE, check_email
from nextgen_gql.services.clock import now
from nextgen_gql.services.passwords import (
    LEGACY_USERNAME_RE,
    check_username,
    is_argon2_hash,
    password_policy_problem,
)
from nextgen_gql.services.passwords import _hasher as hasher
from nextgen_gql.tenancy import Court

__all__ = ["ImportFailed", "ImportProblem", "import_cmecf_accounts", "import_pacer_accounts"]

MAX_PROBLEMS = 100
BATCH_SIZE = 1000
PACER_COLUMNS = ("account_number", "username", "first_name", "last_name", "email", "created_at", "is_shared")
CMECF_COLUMNS = ("login", "first_name", "last_name", "email", "role")
LOGIN_RE = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.field}: {self.reason}"
            if self.field
            else f"{self.file}:{self.line}: {self.reason}"
        )


class ImportFailed(Exception):
    """The file was refused; nothing was written. ``problems`` names each fault."""

    def __init__(self, problems: list[ImportProblem], truncated: bool = False) -> None:
        self.problems = problems
        self.truncated = truncated
        more = f"\n  ... and more (first {MAX_PROBLEMS} shown)" if truncated else ""
        super().__init__(
            f"{len(problems)} problem(s), nothing imported:\n" + "\n".join(f"  {p}" for p in problems) + more
        )


@dataclass
class _Collector:
    file: str
    problems: list[ImportProblem] = field(default_factory=list)
    truncated: bool = False

    def add(self, line: int, field_name: str | None, reason: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.truncated = True
        else:
            self.problems.append(ImportProblem(self.file, line, field_name, reason))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ImportFailed(self.problems, self.truncated)


def _rows(
    path: Path, required: tuple[str, ...], found: _Collector
) -> Iterator[tuple[int, dict[str, str], str]]:
    """Yield (line, row, password column) for each data row; header problems stop early."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        found.add(0, None, f"cannot be read: {exc.strerror or exc}")
        return
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except (UnicodeDecodeError, csv.Error) as exc:
            found.add(1, None, f"unreadable header: {exc}")
            return
        header = [h.strip() for h in header]
        reader.fieldnames = header
        missing = [c for c in required if c not in header]
        secret = [c for c in ("password", "password_hash") if c in header]
        extra = [c for c in header if c not in required and c not in ("password", "password_hash")]
        for column in missing:
            found.add(1, column, "column is missing from the header")
        if len(secret) != 1:
            found.add(1, "password", "the header needs exactly one of password or password_hash")
        for column in extra:
            found.add(
                1, column, f"unknown column (expected {', '.join(required)}, password or password_hash)"
            )
        if found.problems:
            return
        try:
            for row in reader:
                if None in row:
                    found.add(reader.line_num, None, "the row has more fields than the header")
                    continue
                if any(v is None for v in row.values()):
                    found.add(reader.line_num, None, "the row has fewer fields than the header")
                    continue
                yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}, secret[0]
        except (UnicodeDecodeError, csv.Error) as exc:
            found.add(reader.line_num + 1, None, f"not valid UTF-8 CSV: {exc}")


def _parse_created_at(raw: str) -> dt.datetime:
    value = (
        dt.datetime.fromisoformat(raw)
        if "T" in raw or " " in raw
        else dt.datetime.combine(dt.date.fromisoformat(raw), dt.time())
    )
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _hash_all(passwords: list[str], progress: Callable[[int], None] | None) -> list[str]:
    """Hash clear passwords in parallel threads (argon2 releases the GIL)."""
    workers = max(1, os.cpu_count() or 1)
    out: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for hashed in pool.map(hasher.hash, passwords, chunksize=16):
            out.append(hashed)
            if progress:
                progress(1)
    return out


def _check_secret(found: _Collector, line: int, column: str, value: str) -> None:
    if not value:
        found.add(line, column, "is required")
    elif column == "password_hash" and not is_argon2_hash(value):
        found.add(line, column, "is not an argon2 PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")


async def import_pacer_accounts(path: Path, *, progress: Callable[[int], None] | None = None) -> int:
    """Load PACER accounts from ``path``; return how many were written."""
    found = _Collector(str(path))
    rows: list[dict[str, Any]] = []
    secrets: list[str] = []
    numbers: dict[str, int] = {}
    usernames: dict[str, int] = {}
    secret_column = "password"
    for line, row, secret_column in _rows(path, PACER_COLUMNS, found):
        record: dict[str, Any] = {}
        number = row["account_number"]
        if not ACCOUNT_NUMBER_RE.match(number):
            found.add(line, "account_number", f"must be 7 digits; got {number!r}")
        elif number in numbers:
            found.add(line, "account_number", f"{number} is already on line {numbers[number]}")
        else:
            numbers[number] = line
        try:
            created = _parse_created_at(row["created_at"])
            record["created_at"] = created
        except ValueError:
            found.add(line, "created_at", f"must be an ISO date or date-time; got {row['created_at']!r}")
            created = None
        username = row["username"]
        legacy = created is not None and created < LEGACY_CUTOFF
        if not (legacy and LEGACY_USERNAME_RE.match(username) and len(username) == 6):
            try:
                check_username(username)
            except DomainError as exc:
                hint = " (or, for a legacy account, 6 characters: letters then digits)" if legacy else ""
                found.add(line, "username", exc.message + hint)
        key = username.lower()
        if key in usernames:
            found.add(line, "username", f"{username!r} is already on line {usernames[key]}")
        usernames.setdefault(key, line)
        for column in ("first_name", "last_name"):
            if not row[column] or len(row[column]) > 100:
                found.add(line, column, "is required (1 to 100 characters)")
        email = row["email"]
        if email or not legacy:
            try:
                email = check_email(email)
            except DomainError as exc:
                found.add(line, "email", exc.message if email else "is required for an upgraded account")
        shared = row["is_shared"].lower()
        if shared not in ("true", "false"):
            found.add(line, "is_shared", f"must be true or false; got {row['is_shared']!r}")
        _check_secret(found, line, secret_column, row[secret_column])
        if found.problems:
            continue  # keep validating, but build nothing once anything is wrong
        compliant = None
        if secret_column == "password":
            compliant = (
                password_policy_problem(
                    row["password"],
                    username=username,
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    email=email,
                )
                is None
            )
        record.update(
            account_number=number,
            username=username,
            username_key=key,
            first_name=row["first_name"],
            last_name=row["last_name"],
            email=email,
            is_shared=shared == "true",
            password_compliant=compliant,
        )
        rows.append(record)
        secrets.append(row[secret_column])
    found.raise_if_any()
    for chunk in _chunks(list(numbers), 500):
        for taken in await PacerAccount.filter(account_number__in=chunk).values_list(
            "account_number", flat=True
        ):
            found.add(numbers[str(taken)], "account_number", f"{taken} already exists")
    for chunk in _chunks(list(usernames), 500):
        for taken in await PacerAccount.filter(username_key__in=chunk).values_list("username_key", flat=True):
            found.add(usernames[str(taken)], "username", f"{taken!r} already exists")
    found.raise_if_any()
    hashes = await _hashes(secret_column, secrets, progress)
    accounts = [PacerAccount(password_hash=h, **r) for r, h in zip(rows, hashes, strict=True)]
    async with in_transaction() as conn:
        await PacerAccount.bulk_create(accounts, batch_size=BATCH_SIZE, using_db=conn)
        await audit.record(
            "import.pacer_accounts",
            actor_id=None,
            detail=f"{len(accounts)} accounts from {path.name}",
            using_db=conn,
        )
    return len(accounts)


async def import_cmecf_accounts(
    court: Court, path: Path, *, progress: Callable[[int], None] | None = None
) -> int:
    """Load ``court``'s legacy CM/ECF roster from ``path``; return how many were written."""
    found = _Collector(str(path))
    rows: list[dict[str, Any]] = []
    secrets: list[str] = []
    logins: dict[str, int] = {}
    secret_column = "password"
    for line, row, secret_column in _rows(path, CMECF_COLUMNS, found):
        login = row["login"]
        if not LOGIN_RE.match(login):
            found.add(line, "login", "must be 1 to 64 letters, digits or . _ @ -")
        key = login.lower()
        if key in logins:
            found.add(line, "login", f"{login!r} is already on line {logins[key]}")
        logins.setdefault(key, line)
        for column in ("first_name", "last_name"):
            if not row[column] or len(row[column]) > 100:
                found.add(line, column, "is required (1 to 100 characters)")
        email = row["email"]
        if email:
            try:
                email = check_email(email)
            except DomainError as exc:
                found.add(line, "email", exc.message)
        role: FilerRole | None = None
        try:
            role = FilerRole.parse(row["role"])
        except ValueError as exc:
            found.add(line, "role", str(exc))
        if role is not None and not court.accepts(role):
            accepted = ", ".join(r.value for r in court.accepted_roles)
            found.add(
                line, "role", f"{court.code} does not accept the role {role.value!r} (accepted: {accepted})"
            )
        _check_secret(found, line, secret_column, row[secret_column])
        if found.problems:
            continue
        rows.append(
            dict(
                court_id=court.code,
                login=login,
                login_key=key,
                first_name=row["first_name"],
                last_name=row["last_name"],
                email=email,
                role=role,
            )
        )
        secrets.append(row[secret_column])
    found.raise_if_any()
    for chunk in _chunks(list(logins), 500):
        existing = CmecfAccount.filter(court_id=court.code, login_key__in=chunk)
        for taken in await existing.values_list("login_key", flat=True):
            found.add(logins[str(taken)], "login", f"{taken!r} already exists in {court.code}")
    found.raise_if_any()
    hashes = await _hashes(secret_column, secrets, progress)
    at = now()
    accounts = [CmecfAccount(password_hash=h, created_at=at, **r) for r, h in zip(rows, hashes, strict=True)]
    async with in_transaction() as conn:
        await CmecfAccount.bulk_create(accounts, batch_size=BATCH_SIZE, using_db=conn)
        await audit.record(
            "import.cmecf_accounts",
            actor_id=None,
            court_code=court.code,
            detail=f"{len(accounts)} legacy accounts from {path.name}",
            using_db=conn,
        )
    return len(accounts)


async def _hashes(column: str, secrets: list[str], progress: Callable[[int], None] | None) -> list[str]:
    if column == "password_hash":
        if progress:
            progress(len(secrets))
        return secrets
    return await asyncio.to_thread(_hash_all, secrets, progress)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
