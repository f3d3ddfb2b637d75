"""What is worked out from a parsed document, kept by the node's identity.

A parsed document is kept and reused for the same text (``request_errors.parse_document``), so
its nodes are the same objects from request to request. A cache keyed on a node itself would
hash it at every look-up, and graphql-core's nodes are dataclasses: hashing one walks every node
under it. ``ByIdentity`` keys on ``id(node)`` and holds the node, so the id cannot be reused
while the entry lives; ``also`` names what else the value depends on (the schema, the rules),
compared by equality (identity for a schema).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["ByIdentity"]

V = TypeVar("V")


class ByIdentity(Generic[V]):
    """Values by a node's identity; all forgotten at once past ``max_size``."""

    def __init__(self, max_size: int = 2048) -> None:
        self.max_size = max_size
        self._kept: dict[int, tuple[object, tuple[object, ...], V]] = {}

    def get(self, node: object, also: tuple[object, ...], make: Callable[[], V]) -> V:
        """The value kept for ``node`` and ``also``, else ``make()``'s, kept."""
        found = self._kept.get(id(node))
        if found is not None and found[0] is node and found[1] == also:
            return found[2]
        value = make()
        if len(self._kept) >= self.max_size:
            self._kept.clear()
        self._kept[id(node)] = (node, also, value)
        return value
