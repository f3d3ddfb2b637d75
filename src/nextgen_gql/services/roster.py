"""A court's legacy CM/ECF roster, as its clerks see it."""

from __future__ import annotations

from dataclasses import replace

from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import CmecfAccount, CmecfLink, PacerAccount
from nextgen_gql.models.filing import LOGIN_MAX
from nextgen_gql.replica import data_read
from nextgen_gql.services import counts
from nextgen_gql.services.ordering import (
    KeysetPage,
    Sort,
    Window,
    keyset_page,
    page_of,
    query,
    rows_by_ids,
    search_condition,
    search_index,
)
from nextgen_gql.services.pagination import Page, page_size
from nextgen_gql.tenancy import Court

__all__ = ["ROSTER_ORDERS", "links_and_owners", "list_cmecf_accounts", "roster_sizes"]


#: The roster's orders (``CmecfAccountOrderField``), each read on its own index.
ROSTER_ORDERS = {
    "login": Sort("login_key"),
    "last_name": Sort("last_name_key"),
    "linked_at": Sort("linked_at", nullable=True, datetime=True),
}


@data_read
async def list_cmecf_accounts(
    court: Court,
    *,
    win: Window | None = None,
    search: str | None = None,
    linked: bool | None = None,
    order: str = "login",
    descending: bool = False,
) -> Page[CmecfAccount]:
    """A window of the court's legacy accounts in ``order`` (``ROSTER_ORDERS``, ties by id;
    ``linked_at``: unlinked accounts last either way); cursors carry the order's key and id.

    ``search`` matches login, names and email in any case (3 characters or more anywhere,
    through the trigram indexes; 1 or 2 characters at the start of the login or the last
    name: ``ordering.search_condition``); ``linked`` filters on linking.
    """
    found = await cmecf_window(
        court, win=win, search=search, linked=linked, order=order, descending=descending
    )
    return page_of(await rows_by_ids(CmecfAccount, found.ids), found)


@data_read
async def cmecf_window(
    court: Court,
    *,
    win: Window | None = None,
    search: str | None = None,
    linked: bool | None = None,
    order: str = "login",
    descending: bool = False,
) -> KeysetPage:
    """``list_cmecf_accounts``' window as ids and cursors, its rules and checks all applied,
    for a caller that reads the rows its own way (``rows.roster_entries``)."""
    win = win or Window(page_size(None))
    sort = replace(ROSTER_ORDERS[order], descending=descending)
    where, params = "court_id = ?", [court.code]
    searching = bool(search and search.strip())
    if search and searching:
        term = search.strip()
        if len(term) > LOGIN_MAX:
            raise DomainError(ErrorCode.INVALID_INPUT, f"search is at most {LOGIN_MAX} characters.", "search")
        condition, values = search_condition("cmecf_accounts", term, ["login_key", "last_name_key"])
        where += f" AND {condition}"
        params += values
    if linked is not None:
        where += " AND linked_at IS NOT NULL" if linked else " AND linked_at IS NULL"
    for cursor in (win.after, win.before):
        if cursor is not None and isinstance(cursor.key, str) and len(cursor.key) > 100:
            raise DomainError(ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", "after")
    # Unsearched, the list's size is kept (``counts``); searched, its matches are counted.
    total = None if searching else await counts.roster_count(court.code, linked)
    # Filtered on linking (unsearched), a page reads that side's partial index in its order
    # (migration 0011b): SQLite is told so, its statistics would pick (court_id, linked_at).
    # Searched for 3 characters or more, the trigram candidates come first (``search_index``).
    index = search_index(search.strip()) if search and searching else None
    if linked is not None and not searching and sort.column in ("login_key", "last_name_key"):
        index = f"cmecf_accounts_{'linked' if linked else 'unlinked'}_{sort.column}"
    return await keyset_page(
        "cmecf_accounts", where, params, sort, win, total=total, index=index, own_plan=searching
    )


async def roster_sizes() -> dict[str, int]:
    """Legacy CM/ECF accounts per court code, in one query (their kept counts)."""
    rows = await query("SELECT court_id, n FROM list_counts WHERE list = 'roster' AND n > 0", [])
    return {str(code): int(n) for code, n in rows}


@data_read
async def links_and_owners(rows: list[CmecfAccount]) -> tuple[dict[int, CmecfLink], dict[int, PacerAccount]]:
    """The links of a page of legacy accounts, and the PACER accounts they bind and that made
    them (by id): one statement, whatever the page holds."""
    found = await CmecfLink.filter(cmecf_account_id__in=[r.id for r in rows]).select_related(
        "account", "linked_by"
    )
    links = {link.cmecf_account_id: link for link in found}
    owners = {a.id: a for link in found for a in (link.account, link.linked_by)}
    return links, owners
