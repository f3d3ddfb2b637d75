"""The service's limits on a document, each measured in one pass over it.

A document is refused before it runs when an operation nests deeper than ``max_depth``
(``QUERY_TOO_DEEP``), holds more aliases than ``max_aliases`` (``TOO_MANY_ALIASES``),
reaches more fragment spreads than ``max_fragment_spreads`` (``TOO_MANY_FRAGMENT_SPREADS``),
merges more than ``max_field_repeats`` fields into one response key
(``TOO_MANY_REPEATED_FIELDS``), or spreads more than ``max_field_repeats`` fragments into
one selection set (``TOO_MANY_FRAGMENT_SPREADS``). The first limit broken is the answer.

Every measure counts what execution would see, fragments expanded where they are spread
(a fragment spread twice counts twice), yet measures each fragment once and remembers it:
``query{...F20}`` with ``fragment Fk on Query{...F(k-1) ...F(k-1)}`` reaches 2^21 spreads,
counted in 21 steps. Strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk
every spread again (that document took 9 s to validate), hence these rules.

The limits also guard graphql-core's own rules: ``OverlappingFieldsCanBeMergedRule``
compares every pair of fields merged into one response key and every pair of fragments
spread into one selection set (quadratic: 280 copies of ``me{firm{admins{id}}}`` took
1.2 s), and every rule costs time per node. ``request_errors.validate`` runs these limits
first, without a visitor, and the specification's rules only for a document within them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.language.visitor import SKIP
from graphql.validation import ASTValidationRule

from nextgen_gql.api.request_errors import RequestErrorCode, with_code

__all__ = [
    "DocumentLimit",
    "aliases",
    "depth",
    "document_limits",
    "fragment_spreads",
    "most_merged",
]


class _Merge(NamedTuple):
    merged: int
    path: str
    node: Node | None


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _operation_name(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name is not None else "anonymous"


class _PerFragment:
    """A measure of selection sets, summed or maxed over selections, kept per fragment.

    ``field`` gives what a field adds given its inner measure (None: a leaf); ``combine``
    joins the measures of a selection set's selections (``sum`` or ``max``); ``spread``
    what a fragment spread adds to its fragment's measure. A fragment reached while it is
    being measured (a cycle, refused by the specification's rules) counts nothing."""

    def __init__(
        self,
        document: DocumentNode,
        field: Callable[[FieldNode, int | None], int],
        combine: Callable[[list[int]], int],
        spread: Callable[[int], int] = lambda inner: inner,
    ) -> None:
        self.fragments = _fragments(document)
        self.field = field
        self.combine = combine
        self.spread = spread
        self.known: dict[str, int] = {}
        self.active: set[str] = set()

    def of(self, selection_set: SelectionSetNode) -> int:
        values = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.of(selection.selection_set) if selection.selection_set is not None else None
                values.append(self.field(selection, inner))
            elif isinstance(selection, InlineFragmentNode):
                values.append(self.of(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                values.append(self.spread(self._fragment(selection.name.value)))
        return self.combine(values) if values else 0

    def _fragment(self, name: str) -> int:
        known = self.known.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return 0
        self.active.add(name)
        value = self.of(fragment.selection_set)
        self.active.discard(name)
        self.known[name] = value
        return value


def _max(values: list[int]) -> int:
    return max(values)


def _sum(values: list[int]) -> int:
    return sum(values)


def depth(document: DocumentNode) -> dict[str, int]:
    """Each operation's depth: the most fields with a selection set on one path (a leaf
    counts nothing, introspection fields nothing), as Strawberry's ``QueryDepthLimiter``."""

    def field(node: FieldNode, inner: int | None) -> int:
        if inner is None or node.name.value.startswith("__"):
            return 0
        return 1 + inner

    measure = _PerFragment(document, field, _max)
    return {_operation_name(op): measure.of(op.selection_set) for op in _operations(document)}


def aliases(document: DocumentNode) -> int:
    """Aliased fields in the document's operations, each fragment's counted where it is spread
    (as Strawberry's ``MaxAliasesLimiter`` counts)."""

    def field(node: FieldNode, inner: int | None) -> int:
        return (1 if node.alias is not None else 0) + (inner or 0)

    measure = _PerFragment(document, field, _sum)
    return sum(measure.of(op.selection_set) for op in _operations(document))


def fragment_spreads(document: DocumentNode) -> int:
    """Fragment spreads the document's operations reach, each fragment's own counted again
    wherever it is spread (what inlining every fragment would write)."""
    measure = _PerFragment(document, lambda node, inner: inner or 0, _sum, spread=lambda inner: 1 + inner)
    return sum(measure.of(op.selection_set) for op in _operations(document))


def most_merged(document: DocumentNode) -> tuple[_Merge, _Merge]:
    """The most fields merged into one response key, and the most fragments spread into one
    selection set: each with the path and a node to point at.

    Fields are merged as execution (and ``OverlappingFieldsCanBeMergedRule``) merges them:
    per response path, through inline fragments and fragment spreads (a fragment once per
    selection set however often it is spread there), whatever the type conditions say.
    Each merged group of selection sets is walked once."""
    fragments = _fragments(document)
    walked: set[tuple[int, ...]] = set()
    fields = _Merge(0, "", None)
    spreads = _Merge(0, "", None)

    def collect(
        selection_set: SelectionSetNode, into: dict[str, list[FieldNode]], spread: dict[str, Node]
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias is not None else selection.name.value
                into.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                collect(selection.selection_set, into, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in spread:
                    spread[name] = selection
                    collect(fragment.selection_set, into, spread)

    # An explicit stack, not recursion: a path is as deep as the document nests.
    pending: list[tuple[str, tuple[SelectionSetNode, ...]]] = [
        (_operation_name(op), (op.selection_set,)) for op in _operations(document)
    ]
    while pending:
        path, sets = pending.pop()
        key = tuple(sorted({id(s) for s in sets}))
        if key in walked:
            continue
        walked.add(key)
        merged: dict[str, list[FieldNode]] = {}
        spread: dict[str, Node] = {}
        for selection_set in {id(s): s for s in sets}.values():
            collect(selection_set, merged, spread)
        if len(spread) > spreads.merged:
            spreads = _Merge(len(spread), path, next(iter(spread.values())))
        for response_key, nodes in merged.items():
            if len(nodes) > fields.merged:
                fields = _Merge(len(nodes), f"{path}.{response_key}", nodes[0])
            inner = tuple(n.selection_set for n in nodes if n.selection_set is not None)
            if inner:
                pending.append((f"{path}.{response_key}", inner))
    return fields, spreads


class DocumentLimit(ASTValidationRule):
    """A limit measured on the whole document at once (``errors``), coded. In a rule set it
    runs as any rule; ``request_errors.validate`` runs the limits first, without a visitor,
    and the other rules only for a document within every limit."""

    code = RequestErrorCode.GRAPHQL_VALIDATION_FAILED

    @classmethod
    def check(cls, document: DocumentNode) -> list[GraphQLError]:
        raise NotImplementedError

    @classmethod
    def errors(cls, document: DocumentNode) -> list[GraphQLError]:
        found = cls.check(document)
        return [with_code(error, cls.code) for error in found]

    @classmethod
    def refusals(cls, document: DocumentNode) -> list[GraphQLError]:
        """``errors``; a document whose fragments nest past what Python's stack measures
        (only with a token limit raised far past its default) is refused as too deep."""
        try:
            return cls.errors(document)
        except RecursionError:
            error = GraphQLError("The document nests its fragments too deeply to be measured.")
            return [with_code(error, RequestErrorCode.QUERY_TOO_DEEP)]

    def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
        for error in self.refusals(node):
            self.report_error(error)
        return SKIP


def document_limits(
    *, max_depth: int, max_aliases: int, max_fragment_spreads: int, max_field_repeats: int
) -> tuple[type[DocumentLimit], ...]:
    """The service's limits, as validation rules (``request_errors.service_rules``)."""

    class DepthLimit(DocumentLimit):
        code = RequestErrorCode.QUERY_TOO_DEEP

        @classmethod
        def check(cls, document: DocumentNode) -> list[GraphQLError]:
            return [
                GraphQLError(
                    f"'{name}' exceeds maximum operation depth of {max_depth}: it nests {found} levels of "
                    "fields with selections (NEXTGEN_GQL_MAX_DEPTH)."
                )
                for name, found in depth(document).items()
                if found > max_depth
            ]

    class AliasLimit(DocumentLimit):
        code = RequestErrorCode.TOO_MANY_ALIASES

        @classmethod
        def check(cls, document: DocumentNode) -> list[GraphQLError]:
            found = aliases(document)
            if found <= max_aliases:
                return []
            return [
                GraphQLError(
                    f"{found} aliases found (a fragment's counted wherever it is spread). Allowed: {max_aliases} "
                    "(NEXTGEN_GQL_MAX_ALIASES)."
                )
            ]

    class SpreadLimit(DocumentLimit):
        code = RequestErrorCode.TOO_MANY_FRAGMENT_SPREADS

        @classmethod
        def check(cls, document: DocumentNode) -> list[GraphQLError]:
            found = fragment_spreads(document)
            if found > max_fragment_spreads:
                shown = f"{found:,}" if found < 10**12 else f"about 10^{len(str(found)) - 1}"
                return [
                    GraphQLError(
                        f"The document reaches {shown} fragment spreads (a fragment's own spreads counted again "
                        f"wherever it is spread), over the limit of {max_fragment_spreads} "
                        "(NEXTGEN_GQL_MAX_FRAGMENT_SPREADS): spread fewer fragments, or inline them."
                    )
                ]
            return []

    class RepeatLimit(DocumentLimit):
        code = RequestErrorCode.TOO_MANY_REPEATED_FIELDS

        @classmethod
        def check(cls, document: DocumentNode) -> list[GraphQLError]:
            fields, spreads = most_merged(document)
            if spreads.merged > max_field_repeats:
                error = GraphQLError(
                    f"{spreads.merged} fragments are spread into one selection set ({spreads.path}), over the "
                    f"limit of {max_field_repeats} (NEXTGEN_GQL_MAX_FIELD_REPEATS): merge them into fewer.",
                    spreads.node,
                )
                return [with_code(error, RequestErrorCode.TOO_MANY_FRAGMENT_SPREADS)]
            if fields.merged > max_field_repeats:
                return [
                    GraphQLError(
                        f"The response key {fields.path} is selected {fields.merged} times (directly or through "
                        f"fragments), over the limit of {max_field_repeats} (NEXTGEN_GQL_MAX_FIELD_REPEATS): "
                        "select each field once.",
                        fields.node,
                    )
                ]
            return []

    return DepthLimit, AliasLimit, SpreadLimit, RepeatLimit
