"""``/oauth/end-session``: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

An app sends the person's browser here with ``id_token_hint`` (an ID token the service issued
to it; expired is fine), and optionally ``post_logout_redirect_uri`` (registered for that
client, compared exactly) and ``state``. When the hint names the browser's own session (its
``sid``), the session ends at once, for every court and every app (the tokens issued in it
stop); otherwise the person is asked first, on a page of the service's own with a CSRF token,
so that no site can sign a person out by sending them a link. Then back to the app's
``post_logout_redirect_uri`` with ``state``, or a page saying it is done.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from nextgen_gql.api.context import COOKIE_NAME
from nextgen_gql.api.http import is_https
from nextgen_gql.oidc import claims, clients, pages, signing
from nextgen_gql.services import auth
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.settings import Settings

__all__ = ["EndSession"]

CSRF_COOKIE = "ngc_logout_csrf"


class EndSession:
    def __init__(self, sealer: Sealer, settings: Settings) -> None:
        self.sealer = sealer
        self.settings = settings

    async def __call__(self, request: Request) -> Response:
        if request.method == "POST":
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            given = form.get("csrf", "")
            if not given or not hmac.compare_digest(given, request.cookies.get(CSRF_COOKIE, "")):
                return pages.error(
                    "This form expired or came from another site: sign out from the app again.", 403
                )
            params = dict(form)
        else:
            params = dict(request.query_params)
        hint = params.get("id_token_hint", "")
        if not hint:
            return pages.error("The app sent no id_token_hint: it must send the ID token it was given.")
        try:
            said = signing.verify(hint, await signing.jwks(self.sealer))
        except (JoseError, ValueError):
            return pages.error("The id_token_hint is not an ID token this service signed.")
        client = await clients.find_client(str(said.get("aud", "")))
        if client is None:
            return pages.error("The id_token_hint names no app registered here.")
        back = params.get("post_logout_redirect_uri")
        if back and back not in clients.post_logout_redirect_uris(client):
            return pages.error("The post_logout_redirect_uri is not one this app registered.")
        session = await auth.session_for_token(request.cookies.get(COOKIE_NAME))
        if session is not None:
            same = hmac.compare_digest(str(said.get("sid", "")), claims.session_id(self.sealer, session.id))
            if not same and params.get("confirm") != "yes":
                return self._ask(client.name, params, request)
            await auth.sign_out(session)
        answer: Response = (
            RedirectResponse(_with_state(back, params.get("state")), status_code=303)
            if back
            else pages.done("You are signed out of PACER.")
        )
        answer.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
        return answer

    def _ask(self, client_name: str, params: dict[str, Any], request: Request) -> Response:
        csrf = secrets.token_urlsafe(24)
        kept = {k: params[k] for k in ("id_token_hint", "post_logout_redirect_uri", "state") if params.get(k)}
        answer = pages.confirm_sign_out(client_name, kept, csrf)
        secure = bool(self.settings.cookie_secure or is_https(request.scope, self.settings))
        answer.set_cookie(
            CSRF_COOKIE, csrf, path="/oauth/end-session", httponly=True, samesite="strict", secure=secure
        )
        return answer


def _with_state(uri: str, state: str | None) -> str:
    if not state:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{urlencode({'state': state})}"
