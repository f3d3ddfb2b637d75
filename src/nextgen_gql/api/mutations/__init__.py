"""Root mutation fields: one module per family, each a thin adapter over one service."""

from __future__ import annotations

from typing import Any, cast

from strawberry.tools import merge_types

from nextgen_gql.api.mutations.accounts import AccountMutations
from nextgen_gql.api.mutations.billing import BillingMutations
from nextgen_gql.api.mutations.email_verification import EmailVerificationMutations
from nextgen_gql.api.mutations.firms import FirmMutations
from nextgen_gql.api.mutations.keys import KeyMutations
from nextgen_gql.api.mutations.linking import LinkingMutations
from nextgen_gql.api.mutations.oidc import AppGrantMutations
from nextgen_gql.api.mutations.privileges import PrivilegeMutations
from nextgen_gql.api.mutations.recovery import RecoveryMutations
from nextgen_gql.api.mutations.registrations import RegistrationMutations
from nextgen_gql.api.mutations.reminders import ReminderMutations
from nextgen_gql.api.mutations.security import SecurityMutations
from nextgen_gql.api.mutations.webhooks import WebhookMutations

__all__ = ["Mutation"]

_Mutation = merge_types(
    "Mutation",
    (
        AccountMutations,
        SecurityMutations,
        AppGrantMutations,
        EmailVerificationMutations,
        RecoveryMutations,
        LinkingMutations,
        RegistrationMutations,
        PrivilegeMutations,
        BillingMutations,
        FirmMutations,
        KeyMutations,
        ReminderMutations,
        WebhookMutations,
    ),
)
cast(Any, _Mutation).__strawberry_definition__.description = (
    "Every change: sign-in and accounts (national), linking and registrations (addressed to a court), firms, "
    "billing, a court's service keys and webhook endpoints. Expected failures are data, in each payload's errors."
)
Mutation = _Mutation
