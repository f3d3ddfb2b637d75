"""Sessions restricted to MFA enrolment: what they may run, the same on both execution paths.

An account that must have MFA, has none and used its three skips signs in to a restricted
session (``services.mfa``, ``Session.mfa_restricted``). Such a session may read ``me``,
enrol an authenticator app and sign out; any other root field (public ones included) is
refused as a whole request with a GraphQL error coded ``MFA_ENROLLMENT_REQUIRED``.

- The reference executor: ``EnrolmentGate``, a schema extension that refuses before
  anything runs (so the differential check, which runs the reference executor, applies it too).
- The compiled path (``api.compiled``): its viewer read carries the restriction
  (``rows.viewer_for_token``); a restricted session on an operation not allowed here falls
  back to the reference executor, which refuses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

__all__ = ["ALLOWED_ROOT_FIELDS", "EnrolmentGate", "allowed_while_enrolling", "refusal"]

#: What a restricted session may run: read itself, enrol, sign out (and introspection).
ALLOWED_ROOT_FIELDS = frozenset(
    {
        "__typename",
        "__schema",
        "__type",
        "me",
        "signOut",
        "startAuthenticatorEnrollment",
        "confirmAuthenticatorEnrollment",
    }
)


def _allowed(
    selections: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode] | None, seen: set[str]
) -> bool:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value not in ALLOWED_ROOT_FIELDS:
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _allowed(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            found = fragments.get(name) if fragments is not None else None
            if found is None:  # not known here: count it as not allowed
                return False
            if name not in seen:
                seen.add(name)
                if not _allowed(found.selection_set, fragments, seen):
                    return False
    return True


def allowed_while_enrolling(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode] | None = None
) -> bool:
    """Whether every root field of ``operation`` is one a restricted session may run.
    Without ``fragments``, a root fragment spread counts as not allowed."""
    return _allowed(operation.selection_set, fragments, set())


def refusal() -> GraphQLError:
    return GraphQLError(
        "This account must add an authenticator app before anything else: it used its three "
        "sign-ins without one. Enrol (startAuthenticatorEnrollment), or sign out.",
        extensions={"code": "MFA_ENROLLMENT_REQUIRED"},
    )


class EnrolmentGate(SchemaExtension):
    """The reference executor's side: refuse a restricted session's operation before it runs."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if getattr(context, "token", None) and document is not None:
            operation = execution.operation_name
            chosen = [
                d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
                and (operation is None or (d.name is not None and d.name.value == operation))
            ]
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            if len(chosen) == 1 and not allowed_while_enrolling(chosen[0], fragments):
                session = await context.session()
                if session is not None and session.mfa_restricted:
                    execution.result = ExecutionResult(data=None, errors=[refusal()])
        yield
