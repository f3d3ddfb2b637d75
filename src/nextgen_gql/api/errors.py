"""The one place where domain errors become GraphQL: ``UserError`` data in mutation
payloads, or a GraphQL error with ``extensions.code`` on queries.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import strawberry
from graphql import GraphQLError

from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.observability.requests import note_error

__all__ = ["ErrorCodeEnum", "UserError", "graphql_error", "payload_errors"]

ErrorCodeEnum = strawberry.enum(ErrorCode, name="ErrorCode", description="Stable codes of expected failures.")

P = ParamSpec("P")
R = TypeVar("R")


@strawberry.type(description="An expected failure of a mutation, with a stable code.")
class UserError:
    code: ErrorCodeEnum = strawberry.field(description="What went wrong, as a stable code.")  # type: ignore[valid-type]
    message: str = strawberry.field(description="A sentence a person can act on.")
    field: str | None = strawberry.field(description="The input field at fault, when there is one.")

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(code=error.code, message=error.message, field=error.field)


def graphql_error(error: DomainError) -> GraphQLError:
    """Queries report refusals as GraphQL errors: ``raise graphql_error(exc)``."""
    extensions: dict[str, Any] = {"code": error.code.value}
    if error.field:
        extensions["field"] = error.field
    return GraphQLError(error.message, extensions=extensions)


def payload_errors(
    payload: Callable[..., R],
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Turn a DomainError raised by a mutation resolver into ``payload(errors=[...])``."""

    def decorate(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(resolver)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await resolver(*args, **kwargs)
            except DomainError as exc:
                note_error(exc.code.value)
                return payload(errors=[UserError.from_domain(exc)])

        return wrapper

    return decorate
