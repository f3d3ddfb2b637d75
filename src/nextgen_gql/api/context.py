"""What every resolver receives: the request, the addressed court, the viewer, loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as _Info

from nextgen_gql.api.loaders import Loaders
from nextgen_gql.errors import Unauthenticated
from nextgen_gql.models import PacerAccount, Session
from nextgen_gql.services import auth, firms, visibility
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import Court, CourtRegistry

__all__ = ["COOKIE_NAME", "Context", "Info"]

COOKIE_NAME = "NextGenCSO"


@dataclass
class Context:
    request: Request
    response: Response
    settings: Settings
    courts: CourtRegistry
    #: The court this request is addressed to; None on the national endpoint.
    court: Court | None
    token: str | None
    mailer: Mailer
    loaders: Loaders = field(default_factory=Loaders)
    _session: Session | None = None
    _session_loaded: bool = False
    _clerk_courts: frozenset[str] | None = None
    _firm_role: firms.FirmRole | None = None
    _firm_role_loaded: bool = False

    async def session(self) -> Session | None:
        """The caller's live session, looked up once per request."""
        if not self._session_loaded:
            self._session = await auth.session_for_token(self.token)
            self._session_loaded = True
        return self._session

    async def viewer(self) -> PacerAccount | None:
        """The signed-in PACER account, or None."""
        session = await self.session()
        return session.account if session else None

    @property
    def source_address(self) -> str:
        """The caller's address: the peer, or the first X-Forwarded-For hop behind a trusted proxy."""
        if self.settings.trust_forwarded:
            forwarded = self.request.headers.get("x-forwarded-for", "").split(",")[0].strip()
            if forwarded:
                return forwarded[:64]
        client = self.request.client
        return client.host if client else "unknown"

    async def require_viewer(self) -> PacerAccount:
        """The signed-in account; ``Unauthenticated`` (a DomainError) when nobody is."""
        viewer = await self.viewer()
        if viewer is None:
            raise Unauthenticated()
        return viewer

    async def clerk_courts(self) -> frozenset[str]:
        """Codes of the courts whose clerk the viewer is (none when signed out)."""
        if self._clerk_courts is None:
            viewer = await self.viewer()
            self._clerk_courts = frozenset(await visibility.clerk_courts(viewer)) if viewer else frozenset()
        return self._clerk_courts

    async def firm_role(self) -> firms.FirmRole | None:
        """The viewer's firm and whether they administer it (None when not in a firm)."""
        if not self._firm_role_loaded:
            viewer = await self.viewer()
            self._firm_role = await firms.firm_role(viewer.id) if viewer else None
            self._firm_role_loaded = True
        return self._firm_role

    def forget_session(self) -> None:
        self._session, self._session_loaded = None, True

    def set_token_cookie(self, token: str, max_age: int) -> None:
        secure = self.settings.cookie_secure or self.request.url.scheme == "https"
        self.response.set_cookie(
            COOKIE_NAME, token, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
        )

    def clear_token_cookie(self) -> None:
        self.response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")


def token_from_request(request: Request) -> str | None:
    """``Authorization: Bearer <token>``, else the ``NextGenCSO`` cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME) or None


Info = _Info[Context, None]
