"""Tortoise models: the data, and the constraints the database itself enforces.

One Tortoise app, ``models``; its migrations live in ``nextgen_gql.migrations``.

Tortoise copies class docstrings into the schema as SQL comments, and its SQLite
migration runner splits statements on semicolons: keep semicolons out of model
docstrings (field comments use plain ``#``, which Tortoise does not copy).
"""

from nextgen_gql.models.accounts import PacerAccount, PasswordReset, Session
from nextgen_gql.models.audit import AuditEvent
from nextgen_gql.models.billing import Charge
from nextgen_gql.models.courts import Clerk, CourtCatalog, CourtRecord
from nextgen_gql.models.documents import PersistedDocument
from nextgen_gql.models.events import LiveEvent
from nextgen_gql.models.filing import CmecfAccount, CmecfLink, FilingPrivilege, PrivilegeCase
from nextgen_gql.models.firms import Firm, FirmInvitation, FirmMembership
from nextgen_gql.models.keys import CourtServiceKey
from nextgen_gql.models.oidc import AppGrantRecord, OidcClientRecord, OidcSigningKey
from nextgen_gql.models.registrations import Registration
from nextgen_gql.models.security import (
    Authenticator,
    BackupCode,
    EmailChange,
    MfaChallenge,
    RateSpending,
    Throttle,
)

__all__ = [
    "AppGrantRecord",
    "AuditEvent",
    "Authenticator",
    "BackupCode",
    "Charge",
    "Clerk",
    "CmecfAccount",
    "CmecfLink",
    "CourtCatalog",
    "CourtRecord",
    "CourtServiceKey",
    "EmailChange",
    "FilingPrivilege",
    "Firm",
    "FirmInvitation",
    "FirmMembership",
    "LiveEvent",
    "MfaChallenge",
    "OidcClientRecord",
    "OidcSigningKey",
    "PacerAccount",
    "PasswordReset",
    "PersistedDocument",
    "PrivilegeCase",
    "RateSpending",
    "Registration",
    "Session",
    "Throttle",
]
