"""How a resolved value becomes JSON: the output type's wrappers, outermost first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import Undefined

__all__ = ["Completer", "Fallback", "Typed", "completer"]


class Fallback(Exception):
    """This request's answer is not the compiled path's to give: use the reference executor."""


class Typed(NamedTuple):
    """A value of an interface type (``Node``): the object and the name of its type."""

    type_name: str
    source: Any


Completer = Callable[[Any, list[Any], list[dict[str, Any]]], Any]


def completer(wrappers: tuple[str, ...], serialize: Callable[[Any], Any] | None) -> Completer:
    """Completes a value (``None`` or a leaf, an object, a list) for one field; objects are
    handed to the child plan through ``sources`` and ``outs``."""
    return _wrap(wrappers, serialize)


def _wrap(wrappers: tuple[str, ...], serialize: Callable[[Any], Any] | None) -> Completer:
    if not wrappers:
        if serialize is None:

            def complete_object(value: Any, sources: list[Any], outs: list[dict[str, Any]]) -> Any:
                if value is None:
                    return None
                out: dict[str, Any] = {}
                sources.append(value)
                outs.append(out)
                return out

            return complete_object
        leaf = serialize

        def complete_leaf(value: Any, sources: list[Any], outs: list[dict[str, Any]]) -> Any:
            if value is None:
                return None
            result = leaf(value)
            if result is None or result is Undefined:
                raise Fallback("a leaf did not serialize")
            return result

        return complete_leaf
    inner = _wrap(wrappers[1:], serialize)
    if wrappers[0] == "non_null":

        def complete_non_null(value: Any, sources: list[Any], outs: list[dict[str, Any]]) -> Any:
            result = inner(value, sources, outs)
            if result is None:
                raise Fallback("null where the schema says non-null")
            return result

        return complete_non_null

    def complete_list(value: Any, sources: list[Any], outs: list[dict[str, Any]]) -> Any:
        if value is None:
            return None
        return [inner(item, sources, outs) for item in value]

    return complete_list
