"""PACER's authentication API: ``POST /services/cso-auth`` and ``POST /services/cso-logout``.

Tools written for PACER (Free Law Project's juriscraper among them) sign in with a JSON body
``{"loginId", "password", "clientCode"?, "redactFlag"?, "otpCode"?}`` and read
``{"loginResult", "errorDescription", "nextGenCSO"}``: ``"0"`` signed in (``nextGenCSO`` is
a session token, good as ``Authorization: Bearer`` or the ``NextGenCSO`` cookie at every
court), ``"1"`` not, ``errorDescription`` saying why.

The rules are ``signIn``'s (``services.auth.sign_in``, the same function): throttles,
lockouts, the redaction acknowledgement (``redactFlag: "1"``), client codes, the audit
trail; an unknown username and a wrong password get the same words. An account with a
second factor is asked for ``otpCode`` only once its password was right; the code (an
authenticator app's six digits, or a backup code) then completes the sign-in in the same
call (``services.auth.verify_sign_in``). An account that must enrol in MFA gets ``"0"``,
its restricted session (as ``signIn`` gives it) and an ``errorDescription`` saying so:
PACER's "pending actions".

Only ``application/json`` bodies are taken (a form post from another site cannot sign a
browser in: a cross-site JSON request needs a CORS preflight this route does not answer), at
most ``MAX_BODY`` bytes.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nextgen_gql.errors import DomainError
from nextgen_gql.services import auth
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings

__all__ = ["MAX_BODY", "PacerAuthApi"]

#: The largest body taken (a sign-in is a few hundred bytes).
MAX_BODY = 4096
_FIELDS = ("loginId", "password", "clientCode", "redactFlag", "otpCode")


def _answer(result: str, description: str = "", token: str | None = None, status: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"loginResult": result, "errorDescription": description}
    if token is not None:
        body["nextGenCSO"] = token
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store"})


def _refused(description: str, status: int = 200) -> JSONResponse:
    return _answer("1", description, status=status)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    """The request's JSON object, or the answer that says what is wrong with it."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        return _refused("Send the sign-in as JSON (Content-Type: application/json).", 415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return _refused(f"The body is larger than {MAX_BODY} bytes.", 413)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _refused("The body is not JSON.", 400)
    if not isinstance(value, dict):
        return _refused("The body must be a JSON object.", 400)
    for name in _FIELDS:
        if name in value and value[name] is not None and not isinstance(value[name], str):
            return _refused(f"{name} must be a string.", 400)
    return value


class PacerAuthApi:
    """The two routes' endpoints (``cso_auth``, ``cso_logout``), with what they sign in with."""

    def __init__(self, settings: Settings, sealer: Sealer, mailer: Mailer) -> None:
        self.settings = settings
        self.sealer = sealer
        self.mailer = mailer

    def _client(self, request: Request) -> tuple[str, str | None]:
        client = request.client
        return (client.host if client else "unknown"), request.headers.get("user-agent")

    async def cso_auth(self, request: Request) -> Response:
        given = await _json_body(request)
        if isinstance(given, JSONResponse):
            return given
        login, password = given.get("loginId") or "", given.get("password") or ""
        if not login or not password:
            return _refused("loginId and password are required.", 400)
        source, agent = self._client(request)
        ttl = self.settings.session_ttl_seconds
        try:
            signed = await auth.sign_in(
                username=login,
                password=password,
                client_code=given.get("clientCode") or None,
                redaction_acknowledged=given.get("redactFlag") == "1",
                ttl_seconds=ttl,
                source=source,
                user_agent=agent,
            )
            if isinstance(signed, auth.Challenge):
                code = (given.get("otpCode") or "").strip()
                if not code:
                    return _refused(
                        "This account signs in with a second factor: send otpCode, the code its "
                        "authenticator app shows (or one of its backup codes)."
                    )
                signed = await auth.verify_sign_in(
                    challenge=signed.token,
                    code=code,
                    method=auth.code_method(code),
                    ttl_seconds=ttl,
                    sealer=self.sealer,
                    mailer=self.mailer,
                    source=source,
                    user_agent=agent,
                )
        except DomainError as exc:
            return _refused(exc.message)
        pending = ""
        if signed.session.mfa_restricted:
            pending = (
                "This account must add an authenticator app before anything else: sign in to the "
                "service's web app (Security) to enrol; until then this session may only enrol."
            )
        return _answer("0", pending, signed.token)

    async def cso_logout(self, request: Request) -> Response:
        given = await _json_body(request)
        if isinstance(given, JSONResponse):
            return given
        token = given.get("nextGenCSO") or ""
        session = await auth.session_for_token(token) if token else None
        if session is not None:
            await auth.sign_out(session)
        return _answer("0")
