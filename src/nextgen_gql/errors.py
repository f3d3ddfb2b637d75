"""Domain errors: the one way a service says "no".

Every expected failure of a rule is a :class:`DomainError` carrying an :class:`ErrorCode`
(the contract's ``ErrorCode`` enum, value for value), a sentence a person can act on, and
the input field at fault when there is one::

    DomainError
    ├── NotFound            code NOT_FOUND
    ├── Unauthenticated     code UNAUTHENTICATED
    └── Forbidden           code FORBIDDEN

The API layer maps a ``DomainError`` to a ``UserError`` in a mutation payload, or to a
GraphQL error with ``extensions.code`` on a query, in one place (``api/errors.py``).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["DomainError", "ErrorCode", "Forbidden", "NotFound", "Unauthenticated"]


class ErrorCode(str, Enum):
    """Stable error codes of the public contract."""

    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    COURT_REQUIRED = "COURT_REQUIRED"
    COURT_NOT_NEXTGEN = "COURT_NOT_NEXTGEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    REDACTION_ACK_REQUIRED = "REDACTION_ACK_REQUIRED"
    CLIENT_CODE_REQUIRED = "CLIENT_CODE_REQUIRED"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    USERNAME_INVALID = "USERNAME_INVALID"
    PASSWORD_POLICY = "PASSWORD_POLICY"
    UPGRADE_REQUIRED = "UPGRADE_REQUIRED"
    ALREADY_UPGRADED = "ALREADY_UPGRADED"
    SHARED_ACCOUNT = "SHARED_ACCOUNT"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    INVALID_CMECF_CREDENTIALS = "INVALID_CMECF_CREDENTIALS"
    CMECF_ALREADY_LINKED = "CMECF_ALREADY_LINKED"
    COURT_ALREADY_LINKED = "COURT_ALREADY_LINKED"
    ROLE_NOT_ACCEPTED = "ROLE_NOT_ACCEPTED"
    REGISTRATION_PENDING = "REGISTRATION_PENDING"
    ALREADY_PRIVILEGED = "ALREADY_PRIVILEGED"
    ALREADY_DECIDED = "ALREADY_DECIDED"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    NOT_A_MEMBER = "NOT_A_MEMBER"
    CASE_NUMBER_INVALID = "CASE_NUMBER_INVALID"  # not a case number of this court's kind
    PRIVILEGE_REVOKED = "PRIVILEGE_REVOKED"  # the privilege was revoked before
    RATE_LIMITED = "RATE_LIMITED"  # too many failures from this source: wait, then try again
    INVALID_MFA_CODE = "INVALID_MFA_CODE"  # wrong, expired, or already used
    MFA_CHALLENGE_EXPIRED = "MFA_CHALLENGE_EXPIRED"  # the sign-in challenge expired or was used
    MFA_ENROLLMENT_REQUIRED = "MFA_ENROLLMENT_REQUIRED"  # the account used its skips: it may only enrol
    TOO_MANY_AUTHENTICATORS = "TOO_MANY_AUTHENTICATORS"  # at most 5
    INVALID_SECURITY_CODE = "INVALID_SECURITY_CODE"  # the code mailed to add an authenticator
    EMAIL_TAKEN = "EMAIL_TAKEN"  # another account verified this email first
    LAST_ADMIN = "LAST_ADMIN"  # a firm with members keeps at least one administrator
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # the same idempotencyKey came with different usage
    REMINDER_JOB_RUNNING = "REMINDER_JOB_RUNNING"  # one reminder job per court at a time
    WEBHOOK_URL_NOT_ALLOWED = (
        "WEBHOOK_URL_NOT_ALLOWED"  # not https, or it resolves to an address the service may not call
    )
    DATABASE_UNAVAILABLE = (
        "DATABASE_UNAVAILABLE"  # a mutation's field: the database was lost after it may have written
    )


class DomainError(Exception):
    """A rule of the domain refused the operation.

    Args:
        code: the contract's error code.
        message: a sentence a person can act on.
        field: the input field at fault, when there is one (camelCase, as the client sent it).
    """

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}, {self.message!r}, field={self.field!r})"


class NotFound(DomainError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message, field)


class Unauthenticated(DomainError):
    def __init__(self, message: str = "Sign in first.") -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED, message)


class Forbidden(DomainError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, field)
