"""Ordered keyset pages, forward and backward, the same on SQLite and PostgreSQL.

A clerk's lists (the roster, the registrations, the audit trail) are read in one of a few
orders: by a column of the listed table (a login, a case-folded last name, a date-time),
ties broken by id, ascending or descending. Relay's arguments pick a window of that order:
``first``/``after`` forward, ``last``/``before`` backward (``Window``).

Rules that make an order the same on both databases:

- names compare on a stored, case-folded key (``fold``), byte for byte (SQLite's BINARY,
  PostgreSQL's ``COLLATE "C"`` on those columns: migration 0010);
- rows without a value (an unlinked legacy account under ``LINKED_AT``) come last in either
  direction, after every row with one, by id in the order's direction. The table is then
  read as two segments (rows with a value, rows without), each a range of the order's own
  index, joined in one statement (``UNION ALL``), so a page is one statement however it
  falls across them;
- a cursor carries the key and the id of its row, as read from the database (``Cursor``).

A page is then: one statement for the ids in order, one to count the rows (or read their
kept count: ``services.counts``), and the caller
reads its rows by id (``rows_by_ids``): a fixed number of statements for any page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import operator
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services import moments
from nextgen_gql.services.pagination import MAX_PAGE_SIZE, Page, page_size

__all__ = [
    "CANDIDATES_FIRST",
    "Cursor",
    "KeysetPage",
    "Sort",
    "Window",
    "contains",
    "execute",
    "fold",
    "keyset_page",
    "page_of",
    "query",
    "rows_by_ids",
    "search_condition",
    "search_copy",
    "search_index",
    "window",
]

M = TypeVar("M", bound=Model)
R = TypeVar("R")


def fold(text: str) -> str:
    """The key a name is ordered and searched by: case-folded (``"Müller"`` -> ``"müller"``,
    ``"STRAßE"`` -> ``"strasse"``), compared byte for byte on both databases."""
    return text.casefold()


def search_copy(*parts: str | None) -> str:
    """The stored text a list's ``search`` reads: its parts, case-folded, space-separated."""
    return fold(" ".join(part for part in parts if part))


#: Terms shorter than this are a prefix search on indexed keys; longer ones use the
#: databases' trigram indexes (SQLite FTS5 ``trigram``, PostgreSQL ``pg_trgm``).
TRIGRAM = 3


def search_condition(table: str, term: str, prefix_keys: Sequence[str]) -> tuple[str, list[Any]]:
    """The condition (SQL, parameters) of a list's ``search`` on ``table``'s ``search_text``
    (a ``search_copy``), the same rows on SQLite and PostgreSQL.

    A folded term of 3 characters or more is found anywhere in the text: on SQLite the FTS5
    trigram table ``{table}_search`` (migration 0011) gives the candidates, on PostgreSQL the
    pg_trgm GIN index serves the ``LIKE``; the ``LIKE`` on the folded copy decides on both.
    Shorter terms (too short for trigrams) are a prefix of one of ``prefix_keys``, folded
    keys with their (court, key) indexes, read as a range."""
    folded = fold(term)
    if len(folded) >= TRIGRAM:
        like = "search_text LIKE ? ESCAPE '\\'"
        if connections.get("default").capabilities.dialect == "sqlite":
            phrase = '"' + folded.replace('"', '""') + '"'
            return f"id IN (SELECT rowid FROM {table}_search WHERE {table}_search MATCH ?) AND {like}", [
                phrase,
                contains(folded),
            ]
        return like, [contains(folded)]
    ranges = " OR ".join(f"({key} >= ? AND {key} <= ?)" for key in prefix_keys)
    return f"({ranges})", [value for _ in prefix_keys for value in (folded, folded + "\U0010ffff")]


#: ``keyset_page``'s ``index`` for a trigram search: the page starts from the trigram
#: candidates whatever the planner knows. On SQLite the table is read by its ids alone
#: (``NOT INDEXED``): without statistics (a court just loaded in bulk) SQLite otherwise walked
#: the court's whole ``(court_id, key)`` index for the order and tested every row against the
#: FTS5 candidates (125 ms for a 5-row term at a court of 1,000,000, against 0.2 ms). On
#: PostgreSQL the order is written as an expression no index holds, so no plan can walk an
#: index in the order: the ``pg_trgm`` index (or, for a small court, the court's rows) gives
#: the matches, which are sorted.
CANDIDATES_FIRST = "NOT INDEXED"


def search_index(term: str) -> str | None:
    """``keyset_page``'s ``index`` for a list searched for ``term`` (``search_condition``):
    ``CANDIDATES_FIRST`` for a trigram term, None for a short one (a range of indexed keys)."""
    return CANDIDATES_FIRST if len(fold(term)) >= TRIGRAM else None


