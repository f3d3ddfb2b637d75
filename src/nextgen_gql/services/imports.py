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
import operator
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
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
from nextgen_gql.services.accounts import ACCOUNT_NUMBER_RE, EMAIL_RE, check_email
from nextgen_gql.services.case_numbers import parse_case_number
from nextgen_gql.services.clock import now
from nextgen_gql.services.ordering import fold, search_copy
from nextgen_gql.services.passwords import (
    ARGON2_RE,
    LEGACY_USERNAME_RE,
    check_username,
    is_argon2_hash,
    password_policy_problem,
)
from nextgen_gql.services.passwords import _hasher as hasher
from nextgen_gql.services.permissions import is_case_restricted
from nextgen_gql.services.roster_load import COLUMNS as ROSTER_COLUMNS
from nextgen_gql.services.roster_load import RosterLoad
from nextgen_gql.services.text import CONTROL_RE as _CONTROL
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


class _Reader:
    """A CSV file's header, checked, then its data rows as read, a chunk at a time.

    ``secret`` is the password column the header names (None when the header has problems:
    they are in ``problems`` and no row is read)."""

    def __init__(
        self, path: Path, required: tuple[str, ...], problems: _Problems, optional: tuple[str, ...] = ()
    ) -> None:
        self.problems = problems
        self.secret: str | None = None
        self.header: list[str] = []
        self.absent: dict[str, str] = {}  # an optional column left out of the header comes as ""
        try:
            self.handle = path.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            problems.add(0, None, f"cannot be read: {exc.strerror or exc}")
            return
        self.fields = csv.reader(self.handle)
        try:
            header = [h.strip() for h in next(self.fields, [])]
        except (UnicodeDecodeError, csv.Error) as exc:
            problems.add(1, None, f"unreadable header: {exc}")
            return
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
        self.header = header
        self.secret = secret[0]
        self.absent = {column: "" for column in optional if column not in header}

    def close(self) -> None:
        handle = getattr(self, "handle", None)
        if handle is not None:
            handle.close()

    def chunks(self, size: int) -> Iterator[tuple[list[int], list[list[str]]]]:
        """The data rows, ``size`` at a time: each row's line (where it ends) and its fields
        as read (blank lines included, as empty lists). A decoding error ends the rows: it is
        reported once the rows before it were handled."""
        if self.secret is None:
            return
        fields = self.fields
        lines: list[int] = []
        rows: list[list[str]] = []
        try:
            for values in fields:
                lines.append(fields.line_num)
                rows.append(values)
                if len(rows) == size:
                    yield lines, rows
                    lines, rows = [], []
        except (UnicodeDecodeError, csv.Error) as exc:
            line = fields.line_num + 1
            if rows:
                yield lines, rows
            self.problems.add(line, None, f"not valid UTF-8 CSV: {exc}")
            return
        if rows:
            yield lines, rows

    def rows(self, lines: list[int], rows: list[list[str]]) -> Iterator[tuple[int, dict[str, str]]]:
        """The chunk's rows one by one, as a dict of stripped values by column; a blank line
        is skipped, a row of the wrong width reported."""
        header, absent, width = self.header, self.absent, len(self.header)
        for line, values in zip(lines, rows, strict=True):
            if not values:
                continue  # a blank line
            if len(values) > width:
                self.problems.add(line, None, "the row has more fields than the header")
            elif len(values) < width:
                self.problems.add(line, None, "the row has fewer fields than the header")
            else:
                row = dict(zip(header, (v.strip() for v in values), strict=True))
                yield line, {**absent, **row} if absent else row


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


