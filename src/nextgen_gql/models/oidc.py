"""The OpenID Connect provider's data: its clients, its signing keys, and what each person
let each app do (grants).

A confidential client's secret is ``ngc_<secret>``; only its SHA-256 is stored. A client is
never deleted: removing it ends it at once and keeps it in the history. A signing key's
private half is sealed with ``NEXTGEN_GQL_SECRET_KEY``.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from nextgen_gql.models.accounts import PacerAccount, Session
from nextgen_gql.models.courts import CourtRecord

__all__ = [
    "AppGrantRecord",
    "OidcAssertion",
    "OidcClientRecord",
    "OidcCode",
    "OidcLogout",
    "OidcSigningKey",
    "OidcToken",
]


class OidcClientRecord(Model):
    """A relying party: a court's own system (first party) or a national third-party app."""

    id = fields.IntField(primary_key=True)
    client_id = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=100)
    # null: a national third-party app (consent asked)
    court: fields.ForeignKeyNullableRelation[CourtRecord] = fields.ForeignKeyField(
        "models.CourtRecord", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    court_id: str | None
    # client_secret_basic, client_secret_post, private_key_jwt or none (a public client)
    auth_method = fields.CharField(max_length=24)
    # SHA-256 (hex) of the whole secret, for the client_secret_ methods
    secret_hash = fields.CharField(max_length=64, null=True)
    # exact URIs, one a line
    redirect_uris = fields.TextField()
    post_logout_redirect_uris = fields.TextField(default="")
    backchannel_logout_uri = fields.CharField(max_length=500, null=True)
    jwks_uri = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oidc_clients"


class OidcSigningKey(Model):
    """An RS256 key: published from created_at, signing from signs_from until replaced."""

    id = fields.IntField(primary_key=True)
    kid = fields.CharField(max_length=43, unique=True)
    # the private JWK (JSON), sealed
    sealed_private = fields.TextField()
    # the public JWK (JSON), as published
    public_jwk = fields.TextField()
    created_at = fields.DatetimeField()
    # a key signs from this moment until the next key's signs_from
    signs_from = fields.DatetimeField()

    class Meta:
        table = "oidc_signing_keys"


class AppGrantRecord(Model):
    """What one account let one client do: its scopes (consent), until revoked."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, on_delete=fields.RESTRICT
    )
    account_id: int
    client: fields.ForeignKeyRelation[OidcClientRecord] = fields.ForeignKeyField(
        "models.OidcClientRecord", related_name=False, on_delete=fields.RESTRICT
    )
    client_id: int
    # scopes separated by spaces
    scopes = fields.CharField(max_length=200)
    granted_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oidc_grants"
        indexes = (("account_id", "client_id"),)


class OidcCode(Model):
    """An authorization code: single use, for 60 seconds, bound to its client, redirect URI and PKCE challenge (only its SHA-256 is kept)."""

    id = fields.IntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    client: fields.ForeignKeyRelation[OidcClientRecord] = fields.ForeignKeyField(
        "models.OidcClientRecord", related_name=False, on_delete=fields.RESTRICT
    )
    client_id: int
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, on_delete=fields.RESTRICT
    )
    account_id: int
    # the person's session with the service when the code was issued (the ID token's sid)
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name=False, on_delete=fields.CASCADE
    )
    session_id: int
    redirect_uri = fields.TextField()
    scope = fields.CharField(max_length=200)
    nonce = fields.CharField(max_length=255, null=True)
    code_challenge = fields.CharField(max_length=128)
    # when the person signed in, and whether with a second factor (auth_time, acr, amr)
    auth_time = fields.DatetimeField()
    second_factor = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oidc_codes"


class OidcToken(Model):
    """An access token (opaque, looked up here: revocation is immediate) and its refresh token, hashes only. Tokens issued from one code share a ``family``: a refresh token used twice ends the whole family."""

    id = fields.IntField(primary_key=True)
    access_hash = fields.CharField(max_length=64, unique=True)
    refresh_hash = fields.CharField(max_length=64, unique=True, null=True)
    client: fields.ForeignKeyRelation[OidcClientRecord] = fields.ForeignKeyField(
        "models.OidcClientRecord", related_name=False, on_delete=fields.RESTRICT
    )
    client_id: int
    account: fields.ForeignKeyRelation[PacerAccount] = fields.ForeignKeyField(
        "models.PacerAccount", related_name=False, on_delete=fields.RESTRICT
    )
    account_id: int
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name=False, on_delete=fields.CASCADE
    )
    session_id: int
    code: fields.ForeignKeyNullableRelation[OidcCode] = fields.ForeignKeyField(
        "models.OidcCode", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    code_id: int | None
    family = fields.CharField(max_length=32, db_index=True)
    scope = fields.CharField(max_length=200)
    issued_at = fields.DatetimeField()
    access_expires_at = fields.DatetimeField()
    refresh_expires_at = fields.DatetimeField(null=True)
    # the refresh token was exchanged (rotation): presented again, the family ends
    refreshed_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oidc_tokens"
        indexes = (("session_id",),)


class OidcLogout(Model):
    """A back-channel logout token owed to a client: a session it received tokens in ended (or the person revoked its grant). Sent until accepted or its schedule ends (``outbound.delivery``)."""

    id = fields.IntField(primary_key=True)
    client: fields.ForeignKeyRelation[OidcClientRecord] = fields.ForeignKeyField(
        "models.OidcClientRecord", related_name=False, on_delete=fields.RESTRICT
    )
    client_id: int
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name=False, on_delete=fields.CASCADE
    )
    session_id: int
    account_id = fields.IntField()
    created_at = fields.DatetimeField()
    # pending, delivered or failed
    outcome = fields.CharField(max_length=16)
    next_attempt_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    attempts_made = fields.SmallIntField(default=0)
    ended_at = fields.DatetimeField(null=True)
    last_status = fields.SmallIntField(null=True)
    last_error = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "oidc_logouts"
        unique_together = (("session_id", "client_id"),)
        indexes = (("outcome", "next_attempt_at"),)


class OidcAssertion(Model):
    """A client assertion (``private_key_jwt``, RFC 7523) already used: its ``jti`` is single use per client until the assertion expires (``oidc.assertions``)."""

    id = fields.IntField(primary_key=True)
    # the client's public id (the assertion's iss and sub)
    client_id = fields.CharField(max_length=40)
    jti = fields.CharField(max_length=255)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "oidc_assertions"
        unique_together = (("client_id", "jti"),)
