"""Authlib's authorization server, on the service's data.

Authlib decides the protocol (the authorization request's checks, client authentication,
PKCE, the token endpoint's grants, the ID token); the service's modules decide the data
(``clients``, ``tokens``, ``grants``, ``signing``). Authlib is synchronous, hooks included:
each call into it runs in a worker thread (``run``), and its hooks reach the database back on
the event loop (``anyio.from_thread.run``), one statement or service call at a time. The
single-use steps (a code's redemption, a refresh token's rotation) are the conditional
``UPDATE``s of ``tokens``.

Rules the service adds to Authlib's defaults:

- ``redirect_uri`` is required (Authlib would fall back to a client's first one);
- PKCE with ``S256`` is required of every client, confidential ones too;
- ID tokens are always RS256 with the current key's ``kid``, whatever a client asks
  (never ``none``); ``auth_time`` is the real moment of sign-in, ``acr``/``amr`` say whether a
  second factor was used;
- every redirect back to a client carries ``iss`` (RFC 9207), error redirects included;
- ``private_key_jwt`` assertions (``_PrivateKeyJwt``) are RS256, PS256 or ES256 only, name the
  issuer or the token endpoint as ``aud``, live ten minutes at most and are used once
  (``assertions``).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import anyio.from_thread
import anyio.to_thread
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    scope_to_list,
)
from authlib.oauth2.rfc6749 import grants as oauth_grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from starlette.responses import JSONResponse, Response

from nextgen_gql.models import PacerAccount, Session
from nextgen_gql.models.oidc import OidcClientRecord, OidcCode, OidcToken
from nextgen_gql.oidc import assertions, claims, clients, signing, tokens
from nextgen_gql.services.crypto import Sealer

__all__ = ["SCOPES", "Person", "Provider", "run"]

SCOPES = ("openid", "profile", "email", "pacer", "cmecf", "api", "api.read")
#: Scopes only a court's own system (a client with a court) may be given.
FIRST_PARTY_SCOPES = frozenset({"api", "cmecf"})
ID_TOKEN_TTL = 300
#: How clients authenticate at the token and revocation endpoints (introspection: not ``none``).
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
#: Introspection is for confidential clients only.
INTROSPECTION_AUTH_METHODS = [m for m in CLIENT_AUTH_METHODS if m != "none"]
#: What a ``private_key_jwt`` assertion may be signed with.
ASSERTION_ALGORITHMS = ["RS256", "PS256", "ES256"]

T = TypeVar("T")


def call(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """From Authlib's thread: run ``fn(*args)`` on the event loop and wait for it."""
    return anyio.from_thread.run(fn, *args)


async def run(fn: Callable[[], T]) -> T:
    """Call into Authlib (synchronous, its hooks reaching back with ``call``) from a thread."""
    return await anyio.to_thread.run_sync(fn)


@dataclass
class Person:
    """The signed-in person an authorization is for: the account, its session, and the court of
    the client it is for (None: a national app)."""

    account: PacerAccount
    session: Session
    court: str | None = None


# -- Authlib's views of the service's rows ------------------------------------------------------


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: OidcClientRecord) -> None:
        self.row = row

    @property
    def id_token_signed_response_alg(self) -> str:
        return signing.ALG  # whatever a client registered elsewhere: never none

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is required: no fallback

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(SCOPES) if self.row.court_id is not None else set(SCOPES) - FIRST_PARTY_SCOPES
        return " ".join(s for s in scope_to_list(scope or "") or [] if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in clients.redirect_uris(self.row)

    def check_client_secret(self, client_secret: str) -> bool:
        return clients.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return bool(method == self.row.auth_method)

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: OidcCode) -> None:
        self.row = row

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str:
        return claims.acr(self.row.second_factor)

    def get_amr(self) -> list[str]:
        return claims.amr(self.row.second_factor)


class Refresh(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: OidcToken) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return bool(self.row.client_id == client.row.id)

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int(tokens.ACCESS_TTL.total_seconds())

    def is_expired(self) -> bool:
        return False  # rotate_refresh took only a live one

    def is_revoked(self) -> bool:
        return False


class Held(TokenMixin):  # type: ignore[misc]
    """A token presented to revocation or introspection."""

    def __init__(self, found: tokens.Found) -> None:
        self.found = found

    def check_client(self, client: Client) -> bool:
        return bool(self.found.row.client_id == client.row.id)

    def get_scope(self) -> str:
        return self.found.row.scope

    def get_expires_in(self) -> int:
        return int(tokens.ACCESS_TTL.total_seconds())

    def is_expired(self) -> bool:
        return not self.found.live()

    def is_revoked(self) -> bool:
        return self.found.row.revoked_at is not None


