"""Column reads for the hot paths: fixed SQL through the connection, plain rows back.

A Tortoise queryset builds its SQL and a model instance per row on every call (about 50 us
a row, and 0.2-0.5 ms a query); the compiled GraphQL path (``api/compiled``) reads the same
columns here as named tuples instead. Each row type carries the attribute names of its
model, so the domain's pure rules (``linking.can_file``, ``visibility.decide_access``)
take a row or a model alike, and each read returns exactly what its queryset twin returns,
in the same order (the differential tests compare the two paths answer for answer).

SQL is written once with ``?`` placeholders and turned into ``$1, $2, ...`` for PostgreSQL.

With a read replica, the reads marked ``data_read`` (accounts, the roster, links, firms'
administrators) may be served by it (``nextgen_gql.replica``); the session, privileges,
memberships, clerkships and the courts an account is tied to (what permissions are decided on)
are always read here on the database.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import aiosqlite
from tortoise import connections

from nextgen_gql.enums import FilerRole, PrivilegeSource, RegistrationStatus
from nextgen_gql.models.accounts import LEGACY_CUTOFF
from nextgen_gql.replica import data_read
from nextgen_gql.services.auth import token_hash, touch
from nextgen_gql.services.clock import now

__all__ = [
    "NOT_READ",
    "AccountRow",
    "AuditRow",
    "CmecfRow",
    "FirmRow",
    "LinkRow",
    "MembershipRow",
    "PrivilegeRow",
    "RegistrationRow",
    "RosterEntry",
    "SessionFacts",
    "Viewer",
    "accounts_by_ids",
    "audit_rows",
    "clerk_courts",
    "close_reader",
    "cmecf_page",
    "courts_of_accounts",
    "firm_admins",
    "links_of_cmecf_ids",
    "live_sessions",
    "memberships_of",
    "open_reader",
    "privileges_of",
    "registration_rows",
    "roster_entries",
    "select",
    "viewer_for_token",
]

_UTC = dt.UTC


def _datetime(value: Any) -> dt.datetime | None:
    """A stored date-time as Tortoise gives it back (``use_tz``: aware, in UTC)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(value)
    moment: dt.datetime = value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)


class AccountRow(NamedTuple):
    """The columns of ``models.PacerAccount`` that answers show. Date-times and flags are
    kept as stored and converted when read: a page reads few of them."""

    id: int
    account_number: str
    username: str
    first_name: str
    last_name: str
    email: str
    created_raw: Any
    upgraded_raw: Any
    shared_raw: Any
    verified_raw: Any

    @property
    def email_verified(self) -> bool:
        return bool(self.email) and bool(self.verified_raw)

    @property
    def created_at(self) -> dt.datetime:
        return _datetime(self.created_raw)  # type: ignore[return-value]

    @property
    def upgraded_at(self) -> dt.datetime | None:
        return _datetime(self.upgraded_raw)

    @property
    def is_shared(self) -> bool:
        return bool(self.shared_raw)

    @property
    def is_legacy(self) -> bool:
        # The same rule as ``models.PacerAccount.is_legacy``.
        return self.created_at < LEGACY_CUTOFF and self.upgraded_raw is None


_ACCOUNT_COLUMNS = (
    "a.id, a.account_number, a.username, a.first_name, a.last_name, a.email, a.created_at, "
    "a.upgraded_at, a.is_shared, a.email_verified"
)
#: How many columns ``_ACCOUNT_COLUMNS`` selects.
ACCOUNT_WIDTH = len(AccountRow._fields)
_make_account = AccountRow._make


def _account(r: Sequence[Any], at: int = 0) -> AccountRow:
    return _make_account(r[at : at + ACCOUNT_WIDTH])  # a row slices (asyncpg's and sqlite3's alike)


class PrivilegeRow(NamedTuple):
    """The columns of ``models.FilingPrivilege``, revoked ones included (they are history)."""

    id: int
    court_id: str
    account_id: int
    role: FilerRole
    source: PrivilegeSource
    granted_at: dt.datetime
    pro_hac_vice: bool
    revoked_raw: Any
    revoked_by_id: int | None
    revoked_reason: str | None

    @property
    def revoked_at(self) -> dt.datetime | None:
        return _datetime(self.revoked_raw)


_PRIVILEGE_COLUMNS = (
    "p.id, p.court_id, p.account_id, p.role, p.source, p.granted_at, p.pro_hac_vice, p.revoked_at,"
    " p.revoked_by_id, p.revoked_reason"
)