def _source(table: str, index: str | None) -> str:
    """``table`` as a statement reads it: on SQLite with its ``INDEXED BY`` or ``NOT INDEXED``
    (on PostgreSQL ``CANDIDATES_FIRST`` is in the order: ``_segment``)."""
    if index is None or connections.get("default").capabilities.dialect != "sqlite":
        return table
    return f"{table} NOT INDEXED" if index == CANDIDATES_FIRST else f"{table} INDEXED BY {index}"


def contains(term: str) -> str:
    """A ``LIKE ? ESCAPE '\\'`` pattern matching ``term`` anywhere, its own % and _ literal."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Sort:
    """An order of a table's rows: by ``column`` (None: by id alone), ties by id, in one
    direction. ``nullable``: rows without a value come last in either direction."""

    column: str | None = None
    descending: bool = False
    nullable: bool = False
    datetime: bool = False  # the column holds date-times (cursors carry them as ISO text)


@dataclass(frozen=True)
class Cursor:
    """A row's place in an order: its key (None under a nullable order when it has none) and id."""

    key: Any
    id: int


@dataclass(frozen=True)
class Window:
    """Which rows of an order a page holds, from Relay's arguments: ``size`` rows after
    ``after`` (forward), or the ``size`` rows just before ``before`` (``backward``)."""

    size: int
    after: Cursor | None = None
    before: Cursor | None = None
    backward: bool = False


def window(
    *,
    first: int | None,
    after: Cursor | None,
    last: int | None,
    before: Cursor | None,
) -> Window:
    """Relay's arguments, checked: page forward with ``first``/``after`` or backward with
    ``last``/``before``, not both (``INVALID_INPUT``); at most ``MAX_PAGE_SIZE`` rows."""
    backward = last is not None or before is not None
    if backward and (first is not None or after is not None):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Page forward with first and after, or backward with last and before, not both.",
            "last" if last is not None else "before",
        )
    if not backward:
        return Window(page_size(first), after=after)
    if last is not None and not 1 <= last <= MAX_PAGE_SIZE:
        raise DomainError(ErrorCode.INVALID_INPUT, f"last must be between 1 and {MAX_PAGE_SIZE}.", "last")
    return Window(page_size(last), before=before, backward=True)


@dataclass(frozen=True)
class KeysetPage:
    """The ids of a page in the order, with each row's cursor, and where the page sits."""

    ids: list[int]
    cursors: list[Cursor]
    has_next: bool
    has_previous: bool
    total_count: int
    #: The ``also`` column of each row, when asked for (``keyset_page``).
    also: list[Any] = field(default_factory=list)


@functools.cache
def _dollars(sql: str) -> str:
    count = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


async def query(
    sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None
) -> list[Sequence[Any]]:
    """The rows of one statement (``?`` placeholders on either database), as tuples; on
    ``conn`` (a transaction's) when given."""
    conn = conn or connections.get("default")
    if conn.capabilities.dialect == "postgres":
        sql = _dollars(sql)
    _, rows = await conn.execute_query(sql, list(params))
    return [tuple(r.values()) if hasattr(r, "values") else tuple(r) for r in rows]


