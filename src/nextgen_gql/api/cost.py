"""What an operation may cost, before anything runs: its node count.

The node count is the most list items the operation may return, counted on the merged field
tree: fields are collected per response key through inline fragments and fragment spreads
(as graphql-core's field collection does, so a field asked for twice through two fragments
counts once), and where a selection is on an interface or a union the count is the maximum
over the object types it may be. A list field's items each count one, times the items of the
lists around it, plus what each item holds:

- a connection's ``edges`` by its field's ``first`` / ``last`` (clamped to 0-100 for
  costing; the default page size when neither is given; the smaller when both are);
- every other list of objects by its bound in ``LIST_BOUNDS`` (one table; ``COURTS`` reads
  the number of courts when the cost is evaluated, since courts change live);
- lists of scalars and single objects count nothing; introspection (``__schema``,
  ``__type``, ``__typename``) counts nothing (it has its own switch).

``cost_function`` builds the count of one operation once (kept per document beside the
parsed and validated one) as a small tree; ``NodeCount.evaluate`` runs it with each
request's variables. The view refuses an operation over ``NEXTGEN_GQL_MAX_NODES`` with
``QUERY_TOO_COSTLY`` before it runs, on either executor (``GraphQLView.prepare``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    Node,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.execution.collect_fields import FragmentDetails, collect_fields
from graphql.execution.values import get_variable_values

from nextgen_gql.api.by_identity import ByIdentity
from nextgen_gql.api.roots import root_fields
from nextgen_gql.enums import FilerRole
from nextgen_gql.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

__all__ = ["COURTS", "LIST_BOUNDS", "Bound", "NodeCount", "cost_function", "dry_run", "rate_limit_only"]


@dataclass(frozen=True)
class Bound:
    """How many items a list field may hold: ``items`` (or, with ``per_court``, that many per
    court), and why: ``enforced`` when the service never answers more, else an estimate."""

    items: int
    why: str
    enforced: bool = True
    per_court: bool = False
    #: The list holds at most this argument's value (``default`` when it is absent), and
    #: never more than ``items``.
    argument: str | None = None
    default: int = 0


#: A list bounded by the number of courts (read when the cost is evaluated).
COURTS = Bound(1, "one per court", per_court=True)

#: Every list of objects in the schema but connections' edges (which take ``first`` /
#: ``last``), with its bound. ``tests/api/test_cost.py`` fails on a list field missing here.
LIST_BOUNDS: dict[str, Bound] = {
    "Query.courts": COURTS,
    "PacerAccount.clerkOf": COURTS,
    "PacerAccount.cmecfAccounts": Bound(1, "one linked legacy account per court", per_court=True),
    "PacerAccount.privileges": Bound(
        3, "estimate: a privilege per role per court, revoked ones kept", enforced=False, per_court=True
    ),
    "PacerAccount.registrations": Bound(
        3, "estimate: a registration per role per court", enforced=False, per_court=True
    ),
    "PacerAccount.invitations": Bound(10, "estimate: pending invitations to firms", enforced=False),
    "PacerAccount.sessions": Bound(20, "estimate: sign-ins that still hold", enforced=False),
    "PacerAccount.appGrants": Bound(20, "estimate: apps a person let sign them in", enforced=False),
    "MfaStatus.authenticators": Bound(6, "at most 5 confirmed apps (services.mfa) and one being enrolled"),
    "Firm.admins": Bound(10, "estimate: a firm's administrators", enforced=False),
    "Firm.invitations": Bound(50, "estimate: a firm's pending invitations", enforced=False),
    "Statement.charges": Bound(100, "estimate: a quarter's charges", enforced=False),
    "Query.courtServiceKeys": Bound(20, "estimate: one court's service keys", enforced=False),
    "Query.webhookEndpoints": Bound(20, "at most 20 endpoints per court (webhooks.endpoints.MAX_PER_COURT)"),
    "WebhookDelivery.attempts": Bound(
        8, "estimate: the schedule's 8 attempts (a redelivery starts it again)", enforced=False
    ),
    "LinkingProgress.byRole": Bound(len(FilerRole), "one per filer role"),
    "LinkingProgress.weekly": Bound(
        520, "the weeks argument (default 26, at most 520)", argument="weeks", default=26
    ),
    "WeekProgress.byRole": Bound(len(FilerRole), "one per role of LinkingProgress.byRole"),
    "*.errors": Bound(5, "estimate: a mutation's user errors (one per input field at most)", enforced=False),
}

#: The fields of a connection whose items its field's ``first`` / ``last`` bound.
_PAGED = ("edges", "nodes")

Variables = Mapping[str, Any]


def _list_of_objects(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList) and isinstance(
        get_named_type(type_), (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)
    )


def list_bound(type_name: str, field_name: str) -> Bound | None:
    return LIST_BOUNDS.get(f"{type_name}.{field_name}") or (
        LIST_BOUNDS["*.errors"] if field_name == "errors" else None
    )


# -- the built tree --------------------------------------------------------------------------


def _int_argument(node: ValueNode | None, defaults: Mapping[str, Any]) -> Callable[[Variables], int | None]:
    """An ``Int`` argument as the request gives it (a literal, or a variable or its default);
    None when absent, null or not an integer (execution refuses that; costing ignores it)."""
    if node is None or isinstance(node, NullValueNode):
        return lambda variables: None
    if isinstance(node, IntValueNode):
        value = int(node.value)
        return lambda variables: value
    if isinstance(node, VariableNode):
        name = node.name.value
        default = defaults.get(name)

        def read(variables: Variables) -> int | None:
            value = variables.get(name, default) if isinstance(variables, Mapping) else default
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return read
    return lambda variables: None


def _page(field_node: FieldNode, defaults: Mapping[str, Any]) -> Callable[[Variables], int]:
    """A connection's page size for costing: ``first`` / ``last`` clamped to 0-100."""
    given = {a.name.value: a.value for a in field_node.arguments or ()}
    first = _int_argument(given.get("first"), defaults)
    last = _int_argument(given.get("last"), defaults)

    def size(variables: Variables) -> int:
        sizes = [min(max(n, 0), MAX_PAGE_SIZE) for n in (first(variables), last(variables)) if n is not None]
        return min(sizes) if sizes else DEFAULT_PAGE_SIZE

    return size


