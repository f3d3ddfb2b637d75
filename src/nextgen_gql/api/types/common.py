"""Types every domain uses: the ``Node`` interface and ``PageInfo``."""

from __future__ import annotations

import strawberry

__all__ = ["Node", "PageInfo"]


@strawberry.interface(description="An object with an opaque global id; `node(id:)` fetches it.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")


@strawberry.type(description="Where a page of a connection sits.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None
