"""``/oauth/authorize``: the authorization code flow's front half, where a person signs in and
lets an app in.

``GET`` carries the client's request. Authlib checks it (``Provider.get_consent_grant``): an
unknown client or a redirect URI not registered exactly gets an error page here, never a
redirect; any other fault goes back to the client's redirect URI with ``error`` and ``iss``.
Then:

1. The person: the service's own session (the ``NextGenCSO`` cookie, the one the web app
   signs in with), if it is live and satisfies the request (``prompt=login`` asks for a new
   sign-in, ``max_age`` a recent one, ``acr_values=urn:nextgen:loa:2`` one with a second
   factor). Otherwise the sign-in page, which asks what ``signIn`` asks (password, client
   code, redaction acknowledgement, then the second factor when the account has one) through
   the same ``services.auth`` functions, throttles and audit included. ``prompt=none`` gets
   ``login_required`` instead. An account that must have an authenticator app and used its
   sign-ins without one (a session restricted to enrolment) adds one here first, as the web
   app would have it do (``services.mfa``: the mailed security code, the QR code, the first
   code, the backup codes shown once); ``prompt=none`` gets ``interaction_required``.
2. Consent: a national app asking for scopes not granted yet gets the consent page
   (``prompt=none``: ``consent_required``); a court's own system needs none. Either way the
   grant is recorded (``grants.grant``), so the person sees it under Connected apps.
3. A code, single use, 60 seconds, back to the redirect URI.

``POST`` continues a page's form: ``q`` is the original request (checked again, all of it),
``csrf`` matches the page's cookie, ``action`` says which form.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from urllib.parse import parse_qsl, urlencode

from authlib.oauth2 import OAuth2Error
from starlette.requests import Request as HttpRequest
from starlette.responses import RedirectResponse, Response

from nextgen_gql.api.context import COOKIE_NAME
from nextgen_gql.api.http import is_https
from nextgen_gql.errors import DomainError, NotFound
from nextgen_gql.models import PacerAccount, Session
from nextgen_gql.oidc import claims, grants, pages
from nextgen_gql.oidc.server import Person, Provider, Request, run
from nextgen_gql.services import auth, mfa
from nextgen_gql.services.clock import now
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings

__all__ = ["Authorize"]

CSRF_COOKIE = "ngc_oauth_csrf"
MAX_FORM = 16_384


class Authorize:
    """The endpoint, with what it signs people in with."""

    def __init__(self, provider: Provider, settings: Settings, sealer: Sealer, mailer: Mailer) -> None:
        self.provider = provider
        self.settings = settings
        self.sealer = sealer
        self.mailer = mailer

    async def __call__(self, request: HttpRequest) -> Response:
        form: dict[str, str] = {}
        if request.method == "POST":
            if int(request.headers.get("content-length") or 0) > MAX_FORM:
                return pages.error("The form is too large.", 413)
            raw = await request.form()
            form = {k: v for k, v in raw.items() if isinstance(v, str)}
            pairs = parse_qsl(form.get("q", ""), keep_blank_values=True)
            if not hmac.compare_digest(
                form.get("csrf", ""), request.cookies.get(CSRF_COOKIE, "")
            ) or not form.get("csrf"):
                return pages.error(
                    "This form expired or came from another site: start again from the app.", 403
                )
        else:
            pairs = list(request.query_params.multi_items())
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        answer = await self._answer(request, pairs, form, csrf)
        if request.method == "POST" and answer.status_code == 302:
            answer.status_code = 303  # the browser GETs the client's redirect URI
        answer.set_cookie(
            CSRF_COOKIE,
            csrf,
            path="/oauth/authorize",
            httponly=True,
            samesite="strict",
            secure=self._secure(request),
        )
        return answer

    def _secure(self, request: HttpRequest) -> bool:
        return bool(self.settings.cookie_secure or is_https(request.scope, self.settings))

    def _oauth_request(self, request: HttpRequest, pairs: list[tuple[str, str]]) -> Request:
        uri = f"{self.provider.issuer}/oauth/authorize?{urlencode(pairs)}"
        return Request("GET", uri, request.headers, pairs, [])

    async def _answer(
        self, request: HttpRequest, pairs: list[tuple[str, str]], form: dict[str, str], csrf: str
    ) -> Response:
        data = dict(pairs)
        if not data.get("redirect_uri"):
            return pages.error(
                "The app sent no redirect_uri: it must name one of its registered redirect URIs."
            )
        q = urlencode(pairs)
        person, signed_now = await self._person(request)
        new_token: str | None = None
        action = form.get("action")
        client_name = await self._client_name(data.get("client_id"))
        if action in ("sign_in", "second_factor"):
            outcome = await self._sign_in(request, form, client_name, q, csrf)
            if isinstance(outcome, Response):
                return outcome
            new_token, person, signed_now = outcome[0], outcome[1], True
            # Signed in just now, as asked: the forms that follow must not ask again.
            pairs = _without_login_prompt(pairs)
            q = urlencode(pairs)
        elif (
            action in ("enrol_start", "enrol_confirm")
            and person is not None
            and person.session.mfa_restricted
        ):
            shown = await self._enrol(form, person, client_name, q, csrf)
            if shown is not None:
                return shown
        answer = await self._decide(request, pairs, data, person, signed_now, action, client_name, q, csrf)
        if new_token is not None:
            answer.set_cookie(
                COOKIE_NAME,
                new_token,
                max_age=self.settings.session_ttl_seconds,
                path="/",
                httponly=True,
                samesite="lax",
                secure=self._secure(request),
            )
        return answer

    async def _decide(
        self,
        request: HttpRequest,
        pairs: list[tuple[str, str]],
        data: dict[str, str],
        person: Person | None,
        signed_now: bool,
        action: str | None,
        client_name: str,
        q: str,
        csrf: str,
    ) -> Response:
        oauth = self._oauth_request(request, pairs)
        prompts = set(data.get("prompt", "").split())
        wants_mfa = await self._has_second_factor(person)
        if (
            person is not None
            and not signed_now
            and not self._satisfies(person.session, data, prompts, wants_mfa)
        ):
            person = None  # signed in, but not as the request asks: sign in again
        try:
            grant = await run(lambda: self.provider.get_consent_grant(oauth, end_user=person))
        except OAuth2Error as exc:
            if exc.redirect_uri:
                return self.provider.handle_error_response(oauth, exc)  # type: ignore[no-any-return]
            return pages.error(exc.description or exc.error)
        if person is None:
            return pages.sign_in(client_name, q, csrf)
        if person.session.mfa_restricted:
            if "none" in prompts:
                return self._error_redirect(oauth, grant, "interaction_required")
            return pages.enrol_start(client_name, q, csrf)
        client = grant.request.client.row
        scopes = grant.request.scope.split()
        if action == "deny":
            return await run(
                lambda: self.provider.create_authorization_response(oauth, grant_user=None, grant=grant)
            )
        if await grants.needs_consent(person.account.id, client, scopes):
            if action != "allow":
                if "none" in prompts:
                    return self._error_redirect(oauth, grant, "consent_required")
                return pages.consent(client.name, scopes, q, csrf)
        elif "consent" in prompts and action != "allow" and client.court_id is None:
            return pages.consent(client.name, scopes, q, csrf)
        await grants.grant(person.account.id, client, scopes)
        person.court = client.court_id
        return await run(
            lambda: self.provider.create_authorization_response(oauth, grant_user=person, grant=grant)
        )

    def _error_redirect(self, oauth: Request, grant: object, error: str) -> Response:
        redirect_uri = oauth.payload.data["redirect_uri"]
        params = {"error": error}
        if oauth.payload.state:
            params["state"] = oauth.payload.state
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(
            self.provider.with_issuer(f"{redirect_uri}{sep}{urlencode(params)}"), status_code=302
        )

    def _satisfies(self, session: Session, data: dict[str, str], prompts: set[str], has_mfa: bool) -> bool:
        """Whether the live session does what the request asks, or the person must sign in
        again (``prompt=login``; ``max_age``; ``acr_values`` asking a second factor of an
        account that has one)."""
        if "login" in prompts:
            return False
        if claims.LOA_2 in data.get("acr_values", "").split() and not session.second_factor and has_mfa:
            return False
        max_age = data.get("max_age")
        if max_age:
            try:
                limit = int(max_age)
            except ValueError:
                return True
            if (now() - session.created_at) > dt.timedelta(seconds=max(0, limit)):
                return False
        return True

    async def _client_name(self, client_id: str | None) -> str:
        from nextgen_gql.oidc import clients

        found = await clients.find_client(client_id) if client_id else None
        return found.name if found is not None else "the app"

    async def _person(self, request: HttpRequest) -> tuple[Person | None, bool]:
        session = await auth.session_for_token(request.cookies.get(COOKIE_NAME))
        if session is None:
            return None, False
        return Person(await PacerAccount.get(id=session.account_id), session), False

    async def _enrol(
        self, form: dict[str, str], person: Person, client_name: str, q: str, csrf: str
    ) -> Response | None:
        """A restricted session's enrolment, a step at a time: the page to show, or None once
        the app is added and the flow goes on (the session no longer restricted)."""
        account = person.account
        if form.get("action") == "enrol_start":
            try:
                started = await mfa.start_enrollment(
                    account, form.get("name", ""), sealer=self.sealer, mailer=self.mailer
                )
            except DomainError as exc:
                return pages.enrol_start(client_name, q, csrf, exc.message)
            return pages.enrol_confirm(
                client_name, q, csrf, started.authenticator.id, started.qr_svg, started.secret
            )
        raw = form.get("enrollment", "")
        enrollment = int(raw) if raw.isdigit() and len(raw) < 12 else None
        try:
            _, codes = await mfa.confirm_enrollment(
                account,
                enrollment,
                form.get("security_code", ""),
                form.get("code", ""),
                sealer=self.sealer,
                mailer=self.mailer,
            )
        except NotFound as exc:
            return pages.enrol_start(client_name, q, csrf, exc.message)
        except DomainError as exc:
            assert enrollment is not None
            return pages.enrol_confirm(client_name, q, csrf, enrollment, None, None, exc.message)
        person.session = await Session.get(id=person.session.id)
        if codes:
            return pages.backup_codes(client_name, codes, q, csrf)
        return None

    async def _has_second_factor(self, person: Person | None) -> bool:
        return person is not None and await mfa.is_enabled(person.account.id)

    async def _sign_in(
        self, request: HttpRequest, form: dict[str, str], client_name: str, q: str, csrf: str
    ) -> tuple[str, Person] | Response:
        source = request.client.host if request.client else "unknown"
        agent = request.headers.get("user-agent")
        ttl = self.settings.session_ttl_seconds
        try:
            if form.get("action") == "second_factor":
                code = form.get("code", "").strip()
                signed = await auth.verify_sign_in(
                    challenge=form.get("challenge", ""),
                    code=code,
                    method=auth.code_method(code),
                    ttl_seconds=ttl,
                    sealer=self.sealer,
                    mailer=self.mailer,
                    source=source,
                    user_agent=agent,
                )
            else:
                username = form.get("username", "")
                if not username or not form.get("password"):
                    return pages.sign_in(client_name, q, csrf, "Enter your username and password.", username)
                outcome = await auth.sign_in(
                    username=username,
                    password=form.get("password", ""),
                    client_code=form.get("client_code") or None,
                    redaction_acknowledged=form.get("redaction") == "1",
                    ttl_seconds=ttl,
                    source=source,
                    user_agent=agent,
                )
                if isinstance(outcome, auth.Challenge):
                    return pages.second_factor(client_name, q, csrf, outcome.token)
                signed = outcome
        except DomainError as exc:
            if form.get("action") == "second_factor" and form.get("challenge"):
                return pages.second_factor(client_name, q, csrf, form.get("challenge", ""), exc.message)
            return pages.sign_in(client_name, q, csrf, exc.message, form.get("username", ""))
        return signed.token, Person(signed.account, signed.session)


def _without_login_prompt(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    kept = []
    for key, value in pairs:
        if key == "prompt":
            value = " ".join(p for p in value.split() if p != "login")
            if not value:
                continue
        kept.append((key, value))
    return kept