# -- requests ------------------------------------------------------------------------------------


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._data = dict(pairs)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class Request(OAuth2Request):  # type: ignore[misc]
    """A request as Authlib reads it, built from what the route already read."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        args: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = dict(args)
        self._form = dict(form)
        self.payload = _Payload(args + form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# -- the grants ----------------------------------------------------------------------------------


class _Pkce(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256, required of every client."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "Missing 'code_challenge': PKCE (S256) is required.", redirect_uri=redirect_uri
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: Code) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: Code) -> str:
        return "S256"


class _IssuesTokens:
    """What both token grants share: the person of a code or refresh token (its account and
    session, and the client's court), and the tokens made and kept by ``Provider.issue``."""

    request: Request
    server: Provider

    def authenticate_user(self, credential: Code | Refresh) -> Person | None:
        row = credential.row
        return call(_person_of, row.account_id, row.session_id, self.request.client.row.court_id)

    def generate_token(
        self,
        user: Person,
        scope: str,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return self.server.issue(self.request, user, scope or "", include_refresh_token)


class _CodeGrant(_IssuesTokens, oauth_grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def save_authorization_code(self, code: str, request: Request) -> None:
        person: Person = request.user
        data = request.payload.data
        call(
            functools.partial(
                tokens.issue_code,
                code,
                client=request.client.row,
                session=person.session,
                redirect_uri=data["redirect_uri"],
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        row = call(tokens.redeem_code, code, client.row)
        return Code(row) if row is not None else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        pass  # redeemed (used_at) by query_authorization_code, in one UPDATE


class _RefreshGrant(_IssuesTokens, oauth_grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Refresh | None:
        row = call(tokens.rotate_refresh, refresh_token, self.request.client.row)
        return Refresh(row) if row is not None else None

    def revoke_old_credential(self, refresh_token: Refresh) -> None:
        pass  # rotated (refreshed_at) by authenticate_refresh_token, in one UPDATE


async def _person_of(account_id: int, session_id: int, court: str | None) -> Person | None:
    session = await Session.get_or_none(id=session_id, account_id=account_id, revoked_at__isnull=True)
    if session is None:
        return None
    return Person(await PacerAccount.get(id=account_id), session, court)


def _held(token_string: str, token_type_hint: str | None) -> Held | None:
    """Authlib's ``query_token`` of revocation and introspection."""
    found = call(tokens.find, token_string, token_type_hint)
    return Held(found) if found is not None else None


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a client ends one of its own tokens (a refresh token: its whole family)."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    query_token = staticmethod(_held)

    def authenticate_token(self, request: Request, client: Client) -> Held | None:
        # Another client's token is treated as unknown: nothing to say, nothing done (RFC 7009
        # 2.2 answers 200 for an invalid token; no client learns of another's tokens).
        self.check_params(request, client)
        held = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        return held if held is not None and held.check_client(client) else None

    def revoke_token(self, token: Held, request: Request) -> None:
        call(tokens.revoke_found, token.found)


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662, for confidential clients, about their own tokens only."""

    CLIENT_AUTH_METHODS = INTROSPECTION_AUTH_METHODS

    def __init__(self, server: Provider) -> None:
        super().__init__(server)
        self.provider = server

    query_token = staticmethod(_held)

    def check_permission(self, token: Held, client: Client, request: Request) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: Held) -> dict[str, Any]:
        row = token.found.row
        expires = row.access_expires_at if token.found.kind == "access_token" else row.refresh_expires_at
        return {
            "active": True,
            "scope": row.scope,
            "client_id": row.client.client_id,
            "token_type": "Bearer" if token.found.kind == "access_token" else "refresh_token",
            "sub": claims.subject(self.provider.sealer, row.account_id),
            "iss": self.provider.issuer,
            "iat": int(row.issued_at.timestamp()),
            "exp": int(expires.timestamp()) if expires is not None else None,
        }


class _PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    """``private_key_jwt``: the client signs an assertion with a key it publishes at its
    ``jwks_uri`` (read and kept by ``assertions.ClientKeys``, before Authlib runs)."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, provider: Provider) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.provider = provider

    def get_audiences(self) -> list[str]:
        # The issuer, as RFC 7523 and FAPI 2.0 say; the token endpoint, as OpenID Connect Core 9 says.
        issuer = self.provider.issuer
        return [issuer, f"{issuer}/oauth/token", f"{issuer}/oauth/revoke", f"{issuer}/oauth/introspect"]

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if client.row.auth_method != self.CLIENT_AUTH_METHOD:
            raise InvalidClientError(description="This client does not authenticate with private_key_jwt.")
        try:
            return self.provider.client_keys.key_set(client.row)
        except assertions.KeysUnavailable as exc:
            raise InvalidClientError(description=str(exc)) from None

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except JoseError as exc:
            raise InvalidClientError(
                description=f"The client assertion does not verify: {exc.description}"
            ) from None
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims: Mapping[str, Any], jti: object) -> bool:
        refusal = assertions.lifetime_refusal(claims)
        if refusal is not None:
            raise InvalidClientError(description=refusal)
        if not isinstance(jti, str) or not 0 < len(jti) <= assertions.MAX_JTI:
            raise InvalidClientError(
                description=f"jti must be a string of 1 to {assertions.MAX_JTI} characters"
            )
        expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
        return call(assertions.spend_jti, str(claims["sub"]), jti, expires)


class _OpenIdCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Request) -> bool:
        return False  # a nonce is the client's to check in the ID token; codes are single use

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.key(client)

    def get_client_algorithm(self, client: Client) -> str:
        return signing.ALG

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": signing.ALG, "kid": self.provider.key(client).kid or "", "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        at = int(time.time())
        return {"iss": self.provider.issuer, "aud": client.row.client_id, "iat": at, "exp": at + ID_TOKEN_TTL}

    def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
        found: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        found["sid"] = claims.session_id(self.provider.sealer, authorization_code.row.session_id)
        return found

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return UserInfo(call(claims.of, self.provider.sealer, user.account, scope, user.court))


class Provider(AuthorizationServer):  # type: ignore[misc]
    """The authorization server of one application (its issuer and sealer)."""

    def __init__(self, issuer: str, sealer: Sealer, client_keys: assertions.ClientKeys | None = None) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.issuer = issuer
        self.sealer = sealer
        #: The ``private_key_jwt`` clients' key sets (read before Authlib runs: ``prepare``).
        self.client_keys = client_keys or assertions.ClientKeys()
        self._key: RSAKey | None = None
        self.register_client_auth_method(_PrivateKeyJwt.CLIENT_AUTH_METHOD, _PrivateKeyJwt(self))
        self.register_grant(_CodeGrant, [_Pkce(required=True), _OpenIdCode(self)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)
        self.register_endpoint(_Introspection(self))

    # Authlib's hooks
    def query_client(self, client_id: str) -> Client | None:
        row = call(clients.find_client, client_id)
        return Client(row) if row is not None else None

    def save_token(self, token: dict[str, Any], request: Request) -> None:
        pass  # ``issue`` made and kept them, in one place

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def create_json_request(self, request: Request) -> Request:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        found = {name.lower(): value for name, value in headers}
        location = found.pop("location", None)
        if location is not None:
            return Response(status_code=status, headers={**found, "location": self.with_issuer(location)})
        return JSONResponse(body, status_code=status, headers={**found, "cache-control": "no-store"})

    # the service's
    def with_issuer(self, location: str) -> str:
        """RFC 9207: ``iss`` on every redirect back to a client."""
        parts = urlsplit(location)
        query = f"{parts.query}&" if parts.query else ""
        return urlunsplit(parts._replace(query=query + urlencode({"iss": self.issuer})))

    def key(self, client: Client) -> RSAKey:
        if self._key is None:
            self._key = call(signing.signing_key, self.sealer)
        return self._key

    def issue(self, request: Request, user: Person, scope: str, refresh: bool) -> dict[str, Any]:
        """Make and keep the tokens of a grant (from Authlib's thread): a code's start a family,
        a refresh token's new pair stays in its family."""
        code = request.authorization_code.row if request.authorization_code is not None else None
        family = request.refresh_token.row.family if request.refresh_token is not None else None
        issued = call(_issue, request.client.row, user, scope, refresh, code, family)
        token = {
            "token_type": "Bearer",
            "access_token": issued.access_token,
            "expires_in": int(tokens.ACCESS_TTL.total_seconds()),
            "scope": scope,
        }
        if issued.refresh_token:
            token["refresh_token"] = issued.refresh_token
        return token

    def fresh_key(self) -> None:
        """Read the signing key again at the next token (per request: rotation applies)."""
        self._key = None


async def _issue(
    client: OidcClientRecord,
    user: Person,
    scope: str,
    refresh: bool,
    code: OidcCode | None,
    family: str | None,
) -> tokens.Issued:
    return await tokens.issue_tokens(
        client=client,
        account_id=user.account.id,
        session_id=user.session.id,
        scope=scope,
        refresh=refresh,
        code=code,
        family=family,
    )
