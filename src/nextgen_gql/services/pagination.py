"""Keyset pages: stable under inserts, and as fast on page 1,000 as on page 1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from nextgen_gql.errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from tortoise.models import Model
    from tortoise.queryset import QuerySet

M = TypeVar("M", bound="Model")

__all__ = ["MAX_PAGE_SIZE", "Page", "id_page", "id_window", "page_size"]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, in order; ``has_next`` tells whether more follow the last."""

    rows: Sequence[T]
    has_next: bool
    has_previous: bool
    total_count: int
    #: Each row's place in its order (``ordering.Cursor``), when the page was read in one.
    cursors: Sequence[Any] = ()


def page_size(first: int | None) -> int:
    """``first`` checked against the cap: at least 1, at most ``MAX_PAGE_SIZE``."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise DomainError(ErrorCode.INVALID_INPUT, f"first must be between 1 and {MAX_PAGE_SIZE}.", "first")
    return first


async def id_page(
    query: QuerySet[M],
    *,
    first: int | None,
    after: int | None,
    newest_first: bool = False,
    total: int | None = None,
) -> Page[M]:
    """A keyset page of ``query`` by row id (ascending, or descending with ``newest_first``);
    ``after`` is the id of the last row seen; ``total_count`` counts the whole query, unless
    the caller knows it (``total``: a kept count, ``services.counts``)."""
    size, total, window = await _window(query, first, after, newest_first, total)
    rows = await window.limit(size + 1)
    return Page(
        rows=rows[:size], has_next=len(rows) > size, has_previous=after is not None, total_count=total
    )


async def id_window(
    query: QuerySet[M],
    *,
    first: int | None,
    after: int | None,
    newest_first: bool = False,
    total: int | None = None,
) -> Page[int]:
    """``id_page``'s page as the rows' ids only, for a caller that reads the rows its own way
    (the compiled GraphQL path reads them as plain rows: ``services.rows``)."""
    size, total, window = await _window(query, first, after, newest_first, total)
    found: Sequence[Any] = await window.limit(size + 1).values_list("id", flat=True)
    ids = [int(i) for i in found]
    return Page(rows=ids[:size], has_next=len(ids) > size, has_previous=after is not None, total_count=total)


async def _window(
    query: QuerySet[M], first: int | None, after: int | None, newest_first: bool, total: int | None
) -> tuple[int, int, QuerySet[M]]:
    """The page's size, the query's count, and the query in its order past ``after``."""
    size = page_size(first)
    if total is None:
        total = await query.count()
    if after is not None:
        query = query.filter(id__lt=after) if newest_first else query.filter(id__gt=after)
    return size, total, query.order_by("-id" if newest_first else "id")
