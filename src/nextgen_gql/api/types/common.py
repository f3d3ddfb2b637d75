"""Types every domain uses: the ``Node`` interface and ``PageInfo``; and how an enum's
values get their descriptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

__all__ = ["Node", "PageInfo", "describe_values"]


def describe_values(enum_type: Any, descriptions: Mapping[str, str]) -> Any:
    """Describe every value of a Strawberry enum made from a plain ``str`` enum of the domain
    (``strawberry.enum_value`` on the domain enum would change its values: STACK.md). Every
    value must be described, and nothing else."""
    definition = enum_type.__strawberry_definition__
    names = {value.name for value in definition.values}
    if names != set(descriptions):
        raise ValueError(
            f"{definition.name}: describe exactly its values; missing {sorted(names - set(descriptions))}, "
            f"unknown {sorted(set(descriptions) - names)}"
        )
    for value in definition.values:
        value.description = descriptions[value.name]
    return enum_type


@strawberry.interface(description="An object with an opaque global id; `node(id:)` fetches it.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")


@strawberry.type(description="Where a page of a connection sits, and how to reach its neighbours.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether rows follow this page (page on with first and after: endCursor)."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether rows come before this page (page back with last and before: startCursor)."
    )
    start_cursor: str | None = strawberry.field(description="The first edge's cursor; null on an empty page.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor; null on an empty page.")