@dataclass
class _Batch:
    """Valid rows, column by column: what one write takes."""

    lines: list[int] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)  # unique column -> each row's key
    secrets: list[str] = field(default_factory=list)  # each row's password or password hash
    values: list[Any] = field(default_factory=list)  # each row as ``insert`` takes it

    def __len__(self) -> int:
        return len(self.lines)

    def extend(self, other: _Batch) -> None:
        self.lines += other.lines
        for column, keys in other.keys.items():
            self.keys.setdefault(column, []).extend(keys)
        self.secrets += other.secrets
        self.values += other.values


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

    async def _existing(self, batch: _Batch, conn: BaseDBAsyncClient) -> None:
        if not self.may_exist():
            return
        # One plain statement a key column (a queryset of 2,000 keys cost more to build than to run).
        table = self.model._meta.db_table
        where, params = self.scope()
        for column, column_keys in batch.keys.items():
            keys = dict(zip(column_keys, batch.lines, strict=True))
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

    def may_exist(self) -> bool:
        """Whether a row of the file may already be in the database (else ``_existing`` is
        not asked)."""
        return True

    def display_column(self, column: str) -> str:
        return column

    async def _write(
        self, batch: _Batch, secret_column: str, pool: ThreadPoolExecutor, conn: BaseDBAsyncClient
    ) -> None:
        await self._existing(batch, conn)
        if self.problems:
            return
        secrets = batch.secrets
        if secret_column == "password":
            loop = asyncio.get_running_loop()
            chunks = [secrets[i : i + 32] for i in range(0, len(secrets), 32)]
            hashed = await asyncio.gather(*(loop.run_in_executor(pool, _hash_chunk, c) for c in chunks))
            secrets = [h for chunk in hashed for h in chunk]
        await self.insert(batch, secrets, conn)
        if self.progress:
            self.progress(len(batch))

    async def insert(self, batch: _Batch, secrets: list[str], conn: BaseDBAsyncClient) -> None:
        """Write one valid batch (its rows' password hashes in ``secrets``)."""
        objects = [
            self.model(password_hash=h, **values) for values, h in zip(batch.values, secrets, strict=True)
        ]
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

    def shape(self, values: dict[str, Any]) -> Any:
        """A valid row's values as ``insert`` takes them."""
        return values

    def fast(self, reader: _Reader, lines: list[int], rows: list[list[str]]) -> _Batch | None:
        """The chunk's rows checked column by column, when every one of them is valid (then
        ``validate`` would accept each, with the same values); None otherwise, having changed
        nothing (the rows then go through ``validate`` one by one, which names each problem).
        None here: every row through ``validate``."""
        return None

    def _checked(self, reader: _Reader, lines: list[int], rows: list[list[str]]) -> _Batch:
        """The chunk's rows through ``validate`` one by one: the valid ones (problems are
        added as found)."""
        secret_column = reader.secret
        assert secret_column is not None
        valid = _Batch()
        for line, row in reader.rows(lines, rows):
            checked = self.validate(line, row, secret_column)
            if checked is None or self.problems:
                if self.progress:
                    self.progress(1)
                continue
            valid.lines.append(checked.line)
            for column, key in checked.keys.items():
                valid.keys.setdefault(column, []).append(key)
            valid.secrets.append(checked.secret)
            valid.values.append(self.shape(checked.values))
        return valid

    async def _load(self, pool: ThreadPoolExecutor, conn: BaseDBAsyncClient) -> int:
        """Read, check and write every row; how many were written (none count once a problem
        is found: the caller rolls back).

        Rows are read ``_YIELD_EVERY`` at a time and checked column by column (``fast``), or
        one by one (``validate``) when any of them is not valid. One batch is written while
        the next is read and checked: the database (PostgreSQL's own process) and this one
        work at the same time. The connection runs one statement at a time, so a batch's
        write starts once the one before it has ended; the loop lets it run between chunks."""
        written = 0
        batch = _Batch()
        writing: asyncio.Future[None] | None = None
        with contextlib.closing(_Reader(self.path, self.columns, self.problems, self.optional)) as reader:
            secret_column = reader.secret or "password"
            try:
                for lines, rows in reader.chunks(_YIELD_EVERY):
                    if writing is not None:
                        await asyncio.sleep(0)
                    part = None if self.problems else self.fast(reader, lines, rows)
                    if part is None:
                        part = self._checked(reader, lines, rows)
                    if self.problems:
                        batch = _Batch()  # nothing more will be written: keep reading to report
                        continue
                    batch.extend(part)
                    if len(batch) < BATCH_SIZE:
                        continue
                    if writing is not None:
                        await writing
                        writing = None
                    if not self.problems:  # the last batch's duplicates, if any
                        writing = asyncio.ensure_future(self._write(batch, secret_column, pool, conn))
                        written += len(batch)
                    batch = _Batch()
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
        self, batch: _Batch, secret_column: str, pool: ThreadPoolExecutor, conn: BaseDBAsyncClient
    ) -> None:
        wanted = {values["email"].lower() for values in batch.values if values["email_verified"]}
        if wanted:
            held = await (
                PacerAccount.annotate(email_key=Lower("email"))
                .filter(email_key__in=list(wanted), email_verified=True)
                .using_db(conn)
                .values_list("email_key", flat=True)
            )
            for values in batch.values:
                if values["email"].lower() in held:
                    values["email_verified"] = False
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
        # ``fast``: the file's spellings of roles the court accepts -> the stored value
        self.accepted: dict[str, str] = {}

    async def start(self, conn: BaseDBAsyncClient) -> None:
        self.load = RosterLoad(conn, self.court.code)
        await self.load.start()

    def shape(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """A row as ``RosterLoad.write`` takes it, less the password hash."""
        assert self.load is not None
        stamp = self.load.stamp(self.created_at)
        return tuple(stamp if c == "created_at" else values[c] for c in ROSTER_COLUMNS[:-1])

    async def insert(self, batch: _Batch, secrets: list[str], conn: BaseDBAsyncClient) -> None:
        assert self.load is not None
        await self.load.write(list(map(operator.add, batch.values, zip(secrets))))

    def fast(self, reader: _Reader, lines: list[int], rows: list[list[str]]) -> _Batch | None:
        """``validate``'s rules over whole columns, each in one call of a compiled check where
        it can be (a regular expression over a column, a set of keys, one scan of a column's
        text for control characters); the values built the same way column by column. Rows
        listing cases are parsed one by one, as ``validate`` parses them.
        ``tests/test_import_fast.py`` compares the two over generated good and bad rows."""
        assert self.load is not None
        width = len(reader.header)
        if not rows or min(map(len, rows)) != width or max(map(len, rows)) != width:
            return None  # a blank line, or a row of the wrong width
        column = {
            name: list(map(str.strip, values))
            for name, values in zip(reader.header, zip(*rows, strict=True), strict=True)
        }
        login, first, last, email = (
            column["login"],
            column["first_name"],
            column["last_name"],
            column["email"],
        )
        secrets = column[reader.secret or "password"]
        if not all(map(LOGIN_RE.match, login)):
            return None
        keys = list(map(str.lower, login))
        seen = self.seen.get("login", {})
        if len(set(keys)) != len(keys) or not seen.keys().isdisjoint(keys):
            return None
        for names in (first, last):
            if not all(names) or max(map(len, names)) > 100 or _CONTROL.search(" ".join(names)):
                return None
        given = list(filter(None, email))
        if given and (
            max(map(len, given)) > 254
            or not all(map(EMAIL_RE.match, given))
            or _CONTROL.search(" ".join(given))
        ):
            return None
        for spelling in set(column["role"]).difference(self.accepted):
            try:
                role = FilerRole.parse(spelling)
            except ValueError:
                return None
            if not self.court.accepts(role):
                return None
            self.accepted[spelling] = role.value
        roles = list(map(self.accepted.__getitem__, column["role"]))
        if reader.secret == "password_hash":
            if not all(map(ARGON2_RE.match, secrets)):
                return None
        elif not all(secrets):
            return None
        cases = column.get("cases")
        if cases is not None and any(cases):
            listed = []
            for raw, role_value in zip(cases, roles, strict=True):
                numbers, problems = self._cases(raw, FilerRole(role_value)) if raw else ([], [])
                if problems:
                    return None
                listed.append(CASE_SEPARATOR.join(numbers))
            cases = listed
        # Every row is valid: the state ``validate`` keeps, then the values.
        self.seen.setdefault("login", seen).update(zip(keys, lines, strict=True))
        search = map(
            str.casefold, map(str.rstrip, map(" ".join, zip(login, first, last, email, strict=True)))
        )
        values = zip(
            repeat(self.court.code),
            login,
            keys,
            first,
            last,
            map(str.casefold, last),
            search,
            email,
            roles,
            repeat(self.load.stamp(self.created_at)),
            cases or repeat(""),
        )
        return _Batch(lines=lines, keys={"login_key": keys}, secrets=secrets, values=list(values))

    async def finish(self, conn: BaseDBAsyncClient) -> None:
        assert self.load is not None
        await self.load.finish()

    def scope(self) -> tuple[str, list[Any]]:
        return "court_id = ?", [self.court.code]

    def may_exist(self) -> bool:
        return self.load is None or not self.load.court_was_empty

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
        cases, problems = self._cases(row["cases"], role)
        for reason in problems:
            add(line, "cases", reason)
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

    def _cases(self, raw: str, role: FilerRole | None) -> tuple[list[str], list[str]]:
        """The ;-separated case numbers, canonical and without repeats, and what is wrong with
        them (each problem's reason, in order)."""
        numbers: list[str] = []
        problems: list[str] = []
        if not raw:
            return numbers, problems
        for part in (p.strip() for p in raw.split(CASE_SEPARATOR)):
            if not part:
                continue
            try:
                number = parse_case_number(part, self.court.kind, field="cases")
            except DomainError as exc:
                problems.append(exc.message)
                continue
            if number not in numbers:
                numbers.append(number)
        if len(numbers) > MAX_CASES:
            problems.append(f"at most {MAX_CASES} case numbers an account")
        if numbers and role is not None and not is_case_restricted(role, False):
            problems.append(
                f"only case-restricted (pro_se) accounts list cases: a {role.value} account files court-wide"
            )
        return numbers, problems

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
