"""Importing legacy PACER accounts and court CM/ECF rosters from CSV files.

An import streams the file once, inside one transaction: each row is validated (problems
are collected, up to ``MAX_PROBLEMS``, each naming file, line and field), rows are
checked against the database a batch at a time, clear passwords are hashed in parallel
worker threads, and valid batches are written as they come. One problem anywhere and
the transaction is rolled back: all or nothing. Memory stays bounded by the batch size
(plus the set of keys seen, to catch duplicates within the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Lower
from tortoise.models import Model
from tortoise.transactions import in_transaction

from nextgen_gql.enums import FilerRole
from nextgen_gql.errors import DomainError
from nextgen_gql.models import CmecfAccount, PacerAccount
from nextgen_gql.models.accounts import LEGACY_CUTOFF
from nextgen_gql.models.filing import CASE_SEPARATOR
from nextgen_gql.services import audit, events, statistics
from nextgen_gql.services.accounts import ACCOUNT_NUMBER_RE, check_email
from nextgen_gql.services.case_numbers import parse_case_number
from nextgen_gql.services.clock import now
from nextgen_gql.services.ordering import fold, search_copy
from nextgen_gql.services.passwords import (
    LEGACY_USERNAME_RE,
    check_username,
    is_argon2_hash,
    password_policy_problem,
)
from nextgen_gql.services.passwords import _hasher as hasher
from nextgen_gql.services.permissions import is_case_restricted
from nextgen_gql.services.roster_load import COLUMNS as ROSTER_COLUMNS
from nextgen_gql.services.roster_load import RosterLoad
from nextgen_gql.services.text import control_character
from nextgen_gql.tenancy import Court

__all__ = [
    "ImportFailed",
    "ImportProblem",
    "Progress",
    "count_rows",
    "import_cmecf_accounts",
    "import_pacer_accounts",
]

MAX_PROBLEMS = 100
BATCH_SIZE = 2000
#: Rows read between two turns of the event loop while a batch is being written.
_YIELD_EVERY = 250
PACER_COLUMNS = ("account_number", "username", "first_name", "last_name", "email", "created_at", "is_shared")
CMECF_COLUMNS = ("login", "first_name", "last_name", "email", "role")
CMECF_OPTIONAL = (
    "cases",
)  # added 2026-11-23: a case-restricted (pro se) account's case numbers, ;-separated
MAX_CASES = 100  # per legacy account
LOGIN_RE = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")

#: Called with the number of rows just written (or, for a refused file, just read).
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ImportFailed(Exception):
    """The file was refused; nothing was written. ``problems`` names each fault."""

    def __init__(self, problems: list[ImportProblem], truncated: bool = False) -> None:
        self.problems = problems
        self.truncated = truncated
        more = f"\n  ... and more (the first {MAX_PROBLEMS} are shown)" if truncated else ""
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s), nothing imported:\n{lines}{more}")


@dataclass
class _Problems:
    file: str
    found: list[ImportProblem] = field(default_factory=list)
    truncated: bool = False

    def add(self, line: int, field_name: str | None, reason: str) -> None:
        if len(self.found) >= MAX_PROBLEMS:
            self.truncated = True
        else:
            self.found.append(ImportProblem(self.file, line, field_name, reason))

    def __bool__(self) -> bool:
        return bool(self.found)


class _Abort(Exception):
    """Raised inside the transaction to roll it back when any row was bad."""


def count_rows(path: Path) -> int:
    """Data rows in a CSV file, counted fast (for a progress bar's total)."""
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(0, lines - 1)


def _rows(
    path: Path, required: tuple[str, ...], problems: _Problems, optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str], str]]:
    """Yield (line, row, password column) for each data row (an optional column left out of
    the header comes as ""); header problems stop early."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        problems.add(0, None, f"cannot be read: {exc.strerror or exc}")
        return
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.add(1, None, f"unreadable header: {exc}")
            return
        reader.fieldnames = header
        secret = [c for c in ("password", "password_hash") if c in header]
        for column in required:
            if column not in header:
                problems.add(1, column, "column is missing from the header")
        if len(secret) != 1:
            problems.add(1, "password", "the header needs exactly one of password or password_hash")
        for column in header:
            if column not in required + optional and column not in ("password", "password_hash"):
                also = "".join(f", {c}" for c in optional)
                problems.add(
                    1,
                    column,
                    f"unknown column (expected {', '.join(required)}{also}, password or password_hash)",
                )
        if problems:
            return
        absent = {column: "" for column in optional if column not in header}
        width = len(header)
        fields = reader.reader  # the plain reader under DictReader: lists, without a dict per row
        try:
            for values in fields:
                if not values:
                    continue  # a blank line (DictReader skips them too)
                if len(values) > width:
                    problems.add(fields.line_num, None, "the row has more fields than the header")
                elif len(values) < width:
                    problems.add(fields.line_num, None, "the row has fewer fields than the header")
                else:
                    row = dict(zip(header, (v.strip() for v in values), strict=True))
                    yield fields.line_num, {**absent, **row} if absent else row, secret[0]
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.add(fields.line_num + 1, None, f"not valid UTF-8 CSV: {exc}")


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1``, ``$2``, ..."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


def _check_secret(problems: _Problems, line: int, column: str, value: str) -> None:
    if not value:
        problems.add(line, column, "is required")
    elif column == "password_hash" and not is_argon2_hash(value):
        problems.add(line, column, "is not an argon2 PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")


def _check_names(problems: _Problems, line: int, row: dict[str, str]) -> None:
    for column in ("first_name", "last_name"):
        if not row[column] or len(row[column]) > 100:
            problems.add(line, column, "is required (1 to 100 characters)")
        elif control_character(row[column]) is not None:
            problems.add(line, column, "must be one line of text, without control characters")


def _hash_chunk(passwords: list[str]) -> list[str]:
    return [hasher.hash(p) for p in passwords]


def _parse_created_at(raw: str) -> dt.datetime:
    if "T" in raw or " " in raw:
        value = dt.datetime.fromisoformat(raw)
    else:
        value = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time())
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass
class _Row:
    line: int
    keys: dict[str, str]  # unique column -> key, checked against the database
    values: dict[str, Any]
    secret: str


class _Importer:
    """The pipeline shared by both imports; subclasses validate one row."""

    model: type[Model]
    columns: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def __init__(self, path: Path, progress: Progress | None) -> None:
        self.path = path
        self.progress = progress
        self.problems = _Problems(str(path))
        self.seen: dict[str, dict[str, int]] = {}  # unique column -> key -> first line

    def validate(self, line: int, row: dict[str, str], secret_column: str) -> _Row | None:
        raise NotImplementedError

    def scope(self) -> tuple[str, list[Any]]:
        """Narrow the duplicate check (a court's roster is per court): SQL and parameters."""
        return "1 = 1", []

    def _first_seen(self, line: int, column: str, key: str, shown: str) -> None:
        lines = self.seen.setdefault(column, {})
        if key in lines:
            self.problems.add(line, column, f"{shown!r} is already on line {lines[key]}")
        else:
            lines[key] = line

    async def _existing(self, batch: list[_Row], conn: BaseDBAsyncClient) -> None:
        # One plain statement a key column (a queryset of 2,000 keys cost more to build than to run).
        table = self.model._meta.db_table
        where, params = self.scope()
        for column in batch[0].keys:
            keys = {row.keys[column]: row.line for row in batch}
            if conn.capabilities.dialect == "sqlite":
                sql = f"SELECT {column} FROM {table} WHERE {where} AND {column} IN ({', '.join('?' * len(keys))})"
                _, found = await conn.execute_query(sql, [*params, *keys])
            else:
                # One index probe a key: with an IN list (or = ANY) the planner, counting 2,000
                # matches, scanned the whole table once a batch, quadratic over an import (a
                # 1,000,000-row import spent most of its time there). A LATERAL with LIMIT 1 can
                # only be planned as a loop of probes of the unique index.
                sql = _numbered(
                    f"SELECT k.key AS {column} FROM unnest(?::text[]) AS k(key) CROSS JOIN LATERAL"
                    f" (SELECT 1 FROM {table} WHERE {where} AND {column} = k.key LIMIT 1) AS hit"
                )
                _, found = await conn.execute_query(sql, [list(keys), *params])
            for taken in (row[column] for row in found):
                self.problems.add(
                    keys[str(taken)], self.display_column(column), f"{taken!r} already exists{self.where}"
                )

    where = ""

    def display_column(self, column: str) -> str:
        return column

    async def _write(
        self, batch: list[_Row], secret_column: str, pool: ThreadPoolExecutor, conn: BaseDBAsyncClient
    ) -> None:
        await self._existing(batch, conn)
        if self.problems:
            return
        secrets = [row.secret for row in batch]
        if secret_column == "password":
            loop = asyncio.get_running_loop()
            chunks = [secrets[i : i + 32] for i in range(0, len(secrets), 32)]
            hashed = await asyncio.gather(*(loop.run_in_executor(pool, _hash_chunk, c) for c in chunks))
            secrets = [h for chunk in hashed for h in chunk]
        await self.insert(batch, secrets, conn)
        if self.progress:
            self.progress(len(batch))

    async def insert(self, batch: list[_Row], secrets: list[str], conn: BaseDBAsyncClient) -> None:
        """Write one valid batch (its rows' password hashes in ``secrets``)."""
        objects = [self.model(password_hash=h, **row.values) for row, h in zip(batch, secrets, strict=True)]
        await self.model.bulk_create(objects, batch_size=BATCH_SIZE, using_db=conn)

    async def start(self, conn: BaseDBAsyncClient) -> None:
        """Called first inside the import's transaction."""

    async def finish(self, conn: BaseDBAsyncClient) -> None:
        """Called last inside the import's transaction, once every row was written."""

    async def run(self) -> int:
        try:
            with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
                async with in_transaction() as conn:
                    await self.start(conn)
                    written = await self._load(pool, conn)
                    if self.problems:
                        raise _Abort
                    await self.finish(conn)
                    await self.record(written, conn)
        except _Abort:
            raise ImportFailed(self.problems.found, self.problems.truncated) from None
        return written

    async def _load(self, pool: ThreadPoolExecutor, conn: BaseDBAsyncClient) -> int:
        """Read, check and write every row; how many were written (none count once a problem
        is found: the caller rolls back).

        One batch is written while the next is read and checked: the database (PostgreSQL's own
        process) and this one work at the same time. The connection runs one statement at a
        time, so a batch's write starts once the one before it has ended; the loop lets it run
        every ``_YIELD_EVERY`` rows."""
        written = 0
        secret_column = "password"
        batch: list[_Row] = []
        writing: asyncio.Future[None] | None = None
        try:
            for line, row, secret_column in _rows(self.path, self.columns, self.problems, self.optional):
                if writing is not None and line % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                valid = self.validate(line, row, secret_column)
                if valid is None or self.problems:
                    if self.progress:
                        self.progress(1)
                    batch.clear()  # nothing more will be written: keep reading to report
                    continue
                batch.append(valid)
                if len(batch) < BATCH_SIZE:
                    continue
                if writing is not None:
                    await writing
                    writing = None
                if not self.problems:  # the last batch's duplicates, if any
                    writing = asyncio.ensure_future(self._write(batch, secret_column, pool, conn))
                    written += len(batch)
                batch = []
            if writing is not None:
                await writing
                writing = None
        finally:
            if writing is not None:  # the read failed: the write ends before the rollback
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing
        if batch and not self.problems:
            await self._write(batch, secret_column, pool, conn)
            written += len(batch)
        return written

    async def record(self, written: int, conn: BaseDBAsyncClient) -> None:
        raise NotImplementedError


class _PacerImporter(_Importer):
    """PACER's own accounts: an address they hold counts as verified (as migration 0016 counted
    the addresses held before it), for the first account holding it, in the file or before."""

    model = PacerAccount
    columns = PACER_COLUMNS

    def __init__(self, path: Path, progress: Progress | None) -> None:
        super().__init__(path, progress)
        self.addresses: set[str] = set()  # lower-cased addresses already given in the file

    async def _write(
        self, batch: list[_Row], secret_column: str, pool: ThreadPoolExecutor, conn: BaseDBAsyncClient
    ) -> None:
        wanted = {row.values["email"].lower() for row in batch if row.values["email_verified"]}
        if wanted:
            held = await (
                PacerAccount.annotate(email_key=Lower("email"))
                .filter(email_key__in=list(wanted), email_verified=True)
                .using_db(conn)
                .values_list("email_key", flat=True)
            )
            for row in batch:
                if row.values["email"].lower() in held:
                    row.values["email_verified"] = False
        await super()._write(batch, secret_column, pool, conn)

    def validate(self, line: int, row: dict[str, str], secret_column: str) -> _Row | None:
        before = len(self.problems.found)
        add = self.problems.add
        number = row["account_number"]
        if not ACCOUNT_NUMBER_RE.match(number):
            add(line, "account_number", f"must be 7 digits; got {number!r}")
        else:
            self._first_seen(line, "account_number", number, number)
        created: dt.datetime | None = None
        try:
            created = _parse_created_at(row["created_at"])
        except ValueError:
            add(line, "created_at", f"must be an ISO date or date-time; got {row['created_at']!r}")
        username = row["username"]
        legacy = created is not None and created < LEGACY_CUTOFF
        if not (legacy and len(username) == 6 and LEGACY_USERNAME_RE.match(username)):
            try:
                check_username(username)
            except DomainError as exc:
                hint = " (or, for a legacy account, 6 characters: letters then digits)" if legacy else ""
                add(line, "username", exc.message + hint)
        self._first_seen(line, "username", username.lower(), username)
        _check_names(self.problems, line, row)
        email = row["email"]
        if email or not legacy:
            try:
                email = check_email(email)
            except DomainError as exc:
                add(line, "email", exc.message if email else "is required for an upgraded account")
        shared = row["is_shared"].lower()
        if shared not in ("true", "false"):
            add(line, "is_shared", f"must be true or false; got {row['is_shared']!r}")
        _check_secret(self.problems, line, secret_column, row[secret_column])
        if len(self.problems.found) > before or self.problems.truncated:
            return None
        compliant = None
        if secret_column == "password":
            problem = password_policy_problem(
                row["password"],
                username=username,
                first_name=row["first_name"],
                last_name=row["last_name"],
                email=email,
            )
            compliant = problem is None
        first_holder = bool(email) and email.lower() not in self.addresses
        if email:
            self.addresses.add(email.lower())
        return _Row(
            line=line,
            keys={"account_number": number, "username_key": username.lower()},
            values={
                "account_number": number,
                "username": username,
                "username_key": username.lower(),
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "email": email,
                "email_verified": first_holder,
                "created_at": created,
                "is_shared": shared == "true",
                "password_compliant": compliant,
            },
            secret=row[secret_column],
        )

    def display_column(self, column: str) -> str:
        return "username" if column == "username_key" else column

    async def record(self, written: int, conn: BaseDBAsyncClient) -> None:
        detail = f"{written} accounts from {self.path.name}"
        await audit.record("import.pacer_accounts", actor_id=None, detail=detail, using_db=conn)


class _CmecfImporter(_Importer):
    model = CmecfAccount
    columns = CMECF_COLUMNS
    optional = CMECF_OPTIONAL

    def __init__(self, court: Court, path: Path, progress: Progress | None) -> None:
        super().__init__(path, progress)
        self.court = court
        self.where = f" in {court.code}"
        self.created_at = now()
        self.load: RosterLoad | None = None
        self.roles: dict[str, FilerRole] = {}  # the file's spellings of roles, parsed once

    async def start(self, conn: BaseDBAsyncClient) -> None:
        self.load = RosterLoad(conn, self.court.code)
        await self.load.start()

    async def insert(self, batch: list[_Row], secrets: list[str], conn: BaseDBAsyncClient) -> None:
        assert self.load is not None
        await self.load.write(
            [
                (*(row.values[c] for c in ROSTER_COLUMNS[:-1]), secret)
                for row, secret in zip(batch, secrets, strict=True)
            ]
        )

    async def finish(self, conn: BaseDBAsyncClient) -> None:
        assert self.load is not None
        await self.load.finish()

    def scope(self) -> tuple[str, list[Any]]:
        return "court_id = ?", [self.court.code]

    def display_column(self, column: str) -> str:
        return "login" if column == "login_key" else column

    def validate(self, line: int, row: dict[str, str], secret_column: str) -> _Row | None:
        before = len(self.problems.found)
        add = self.problems.add
        login = row["login"]
        if not LOGIN_RE.match(login):
            add(line, "login", "must be 1 to 64 letters, digits or . _ @ -")
        self._first_seen(line, "login", login.lower(), login)
        _check_names(self.problems, line, row)
        email = row["email"]
        if email:
            try:
                email = check_email(email)
            except DomainError as exc:
                add(line, "email", exc.message)
        role: FilerRole | None = self.roles.get(row["role"])
        if role is None:
            try:
                role = self.roles[row["role"]] = FilerRole.parse(row["role"])
            except ValueError as exc:
                add(line, "role", str(exc))
        if role is not None and not self.court.accepts(role):
            accepted = ", ".join(r.value for r in self.court.accepted_roles)
            add(
                line,
                "role",
                f"{self.court.code} does not accept the role {role.value!r} (accepted: {accepted})",
            )
        cases = self._cases(line, row["cases"], role)
        _check_secret(self.problems, line, secret_column, row[secret_column])
        if len(self.problems.found) > before or self.problems.truncated:
            return None
        return _Row(
            line=line,
            keys={"login_key": login.lower()},
            values={
                "court_id": self.court.code,
                "login": login,
                "login_key": login.lower(),
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "last_name_key": fold(row["last_name"]),
                "search_text": search_copy(login, row["first_name"], row["last_name"], email),
                "email": email,
                "role": role.value if role is not None else None,
                "created_at": self.created_at,
                "cases": CASE_SEPARATOR.join(cases),
            },
            secret=row[secret_column],
        )

    def _cases(self, line: int, raw: str, role: FilerRole | None) -> list[str]:
        """The ;-separated case numbers, canonical and without repeats; problems are reported."""
        numbers: list[str] = []
        if not raw:
            return numbers
        for part in (p.strip() for p in raw.split(CASE_SEPARATOR)):
            if not part:
                continue
            try:
                number = parse_case_number(part, self.court.kind, field="cases")
            except DomainError as exc:
                self.problems.add(line, "cases", exc.message)
                continue
            if number not in numbers:
                numbers.append(number)
        if len(numbers) > MAX_CASES:
            self.problems.add(line, "cases", f"at most {MAX_CASES} case numbers an account")
        if numbers and role is not None and not is_case_restricted(role, False):
            self.problems.add(
                line,
                "cases",
                f"only case-restricted (pro_se) accounts list cases: a {role.value} account files court-wide",
            )
        return numbers

    async def record(self, written: int, conn: BaseDBAsyncClient) -> None:
        await audit.record(
            "import.cmecf_accounts",
            actor_id=None,
            court_code=self.court.code,
            detail=f"{written} legacy accounts from {self.path.name}",
            using_db=conn,
        )


async def import_pacer_accounts(path: Path, *, progress: Progress | None = None) -> int:
    """Load PACER accounts from ``path``; return how many were written."""
    written = await _PacerImporter(path, progress).run()
    await statistics.refresh(["pacer_accounts"])
    events.emit("import.rows", kind="pacer_accounts", rows=written)
    return written


async def import_cmecf_accounts(court: Court, path: Path, *, progress: Progress | None = None) -> int:
    """Load ``court``'s legacy CM/ECF roster from ``path``; return how many were written."""
    written = await _CmecfImporter(court, path, progress).run()
    # The planner's statistics, at once: a court loaded in bulk is searched next.
    await statistics.refresh(["cmecf_accounts"])
    events.emit("import.rows", court=court.code, kind="cmecf_accounts", rows=written)
    return written
