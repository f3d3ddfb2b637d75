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

from graphql import ExecutionResult, FragmentDefinitionNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from nextgen_gql.api.request_errors import RequestErrorCode, with_code
from nextgen_gql.api.roots import fragments_of, root_fields

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


def allowed_while_enrolling(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode] | None = None
) -> bool:
    """Whether every root field of ``operation`` is one a restricted session may run.
    Without ``fragments``, a root fragment spread counts as not allowed."""
    return root_fields(None, operation, fragments or {}) <= ALLOWED_ROOT_FIELDS


def refusal() -> GraphQLError:
    return with_code(
        GraphQLError(
            "This account must add an authenticator app before anything else: it used its three "
            "sign-ins without one. Enrol (startAuthenticatorEnrollment), or sign out."
        ),
        RequestErrorCode.MFA_ENROLLMENT_REQUIRED,
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
            if len(chosen) == 1 and not allowed_while_enrolling(chosen[0], fragments_of(document)):
                session = await context.session()
                if session is not None and session.mfa_restricted:
                    execution.result = ExecutionResult(data=None, errors=[refusal()])
        yield