class CmecfRow(NamedTuple):
    id: int
    court_id: str
    login: str
    login_key: str
    first_name: str
    last_name: str
    role: FilerRole


class LinkRow(NamedTuple):
    id: int
    cmecf_account_id: int
    court_id: str
    account_id: int
    linked_by_id: int
    linked_raw: Any

    @property
    def linked_at(self) -> dt.datetime:
        return _datetime(self.linked_raw)  # type: ignore[return-value]


_ROLES: dict[str, FilerRole] = {role.value: role for role in FilerRole}


class FirmRow(NamedTuple):
    id: int
    account_number: str
    name: str
    client_code_required: bool


class MembershipRow(NamedTuple):
    account_id: int
    firm_id: int
    is_admin: bool
    firm: FirmRow


@functools.cache
def _placeholders_to_dollars(sql: str) -> str:
    count = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


#: Statements read through the reader, logged as Tortoise logs its own.
log = logging.getLogger("nextgen_gql.rows")
#: On SQLite, a connection of its own for these reads (``open_reader``), beside Tortoise's.
_reader: aiosqlite.Connection | None = None


async def open_reader() -> None:
    """On a SQLite file, open a read-only connection for these reads.

    Tortoise shares one SQLite connection behind a lock, so every statement of every request
    waits for the one before it, and a read issued while another request's transaction is
    open would run inside that transaction. With its own connection (the database is in WAL
    mode), reads go on beside the writer and see only committed data. On PostgreSQL reads
    take a connection from the pool and nothing is opened.
    """
    global _reader
    conn = connections.get("default")
    filename = getattr(conn, "filename", None)
    if conn.capabilities.dialect != "sqlite" or not filename or filename == ":memory:":
        return
    await close_reader()
    reader = await aiosqlite.connect(filename, isolation_level=None)
    await reader.execute("PRAGMA query_only = ON")
    await reader.execute("PRAGMA busy_timeout = 5000")
    _reader = reader


async def close_reader() -> None:
    global _reader
    if _reader is not None:
        reader, _reader = _reader, None
        await reader.close()


async def _rows(
    sql: str, params: Sequence[Any], logger: logging.Logger | None = None
) -> Sequence[Sequence[Any]]:
    """Rows of a statement, read outside any transaction (these reads never take part in one)."""
    if _reader is not None:
        return await _read_reader(sql, params, logger)
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        sql = _placeholders_to_dollars(sql)
    _, rows = await conn.execute_query(sql, list(params))
    return rows  # type: ignore[no-any-return]


async def _read_reader(
    sql: str, params: Sequence[Any], logger: logging.Logger | None = None
) -> Sequence[Sequence[Any]]:
    """A read through the SQLite reader (traced, when tracing is on, by ``observability.tracing``)."""
    assert _reader is not None
    (logger or log).debug("%s: %s", sql, params)
    return list(await _reader.execute_fetchall(sql, params))


def _marks(n: int) -> str:
    return ",".join("?" * n)


class Viewer(NamedTuple):
    """The signed-in account, and the facts about it that were asked for (None: not asked)."""

    account_id: int
    #: The account's columns; None when they were not read with the session (``account=False``).
    account: AccountRow | None
    membership: MembershipRow | None
    privileges: list[PrivilegeRow] | None
    clerk_courts: frozenset[str] | None
    #: The session is restricted to MFA enrolment (``Session.mfa_restricted``).
    restricted: bool = False
    #: The database's WAL position after the account's last write (``Session.write_lsn``).
    write_lsn: int | None = None


@functools.cache
def _viewer_sql(
    membership: bool, privileges: bool, clerk_courts: bool, account: bool, by_session: bool = False
) -> str:
    owner = "a.id" if account else "s.account_id"
    columns = [_ACCOUNT_COLUMNS if account else owner, "s.id, s.last_used_at, s.mfa_restricted, s.write_lsn"]
    joins = ["JOIN pacer_accounts a ON a.id = s.account_id"] if account else []
    if membership:
        columns.append("m.firm_id, m.is_admin, f.id, f.account_number, f.name, f.client_code_required")
        joins.append(
            f"LEFT JOIN firm_memberships m ON m.account_id = {owner} LEFT JOIN firms f ON f.id = m.firm_id"
        )
    if privileges:
        columns.append(_PRIVILEGE_COLUMNS)
        joins.append(f"LEFT JOIN filing_privileges p ON p.account_id = {owner}")
    if clerk_courts:
        columns.append("c.court_id")
        joins.append(f"LEFT JOIN clerks c ON c.account_id = {owner}")
    return (
        f"SELECT {', '.join(columns)} FROM sessions s "
        + " ".join(joins)
        + (" WHERE s.id = ?" if by_session else " WHERE s.token_hash = ?")
        + " AND s.revoked_at IS NULL AND s.expires_at > ?"
        + (" ORDER BY p.court_id, p.id" if privileges else "")
    )


