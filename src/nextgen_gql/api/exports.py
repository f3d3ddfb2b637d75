"""``GET /courts/{code}/exports/unlinked.csv``: the court's unlinked legacy accounts, streamed.

For the court's clerks (the session cookie or a bearer token) and its service keys with
``READ_ROSTER``; the rows come from ``services.exports``. Refusals are JSON with the code of a
GraphQL request error: 401 ``UNAUTHENTICATED`` (no or dead credentials), 403 ``FORBIDDEN``,
404 ``UNKNOWN_COURT``; and, once the caller may export, as GraphQL answers them
(``admission.exports``): 503 ``OVERLOADED`` when the worker's exports are all running, 429
``RATE_LIMITED`` when the caller's budget cannot pay for the rows. A refused export writes
nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nextgen_gql.admission.exports import ExportSlots, HeldStream, admit
from nextgen_gql.api.context import credentials_from_request
from nextgen_gql.api.graphql_http import negotiate
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import PacerAccount, Session
from nextgen_gql.oidc.access import app_access, looks_like_access_token
from nextgen_gql.services import auth, exports, keys
from nextgen_gql.services.counts import roster_count
from nextgen_gql.services.courts import require_reader
from nextgen_gql.services.keys import KeyGrant

__all__ = ["unlinked_csv"]


def _refuse(status: int, code: RequestErrorCode, message: str) -> JSONResponse:
    headers = {"www-authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value}}]},
        status_code=status,
        headers=headers,
    )


async def unlinked_csv(request: Request) -> Response:
    code = str(request.path_params["code"])
    courts = request.app.state.courts.current
    if code not in courts:
        return _refuse(404, RequestErrorCode.UNKNOWN_COURT, f"No court {code!r} is served here.")
    court = courts.get(code)
    credentials = credentials_from_request(request)
    if credentials.refused is not None:
        return _refuse(401, RequestErrorCode.UNAUTHENTICATED, credentials.refused)
    token = credentials.token
    account: PacerAccount | None = None
    key: KeyGrant | None = None
    if token is not None and credentials.source == "bearer" and keys.looks_like_key(token):
        key = await keys.authenticate(token)
        if key is None:
            return _refuse(401, RequestErrorCode.UNAUTHENTICATED, "The service key is not valid.")
    elif token is not None:
        session: Session | None
        if credentials.source == "bearer" and looks_like_access_token(token):  # an app's (oidc.access)
            app = await app_access(token)
            if app is None:
                return _refuse(401, RequestErrorCode.UNAUTHENTICATED, "The access token is not valid.")
            beyond = app.refusal(court.code, "query", ())
            if beyond is not None:
                return _refuse(403, RequestErrorCode.FORBIDDEN, beyond)
            session = app.session
        else:
            session = await auth.session_for_token(token)
        if session is None and credentials.source == "bearer":
            return _refuse(
                401, RequestErrorCode.UNAUTHENTICATED, "The bearer token is not valid: sign in again."
            )
        if session is not None and session.mfa_restricted:
            return _refuse(403, RequestErrorCode.MFA_ENROLLMENT_REQUIRED, "Enrol an authenticator app first.")
        account = session.account if session is not None else None
    try:
        await require_reader(account, court, key, CourtKeyScope.READ_ROSTER)
    except DomainError as exc:
        if exc.code is ErrorCode.UNAUTHENTICATED:
            return _refuse(401, RequestErrorCode.UNAUTHENTICATED, exc.message)
        return _refuse(403, RequestErrorCode.FORBIDDEN, exc.message)
    if key is not None:
        caller = f"key:{key.prefix}"
    elif account is not None:
        caller = f"account:{account.id}"
    else:  # require_reader refuses it first
        return _refuse(401, RequestErrorCode.UNAUTHENTICATED, "Sign in first.")
    slots: ExportSlots = request.app.state.exports
    refusal = await admit(
        slots,
        request.app.state.view.budgets,
        caller,
        lambda: roster_count(court.code, linked=False),
        negotiate(request.headers.get("accept")),
    )
    if refusal is not None:
        return refusal
    return HeldStream(
        exports.unlinked_csv(court.code),
        slots=slots,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{court.code}-unlinked.csv"',
            "cache-control": "no-store",
        },
    )
