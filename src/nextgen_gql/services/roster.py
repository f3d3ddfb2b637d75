"""A court's legacy CM/ECF roster, as its clerks see it."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import CmecfAccount, CmecfLink, PacerAccount
from nextgen_gql.models.filing import LOGIN_MAX
from nextgen_gql.services.pagination import Page, page_size
from nextgen_gql.tenancy import Court

__all__ = ["links_and_owners", "list_cmecf_accounts", "roster_sizes"]


async def list_cmecf_accounts(
    court: Court,
    *,
    first: int | None = None,
    after: tuple[str, int] | None = None,
    search: str | None = None,
    linked: bool | None = None,
) -> Page[CmecfAccount]:
    """The court's legacy accounts ordered by login; ``after`` is the (login_key, id) of a row.

    ``search`` matches login, names and email in any case; ``linked`` filters on linking.
    """
    size = page_size(first)
    query = CmecfAccount.filter(court_id=court.code)
    if search and search.strip():
        term = search.strip()
        if len(term) > LOGIN_MAX:
            raise DomainError(ErrorCode.INVALID_INPUT, f"search is at most {LOGIN_MAX} characters.", "search")
        query = query.filter(
            Q(login_key__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
        )
    if linked is not None:
        linked_ids = Subquery(CmecfLink.filter(court_id=court.code).values("cmecf_account_id"))
        query = query.filter(id__in=linked_ids) if linked else query.exclude(id__in=linked_ids)
    total = await query.count()
    if after is not None:
        key, last_id = after
        if len(key) > LOGIN_MAX:
            raise DomainError(ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", "after")
        query = query.filter(Q(login_key__gt=key) | Q(login_key=key, id__gt=last_id))
    rows = await query.order_by("login_key", "id").limit(size + 1)
    return Page(
        rows=rows[:size], has_next=len(rows) > size, has_previous=after is not None, total_count=total
    )


async def roster_sizes() -> dict[str, int]:
    """Legacy CM/ECF accounts per court code, in one query."""
    rows = await CmecfAccount.annotate(n=Count("id")).group_by("court_id").values_list("court_id", "n")
    return {str(code): int(n) for code, n in rows}


async def links_and_owners(rows: list[CmecfAccount]) -> tuple[dict[int, CmecfLink], dict[int, PacerAccount]]:
    """The links of a page of legacy accounts, and the PACER accounts they bind and that made
    them (by id): two queries."""
    links = {
        link.cmecf_account_id: link
        for link in await CmecfLink.filter(cmecf_account_id__in=[r.id for r in rows])
    }
    owner_ids = {link.account_id for link in links.values()} | {link.linked_by_id for link in links.values()}
    owners = {a.id: a for a in await PacerAccount.filter(id__in=owner_ids)} if owner_ids else {}
    return links, owners