async def viewer_for_token(
    token: str | None,
    *,
    membership: bool = False,
    privileges: bool = False,
    clerk_courts: bool = False,
    account: bool = True,
    session_id: int | None = None,
) -> Viewer | None:
    """The account of the live session for ``token`` (``auth.session_for_token``'s rule), and in
    the same statement what the caller asks for: its firm membership, its filing privileges
    (ordered as ``privileges_of``), the courts it is a clerk of. ``account=False``: the account's
    own columns are left to the caller (a data read, ``accounts_by_ids``, which a replica may
    serve); the session and every fact a permission hangs on are read here, on the database.
    ``session_id``: the session is that one, still live, instead of ``token``'s (an app's
    access token acts in the session it was issued in: ``oidc.access``, whose read of the
    session already recorded its use)."""
    if session_id is not None:
        sql = _viewer_sql(membership, privileges, clerk_courts, account, by_session=True)
        found = await _rows(sql, (session_id, now()))
    elif not token or len(token) > 512:
        return None
    else:
        found = await _rows(
            _viewer_sql(membership, privileges, clerk_courts, account), (token_hash(token), now())
        )
    if not found:
        return None
    first = found[0]
    session_at = ACCOUNT_WIDTH if account else 1  # s.id, s.last_used_at, s.mfa_restricted, s.write_lsn
    if session_id is None:
        await touch(first[session_at], _datetime(first[session_at + 1]))
    at = session_at + 4
    member: MembershipRow | None = None
    if membership:
        if first[at] is not None:
            firm = FirmRow(first[at + 2], first[at + 3], first[at + 4], bool(first[at + 5]))
            member = MembershipRow(first[0], first[at], bool(first[at + 1]), firm)
        at += 6
    held: list[PrivilegeRow] | None = None
    if privileges:
        seen: dict[int, PrivilegeRow] = {}
        for r in found:
            if r[at] is not None and r[at] not in seen:
                seen[r[at]] = _privilege(r, at)
        held = list(seen.values())
        at += 10
    clerk_of = frozenset(str(r[at]) for r in found if r[at] is not None) if clerk_courts else None
    write_lsn = first[session_at + 3]
    return Viewer(
        first[0],
        _account(first) if account else None,
        member,
        held,
        clerk_of,
        bool(first[session_at + 2]),
        int(write_lsn) if write_lsn is not None else None,
    )


