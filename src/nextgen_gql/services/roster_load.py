"""The bulk path of a roster import: many rows written, the kept counts and search index
brought up to date once, not once per row.

Every write to ``cmecf_accounts`` keeps the court's counts (``list_counts``, migrations 0011,
0013, 0015) and, on SQLite, its FTS5 trigram table (``cmecf_accounts_search``) through
triggers. Fired once per row, they cost an import most of its time (on PostgreSQL, where the
count triggers are per statement, one statement per row made them update the same few rows
once per row inside one transaction: quadratic). Here, inside the import's transaction:

- **PostgreSQL**: the rows go in by ``COPY`` a batch at a time; the statement triggers then
  add each batch to the counts once (their transition table holds the batch), and the
  ``pg_trgm`` GIN index is kept by the database as for any insert. Nothing is switched off,
  so a concurrent writer (another court's clerk linking an account) is counted by the same
  triggers as ever.
- **SQLite**: the two per-row insert triggers of the table (``INSERT_TRIGGERS``) are dropped
  at the start of the transaction, the rows inserted with ``executemany``, then the imported
  rows (ids above the table's largest before the import: SQLite has one writer, and this
  transaction holds the write lock from its first statement to its commit) are added to the
  counts in one statement and to the search index in another, and the triggers are created
  again from their own saved text. SQLite's DDL is transactional: a failed import rolls the
  drop back with everything else, and no other connection can write while the triggers are
  away (the write lock), nor sees them missing (it reads the last committed schema).
  When the table holds no row at all (a court's first import into a new database), its
  secondary indexes are dropped too and built again at the end, each in one sorted pass
  (``finish``): cheaper than keeping six B-trees in order row by row (100,000 rows: 0.37 s of
  1.17). The unique constraint's index stays: it still refuses what it must. Beside rows of
  other courts the indexes stay, as building them again would read every court's rows.

The counted lists are those the triggers keep (the latest migration's definitions, through
``counts.roster_contributions``); tests compare every kept count with a recount after imports
into empty and non-empty courts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from nextgen_gql.services.counts import roster_contributions

__all__ = ["COLUMNS", "INSERT_TRIGGERS", "RosterLoad"]

#: The columns an import writes, in the order of each row's tuple.
COLUMNS = (
    "court_id",
    "login",
    "login_key",
    "first_name",
    "last_name",
    "last_name_key",
    "search_text",
    "email",
    "role",
    "created_at",
    "cases",
    "password_hash",
)

#: SQLite's per-row triggers on inserted roster rows that the bulk path does the work of:
#: the kept counts (migration 0015) and the trigram search table (0011).
INSERT_TRIGGERS = ("cmecf_accounts_count_insert", "cmecf_accounts_search_insert")


class RosterLoad:
    """One court's rows written in bulk inside the caller's transaction ``conn``: ``start``,
    ``write`` each batch, ``finish`` (before the commit)."""

    def __init__(self, conn: BaseDBAsyncClient, court_code: str) -> None:
        self.conn = conn
        self.court_code = court_code
        self.sqlite = conn.capabilities.dialect == "sqlite"
        self.suspended: dict[str, str] = {}  # trigger name -> its CREATE statement
        self.dropped_indexes: dict[str, str] = {}  # index name -> its CREATE statement
        self.after_id = 0
        #: SQLite: the court held no row when this transaction took the write lock. No other
        #: writer can add one before the commit, so the only duplicates possible are within
        #: the file (which the importer catches): it need not ask the database.
        self.court_was_empty = False

    async def start(self) -> None:
        if not self.sqlite:
            # Each batch's duplicate check planned for its values: the cached generic plan,
            # made while the roster looked empty to the planner, scanned the whole growing table
            # once a batch (quadratic: 100,000 rows took 315 s, 30,000 took 20).
            await self.conn.execute_query("SET LOCAL plan_cache_mode = force_custom_plan")
            return
        _, found = await self.conn.execute_query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cmecf_accounts'"
            f" AND name IN ({', '.join('?' * len(INSERT_TRIGGERS))})",
            list(INSERT_TRIGGERS),
        )
        for row in found:
            self.suspended[str(row["name"])] = str(row["sql"])
            await self.conn.execute_query(f"DROP TRIGGER {row['name']}")
        # From here this transaction holds SQLite's write lock: every id above this one is ours.
        _, top = await self.conn.execute_query("SELECT COALESCE(MAX(id), 0) AS top FROM cmecf_accounts")
        self.after_id = int(top[0]["top"])
        _, held = await self.conn.execute_query(
            "SELECT EXISTS (SELECT 1 FROM cmecf_accounts WHERE court_id = ?) AS held", [self.court_code]
        )
        self.court_was_empty = not held[0]["held"]
        if self.after_id == 0:  # no row at all: the indexes are built once, at the end
            _, indexes = await self.conn.execute_query(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cmecf_accounts'"
                " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
            )
            for row in indexes:
                self.dropped_indexes[str(row["name"])] = str(row["sql"])
                await self.conn.execute_query(f'DROP INDEX "{row["name"]}"')

    def stamp(self, moment: dt.datetime) -> Any:
        """``created_at`` as ``write`` takes it: the date-time as SQLite stores it (UTC, ISO
        text: ``ordering.moment``), or as it is for PostgreSQL's ``COPY``."""
        return _sqlite_moment(moment) if self.sqlite else moment

    async def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """One batch of rows (tuples in ``COLUMNS`` order; ``created_at`` as ``stamp`` gives it)."""
        if not rows:
            return
        if self.sqlite:
            placeholders = ", ".join("?" * len(COLUMNS))
            await self.conn.execute_many(
                f"INSERT INTO cmecf_accounts ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                rows,  # type: ignore[arg-type]  # the driver takes any sequences of values
            )
            return
        raw: Any = self.conn._connection  # the transaction's asyncpg connection
        await raw.copy_records_to_table("cmecf_accounts", records=list(rows), columns=list(COLUMNS))

    async def finish(self) -> None:
        """SQLite: the imported rows counted and indexed, the indexes and triggers back (see
        the module)."""
        if not self.sqlite:
            return
        # The imported rows are read as a range of ids (``NOT INDEXED``: the table's own order,
        # not an index of the court's rows and a look-up of each), and for the counts only the
        # columns the counted lists read.
        if "cmecf_accounts_count_insert" in self.suspended:
            contributions = roster_contributions("r")
            read = ", ".join(sorted(set(re.findall(r"\br\.(\w+)", contributions))))
            await self.conn.execute_query(
                f"WITH r AS MATERIALIZED (SELECT {read} FROM cmecf_accounts NOT INDEXED"
                " WHERE id > ? AND court_id = ?)"
                " INSERT INTO list_counts (court_id, list, n)"
                f" SELECT court_id, k, SUM(d) FROM ({contributions}) AS c GROUP BY court_id, k"
                " ON CONFLICT (court_id, list) DO UPDATE SET n = n + excluded.n",
                [self.after_id, self.court_code],
            )
        if "cmecf_accounts_search_insert" in self.suspended:
            await self.conn.execute_query(
                "INSERT INTO cmecf_accounts_search (rowid, search_text)"
                " SELECT id, search_text FROM cmecf_accounts NOT INDEXED WHERE id > ? AND court_id = ?",
                [self.after_id, self.court_code],
            )
        for statement in self.dropped_indexes.values():
            await self.conn.execute_query(statement)
        self.dropped_indexes = {}
        for statement in self.suspended.values():
            await self.conn.execute_query(statement)
        self.suspended = {}


def _sqlite_moment(value: dt.datetime) -> str:
    """A date-time as SQLite stores it (UTC, ISO text: ``ordering.moment``)."""
    return value.astimezone(dt.UTC).isoformat(" ")
