"""From a validated document to a plan: per selection set, the fields to build, in order.

Fields are collected by graphql-core's own ``collect_fields``/``collect_subfields``, so
fragments, inline fragments, type conditions, merging of fields under one response key
and ``@skip``/``@include`` mean exactly what they mean to the reference executor. A plan
is made for one set of values of the variables that ``@skip``/``@include`` read (the
cache keys plans by them); arguments that read variables are coerced per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    is_leaf_type,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import ArgumentNode, DirectiveNode, FragmentDefinitionNode, Visitor

from nextgen_gql.api.compiled.completion import Completer, completer
from nextgen_gql.api.compiled.resolvers import RESOLVERS, VIEWER_FACTS, Resolver

__all__ = ["FieldPlan", "NotCompiled", "ObjectPlan", "OperationShape", "plan_operation", "shape_of"]


class NotCompiled(Exception):
    """The document uses something the compiler does not build: run the reference executor."""


@dataclass(frozen=True)
class OperationShape:
    """What a document needs before a plan can be chosen for a request."""

    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    #: Variables that ``@skip``/``@include`` read: plans are made per set of their values.
    directive_variables: tuple[str, ...]


@dataclass(eq=False)
class ObjectPlan:
    """A selection set on one object type."""

    type_name: str
    fields: list[FieldPlan] = field(default_factory=list)
    #: The built function that runs this selection set (``runtime.level_function``).
    run: Any = None
    #: On the root plan: what the operation needs to know of the viewer (``VIEWER_FACTS``).
    viewer_facts: frozenset[str] = frozenset()


@dataclass(eq=False)
class FieldPlan:
    """One response key: how to get its value and how to complete it."""

    key: str
    name: str
    resolver: Resolver | None  # None for ``__typename``
    #: The arguments, coerced once when they use no variables; else ``args_for`` per request.
    static_args: dict[str, Any] | None
    args_for: Callable[[VariableValues], dict[str, Any]] | None
    #: How the value completes: the output type's wrappers, outermost first, then the leaf
    #: serializer or the child plan.
    wrappers: tuple[str, ...]  # "non_null" | "list"
    serialize: Callable[[Any], Any] | None
    child: ObjectPlan | None
    typename: str | None = None
    #: For a field of an interface type: the plan of each type it may resolve to.
    variants: dict[str, ObjectPlan] | None = None
    #: For a String, ID or Boolean leaf: the Python type a value that needs no serializing has.
    exact: type | None = None
    #: For a resolver that reads no more than is selected: the ``(type, field)`` pairs beneath.
    selects: frozenset[tuple[str, str]] = frozenset()
    complete: Completer = field(init=False)

    def __post_init__(self) -> None:
        self.complete = completer(self.wrappers, self.serialize)


def shape_of(document: DocumentNode, operation_name: str | None) -> OperationShape:
    """The operation to run and its fragments; ``NotCompiled`` for anything but one query."""
    operation: OperationDefinitionNode | None = None
    fragments: dict[str, FragmentDetails] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if operation is not None:
                    raise NotCompiled("several operations and no operationName")
                operation = definition
            elif definition.name and definition.name.value == operation_name:
                operation = definition
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                raise NotCompiled("fragment variables")
            fragments[definition.name.value] = FragmentDetails(definition, None)
    if operation is None:
        raise NotCompiled("no such operation")
    if operation.operation is not OperationType.QUERY:
        raise NotCompiled("only queries are compiled")
    return OperationShape(operation, fragments, _directive_variables(document))


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.other = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        if node.name.value not in ("skip", "include"):
            self.other = True  # @defer, @stream, custom directives: not compiled
        for argument in node.arguments or ():
            if isinstance(argument.value, VariableNode):
                self.names.add(argument.value.name.value)


def _directive_variables(document: DocumentNode) -> tuple[str, ...]:
    visitor = _DirectiveVariables()
    visit(document, visitor)
    if visitor.other:
        raise NotCompiled("a directive other than @skip/@include")
    return tuple(sorted(visitor.names))


def plan_operation(schema: GraphQLSchema, shape: OperationShape, variables: VariableValues) -> ObjectPlan:
    """The plan of the operation's root selection set, for these directive variables."""
    root = schema.query_type
    assert root is not None
    collected = collect_fields(schema, shape.fragments, variables, root, shape.operation)
    plan = _object_plan(schema, shape, variables, root, collected.grouped_field_set)
    plan.viewer_facts = frozenset().union(*(VIEWER_FACTS.get(key, frozenset()) for key in _fields_of(plan)))
    return plan


def _fields_of(plan: ObjectPlan) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for field_plan in plan.fields:
        found.add((plan.type_name, field_plan.name))
        for child in [field_plan.child, *(field_plan.variants or {}).values()]:
            if child is not None:
                found |= _fields_of(child)
    return found