@data_read
async def accounts_by_ids(ids: Iterable[int]) -> dict[int, AccountRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await _rows(
        f"SELECT {_ACCOUNT_COLUMNS} FROM pacer_accounts a WHERE a.id IN ({_marks(len(wanted))})", wanted
    )
    return {r[0]: _account(r) for r in rows}


async def privileges_of(account_ids: Iterable[int]) -> dict[int, list[PrivilegeRow]]:
    """Filing privileges by account, each list ordered by court and id (as the loader)."""
    wanted = sorted(set(account_ids))
    grouped: dict[int, list[PrivilegeRow]] = {i: [] for i in wanted}
    if not wanted:
        return grouped
    rows = await _rows(
        f"SELECT {_PRIVILEGE_COLUMNS} FROM filing_privileges p"
        f" WHERE p.account_id IN ({_marks(len(wanted))}) ORDER BY p.court_id, p.id",
        wanted,
    )
    for r in rows:
        grouped[r[2]].append(_privilege(r))
    return grouped


def _privilege(r: Sequence[Any], at: int = 0) -> PrivilegeRow:
    return PrivilegeRow(
        r[at],
        r[at + 1],
        r[at + 2],
        _ROLES[r[at + 3]],
        PrivilegeSource(r[at + 4]),
        _datetime(r[at + 5]),  # type: ignore[arg-type]
        bool(r[at + 6]),
        r[at + 7],
        r[at + 8],
        r[at + 9],
    )


async def memberships_of(account_ids: Iterable[int]) -> dict[int, MembershipRow]:
    """Each account's firm membership (an account is in one firm at most), with the firm."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    rows = await _rows(
        "SELECT m.account_id, m.firm_id, m.is_admin, f.id, f.account_number, f.name, f.client_code_required"
        f" FROM firm_memberships m JOIN firms f ON f.id = m.firm_id WHERE m.account_id IN ({_marks(len(wanted))})",
        wanted,
    )
    return {r[0]: MembershipRow(r[0], r[1], bool(r[2]), FirmRow(r[3], r[4], r[5], bool(r[6]))) for r in rows}


async def clerk_courts(account_id: int) -> frozenset[str]:
    """Codes of the courts whose clerk the account is."""
    rows = await _rows("SELECT court_id FROM clerks WHERE account_id = ?", (account_id,))
    return frozenset(str(r[0]) for r in rows)


class RosterEntry(NamedTuple):
    """A legacy account with its link and the two accounts of the link (None when unlinked)."""

    account: CmecfRow
    link: LinkRow | None
    owner: AccountRow | None
    #: The account that made the link; None when unlinked; ``NOT_READ`` when not read.
    linker: Any


_ROSTER_COLUMNS = (
    "c.id, c.court_id, c.login, c.login_key, c.first_name, c.last_name, c.role,"
    " l.id, l.cmecf_account_id, l.court_id, l.account_id, l.linked_by_id, l.linked_at, " + _ACCOUNT_COLUMNS
)
_LINKER_COLUMNS = _ACCOUNT_COLUMNS.replace("a.", "b.")
#: A related row that was not read (a roster entry's linker with ``cmecf_page(linker=False)``):
#: whoever needs it reads it.
NOT_READ: Any = object()


@data_read
async def cmecf_page(
    court_code: str, *, size: int, after: tuple[str, int] | None, linker: bool = True, count: bool = True
) -> tuple[list[RosterEntry], int | None]:
    """One keyset page of a court's roster, ``size + 1`` entries (to tell whether more follow),
    each with its link and accounts, and the roster's size: ``roster.list_cmecf_accounts``
    and ``roster.links_and_owners`` (without search or filter) in one statement. Without
    ``linker`` the account that made each link is not joined (the entry's ``linker`` is
    ``NOT_READ``); without ``count`` the size is not read (None)."""
    columns, joins = _roster_select(linker)
    where = "c.court_id = ?"
    params: list[object] = []
    # The roster's kept size (``counts``) rides along as a subquery; an empty page has no row
    # to carry it, and reads it on its own.
    kept = "SELECT COALESCE((SELECT n FROM list_counts WHERE court_id = ? AND list = 'roster'), 0)"
    if count:
        columns += f", ({kept})"
        params.append(court_code)
    params.append(court_code)
    if after is not None:
        where += " AND (c.login_key > ? OR (c.login_key = ? AND c.id > ?))"
        params += [after[0], after[0], after[1]]
    found = await _rows(
        f"SELECT {columns} {joins} WHERE {where} ORDER BY c.login_key, c.id LIMIT ?", [*params, size + 1]
    )
    total: int | None = None
    if count:
        total = int(found[0][-1]) if found else int((await _rows(kept, (court_code,)))[0][0])
    return [_entry(r, linker) for r in found], total


def _roster_select(linker: bool, links: str = "") -> tuple[str, str]:
    """The columns and joins of roster entries (``_entry``), with the linker's or without;
    ``links``: a further condition on the joined links (``l``)."""
    columns, joins = (
        _ROSTER_COLUMNS,
        (
            f"FROM cmecf_accounts c LEFT JOIN cmecf_links l ON l.cmecf_account_id = c.id{links}"
            " LEFT JOIN pacer_accounts a ON a.id = l.account_id"
        ),
    )
    if linker:
        columns += ", " + _LINKER_COLUMNS
        joins += " LEFT JOIN pacer_accounts b ON b.id = l.linked_by_id"
    return columns, joins


_LINKER_AT = 13 + ACCOUNT_WIDTH


def _entry(r: Sequence[Any], linker: bool) -> RosterEntry:
    linked = r[7] is not None
    return RosterEntry(
        CmecfRow(r[0], r[1], r[2], r[3], r[4], r[5], _ROLES[r[6]]),
        LinkRow(r[7], r[8], r[9], r[10], r[11], r[12]) if linked else None,
        _account(r, 13) if linked else None,
        (_account(r, _LINKER_AT) if linker else NOT_READ) if linked else None,
    )


@data_read
async def roster_entries(ids: Sequence[int], *, linker: bool = True) -> list[RosterEntry]:
    """The roster entries of these legacy accounts (as ``cmecf_page`` reads them), in the order
    given; an id no longer there is left out. A window of the roster in any order or search
    (``roster.cmecf_window``) is read so: ``roster.list_cmecf_accounts`` and
    ``roster.links_and_owners`` in one statement, as rows."""
    wanted = list(ids)
    if not wanted:
        return []
    keys = sorted(set(wanted))
    among = f"IN ({_marks(len(keys))})"
    # The links are named by the same ids, so that they are read through their unique index
    # whatever the planner knows of the table's size (a table not analysed yet looks small to
    # PostgreSQL, and a hash join would then read all of it: tests/test_plans.py).
    columns, joins = _roster_select(linker, links=f" AND l.cmecf_account_id {among}")
    found = await _rows(f"SELECT {columns} {joins} WHERE c.id {among}", [*keys, *keys])
    by_id = {r[0]: _entry(r, linker) for r in found}
    return [by_id[i] for i in wanted if i in by_id]


_STATUSES: dict[str, RegistrationStatus] = {status.value: status for status in RegistrationStatus}


class RegistrationRow(NamedTuple):
    """The columns of ``models.Registration`` that answers show."""

    id: int
    court_id: str
    account_id: int
    role: FilerRole
    pro_hac_vice: bool
    case_number: str | None
    bar_number: str | None
    bar_state: str | None
    status: RegistrationStatus
    submitted_raw: Any
    decided_raw: Any
    decided_by_id: int | None
    reason: str | None
    #: The applicant's account, read with the registration.
    account_row: AccountRow

    @property
    def submitted_at(self) -> dt.datetime:
        return _datetime(self.submitted_raw)  # type: ignore[return-value]

    @property
    def decided_at(self) -> dt.datetime | None:
        return _datetime(self.decided_raw)


@data_read
async def registration_rows(ids: Sequence[int]) -> list[RegistrationRow]:
    """These registrations, in the order given (an id no longer there is left out)."""
    wanted = list(ids)
    if not wanted:
        return []
    found = await _rows(
        "SELECT r.id, r.court_id, r.account_id, r.role, r.pro_hac_vice, r.case_number, r.bar_number,"
        f" r.bar_state, r.status, r.submitted_at, r.decided_at, r.decided_by_id, r.reason, {_ACCOUNT_COLUMNS}"
        " FROM registrations r JOIN pacer_accounts a ON a.id = r.account_id"
        f" WHERE r.id IN ({_marks(len(set(wanted)))})",
        sorted(set(wanted)),
    )
    by_id = {
        r[0]: RegistrationRow(
            r[0],
            r[1],
            r[2],
            _ROLES[r[3]],
            bool(r[4]),
            r[5],
            r[6],
            r[7],
            _STATUSES[r[8]],
            r[9],
            r[10],
            r[11],
            r[12],
            _account(r, 13),
        )
        for r in found
    }
    return [by_id[i] for i in wanted if i in by_id]


class AuditRow(NamedTuple):
    """The columns of ``models.AuditEvent`` that answers show."""

    id: int
    at_raw: Any
    action: str
    actor_id: int | None
    subject_id: int | None
    court_id: str | None
    detail: str | None
    #: The accounts that acted and that the event is about, read with it (None: none).
    actor_row: AccountRow | None
    subject_row: AccountRow | None

    @property
    def at(self) -> dt.datetime:
        return _datetime(self.at_raw)  # type: ignore[return-value]


@data_read
async def audit_rows(ids: Sequence[int], *, within: Sequence[Any] = ()) -> list[AuditRow]:
    """These audit events, in the order given (an id no longer there is left out). ``within``:
    the events' times (``KeysetPage.also``): on PostgreSQL, where the trail is partitioned by
    month, the statement is bounded by their range and reads only the partitions that hold
    them (as ``ordering.rows_by_ids`` does)."""
    wanted = list(ids)
    if not wanted:
        return []
    where, params = f"e.id IN ({_marks(len(set(wanted)))})", list[Any](sorted(set(wanted)))
    if within and connections.get("default").capabilities.dialect == "postgres":
        moments = [_datetime(v) for v in within]
        where += " AND e.at >= ? AND e.at <= ?"
        params += [min(moments), max(moments)]  # type: ignore[type-var]
    found = await _rows(
        f"SELECT e.id, e.at, e.action, e.actor_id, e.subject_id, e.court_id, e.detail, {_ACCOUNT_COLUMNS},"
        f" {_ACCOUNT_COLUMNS.replace('a.', 'b.')} FROM audit_events e"
        " LEFT JOIN pacer_accounts a ON a.id = e.actor_id LEFT JOIN pacer_accounts b ON b.id = e.subject_id"
        f" WHERE {where}",
        params,
    )
    subject_at = 7 + ACCOUNT_WIDTH
    by_id = {
        r[0]: AuditRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            _account(r, 7) if r[7] is not None else None,
            _account(r, subject_at) if r[subject_at] is not None else None,
        )
        for r in found
    }
    return [by_id[i] for i in wanted if i in by_id]


@data_read
async def links_of_cmecf_ids(ids: Iterable[int]) -> dict[int, LinkRow]:
    """The links of these legacy accounts, by legacy account id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await _rows(
        "SELECT id, cmecf_account_id, court_id, account_id, linked_by_id, linked_at FROM cmecf_links"
        f" WHERE cmecf_account_id IN ({_marks(len(wanted))})",
        wanted,
    )
    return {r[1]: LinkRow(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows}


@data_read
async def firm_admins(firm_ids: Iterable[int]) -> dict[int, list[AccountRow]]:
    """Each firm's administrators, by account id."""
    wanted = sorted(set(firm_ids))
    if not wanted:
        return {}
    grouped: dict[int, list[AccountRow]] = {}
    found = await _rows(
        f"SELECT m.firm_id, {_ACCOUNT_COLUMNS} FROM firm_memberships m JOIN pacer_accounts a ON a.id = m.account_id"
        f" WHERE m.firm_id IN ({_marks(len(wanted))}) AND m.is_admin = ? ORDER BY a.id",
        [*wanted, True],
    )
    for r in found:
        grouped.setdefault(r[0], []).append(_account(r, 1))
    return grouped


async def courts_of_accounts(account_ids: Iterable[int], among: Iterable[str]) -> dict[int, set[str]]:
    """The courts of ``among`` each account is tied to: linked, privileged or registered there
    (``visibility.courts_of_account``, for many accounts in one statement)."""
    wanted, courts = sorted(set(account_ids)), sorted(set(among))
    tied: dict[int, set[str]] = {i: set() for i in wanted}
    if not wanted or not courts:
        return tied
    where = f"account_id IN ({_marks(len(wanted))}) AND court_id IN ({_marks(len(courts))})"
    # UNION ALL: the pairs go into sets here, the database need not sort out the repeated ones.
    found = await _rows(
        " UNION ALL ".join(f"SELECT account_id, court_id FROM {table} WHERE {where}" for table in _TIES),
        [*wanted, *courts] * len(_TIES),
    )
    for account_id, court_id in found:
        tied[account_id].add(str(court_id))
    return tied


_TIES = ("cmecf_links", "filing_privileges", "registrations")


async def select(sql: str, params: Sequence[Any], *, logger: logging.Logger) -> Sequence[Sequence[Any]]:
    """Rows of a read that must see committed data only (on SQLite, through the reader:
    Tortoise's one connection would read inside whichever transaction is open), logged to
    ``logger`` (the background reads of live updates are not a request's)."""
    return await _rows(sql, params, logger)


class SessionFacts(NamedTuple):
    """What a live connection's access hangs on, read again every second (``api/live``)."""

    account_id: int
    clerk_courts: frozenset[str]
    admin_firm_id: int | None


async def live_sessions(session_ids: Iterable[int], *, logger: logging.Logger) -> dict[int, SessionFacts]:
    """Of these sessions, the live ones (not signed out, revoked or expired: ``viewer_for_token``'s
    rule), each with its account's clerk courts and the firm it administers."""
    wanted = sorted(set(session_ids))
    found: dict[int, tuple[int, set[str], int | None]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = await _rows(
            "SELECT s.id, s.account_id, c.court_id, m.firm_id, m.is_admin FROM sessions s"
            " LEFT JOIN clerks c ON c.account_id = s.account_id"
            " LEFT JOIN firm_memberships m ON m.account_id = s.account_id"
            f" WHERE s.id IN ({_marks(len(chunk))}) AND s.revoked_at IS NULL AND s.expires_at > ?",
            [*chunk, now()],
            logger,
        )
        for session_id, account_id, court_id, firm_id, is_admin in rows:
            entry = found.setdefault(session_id, (account_id, set(), firm_id if is_admin else None))
            if court_id is not None:
                entry[1].add(str(court_id))
    return {i: SessionFacts(a, frozenset(c), f) for i, (a, c, f) in found.items()}
