"""The root fields an operation runs, through its fragments: what the gates that look at a
whole operation before it runs decide on (``api.enrolment``, ``oidc.access`` by way of
``Context.authenticate_app``).

``@skip`` and ``@include`` are not evaluated: a field that may run counts.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

__all__ = ["fragments_of", "root_fields"]

#: Stands for a fragment spread whose fragment is not known: a field no gate allows.
UNKNOWN_FRAGMENT = "...?"


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _collect(
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode] | None,
    seen: set[str],
    found: set[str],
) -> None:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            found.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            _collect(selection.selection_set, fragments, seen, found)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name) if fragments is not None else None
            if fragment is None:
                found.add(UNKNOWN_FRAGMENT)
            elif name not in seen:
                seen.add(name)
                _collect(fragment.selection_set, fragments, seen, found)


def root_fields(
    document: DocumentNode | None,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode] | None = None,
) -> frozenset[str]:
    """The names of the fields at ``operation``'s root, its fragments' included (from
    ``fragments``, else ``document``'s); a spread of an unknown fragment adds ``UNKNOWN_FRAGMENT``."""
    if fragments is None and document is not None:
        fragments = fragments_of(document)
    found: set[str] = set()
    _collect(operation.selection_set, fragments, set(), found)
    return frozenset(found)
