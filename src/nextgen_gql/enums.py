"""Enumerations shared by every layer (values are the contract's, in lower case)."""

from __future__ import annotations

from enum import Enum

__all__ = [
    "AccountEventKind",
    "CourtKeyScope",
    "CourtKind",
    "FilerPermission",
    "FilerRole",
    "InvitationStatus",
    "MfaMethod",
    "PrivilegeSource",
    "RegistrationEventKind",
    "RegistrationStatus",
    "StatementKind",
    "UsageKind",
]


class CourtKind(str, Enum):
    APPELLATE = "appellate"
    DISTRICT = "district"
    BANKRUPTCY = "bankruptcy"


class FilerRole(str, Enum):
    ATTORNEY = "attorney"
    PRO_SE = "pro_se"
    MEDIA = "media"
    CREDITOR = "creditor"
    FILING_AGENT = "filing_agent"
    TRUSTEE = "trustee"

    @classmethod
    def parse(cls, raw: str) -> FilerRole:
        """``"Pro Se"``, ``"pro-se"``, ``"PRO_SE"`` -> ``FilerRole.PRO_SE``; ValueError otherwise."""
        key = raw.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise ValueError(f"unknown role {raw!r} (one of: {names})") from None


class FilerPermission(str, Enum):
    """What a filing privilege lets its holder do (which role grants which: ``services.permissions``)."""

    FILE_IN_ANY_CASE = "file_in_any_case"
    FILE_IN_LISTED_CASES = "file_in_listed_cases"  # only the privilege's cases
    OPEN_NEW_CASES = "open_new_cases"
    FILE_CLAIMS = "file_claims"  # proofs of claim and related documents (bankruptcy)
    RECEIVE_NOTICES = "receive_notices"


class PrivilegeSource(str, Enum):
    LINKED_LEGACY_ACCOUNT = "linked_legacy_account"
    REGISTRATION = "registration"


class RegistrationStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class InvitationStatus(str, Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class UsageKind(str, Enum):
    DOCUMENT = "document"
    CASE_REPORT = "case_report"
    SEARCH = "search"
    OTHER_REPORT = "other_report"
    TRANSCRIPT = "transcript"
    AUDIO = "audio"


class StatementKind(str, Enum):
    INVOICE = "invoice"
    STATEMENT_OF_ACCOUNT = "statement_of_account"


class CourtKeyScope(str, Enum):
    """What a court's service key may do at its court (docs/integrators.md, "Court systems: service keys")."""

    RECORD_USAGE = "record_usage"  # recordUsage
    READ_ROSTER = "read_roster"  # what a clerk reads of the legacy roster
    READ_REGISTRATIONS = "read_registrations"  # the registrations
    MANAGE_WEBHOOKS = "manage_webhooks"  # the court's webhook endpoints, as its clerks do


class WebhookEventType(str, Enum):
    """What a court's webhook endpoint may hear of; the value is the delivery's ``type``."""

    REGISTRATION_SUBMITTED = "registration.submitted"
    REGISTRATION_WITHDRAWN = "registration.withdrawn"
    REGISTRATION_DECIDED = "registration.decided"
    ACCOUNT_LINKED = "account.linked"
    PRIVILEGE_GRANTED = "privilege.granted"
    PRIVILEGE_CASES_CHANGED = "privilege.cases_changed"
    PRIVILEGE_REVOKED = "privilege.revoked"
    PING = "ping"  # sendTestWebhook only


class RegistrationEventKind(str, Enum):
    """What happened to a registration (``registrationEvents``: the court's clerks)."""

    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    APPROVED = "approved"
    REJECTED = "rejected"


class AccountEventKind(str, Enum):
    """What happened that concerns an account (``myEvents``: the account itself)."""

    REGISTRATION_DECIDED = "registration_decided"
    INVITATION_RECEIVED = "invitation_received"
    MEMBERSHIP_ENDED = "membership_ended"
    LINKED_ON_YOUR_BEHALF = "linked_on_your_behalf"
    PRIVILEGE_GRANTED = "privilege_granted"
    PRIVILEGE_REVOKED = "privilege_revoked"
    SECURITY_CHANGED = "security_changed"


class MfaMethod(str, Enum):
    """A second factor at sign-in."""

    TOTP = "totp"  # a code of an authenticator app
    BACKUP_CODE = "backup_code"  # one of the account's single-use backup codes
