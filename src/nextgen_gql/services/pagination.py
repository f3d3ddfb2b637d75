"""Keyset pages: stable under inserts, and as fast on page 1,000 as on page 1."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from nextgen_gql.errors import DomainError, ErrorCode

__all__ = ["MAX_PAGE_SIZE", "Page", "page_size"]

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


def page_size(first: int | None) -> int:
    """``first`` checked against the cap: at least 1, at most ``MAX_PAGE_SIZE``."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise DomainError(ErrorCode.INVALID_INPUT, f"first must be between 1 and {MAX_PAGE_SIZE}.", "first")
    return first
