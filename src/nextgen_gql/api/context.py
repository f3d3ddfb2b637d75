"""What every resolver receives: the request, the addressed court, the viewer, loaders.

Credentials (docs/front-ends.md, "Endpoints"): ``Authorization: Bearer <token>``, else the
``NextGenCSO`` cookie. A bearer token that names no live session (malformed, expired,
revoked, signed out) is refused before anything runs (``InvalidToken``: the view answers
401 with ``WWW-Authenticate: Bearer error="invalid_token"``); a cookie that names none is
treated as no cookie, and cleared in the same answer. No credentials at all is anonymous.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import DocumentNode, OperationDefinitionNode
from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.types import Info as _Info

from nextgen_gql.api.loaders import Loaders
from nextgen_gql.api.roots import root_fields
from nextgen_gql.errors import Unauthenticated
from nextgen_gql.models import PacerAccount, Session
from nextgen_gql.observability.requests import note_account
from nextgen_gql.oidc.access import AppAccess, app_access, looks_like_access_token
from nextgen_gql.outbound.addresses import PUBLIC_ONLY, Reach
from nextgen_gql.services import auth, firms, keys, visibility
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.keys import KeyGrant
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import Court, CourtRegistry

if TYPE_CHECKING:
    from nextgen_gql.api.live.connections import LiveConnection

__all__ = [
    "COOKIE_NAME",
    "Context",
    "Credentials",
    "Info",
    "InvalidToken",
    "KeyElsewhere",
    "credentials_from_header",
    "credentials_from_request",
]

COOKIE_NAME = "NextGenCSO"
T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    """What a request presented, and where: ``bearer`` (the Authorization header), ``cookie``
    (``NextGenCSO``) or ``none``; ``refused`` says why an Authorization header is unusable."""

    token: str | None = None
    source: str = "none"
    refused: str | None = None


NO_CREDENTIALS = Credentials()


class InvalidToken(Exception):
    """A bearer credential that names no live session or key: the request is refused (401).

    Args:
        message: what the caller should do.
        error: the RFC 6750 error code, ``invalid_token`` or ``invalid_request``.
    """

    def __init__(self, message: str, error: str = "invalid_token") -> None:
        super().__init__(message)
        self.message = message
        self.error = error


class KeyElsewhere(Exception):
    """A live service key or app's access token sent where it may not act (another court, the
    national endpoint, a subscription): the request is refused (403, ``FORBIDDEN``).

    Args:
        message: where the credential acts.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Context:
    #: The HTTP request, or the WebSocket a subscription runs on.
    request: HTTPConnection
    response: Response
    settings: Settings
    courts: CourtRegistry
    #: The court this request is addressed to; None on the national endpoint.
    court: Court | None
    #: The session token this request signs in with (None: anonymous, or a service key).
    token: str | None
    mailer: Mailer
    #: Seals authenticator secrets and hashes codes (``services.crypto``).
    sealer: Sealer
    #: Where the service may call out (``outbound.addresses.Reach``): a webhook URL is checked by it.
    reach: Reach = PUBLIC_ONLY
    credentials: Credentials = NO_CREDENTIALS
    #: Set when the request's NextGenCSO cookie named no live session: the answer clears it.
    cookie_stale: bool = False
    #: The court's service key this request acts with (no person: the viewer is None).
    service_key: KeyGrant | None = None
    #: An app's access token this request acts with (``oidc.access``): the person of its
    #: session, within its scopes. Known once the session is read.
    app: AppAccess | None = None
    #: A subscription's live connection (WebSocket or server-sent events); None for a request.
    live: LiveConnection | None = None
    #: The event streams a subscription opened (``EventStream``): its transport closes them when
    #: the operation ends, however it ends (a generator never started closes nothing itself).
    live_streams: list[Any] = field(default_factory=list)
    #: What this operation cost and what the caller has left (``Query.rateLimit``); set by the
    #: view before anything runs.
    rate_limit: Any = None
    #: Charges the operation to the signed-in account once it is known (its id; None: no live
    #: session, the address pays), before anything runs: the compiled path calls it right after
    #: its viewer read, so that charging costs no statement of its own.
    before_run: Callable[[int | None], Awaitable[None]] | None = None
    _loaders: Loaders | None = None
    # Memoised look-ups: the task, not its result, so that resolvers running at once share one query.
    _once: dict[object, asyncio.Future[Any]] = field(default_factory=dict)
    # Accounts this request proved it owns (signed in with, registered).
    _proved: set[int] = field(default_factory=set)

    @property
    def loaders(self) -> Loaders:
        """The request's DataLoaders, made on first use (the compiled path needs none)."""
        if self._loaders is None:
            self._loaders = Loaders()
        return self._loaders

    def begin_event(self, loaders: Loaders, known: dict[str, object], courts: CourtRegistry) -> None:
        """A subscription's next event: the event's loaders (shared by every subscriber of it,
        so that its rows are read once), the viewer's facts as the connection knows them now
        (``LiveConnection.known``), and the courts served now. Nothing else carries over."""
        self._loaders = loaders
        self.courts = courts
        self._once.clear()
        loop = asyncio.get_running_loop()
        for key, value in known.items():
            done: asyncio.Future[Any] = loop.create_future()
            done.set_result(value)
            self._once[key] = done

    def _memo(self, key: object, make: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        found = self._once.get(key)
        if found is None:
            found = self._once[key] = asyncio.ensure_future(make())
        return found

    async def session(self) -> Session | None:
        """The caller's live session, looked up once per request."""

        async def load() -> Session | None:
            if self.presents_access_token:
                assert self.token is not None
                self.app = await app_access(self.token)
                found = self.app.session if self.app is not None else None
                if found is not None:
                    await auth.touch(found.id, found.last_used_at)
            else:
                found = await auth.session_for_token(self.token)
            if found is not None:
                note_account(found.account_id)
            return found

        return await self._memo("session", load)

    @property
    def court_code(self) -> str | None:
        """The addressed court's code; None on the national endpoint."""
        return self.court.code if self.court is not None else None

    @property
    def presents_access_token(self) -> bool:
        """The request's bearer credential is an app's access token (``nga_...``)."""
        token = self.token
        return token is not None and self.credentials.source == "bearer" and looks_like_access_token(token)

    def session_missing(self) -> None:
        """The request's token names no live session: a bearer token is refused
        (``InvalidToken``); a cookie is forgotten, and the answer clears it."""
        if self.presents_access_token:
            raise InvalidToken(
                "The access token is not valid (expired, revoked, its sign-in ended or its app "
                "removed): refresh it, or sign the person in again."
            )
        if self.credentials.source == "bearer":
            raise InvalidToken(
                "The bearer token is not valid (malformed, expired, revoked or signed out): sign in again."
            )
        self.cookie_stale = True
        self.forget_session()

    async def authenticate_key(self) -> str | None:
        """A bearer credential that is a court's service key (``ngk_...``): the key, checked
        (``InvalidToken`` when it does not hold); then the request acts with it, as no person.
        Returns why the key may not act here (another court, the national endpoint), if so."""
        token = self.credentials.token
        if self.credentials.source != "bearer" or token is None or not keys.looks_like_key(token):
            return None
        grant = await keys.authenticate(token)
        if grant is None:
            raise InvalidToken("The service key is not valid (malformed, unknown or revoked).")
        self.token = None  # no session: the viewer is nobody
        self.service_key = grant
        if self.court is None or self.court.code != grant.court_id:
            return (
                f"The service key {grant.prefix} acts only at its court: send it to "
                f"/courts/{grant.court_id}/graphql."
            )
        return None

    async def authenticate_app(
        self, document: DocumentNode, operation: OperationDefinitionNode
    ) -> str | None:
        """A bearer credential that is an app's access token: checked (``InvalidToken`` when it
        does not hold); then the request acts as the person of its session. Returns why the
        token may not run this operation here (``AppAccess.refusal``), if so."""
        if not self.presents_access_token:
            return None
        if await self.session() is None or self.app is None:
            self.session_missing()  # refuses
            return None
        kind = operation.operation.value
        roots = root_fields(document, operation) if kind == "mutation" else ()
        return self.app.refusal(self.court_code, kind, roots)

    async def check_credentials(self) -> None:
        """Before anything runs: the credentials the request presented hold, or it is refused
        (bearer) or made anonymous (cookie). The session read is kept for the resolvers."""
        if self.credentials.refused is not None:
            raise InvalidToken(self.credentials.refused, "invalid_request")
        if self.token is not None and await self.session() is None:
            self.session_missing()

    async def admit(self) -> Session | None:
        """The one check of a request's credentials, whole, before anything runs: an unusable
        Authorization header or a bearer token that names no live session or key is refused
        (``InvalidToken``: 401), a key away from its court too (``KeyElsewhere``: 403); a
        stale cookie is forgotten. Returns the live session (None: anonymous, or a key).

        HTTP queries and mutations take these same steps one by one (``GraphQLView._execute``:
        the compiled path reads the session with its plan); subscriptions over server-sent
        events and WebSockets take them here (``api.live.admission``)."""
        if self.credentials.refused is not None:
            raise InvalidToken(self.credentials.refused, "invalid_request")
        elsewhere = await self.authenticate_key()
        if elsewhere is not None:
            raise KeyElsewhere(elsewhere)
        await self.check_credentials()
        if self.app is not None:
            raise KeyElsewhere(self.app.refusal(self.court_code, "subscription", ()) or "")
        return await self.session() if self.token is not None else None

    async def viewer(self) -> PacerAccount | None:
        """The signed-in PACER account, or None."""
        session = await self.session()
        return session.account if session else None

    @property
    def source_address(self) -> str:
        """The caller's address: the peer, or behind a trusted proxy the hop ``api.proxies``
        settled on (the rightmost one that is not a trusted proxy)."""
        client = self.request.client
        return client.host if client else "unknown"

    @property
    def user_agent(self) -> str | None:
        return self.request.headers.get("user-agent") or None

    async def require_viewer(self) -> PacerAccount:
        """The signed-in account; ``Unauthenticated`` (a DomainError) when nobody is, and
        ``Forbidden`` for a court's service key (it acts for no person)."""
        if self.service_key is not None:
            raise keys.refuse_key(self.service_key, "act for a person")
        viewer = await self.viewer()
        if viewer is None:
            raise Unauthenticated()
        return viewer

    async def clerk_courts(self) -> frozenset[str]:
        """Codes of the courts whose clerk the viewer is (none when signed out)."""

        async def load() -> frozenset[str]:
            viewer = await self.viewer()
            return frozenset(await visibility.clerk_courts(viewer)) if viewer else frozenset()

        return await self._memo("clerk_courts", load)

    async def firm_role(self) -> firms.FirmRole | None:
        """The viewer's firm and whether they administer it (None when not in a firm)."""

        async def load() -> firms.FirmRole | None:
            viewer = await self.viewer()
            return await firms.firm_role(viewer.id) if viewer else None

        return await self._memo("firm_role", load)

    async def admin_firm_id(self) -> int | None:
        """The firm the viewer administers (None: none, or signed out)."""

        async def load() -> int | None:
            role = await self.firm_role()
            return role.firm.id if role is not None and role.is_admin else None

        return await self._memo("admin_firm_id", load)

    def owner_proved(self, account_id: int) -> None:
        """The caller just proved it owns this account (registered it, signed in with it)."""
        note_account(account_id)
        self._proved.add(account_id)
        done: asyncio.Future[visibility.AccountAccess] = asyncio.get_running_loop().create_future()
        done.set_result(visibility.FULL_ACCESS)
        self._once[("access", account_id)] = done

    async def is_owner(self, account_id: int) -> bool:
        """Whether the caller is this account (signed in as it, or just proved it)."""
        if account_id in self._proved:
            return True
        viewer = await self.viewer()
        return viewer is not None and viewer.id == account_id

    async def account_access(self, account_id: int) -> visibility.AccountAccess:
        """What the viewer may see of an account, decided on batched facts, once per request."""
        return await self._memo(("access", account_id), lambda: self._decide_access(account_id))

    async def _decide_access(self, account_id: int) -> visibility.AccountAccess:
        viewer = await self.viewer()
        if viewer is None or viewer.id == account_id:
            return visibility.FULL_ACCESS if viewer else visibility.NO_ACCESS
        admin_firm_id = await self.admin_firm_id()
        membership = await self.loaders.membership.load(account_id)
        clerk_of = await self.clerk_courts()
        courts: set[str] = set()
        if clerk_of:
            courts |= {p.court_id for p in await self.loaders.privileges.load(account_id)}
            courts |= {link.court_id for link in await self.loaders.links_of_account.load(account_id)}
            courts |= {r.court_id for r in await self.loaders.registrations.load(account_id)}
        return visibility.decide_access(
            viewer_id=viewer.id,
            account_id=account_id,
            viewer_admin_firm_id=admin_firm_id,
            account_firm_id=membership.firm_id if membership else None,
            viewer_clerk_courts=clerk_of,
            account_courts=courts,
        )

    def acting_accounts(self) -> set[int]:
        """The accounts this request acted as: its session's (when it was read and holds) and
        those it proved it owns (``owner_proved``: a sign-in, a registration)."""
        accounts = set(self._proved)
        found = self._once.get("session")
        if found is not None and found.done() and not found.cancelled() and found.exception() is None:
            session = found.result()
            if session is not None:
                accounts.add(session.account_id)
        return accounts

    def forget_session(self) -> None:
        """After sign-out: from now on this request is anonymous."""
        self._once.clear()
        self.token = None

    def set_token_cookie(self, token: str, max_age: int) -> None:
        from nextgen_gql.api.http import is_https

        secure = self.settings.cookie_secure or is_https(self.request.scope, self.settings)
        self.response.set_cookie(
            COOKIE_NAME, token, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
        )

    def clear_token_cookie(self) -> None:
        self.response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")


def credentials_from_header(header: object, cookie: str | None) -> Credentials:
    """An ``Authorization`` value (a header, or a WebSocket's ``connection_init`` payload), else
    the ``NextGenCSO`` cookie, else none. An Authorization value of another scheme, a Bearer
    without a token, or a value that is no text is refused."""
    if header is not None and (not isinstance(header, str) or header.strip()):
        scheme, _, value = header.strip().partition(" ") if isinstance(header, str) else ("", "", "")
        if scheme.lower() != "bearer" or not value.strip():
            return Credentials(
                source="bearer", refused="Send credentials as Authorization: Bearer <token>, or none."
            )
        return Credentials(value.strip(), "bearer")
    return Credentials(cookie, "cookie") if cookie else NO_CREDENTIALS


def credentials_from_request(request: HTTPConnection) -> Credentials:
    """``Authorization: Bearer <token>``, else the ``NextGenCSO`` cookie, else none
    (``credentials_from_header``)."""
    return credentials_from_header(request.headers.get("authorization"), request.cookies.get(COOKIE_NAME))


Info = _Info[Context, None]
