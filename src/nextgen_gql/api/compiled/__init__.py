"""Compiled execution: a validated query becomes a plan once, and a plan builds the answer.

graphql-core resolves field by field: an info object, a path and a completion per field,
a task per async field (about 3 us a field, 3.4 ms for a 100-row roster page before any
data). Here a document is parsed, validated with the service's own rules and planned
once (``planner``); a request then runs the plan level by level (``runtime``), each
field of a level for all its objects at once, reading columns from light rows
(``services.rows``) through the field table (``resolvers``). The answer is the dict the
reference executor would give, key for key; the view encodes it with orjson.

What is compiled: queries (one operation, or the one ``operationName`` names) over the
fields in ``resolvers.RESOLVERS``, with variables, aliases, fragments and inline
fragments, ``__typename`` and ``@skip``/``@include`` (plans are kept per value of the
variables those read). Answers made only of court data (``court``, ``courts``) are kept
per version of the court catalog, court and day (a change of the courts moves the version on).

How it falls back: a document that does not parse or validate, a mutation, a field or
directive the table does not know, an abstract type (``node``) or introspection is not
compiled, and the reference executor (Strawberry over graphql-core) runs it. At run time,
anything but a clean answer (variables that do not coerce, a refusal, a null in a
non-null field, an unexpected exception) abandons the compiled answer and the reference
executor runs the request instead, so errors, their paths and null propagation are the
reference's own. The differential tests (``tests/api/test_compiled.py``) hold both paths
to the same answers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, OperationType
from graphql.execution.values import VariableValues, get_variable_values
from graphql.validation import ASTValidationRule

from nextgen_gql import replica
from nextgen_gql.api.compiled.completion import Fallback
from nextgen_gql.api.compiled.planner import NotCompiled, ObjectPlan, OperationShape, plan_operation, shape_of
from nextgen_gql.api.compiled.runtime import Runtime, execute_plan
from nextgen_gql.api.enrolment import allowed_while_enrolling
from nextgen_gql.api.request_errors import parse_document, validate
from nextgen_gql.errors import DomainError

if TYPE_CHECKING:
    from nextgen_gql.api.context import Context

__all__ = ["TENANT_ONLY_FIELDS", "CompiledQueries", "Fallback", "NotCompiled", "tenant_only"]

log = logging.getLogger("nextgen_gql.compiled")

#: Root fields whose answers depend only on the court files and the date: the same for every
#: caller, so a whole answer made of them is kept per court and day (here, and in ``api.schema``).
TENANT_ONLY_FIELDS = frozenset({"court", "courts", "__typename"})
#: Documents longer than this run on the reference executor: front ends send short ones, and
#: the cache of documents stays small (``max_documents`` of at most this size).
MAX_DOCUMENT_CHARS = 16 * 1024
#: Plans kept per document, one per set of values of its ``@skip``/``@include`` variables
#: (2 ** n for n variables): past this, other sets of values run on the reference executor.
MAX_PLANS_PER_DOCUMENT = 16
_NO_VARIABLES = VariableValues({}, {})


def tenant_only(operation: OperationDefinitionNode) -> bool:
    """Whether a query's answer depends only on the court files and the date: no variables,
    and nothing at its root but ``TENANT_ONLY_FIELDS`` (no fragments). Such answers are the
    same for every caller: kept per catalog version, court and day, and cacheable by browsers and CDNs."""
    return (
        operation.operation is OperationType.QUERY
        and not operation.variable_definitions
        and all(
            isinstance(s, FieldNode) and s.name.value in TENANT_ONLY_FIELDS
            for s in operation.selection_set.selections
        )
    )


@dataclass(eq=False)
class _Entry:
    """What is known of one (document, operation name)."""

    shape: OperationShape | None
    why_not: str | None = None
    #: Plans by the values of the variables ``@skip``/``@include`` read.
    plans: dict[tuple[Any, ...], ObjectPlan | None] = field(default_factory=dict)
    tenant_only: bool = False
    #: Every root field is one a session restricted to MFA enrolment may run (``api.enrolment``).
    enrolment_ok: bool = False
    #: Kept answers of a tenant-only operation without variables, by court and day.
    answers: dict[tuple[int, str | None, dt.date], dict[str, Any]] = field(default_factory=dict)


class CompiledQueries:
    """Plans for the documents a service sees, and the run of a request on its plan.

    Example:
        compiled = CompiledQueries(graphql_schema, schema.service_rules, max_tokens=1000)
        data = await compiled.execute(context, query, operation_name, variables)
        if data is None: ...  # the reference executor answers this request
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: tuple[type[ASTValidationRule], ...],
        *,
        max_tokens: int,
        max_documents: int = 1000,
    ) -> None:
        self.schema = schema
        self.rules = tuple(rules)
        self.max_tokens = max_tokens
        self.max_documents = max_documents
        self._entries: OrderedDict[tuple[str, str | None], _Entry] = OrderedDict()
        #: Requests answered by the compiled path, and those handed to the reference.
        self.answered = 0
        self.fell_back = 0
        self.on_fallback: Callable[[str, str], None] | None = None

    def entry(self, query: str, operation_name: str | None) -> _Entry:
        """The compiled form of a document, made on first sight (LRU, ``max_documents``)."""
        key = (query, operation_name)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        found = self._compile(query, operation_name)
        self._entries[key] = found
        if len(self._entries) > self.max_documents:
            self._entries.popitem(last=False)
        return found

    def _compile(self, query: str, operation_name: str | None) -> _Entry:
        try:
            document = parse_document(query, self.max_tokens)
        except GraphQLError:
            return _Entry(None, "does not parse")
        if validate(self.schema, document, self.rules):  # the rules and the cache Strawberry's path uses
            return _Entry(None, "does not validate")
        try:
            shape = shape_of(document, operation_name)
        except NotCompiled as exc:
            return _Entry(None, str(exc))
        return _Entry(
            shape,
            tenant_only=tenant_only(shape.operation),
            enrolment_ok=allowed_while_enrolling(shape.operation),
        )

    def plan(self, entry: _Entry, variables: VariableValues) -> ObjectPlan | None:
        assert entry.shape is not None
        key = tuple(variables.coerced.get(name) for name in entry.shape.directive_variables)
        if key not in entry.plans:
            if len(entry.plans) >= MAX_PLANS_PER_DOCUMENT:
                entry.why_not = "too many sets of @skip/@include values"
                return None
            try:
                entry.plans[key] = plan_operation(self.schema, entry.shape, variables)
            except NotCompiled as exc:
                entry.why_not = str(exc)
                entry.plans[key] = None
        return entry.plans[key]

    async def execute(
        self,
        context: Context,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        """The ``data`` of the request's answer, or None when the reference executor must run it."""
        if len(query) > MAX_DOCUMENT_CHARS:
            return self._fall_back(query, "a long document")
        entry = self.entry(query, operation_name)
        if entry.shape is None:
            return self._fall_back(query, entry.why_not or "not compiled")
        definitions = entry.shape.operation.variable_definitions
        if definitions:
            coerced = get_variable_values(self.schema, definitions, variables or {})
            if isinstance(coerced, list):
                return self._fall_back(query, "variables do not coerce")
            values = coerced
        else:
            values = _NO_VARIABLES
        plan = self.plan(entry, values)
        if plan is None:
            return self._fall_back(query, entry.why_not or "not compiled")
        runtime = Runtime(context, values, plan.viewer_facts)
        if context.token is not None:
            # Before anything runs: a bearer token that names no live session is refused
            # (``InvalidToken``, raised past the fallback); a stale cookie is forgotten. The
            # viewer read carries the session's restriction (and what the plan needs of it).
            viewer = await runtime.viewer()
            if viewer is None:
                context.session_missing()
            if context.before_run is not None:
                await context.before_run(viewer.id if viewer is not None else None)  # may refuse (429)
            if viewer is not None and runtime.restricted and not entry.enrolment_ok:
                return self._fall_back(query, "a session restricted to MFA enrolment")
        else:  # anonymous, or a court's service key: its own writes are what the replica must have
            grant = context.service_key
            await replica.decide(grant.write_lsn if grant is not None else None)
        if entry.tenant_only:
            key = (context.courts.version, context.court_code, runtime.today)
            kept = entry.answers.get(key)
            if kept is not None:
                self.answered += 1
                return kept
        try:
            data = await execute_plan(plan, runtime)
        except (Fallback, DomainError) as exc:
            return self._fall_back(query, f"{type(exc).__name__}: {exc}")
        except Exception:  # a bug here must never become a wrong answer or a 500
            log.exception("the compiled path failed; the reference executor answers")
            return self._fall_back(query, "unexpected exception")
        if entry.tenant_only:
            if len(entry.answers) > 512:
                entry.answers.clear()
            entry.answers[key] = data
        self.answered += 1
        return data

    def _fall_back(self, query: str, why: str) -> dict[str, Any] | None:
        self.fell_back += 1
        if self.on_fallback is not None:
            self.on_fallback(query, why)
        return None