@dataclass
class _Field:
    #: None: one object (or a leaf); else the items of this list for the request.
    items: Callable[[Variables, int], int] | None
    inner: _Selection | None


@dataclass
class _Selection:
    """One list of merged fields per object type the selection may be on (max taken)."""

    alternatives: list[list[_Field]] = field(default_factory=list)

    def evaluate(self, variables: Variables, courts: int, memo: dict[int, int] | None = None) -> int:
        """The count for one request; ``memo`` keeps each shared subtree's count (the built tree
        is a graph: a fragment's subtree is built once and reached from every spread of it)."""
        memo = {} if memo is None else memo
        known = memo.get(id(self))
        if known is not None:
            return known
        best = 0
        for fields in self.alternatives:
            total = 0
            for f in fields:
                inner = f.inner.evaluate(variables, courts, memo) if f.inner is not None else 0
                if f.items is None:
                    total += inner
                else:
                    n = f.items(variables, courts)
                    total += n + n * inner
            best = max(best, total)
        memo[id(self)] = best
        return best


class _Builder:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.defaults = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        #: Subtrees built, by (type, the page's field node, the merged selection sets): a
        #: fragment spread many times (a "fragment bomb") is built once per parent type.
        self.built: dict[tuple[str, int, tuple[int, ...]], _Selection] = {}
        #: Selection sets walked while collecting fields (what a test bounds).
        self.visits = 0

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        found = self.schema.get_type(condition.name.value)
        if found is object_type:
            return True
        if isinstance(found, GraphQLAbstractType):
            return self.schema.is_sub_type(found, object_type)
        return False

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        into: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection_set in selection_sets:
            self.visits += 1
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    into.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, object_type):
                        self._collect(object_type, [selection.selection_set], into, visited)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in visited:
                        continue  # spread already in this collection: its fields merge into the same keys
                    visited.add(name)
                    if self._applies(fragment.type_condition, object_type):
                        self._collect(object_type, [fragment.selection_set], into, visited)

    def selection(
        self,
        parent: Any,
        selection_sets: list[SelectionSetNode],
        page_node: FieldNode | None = None,
    ) -> _Selection:
        parent = get_named_type(parent)
        unique = tuple({id(s): s for s in selection_sets}.values())  # by identity: hashing walks a node
        key = (parent.name, id(page_node), tuple(id(s) for s in unique))
        found = self.built.get(key)
        if found is not None:
            return found
        built = _Selection()
        self.built[key] = built
        if isinstance(parent, GraphQLObjectType):
            possible: list[GraphQLObjectType] = [parent]
        elif isinstance(parent, GraphQLAbstractType):
            possible = list(self.schema.get_possible_types(parent))
        else:
            return built
        page = _page(page_node, self.defaults) if page_node is not None else None
        for object_type in possible:
            merged: dict[str, list[FieldNode]] = {}
            self._collect(object_type, list(unique), merged, set())
            fields = []
            for nodes in merged.values():
                name = nodes[0].name.value
                if name.startswith("__"):
                    continue  # introspection: its own switch
                definition = object_type.fields.get(name)
                if definition is None:
                    continue  # validation refused it already
                inner_sets = [n.selection_set for n in nodes if n.selection_set is not None]
                named = get_named_type(definition.type)
                child_page = nodes[0] if named.name.endswith("Connection") else None
                inner = self.selection(named, inner_sets, child_page) if inner_sets else None
                items: Callable[[Variables, int], int] | None = None
                if _list_of_objects(definition.type):
                    if page is not None and name in _PAGED:
                        paged = page
                        items = lambda variables, courts, paged=paged: paged(variables)  # noqa: E731
                    else:
                        bound = list_bound(object_type.name, name)
                        if bound is None:
                            raise LookupError(
                                f"{object_type.name}.{name} has no bound in api.cost.LIST_BOUNDS"
                            )
                        items = _bound_items(bound, nodes[0], self.defaults)
                if items is None and inner is None:
                    continue
                fields.append(_Field(items, inner))
            built.alternatives.append(fields)
        return built