@contextlib.asynccontextmanager
async def own_plans(enabled: bool = True) -> AsyncIterator[None]:
    """Statements run inside are planned for their values on every run, never with the generic
    plan PostgreSQL caches for a prepared statement after five runs: one transaction with
    ``plan_cache_mode`` at ``force_custom_plan`` for its length alone. Elsewhere, or not
    ``enabled``, nothing. A search needs it: the generic plan knows neither the court (one
    court may hold a million legacy accounts, most a few thousand) nor the term, and at
    national size it read the court's whole index beside the trigram index (64 ms against 41,
    ``bench/scale.py``)."""
    conn = connections.get("default")
    if not enabled or conn.capabilities.dialect != "postgres":
        yield
        return
    async with in_transaction(conn.connection_name) as planned:
        await planned.execute_query("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


async def execute(sql: str, params: Sequence[Any], conn: BaseDBAsyncClient | None = None) -> int:
    """One ``INSERT``, ``UPDATE`` or ``DELETE`` (``?`` placeholders on either database), on
    ``conn`` when given; the rows it changed (not counting what triggers changed: SQLite's
    count includes those, so there the changed rows are returned and counted)."""
    conn = conn or connections.get("default")
    if conn.capabilities.dialect == "postgres":
        if sql.lstrip().upper().startswith("INSERT"):
            # Tortoise's asyncpg client reads an INSERT's count from its status's OID field
            # ("INSERT 0 n" gives 0): count the rows it returns instead.
            return len(await conn.execute_query_dict(_dollars(f"{sql} RETURNING 1"), list(params)))
        changed, _ = await conn.execute_query(_dollars(sql), list(params))
        return int(changed)
    return len(await query(f"{sql} RETURNING 1", params, conn))


def moment(value: dt.datetime) -> object:
    """A date-time as a statement parameter compared with stored ones: in UTC, and on SQLite
    as the text it is stored as."""
    value = value.astimezone(dt.UTC)
    if connections.get("default").capabilities.dialect == "sqlite":
        return value.isoformat(" ")
    return value


def _param(sort: Sort, key: Any) -> Any:
    """A cursor's key as a statement parameter (date-times travel as ISO text in cursors,
    read and checked by ``keyset_page``)."""
    if sort.datetime and isinstance(key, dt.datetime):
        return moment(key)
    return key


def _segment(
    table: str,
    where: str,
    params: list[Any],
    sort: Sort,
    *,
    descending: bool,
    with_value: bool | None,
    past: Cursor | None,
    limit: int,
    tag: int,
    index: str | None = None,
    also: str | None = None,
) -> tuple[str, list[Any]]:
    """One index range of the order: the rows with a value (``with_value``), or without
    (False), or all (None: the column is never null), past ``past`` in ``descending``."""
    column = sort.column
    conditions, values = [where], list(params)
    if column is not None and with_value is not None:
        conditions.append(f"{column} IS NOT NULL" if with_value else f"{column} IS NULL")
    beyond = "<" if descending else ">"
    if past is not None:
        if column is None or with_value is False:
            conditions.append(f"id {beyond} ?")
            values.append(past.id)
        else:
            key = _param(sort, past.key)
            conditions.append(f"({column} {beyond} ? OR ({column} = ? AND id {beyond} ?))")
            values += [key, key, past.id]
    direction = "DESC" if descending else "ASC"
    # PostgreSQL, a trigram search: the order as an expression no index holds (the same order:
    # COALESCE(x, x) is x), so the page is the candidates sorted, never an index walked in the
    # order and filtered row by row (``CANDIDATES_FIRST``).
    by = (
        (lambda name: f"COALESCE({name}, {name})")
        if index == CANDIDATES_FIRST and connections.get("default").capabilities.dialect != "sqlite"
        else (lambda name: name)
    )
    if column is None:
        order, key_column = f"{by('id')} {direction}", "NULL"
    else:  # without a value, the column reads NULL (typed, as the other segment's)
        order, key_column = (
            (f"{by(column)} {direction}, " if with_value is not False else "") + f"{by('id')} {direction}",
            column,
        )
    source = _source(table, index)
    sql = (
        f"SELECT {tag} AS seg, id, {key_column} AS k{f', {also} AS a' if also else ''} FROM {source}"
        f" WHERE {' AND '.join(conditions)}"
        f" ORDER BY {order} LIMIT ?"
    )
    return sql, [*values, limit]


def _cursor_key(sort: Sort, value: Any) -> Any:
    if sort.datetime and value is not None:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    return value


#: A filtered list read from its start reads up to this many matches with its page, so that
#: a selective filter (a search that finds a few hundred accounts) needs no count statement.
COUNTED_IN_PAGE = 1000


async def keyset_page(
    table: str,
    where: str,
    params: Sequence[Any],
    sort: Sort,
    win: Window,
    *,
    total: int | None = None,
    index: str | None = None,
    also: str | None = None,
    own_plan: bool = False,
) -> KeysetPage:
    """The window of ``table``'s rows matching ``where`` (SQL with ``?`` placeholders, on
    columns of that table alone) in ``sort``: ids, cursors, and whether rows lie beyond.
    ``total``: the rows' number when the caller knows it (a kept count, ``services.counts``);
    otherwise they are counted (a filtered list: the count grows with its matches), unless
    the list is read from its start: then up to ``COUNTED_IN_PAGE`` matches are read in the
    page's own statement, and a filter with no more matches than that (a selective search)
    is counted from them, in one statement.
    ``index``: on SQLite, the index the page must be read by (``INDEXED BY``), where its
    planner's statistics would pick a shorter index and sort every match (a partial index
    of the roster's ``linked`` filter), or ``CANDIDATES_FIRST`` (a trigram search: its
    candidates first, on either database); PostgreSQL's planner needs no other hint. ``also``: a column
    read with each id (``KeysetPage.also``), e.g. the partition key that lets the rows be read
    from their partitions alone (``rows_by_ids``'s ``within``). ``own_plan``: the page and its
    count are planned for their values (``own_plans``), as a search's must be.

    ``table`` and ``where`` come from the service's code, never from a client."""
    params = list(params)
    limit = win.size + 1
    past = win.before if win.backward else win.after
    if past is not None and sort.datetime and isinstance(past.key, str):
        # A cursor's date-time is the caller's text: one that names no moment we can compare
        # (year 1 with an offset) is refused here, naming the argument, before any statement.
        field = "before" if win.backward else "after"
        past = Cursor(moments.from_text(past.key, field), past.id)
    if total is None and past is None:
        limit = max(limit, COUNTED_IN_PAGE + 1)
    # Walking backward is walking the reverse order forward from ``before``.
    descending = sort.descending != win.backward
    if sort.column is None or not sort.nullable:
        plan: list[tuple[bool | None, Cursor | None]] = [(None, past)]
    else:
        # The order: rows with a value, then rows without; walked backward, the reverse. A
        # cursor starts in its own segment; the segments after it are read from their start.
        segments = [True, False] if not win.backward else [False, True]
        if past is None:
            plan = [(with_value, None) for with_value in segments]
        else:
            at = segments.index(past.key is not None)
            plan = [(segments[at], past)] + [(with_value, None) for with_value in segments[at + 1 :]]
    pieces = [
        _segment(
            table,
            where,
            params,
            sort,
            descending=descending,
            with_value=with_value,
            past=start,
            limit=limit,
            tag=tag,
            index=index,
            also=also,
        )
        for tag, (with_value, start) in enumerate(plan)
    ]
    sql = " UNION ALL ".join(f"SELECT * FROM ({text}) AS s{i}" for i, (text, _) in enumerate(pieces))
    direction = "DESC" if descending else "ASC"
    if len(pieces) > 1:
        columns = "seg, id, k, a" if also else "seg, id, k"
        sql = f"SELECT {columns} FROM ({sql}) AS u ORDER BY seg, k {direction}, id {direction} LIMIT ?"
    async with own_plans(own_plan):
        found = await query(
            sql, [p for _, values in pieces for p in values] + ([limit] if len(pieces) > 1 else [])
        )
        if total is None and past is None and len(found) < limit:
            # Read from the start, every match was read: they are the count.
            total = len(found)
        if total is None:
            total = int(
                (await query(f"SELECT COUNT(*) FROM {_source(table, index)} WHERE {where}", params))[0][0]
            )
    rows = found[: win.size]
    more = len(found) > win.size
    if win.backward:
        rows = rows[::-1]
    ids = [int(r[1]) for r in rows]
    cursors = [Cursor(_cursor_key(sort, r[2]) if sort.column is not None else None, int(r[1])) for r in rows]
    extra = [r[3] for r in rows] if also else []
    if win.backward:
        return KeysetPage(
            ids, cursors, has_next=win.before is not None, has_previous=more, total_count=total, also=extra
        )
    return KeysetPage(
        ids, cursors, has_next=more, has_previous=win.after is not None, total_count=total, also=extra
    )


async def rows_by_ids(
    model: type[M], ids: Iterable[int], *, within: tuple[str, Sequence[Any]] | None = None
) -> list[M]:
    """The models of these ids, in the order given (one statement). ``within``: a date-time
    column and the rows' values of it (``KeysetPage.also``): the statement is bounded by their
    range, so that on a table partitioned by that column (the audit trail on PostgreSQL) only
    the partitions holding the rows are read."""
    wanted = list(ids)
    if not wanted:
        return []
    bounds: dict[str, Any] = {}
    # (SQLite stores date-times as text and has no partitions: nothing to bound there.)
    if within is not None and within[1] and connections.get("default").capabilities.dialect == "postgres":
        column, values = within
        moments = [v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(v) for v in values]
        moments = [m if m.tzinfo else m.replace(tzinfo=dt.UTC) for m in moments]
        bounds = {f"{column}__gte": min(moments), f"{column}__lte": max(moments)}
    found = {row.pk: row for row in await model.filter(id__in=wanted, **bounds)}
    return [found[i] for i in wanted if i in found]


def page_of(
    rows: Sequence[R], found: KeysetPage, id_of: Callable[[R], int] = operator.attrgetter("id")
) -> Page[R]:
    """The rows of ``found`` (read by id, in its order: models, or ``services.rows``' plain
    rows, whose id ``id_of`` tells) as a page with their cursors."""
    kept = {id_of(row) for row in rows}
    return Page(
        rows=rows,
        has_next=found.has_next,
        has_previous=found.has_previous,
        total_count=found.total_count,
        # A row deleted in between is left out of both.
        cursors=[c for c in found.cursors if c.id in kept],
    )
