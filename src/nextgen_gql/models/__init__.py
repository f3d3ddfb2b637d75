"""Tortoise models: the data, and the constraints the database itself enforces.

One Tortoise app, ``models``; its migrations live in ``nextgen_gql.migrations``.

Tortoise copies class docstrings into the schema as SQL comments, and its SQLite
migration runner splits statements on semicolons: keep semicolons out of model
docstrings (field comments use plain ``#``, which Tortoise does not copy).

Tortoise takes ``#:`` comments before a model's fields as their descriptions, and reads each
model class's source to find them (``inspect.getsource``, which parses the class's whole module
again for every class: 0.15 s of every start, a service's or a command's). Under the rule above
there are none to find, so the search is skipped (``models._comments``, imported first);
``tests/test_models_comments.py`` runs Tortoise's own reader (``TORTOISE_FIELD_COMMENTS``) over every model and finds none.
"""

from nextgen_gql.models._comments import TORTOISE_FIELD_COMMENTS
from nextgen_gql.models.accounts import PacerAccount, PasswordReset, Session
from nextgen_gql.models.audit import AuditEvent
from nextgen_gql.models.billing import Charge
from nextgen_gql.models.courts import Clerk, CourtCatalog, CourtRecord
from nextgen_gql.models.documents import PersistedDocument
from nextgen_gql.models.events import LiveEvent
from nextgen_gql.models.filing import CmecfAccount, CmecfLink, FilingPrivilege, PrivilegeCase
from nextgen_gql.models.firms import Firm, FirmInvitation, FirmMembership
from nextgen_gql.models.keys import CourtServiceKey
from nextgen_gql.models.oidc import (
    AppGrantRecord,
    OidcAssertion,
    OidcClientRecord,
    OidcCode,
    OidcLogout,
    OidcSigningKey,
    OidcToken,
)
from nextgen_gql.models.registrations import Registration
from nextgen_gql.models.security import (
    Authenticator,
    BackupCode,
    EmailChange,
    MfaChallenge,
    RateSpending,
    Throttle,
)
from nextgen_gql.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "TORTOISE_FIELD_COMMENTS",
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
    "OidcAssertion",
    "OidcClientRecord",
    "OidcCode",
    "OidcLogout",
    "OidcSigningKey",
    "OidcToken",
    "PacerAccount",
    "PasswordReset",
    "PersistedDocument",
    "PrivilegeCase",
    "RateSpending",
    "Registration",
    "Session",
    "Throttle",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
