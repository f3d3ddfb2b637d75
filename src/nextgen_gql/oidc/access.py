"""What an app's access token may do at the GraphQL endpoints: the ``api`` and ``api.read`` scopes.

An access token (``nga_...``, issued by ``tokens.issue_tokens``) is a credential of its own,
sent as ``Authorization: Bearer`` (never as the ``NextGenCSO`` cookie). It acts as the person
whose session it was issued in, only while the token, its session and its client all live,
and only as its scopes allow:

- ``api`` (a court's own system, first party): as the person at that court's endpoint,
  queries and mutations, but none of the mutations that change how the person signs in
  (``SECURITY_MUTATIONS``: password, email, authenticators, sessions, apps, and the court's
  service keys, which are credentials too);
- ``api.read`` (any client): queries only, at every endpoint;
- subscriptions are not served to access tokens: they live ten minutes, a subscription
  longer (the person's own session token serves them).

Every refusal is ``FORBIDDEN`` and says what the token may do instead. The rule is here; the
GraphQL layer only asks it (``api.context.Context.authenticate_app``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nextgen_gql.models import Session
from nextgen_gql.oidc import tokens

__all__ = ["ACCESS_PREFIX", "SECURITY_MUTATIONS", "AppAccess", "app_access", "looks_like_access_token"]

ACCESS_PREFIX = tokens.ACCESS_PREFIX

#: Mutations an ``api`` token may not run: they change how the person signs in, or mint credentials.
SECURITY_MUTATIONS = frozenset(
    {
        "signIn",
        "verifySignIn",
        "signOut",
        "upgradePacerAccount",
        "changePassword",
        "requestPasswordReset",
        "resetPassword",
        "requestEmailChange",
        "confirmEmailChange",
        "verifyEmail",
        "resendEmailVerification",
        "startAuthenticatorEnrollment",
        "confirmAuthenticatorEnrollment",
        "removeAuthenticator",
        "regenerateBackupCodes",
        "revokeSession",
        "signOutOtherSessions",
        "revokeAppGrant",
        "createCourtServiceKey",
        "revokeCourtServiceKey",
    }
)


def looks_like_access_token(token: str) -> bool:
    """Whether a bearer credential is meant as an app's access token (``nga_...``)."""
    return token.startswith(ACCESS_PREFIX)


@dataclass(frozen=True)
class AppAccess:
    """A live access token: whose session it acts in, for which client, with which scopes."""

    client_id: str
    client_name: str
    #: The court whose own system the client is (first party); None for a national app.
    client_court: str | None
    scopes: frozenset[str]
    #: The person's session the token was issued in, its account loaded.
    session: Session

    def acts_at(self, court: str | None) -> bool:
        """Whether the token acts as the person here (``api``, at its client's court)."""
        return "api" in self.scopes and court is not None and court == self.client_court

    def refusal(self, court: str | None, operation: str, root_fields: Iterable[str]) -> str | None:
        """Why this token may not run an operation (``query``, ``mutation``, ``subscription``)
        with these root fields at ``court``'s endpoint (None: the national one); None if it may."""
        if operation == "subscription":
            return (
                f"An app's access token ({self.client_name}) does not hold a subscription open: "
                "subscribe with the person's own session token."
            )
        if self.acts_at(court):
            barred = sorted(set(root_fields) & SECURITY_MUTATIONS) if operation == "mutation" else []
            if barred:
                return (
                    f"An app's access token may not change how the person signs in: {', '.join(barred)} "
                    "must be run by the person, signed in to this service."
                )
            return None
        if "api.read" in self.scopes:
            if operation == "query":
                return None
            where = (
                f" (with the api scope it acts at /courts/{self.client_court}/graphql)"
                if "api" in self.scopes and self.client_court
                else ""
            )
            return f"The api.read scope runs queries only{where}."
        if "api" in self.scopes and self.client_court:
            return (
                f"This access token acts only at its court's endpoint, /courts/{self.client_court}/graphql."
            )
        return (
            "This access token was not issued for the GraphQL endpoints: ask for the api.read scope "
            "(or, for a court's own system, api)."
        )


async def app_access(token: str) -> AppAccess | None:
    """The live access token ``token`` is, or None (unknown, expired, revoked, its session
    ended or its client removed)."""
    row = await tokens.access_token(token)
    if row is None:
        return None
    return AppAccess(
        client_id=row.client.client_id,
        client_name=row.client.name,
        client_court=row.client.court_id,
        scopes=frozenset(row.scope.split()),
        session=row.session,
    )