def _bound_items(
    bound: Bound, field_node: FieldNode, defaults: Mapping[str, Any]
) -> Callable[[Variables, int], int]:
    if bound.argument is not None:
        given = {a.name.value: a.value for a in field_node.arguments or ()}
        read = _int_argument(given.get(bound.argument), defaults)

        def items(variables: Variables, courts: int) -> int:
            value = read(variables)
            return min(max(bound.default if value is None else value, 0), bound.items)

        return items
    if bound.per_court:
        return lambda variables, courts: bound.items * courts
    return lambda variables, courts: bound.items


@dataclass(frozen=True)
class NodeCount:
    """One operation's node count, built once; ``evaluate`` with a request's variables and
    the number of courts served now."""

    tree: _Selection

    def evaluate(self, variables: Variables | None, courts: int) -> int:
        return self.tree.evaluate(variables or {}, courts)


#: Built counts, by the operation node's identity (``by_identity``).
_BUILT: ByIdentity[NodeCount] = ByIdentity()


def cost_function(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> NodeCount:
    """The node count of ``operation`` (a validated document's), built once per document."""

    def build() -> NodeCount:
        root = schema.get_root_type(operation.operation)
        assert root is not None
        return NodeCount(_Builder(schema, document, operation).selection(root, [operation.selection_set]))

    return _BUILT.get(operation, (schema,), build)


# -- Query.rateLimit(dryRun: true) ------------------------------------------------------------


def _rate_limit_fields(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Variables | None,
) -> list[FieldNode]:
    """The root ``rateLimit`` fields of a query, collected as execution collects them
    (graphql-core's field collection: through fragment spreads and inline fragments, with
    ``@skip`` / ``@include`` applied); none when its variables do not fit (execution says why)."""
    if operation.operation.value != "query":
        return []
    root = schema.query_type
    if root is None:
        return []
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {}), max_errors=1
    )
    if isinstance(coerced, list):
        return []
    fragments = {
        d.name.value: FragmentDetails(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    collected = collect_fields(schema, fragments, coerced, root, operation)
    return [
        details.node
        for group in collected.grouped_field_set.values()
        for details in group
        if details.node.name.value == "rateLimit"
    ]


#: Whether an operation has a root ``rateLimit`` field at all (through its fragments, whatever
#: its variables), by the operation node's identity.
_ASKS_RATE_LIMIT: ByIdentity[bool] = ByIdentity()


def _asks_rate_limit(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    return _ASKS_RATE_LIMIT.get(
        operation,
        (),
        lambda: operation.operation.value == "query" and "rateLimit" in root_fields(document, operation),
    )


def dry_run(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Variables | None,
) -> bool:
    """Whether the operation asks ``rateLimit(dryRun: true)`` at its root (directly, or through
    fragments on the root type). An operation with no root ``rateLimit`` at all is told at once
    (collecting its fields with its variables, as execution would, is for those that have one)."""
    if not _asks_rate_limit(document, operation):
        return False
    for node in _rate_limit_fields(schema, document, operation, variables):
        for argument in node.arguments or ():
            if argument.name.value != "dryRun":
                continue
            value = argument.value
            if isinstance(value, BooleanValueNode) and value.value:
                return True
            if isinstance(value, VariableNode) and (variables or {}).get(value.name.value) is True:
                return True
    return False


def rate_limit_only(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Variables | None,
) -> tuple[DocumentNode, dict[str, Any]]:
    """The operation with its root ``rateLimit`` fields alone (the fragments they spread kept),
    and the variables they use."""
    fields = _rate_limit_fields(schema, document, operation, variables)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    kept: dict[str, FragmentDefinitionNode] = {}
    used: set[str] = set()
    pending: list[Node] = list(fields)
    while pending:
        node = pending.pop()
        if isinstance(node, VariableNode):
            used.add(node.name.value)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name not in kept and name in fragments:
                kept[name] = fragments[name]
                pending.append(fragments[name])
        for key in node.keys:
            child = getattr(node, key, None)
            if isinstance(child, Node):
                pending.append(child)
            elif isinstance(child, tuple | list):
                pending.extend(c for c in child if isinstance(c, Node))
    stripped = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=tuple(
            d for d in operation.variable_definitions or () if d.variable.name.value in used
        ),
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    given = variables or {}
    return DocumentNode(definitions=(stripped, *kept.values())), {k: given[k] for k in used if k in given}
