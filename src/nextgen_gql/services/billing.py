"""PACER fees: the ledger and quarterly statements.

Fees (DOMAIN.md, "PACER fees"): $0.10 a page; documents and case-specific reports are
capped at $3.00 (30 pages); searches, transcripts and other reports are not, and a search
with no match still costs one page; audio files $2.40 each. Billing is quarterly; a
billing account whose charges in a quarter total $30.00 or less owes nothing for it. A
firm member's charges are billed to the firm, anyone else's to the account itself.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from nextgen_gql.enums import StatementKind, UsageKind
from nextgen_gql.errors import DomainError, ErrorCode, Forbidden, NotFound
from nextgen_gql.models import Charge, Firm, FirmMembership, PacerAccount, Session
from nextgen_gql.services import audit, moments
from nextgen_gql.services.accounts import ACCOUNT_NUMBER_RE
from nextgen_gql.services.auth import check_client_code
from nextgen_gql.services.clock import now
from nextgen_gql.services.ordering import Cursor, Window, moment, query
from nextgen_gql.services.pagination import Page
from nextgen_gql.services.text import single_line
from nextgen_gql.tenancy import Court

__all__ = [
    "Quarter",
    "Recorder",
    "Statement",
    "account_statement",
    "charge_cents",
    "charge_page",
    "firm_statement",
    "parse_quarter",
    "record_usage",
    "statement_charges",
]

PAGE_CENTS = 10
CAP_CENTS = 300
AUDIO_CENTS = 240
WAIVER_LIMIT_CENTS = 3000
MAX_PAGES = 1_000_000
QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


def charge_cents(kind: UsageKind, pages: int) -> int:
    """The amount of one item, after its cap."""
    if kind is UsageKind.AUDIO:
        return pages * AUDIO_CENTS
    if kind is UsageKind.SEARCH:
        return max(pages, 1) * PAGE_CENTS
    if kind in (UsageKind.DOCUMENT, UsageKind.CASE_REPORT):
        return min(pages * PAGE_CENTS, CAP_CENTS)
    return pages * PAGE_CENTS  # transcripts and other reports are not capped


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, 3 * self.number - 2, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        if self.number == 4:
            return dt.datetime(self.year + 1, 1, 1, tzinfo=dt.UTC)
        return dt.datetime(self.year, 3 * self.number + 1, 1, tzinfo=dt.UTC)


def parse_quarter(raw: str) -> Quarter:
    """``"2026Q3"`` -> Quarter(2026, 3); INVALID_INPUT on anything else."""
    match = QUARTER_RE.match(raw.strip())
    if not match or not 1 <= int(match.group(1)) <= 9998:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{raw!r} is not a quarter: write it as YYYYQn, e.g. 2026Q3.", "quarter"
        )
    return Quarter(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class Statement:
    """A quarter of one billing account: a firm's charges (``firm_id``), or an account's own,
    not billed to a firm (``account_id``). Its sums are read once, by the database; its
    charges are read when asked for, whole (``statement_charges``) or a page at a time
    (``charge_page``)."""

    quarter: Quarter
    charges_cents: int
    charge_count: int
    firm_id: int | None = None
    account_id: int | None = None

    @property
    def waived(self) -> bool:
        return self.charges_cents <= WAIVER_LIMIT_CENTS

    @property
    def amount_due_cents(self) -> int:
        return 0 if self.waived else self.charges_cents

    @property
    def kind(self) -> StatementKind:
        return StatementKind.INVOICE if self.amount_due_cents > 0 else StatementKind.STATEMENT_OF_ACCOUNT


@dataclass(frozen=True)
class Recorder:
    """Who reports usage: a clerk of the court (``account_id``) or one of its service keys."""

    account_id: int | None
    service_key_id: int | None = None


IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")


def _same_usage(
    charge: Charge,
    *,
    account_id: int,
    kind: UsageKind,
    pages: int,
    client_code: str | None,
    description: str | None,
) -> bool:
    """Whether a retry asks for what ``charge`` recorded (a client code left out of the retry
    is the one the first report took)."""
    return (
        charge.account_id == account_id
        and charge.kind is kind
        and charge.pages == pages
        and charge.description == description
        and (client_code is None or charge.client_code == client_code)
    )


async def record_usage(
    recorder: Recorder,
    court: Court,
    *,
    account_number: str,
    kind: UsageKind,
    pages: int,
    client_code: str | None = None,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> Charge:
    """Record one item of usage reported by the court's CM/ECF (the caller checked the clerk
    or the key).

    With ``idempotency_key`` (the court system's own id of the item) the charge is recorded
    once per court and key: a retry answers the first charge and records nothing (no charge,
    no audit event); the same key with different usage is ``IDEMPOTENCY_KEY_REUSED``. The
    database's UNIQUE(court_id, idempotency_key) decides between retries racing on workers.
    """
    if idempotency_key is not None and not IDEMPOTENCY_KEY_RE.fullmatch(idempotency_key):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "An idempotency key is 1 to 128 printable characters, without spaces.",
            "idempotencyKey",
        )
    number = account_number.strip()
    account = (
        await PacerAccount.get_or_none(account_number=number) if ACCOUNT_NUMBER_RE.match(number) else None
    )
    if account is None:
        raise NotFound("No PACER account has that account number.", "accountNumber")
    if recorder.account_id == account.id:
        raise Forbidden(
            "You may not record usage on your own PACER account: the court's system or another clerk must.",
            "accountNumber",
        )
    if not 0 <= pages <= MAX_PAGES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"pages must be between 0 and {MAX_PAGES}.", "pages")
    client_code = check_client_code(client_code)
    if description is not None and len(description) > 500:
        raise DomainError(ErrorCode.INVALID_INPUT, "A description is at most 500 characters.", "description")
    if description is not None:
        single_line(description, "description", "A usage's description")
    usage = {
        "account_id": account.id,
        "kind": kind,
        "pages": pages,
        "client_code": client_code,
        "description": description,
    }
    if idempotency_key is not None:
        first = await Charge.get_or_none(court_id=court.code, idempotency_key=idempotency_key)
        if first is not None:
            return _replayed(first, idempotency_key, **usage)
    given_code = client_code
    if client_code is None:
        # The session remembers the client code given at sign-in; charges carry it.
        session = (
            await Session.filter(account_id=account.id, client_code__isnull=False).order_by("-id").first()
        )
        client_code = session.client_code if session else None
    membership = await FirmMembership.get_or_none(account_id=account.id)
    amount = charge_cents(kind, pages)
    try:
        async with in_transaction() as conn:
            charge = await Charge.create(
                at=now(),
                court_id=court.code,
                account_id=account.id,
                firm_id=membership.firm_id if membership else None,
                kind=kind,
                pages=pages,
                client_code=client_code,
                description=description,
                amount_cents=amount,
                recorded_by_id=recorder.account_id,
                service_key_id=recorder.service_key_id,
                idempotency_key=idempotency_key,
                using_db=conn,
            )
            await audit.record(
                "billing.charge",
                actor_id=recorder.account_id,
                subject_id=account.id,
                court_code=court.code,
                detail=f"{kind.name} {pages} page(s), {amount} cents"
                + (f", item {idempotency_key}" if idempotency_key else ""),
                service_key_id=recorder.service_key_id,
                using_db=conn,
            )
    except IntegrityError:
        # Another worker recorded this key first: its charge is the answer.
        first = await Charge.get_or_none(court_id=court.code, idempotency_key=idempotency_key)
        if idempotency_key is None or first is None:
            raise
        return _replayed(first, idempotency_key, **{**usage, "client_code": given_code})
    return charge


def _replayed(first: Charge, idempotency_key: str, **usage: Any) -> Charge:
    if not _same_usage(first, **usage):
        raise DomainError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"The idempotency key {idempotency_key!r} was used at this court for different usage: send a "
            "new key for a new item.",
            "idempotencyKey",
        )
    return first


def _charges(statement: Statement) -> QuerySet[Charge]:
    quarter = statement.quarter
    if statement.firm_id is not None:
        return Charge.filter(firm_id=statement.firm_id, at__gte=quarter.start, at__lt=quarter.end)
    return Charge.filter(
        account_id=statement.account_id, firm_id__isnull=True, at__gte=quarter.start, at__lt=quarter.end
    )


async def _statement(
    quarter: Quarter, *, firm_id: int | None = None, account_id: int | None = None
) -> Statement:
    """The quarter's number of charges and their sum, in one statement on the charges' index."""
    scope, key = (
        ("firm_id = ?", firm_id)
        if firm_id is not None
        else ("account_id = ? AND firm_id IS NULL", account_id)
    )
    [(n, cents)] = await query(
        f"SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM charges WHERE {scope} AND at >= ? AND at < ?",
        [key, moment(quarter.start), moment(quarter.end)],
    )
    return Statement(quarter, int(cents), int(n), firm_id=firm_id, account_id=account_id)


async def firm_statement(firm: Firm, quarter: Quarter) -> Statement:
    """The firm's quarter, itemised by account and client code."""
    return await _statement(quarter, firm_id=firm.id)


async def account_statement(account: PacerAccount, quarter: Quarter) -> Statement:
    """An individual's quarter: the charges billed to the account itself (not to a firm)."""
    return await _statement(quarter, account_id=account.id)


async def statement_charges(statement: Statement) -> list[Charge]:
    """Every charge of the quarter: a firm's by account, client code and time; an account's
    by client code and time."""
    order = (
        ("client_code", "at", "id")
        if statement.firm_id is None
        else ("account_id", "client_code", "at", "id")
    )
    return list(await _charges(statement).order_by(*order))


async def charge_page(statement: Statement, win: Window) -> Page[Charge]:
    """A window of the quarter's charges in the order they were recorded (by time, ties by
    id), forward from ``win.after``: a keyset page on the charges' (firm or account, time)
    index, the same cost on any page."""
    query = _charges(statement)
    if win.after is not None:
        at = moments.from_text(str(win.after.key), "after")
        query = query.filter(Q(at__gt=at) | Q(at=at, id__gt=win.after.id))
    rows = list(await query.order_by("at", "id").limit(win.size + 1))
    shown = rows[: win.size]
    return Page(
        rows=shown,
        has_next=len(rows) > win.size,
        has_previous=win.after is not None,
        total_count=statement.charge_count,
        cursors=[Cursor(c.at.astimezone(dt.UTC).isoformat(), c.id) for c in shown],
    )