def _object_plan(
    schema: GraphQLSchema,
    shape: OperationShape,
    variables: VariableValues,
    parent: GraphQLObjectType,
    grouped: dict[str, list[FieldDetails]],
) -> ObjectPlan:
    plan = ObjectPlan(parent.name)
    for key, details in grouped.items():
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            plan.fields.append(
                FieldPlan(key, name, None, None, None, ("non_null",), None, None, typename=parent.name)
            )
            continue
        definition = parent.fields.get(name)
        resolver = RESOLVERS.get((parent.name, name))
        if definition is None or resolver is None:
            raise NotCompiled(f"{parent.name}.{name} has no compiled resolver")
        static_args, args_for = _arguments(definition, node, variables)
        wrappers, leaf = _unwrap(definition.type)
        serialize = child = None
        if is_leaf_type(leaf):
            serialize = _serializer(leaf)
        elif isinstance(leaf, GraphQLObjectType):
            sub = collect_subfields(schema, shape.fragments, variables, shape.operation, leaf, details)
            child = _object_plan(schema, shape, variables, leaf, sub.grouped_field_set)
        elif isinstance(leaf, GraphQLInterfaceType):
            variants = {}
            for possible in schema.get_possible_types(leaf):
                sub = collect_subfields(
                    schema, shape.fragments, variables, shape.operation, possible, details
                )
                variants[possible.name] = _object_plan(
                    schema, shape, variables, possible, sub.grouped_field_set
                )
        else:
            raise NotCompiled(f"{parent.name}.{name} returns a union")
        exact = _EXACT.get(leaf.name) if serialize is not None else None
        plan.fields.append(
            FieldPlan(key, name, resolver, static_args, args_for, wrappers, serialize, child, exact=exact)
        )
        if isinstance(leaf, GraphQLInterfaceType):
            plan.fields[-1].variants = variants
        if resolver.selection:
            beneath = [child, *(plan.fields[-1].variants or {}).values()]
            plan.fields[-1].selects = frozenset().union(*(_fields_of(p) for p in beneath if p is not None))
    return plan


def _uses_variables(arguments: tuple[ArgumentNode, ...] | list[ArgumentNode]) -> bool:
    found = False

    class Finder(Visitor):
        def enter_variable(self, *_: Any) -> None:
            nonlocal found
            found = True

    for argument in arguments:
        visit(argument, Finder())
    return found


def _arguments(
    definition: GraphQLField, node: FieldNode, variables: VariableValues
) -> tuple[dict[str, Any] | None, Callable[[VariableValues], dict[str, Any]] | None]:
    if node.arguments and _uses_variables(node.arguments):
        return None, lambda values: get_argument_values(definition, node, values)
    return get_argument_values(definition, node, variables), None


def _unwrap(output: GraphQLOutputType) -> tuple[tuple[str, ...], GraphQLOutputType]:
    wrappers: list[str] = []
    while True:
        if isinstance(output, GraphQLNonNull):
            wrappers.append("non_null")
            output = output.of_type
        elif isinstance(output, GraphQLList):
            wrappers.append("list")
            output = output.of_type
        else:
            return tuple(wrappers), output


_EXACT: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}


def _serializer(leaf: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The leaf type's own ``serialize`` (what the reference executor calls), with a shortcut
    for values that already are what it would return."""
    serialize = leaf.serialize
    if isinstance(leaf, GraphQLEnumType):
        return _kept(serialize)
    exact: type | None = {"String": str, "ID": str, "Boolean": bool, "Int": int}.get(leaf.name)
    if exact is None:
        return serialize
    if exact is int:

        def serialize_int(value: Any) -> Any:
            return value if type(value) is int and -(2**31) <= value < 2**31 else serialize(value)

        return serialize_int

    def serialize_exact(value: Any) -> Any:
        return value if type(value) is exact else serialize(value)

    return serialize_exact


#: The most values an enum's serializer keeps (an enum has few; anything else is not kept).
_KEPT = 256


def _kept(serialize: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An enum's ``serialize`` that keeps what it answered for each value it met (its members,
    or the strings the database holds): the same answer, without walking the enum each time."""
    answers: dict[tuple[type, Any], Any] = {}

    def serialize_enum(value: Any) -> Any:
        key = (type(value), value)  # a str enum's member equals its string: kept apart
        try:
            return answers[key]
        except KeyError:
            pass
        except TypeError:  # unhashable: not an enum's value; serialize says what it is
            return serialize(value)
        result = serialize(value)
        if len(answers) < _KEPT:
            answers[key] = result
        return result

    return serialize_enum
