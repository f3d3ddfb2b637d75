"""A court's unlinked legacy accounts as CSV, for its clerks and ``READ_ROSTER`` keys.

Read in keyset batches along the roster's partial index of unlinked accounts (login order,
``cmecf_accounts_unlinked_login_key``, migration 0011b) and written a batch at a time, so a
1,000,000-row roster streams in the memory of one batch (bench/export_memory.py measures it).
Columns (docs/reference.md, "Export files"): ``login,first_name,last_name,email,role,cases,reminded_at``; ``role``
as the API spells it (``ATTORNEY``), ``cases`` separated by ``;``, ``reminded_at`` in ISO 8601
UTC (empty when never reminded). A cell that a spreadsheet would read as a formula (starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written after a ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from typing import Any

from tortoise import connections

from nextgen_gql.enums import FilerRole
from nextgen_gql.services.ordering import query

__all__ = ["COLUMNS", "EXPORT_BATCH", "unlinked_csv"]

COLUMNS = ("login", "first_name", "last_name", "email", "role", "cases", "reminded_at")
#: Rows read (and written) at a time.
EXPORT_BATCH = 1000

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def _moment(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    moment: dt.datetime = value
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def unlinked_csv(court_code: str, *, batch: int = EXPORT_BATCH) -> AsyncIterator[bytes]:
    """The CSV, UTF-8, a header row and then a chunk per batch."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield out.getvalue().encode()
    source = "cmecf_accounts"
    if connections.get("default").capabilities.dialect == "sqlite":
        source += " INDEXED BY cmecf_accounts_unlinked_login_key"
    after: tuple[str, int] | None = None
    while True:
        where = "court_id = ? AND linked_at IS NULL"
        params: list[Any] = [court_code]
        if after is not None:
            where += " AND (login_key > ? OR (login_key = ? AND id > ?))"
            params += [after[0], after[0], after[1]]
        rows = await query(
            f"SELECT login_key, id, login, first_name, last_name, email, role, cases, reminded_at FROM {source}"
            f" WHERE {where} ORDER BY login_key, id LIMIT ?",
            [*params, batch],
        )
        if not rows:
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for r in rows:
            writer.writerow(
                [
                    _cell(str(r[2])),
                    _cell(str(r[3])),
                    _cell(str(r[4])),
                    _cell(str(r[5] or "")),
                    FilerRole(r[6]).name,
                    _cell(str(r[7] or "")),
                    _moment(r[8]),
                ]
            )
        yield out.getvalue().encode()
        if len(rows) < batch:
            return
        after = (str(rows[-1][0]), int(rows[-1][1]))
