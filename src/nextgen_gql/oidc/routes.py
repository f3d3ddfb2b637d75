"""The provider's HTTP routes served so far: discovery (OpenID Connect Discovery 1.0 and
RFC 8414) and the JWKS. Without ``NEXTGEN_GQL_PUBLIC_URL`` every OpenID route answers 404
naming the setting.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from nextgen_gql.oidc import clients, signing
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.settings import Settings

__all__ = ["SCOPES", "discovery", "routes"]

SCOPES = ("openid", "profile", "email", "pacer", "cmecf", "api", "api.read")
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
        "token_endpoint_auth_methods_supported": list(clients.AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": [signing.ALG],
        "revocation_endpoint_auth_methods_supported": list(clients.AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": [m for m in clients.AUTH_METHODS if m != "none"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["urn:nextgen:loa:1", "urn:nextgen:loa:2"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


def routes(settings: Settings, sealer: Sealer) -> list[BaseRoute]:
    """The routes to mount at the application's root."""

    def off() -> Response:
        return JSONResponse(
            {
                "error": "not_found",
                "error_description": "the OpenID Connect provider is off: set NEXTGEN_GQL_PUBLIC_URL "
                "to the service's public https:// URL to serve it",
            },
            status_code=404,
        )

    async def metadata(request: Request) -> Response:
        if settings.public_url is None:
            return off()
        return JSONResponse(discovery(settings.public_url), headers={"cache-control": "public, max-age=300"})

    async def keys(request: Request) -> Response:
        if settings.public_url is None:
            return off()
        return JSONResponse(
            await signing.jwks(sealer),
            media_type="application/jwk-set+json",
            headers={"cache-control": "public, max-age=300"},
        )

    return [
        Route("/.well-known/openid-configuration", metadata, methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        Route("/oauth/jwks", keys, methods=["GET"]),
    ]
