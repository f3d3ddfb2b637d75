"""The provider's HTTP routes: discovery (OpenID Connect Discovery 1.0 and RFC 8414), the
JWKS, the authorization endpoint (``oidc.authorize``), the token endpoint, ``userinfo``,
revocation (RFC 7009) and introspection (RFC 7662).
Without ``NEXTGEN_GQL_PUBLIC_URL`` every OpenID route answers 404 naming the setting.
Discovery advertises what is served, and nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request as Request_
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nextgen_gql.oidc import claims, signing, tokens
from nextgen_gql.oidc.assertions import ClientKeys
from nextgen_gql.oidc.authorize import Authorize
from nextgen_gql.oidc.logout import EndSession
from nextgen_gql.oidc.server import (
    ASSERTION_ALGORITHMS,
    CLIENT_AUTH_METHODS,
    INTROSPECTION_AUTH_METHODS,
    SCOPES,
    Provider,
    Request,
    run,
)
from nextgen_gql.outbound.addresses import PUBLIC_ONLY, Reach
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings

__all__ = ["SCOPES", "discovery", "routes"]

MAX_FORM = 16_384
CLAIMS = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "email",
    "email_verified",
    "pacer_account_number",
    "pacer_account_type",
    "cmecf_privilege",
)


def discovery(issuer: str) -> dict[str, Any]:
    """The provider's metadata; ``issuer`` is exactly NEXTGEN_GQL_PUBLIC_URL."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "end_session_endpoint": f"{issuer}/oauth/end-session",
        "scopes_supported": list(SCOPES),
        "claims_supported": list(CLAIMS),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [signing.ALG],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(INTROSPECTION_AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["urn:nextgen:loa:1", "urn:nextgen:loa:2"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


def routes(settings: Settings, sealer: Sealer, mailer: Mailer, reach: Reach = PUBLIC_ONLY) -> list[BaseRoute]:
    """The routes to mount at the application's root; ``reach`` says where the provider may
    call out (a ``private_key_jwt`` client's ``jwks_uri``)."""
    provider = (
        Provider(settings.public_url, sealer, ClientKeys(reach)) if settings.public_url is not None else None
    )
    authorize = Authorize(provider, settings, sealer, mailer) if provider is not None else None
    ending = EndSession(sealer, settings)

    def off() -> Response:
        return JSONResponse(
            {
                "error": "not_found",
                "error_description": "the OpenID Connect provider is off: set NEXTGEN_GQL_PUBLIC_URL "
                "to the service's public https:// URL to serve it",
            },
            status_code=404,
        )

    async def metadata(request: Request_) -> Response:
        if settings.public_url is None:
            return off()
        return JSONResponse(discovery(settings.public_url), headers={"cache-control": "public, max-age=300"})

    async def keys(request: Request_) -> Response:
        if settings.public_url is None:
            return off()
        return JSONResponse(
            await signing.jwks(sealer),
            media_type="application/jwk-set+json",
            headers={"cache-control": "public, max-age=300"},
        )

    async def authorization(request: Request_) -> Response:
        if authorize is None:
            return off()
        return await authorize(request)

    async def posted(request: Request_, what: str) -> Request | Response:
        """The form a client POSTs to the token, revocation or introspection endpoint, as
        Authlib reads it; or the answer saying what is wrong with it."""
        assert provider is not None
        if int(request.headers.get("content-length") or 0) > MAX_FORM:
            return _oauth_error("invalid_request", "The body is too large.", 413)
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return _oauth_error(
                "invalid_request", f"Send the {what} request as application/x-www-form-urlencoded."
            )
        form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
        await provider.client_keys.prepare(dict(form))  # a private_key_jwt client's keys, for Authlib
        return Request("POST", f"{provider.issuer}{request.url.path}", request.headers, [], form)

    async def token(request: Request_) -> Response:
        if provider is None:
            return off()
        oauth = await posted(request, "token")
        if isinstance(oauth, Response):
            return oauth
        provider.fresh_key()
        answer: Response = await run(lambda: provider.create_token_response(oauth))
        return answer

    def endpoint(name: str) -> Callable[[Request_], Awaitable[Response]]:
        async def serve(request: Request_) -> Response:
            if provider is None:
                return off()
            oauth = await posted(request, name)
            if isinstance(oauth, Response):
                return oauth
            answer: Response = await run(lambda: provider.create_endpoint_response(name, oauth))
            return answer

        return serve

    async def end_session(request: Request_) -> Response:
        if provider is None:
            return off()
        return await ending(request)

    async def userinfo(request: Request_) -> Response:
        if provider is None:
            return off()
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            if request.method == "POST":
                form = await request.form()
                given = form.get("access_token")
                value = given if isinstance(given, str) else ""
            if not value.strip():
                return _bearer_error(
                    "invalid_request", "Send the access token as Authorization: Bearer <token>."
                )
        found = await tokens.access_token(value.strip())
        if found is None or "openid" not in found.scope.split():
            return _bearer_error(
                "invalid_token", "The access token is not live, or was not issued for openid."
            )
        account = await found.session.account
        body = await claims.of(sealer, account, found.scope, found.client.court_id)
        return JSONResponse(body, headers={"cache-control": "no-store"})

    return [
        Route("/.well-known/openid-configuration", metadata, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        Route("/oauth/jwks", keys, methods=["GET"]),
        Route("/oauth/authorize", authorization, methods=["GET", "POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
        Route("/oauth/revoke", endpoint("revocation"), methods=["POST"]),
        Route("/oauth/introspect", endpoint("introspection"), methods=["POST"]),
        Route("/oauth/end-session", end_session, methods=["GET", "POST"]),
    ]


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"cache-control": "no-store"},
    )


def _bearer_error(error: str, description: str) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=401,
        headers={
            "www-authenticate": f'Bearer error="{error}", error_description="{description}"',
            "cache-control": "no-store",
        },
    )
