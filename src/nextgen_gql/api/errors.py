"""The one place where domain errors become GraphQL: ``UserError`` data in mutation
payloads, or a GraphQL error with ``extensions.code`` on queries.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import strawberry
from graphql import GraphQLError

from nextgen_gql.api.request_errors import REQUEST_ERROR_CODES, RequestErrorCode
from nextgen_gql.api.types.common import describe_values
from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.observability.requests import note_error
from nextgen_gql.services.keys import refuse_key

__all__ = ["ErrorCodeEnum", "RequestErrorCodeEnum", "UserError", "graphql_error", "payload_errors"]

ErrorCodeEnum = describe_values(
    strawberry.enum(
        ErrorCode,
        name="ErrorCode",
        description="Stable codes of a mutation's expected failures (UserError.code); GraphQL errors carry "
        "RequestErrorCode in extensions.code.",
    ),
    {
        "INVALID_INPUT": "An input is malformed or out of range; field names it.",
        "NOT_FOUND": "The thing named does not exist, or is not yours to see (the two are not told apart).",
        "UNAUTHENTICATED": "Sign in first.",
        "FORBIDDEN": "You may not do this (not the court's clerk, not the firm's administrator, a service key "
        "outside its scopes).",
        "COURT_REQUIRED": "A court-scoped operation sent to the national endpoint: send it to /courts/{code}/graphql.",
        "COURT_NOT_NEXTGEN": "The court has not moved to NextGen CM/ECF yet.",
        "INVALID_CREDENTIALS": "The username or password is wrong (which one is not told).",
        "ACCOUNT_LOCKED": "Too many failed attempts: wait until the time the message gives, or reset the password.",
        "REDACTION_ACK_REQUIRED": "A filer signed in without acknowledging the redaction rules.",
        "CLIENT_CODE_REQUIRED": "The firm requires a client code at sign-in, and none was given.",
        "USERNAME_TAKEN": "Another account has that username.",
        "USERNAME_INVALID": "The username breaks the rules (at least 8 letters, digits, '.', '_' or '-').",
        "PASSWORD_POLICY": "The password breaks the 2025 rules (14 to 45 characters, mixed case, a special "
        "character, no part of your name, username or email).",
        "UPGRADE_REQUIRED": "The PACER account is still legacy: upgrade it first.",
        "ALREADY_UPGRADED": "The PACER account was upgraded before.",
        "SHARED_ACCOUNT": "Shared PACER accounts may not link or file.",
        "CONFIRMATION_REQUIRED": "An irreversible step was asked for without confirm: true.",
        "INVALID_CMECF_CREDENTIALS": "The legacy CM/ECF login or password is wrong.",
        "CMECF_ALREADY_LINKED": "That legacy account is already bound to a PACER account.",
        "COURT_ALREADY_LINKED": "This PACER account already linked a legacy account in this court.",
        "ROLE_NOT_ACCEPTED": "The court does not accept that filer role.",
        "REGISTRATION_PENDING": "A request for the same court and role is still open.",
        "ALREADY_PRIVILEGED": "The account already holds that privilege.",
        "ALREADY_DECIDED": "It was decided before: a registration approved or rejected, an invitation accepted, "
        "declined or cancelled.",
        "ALREADY_MEMBER": "The account already belongs to a firm.",
        "NOT_A_MEMBER": "The account does not belong to that firm.",
        "CASE_NUMBER_INVALID": "Not a case number of this court's kind; the message names the form.",
        "PRIVILEGE_REVOKED": "The privilege was revoked before.",
        "RATE_LIMITED": "Too many failures from this source: wait, then try again.",
        "INVALID_MFA_CODE": "The authenticator or backup code is wrong, expired, or already used.",
        "MFA_CHALLENGE_EXPIRED": "The sign-in challenge expired or was used: sign in again.",
        "MFA_ENROLLMENT_REQUIRED": "The account used its sign-ins without a second factor: it may only enrol an "
        "authenticator app.",
        "TOO_MANY_AUTHENTICATORS": "An account has at most 5 authenticator apps.",
        "INVALID_SECURITY_CODE": "The security code mailed to add an authenticator app is wrong or expired.",
        "EMAIL_TAKEN": "Another account verified this email first (confirmEmailChange, verifyEmail).",
        "LAST_ADMIN": "A firm with members keeps at least one administrator: make another member one first.",
        "IDEMPOTENCY_KEY_REUSED": "The same idempotencyKey came with different usage: a new item needs a new key.",
        "REMINDER_JOB_RUNNING": "A reminder job of the court is still running: one at a time, wait until it is done.",
        "WEBHOOK_URL_NOT_ALLOWED": "The webhook URL is not https, or it resolves to an address the service may not "
        "call (loopback, private, link-local, shared, multicast, reserved).",
        "DATABASE_UNAVAILABLE": "The database was lost after the mutation may have written: read before retrying "
        "(recordUsage: resend with the same idempotencyKey).",
    },
)
RequestErrorCodeEnum = describe_values(
    strawberry.enum(
        RequestErrorCode,
        name="RequestErrorCode",
        description="Every value extensions.code of a GraphQL error may carry (a mutation's expected failures are "
        "data, coded by ErrorCode). Generate clients from it: the service emits no other.",
    ),
    REQUEST_ERROR_CODES,
)

#: Every payload's ``errors`` field says this.
ERRORS_HELP = (
    "Why nothing was done: each failure with a stable code, a message and the input field at fault; "
    "empty on success."
)
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
    """Queries report refusals as GraphQL errors: ``raise graphql_error(exc)``. The domain's
    code must be a ``RequestErrorCode`` (``LookupError`` otherwise: add it there first)."""
    code = RequestErrorCode[error.code.name]
    extensions: dict[str, Any] = {"code": code.value}
    if error.field:
        extensions["field"] = error.field
    return GraphQLError(error.message, extensions=extensions)


def payload_errors(
    payload: Callable[..., R], *, key_scope: CourtKeyScope | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Turn a DomainError raised by a mutation resolver into ``payload(errors=[...])``.

    A court's service key may call only the mutations of its scopes (``key_scope``: the one
    that allows it, at the key's court); any other is ``FORBIDDEN`` before it runs."""

    def decorate(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(resolver)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                context: Any = getattr(kwargs.get("info"), "context", None)
                key = getattr(context, "service_key", None)
                if key is not None and (key_scope is None or not key.allows(context.court, key_scope)):
                    wanted = f"without the scope {key_scope.name}" if key_scope else "call this mutation"
                    raise refuse_key(key, wanted)
                return await resolver(*args, **kwargs)
            except DomainError as exc:
                note_error(exc.code.value)
                return payload(errors=[UserError.from_domain(exc)])

        return wrapper

    return decorate
