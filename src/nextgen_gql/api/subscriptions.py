"""Root subscription fields: live updates.

Served over WebSockets (``graphql-transport-ws``) and as server-sent events (``api/live``),
never by the compiled path. Each event is checked and resolved like a query's answer, by
the same rules: ``registrationEvents`` goes to the addressed court's clerks only (checked
at every event against what the connection knows, read again every second), ``myEvents``
to the signed-in account, ``courtsChanged`` to anyone.

``after`` resumes a subscription: the events after that cursor (the last one seen) come
first, in commit order, then live ones, each once. A cursor older than the resume window
(``NEXTGEN_GQL_EVENT_RETENTION_SECONDS``) is refused (``INVALID_INPUT``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, cast

import strawberry
from graphql import GraphQLError

from nextgen_gql.api import enrolment
from nextgen_gql.api.context import Context, Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.live.connections import LiveConnection
from nextgen_gql.api.loaders import Loaders
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.api.types.events import AccountEvent, RegistrationEvent, decode_event_cursor, event_cursor
from nextgen_gql.api.types.filing import FilingPrivilege
from nextgen_gql.api.types.firms import FirmInvitation
from nextgen_gql.api.types.registrations import Registration
from nextgen_gql.enums import AccountEventKind, RegistrationEventKind
from nextgen_gql.errors import DomainError, Forbidden, Unauthenticated
from nextgen_gql.services import courts as court_service
from nextgen_gql.services import outbox
from nextgen_gql.services.court_catalog import CourtsChanged
from nextgen_gql.services.event_hub import EventStream, SlowConsumer
from nextgen_gql.services.outbox import Event

__all__ = ["Subscription"]


def _live(info: Info) -> LiveConnection:
    live = info.context.live
    if live is None:  # the HTTP view streams subscriptions; nothing else runs one
        raise GraphQLError(
            "Subscriptions are served over WebSocket (graphql-transport-ws) or as server-sent events.",
            extensions={"code": RequestErrorCode.BAD_REQUEST.value},
        )
    if live.session is not None and live.session.mfa_restricted:
        raise enrolment.refusal()  # a session restricted to enrolment subscribes to nothing
    return live


def _position(live: LiveConnection, after: str | None) -> int | None:
    retention = dt.timedelta(seconds=live.registry.settings.event_retention_seconds)
    return decode_event_cursor(after, retention)


def _begin(context: Context, live: LiveConnection, event: Event) -> Loaders:
    """Set the context up for one event: its shared loaders, the viewer's facts of now."""
    loaders = event.shared.get("loaders")
    if loaders is None:
        loaders = event.shared["loaders"] = Loaders()
    context.begin_event(loaders, live.known(), live.registry.courts.current)
    return cast(Loaders, loaders)


async def _registration_events(
    context: Context, live: LiveConnection, code: str, stream: EventStream
) -> AsyncIterator[RegistrationEvent | GraphQLError]:
    try:
        async for event in stream:
            if code not in live.clerk_courts:  # no longer a clerk there: the subscription ends
                yield graphql_error(Forbidden(f"Only the clerks of {code} may do this."))
                return
            loaders = _begin(context, live, event)
            model = await loaders.registration.load(event.registration_id or 0)
            if model is None:
                continue
            yield RegistrationEvent(
                live_event=event,
                kind=RegistrationEventKind(event.kind),
                at=event.at,
                registration=Registration.of(model),
                cursor=event_cursor(event),
            )
    except SlowConsumer:
        return  # the connection is being closed, with the reason
    finally:
        stream.close()


async def _account_events(
    context: Context, live: LiveConnection, account_id: int, stream: EventStream
) -> AsyncIterator[AccountEvent | GraphQLError]:
    try:
        async for event in stream:
            if live.account_id != account_id:
                yield graphql_error(Unauthenticated())
                return
            loaders = _begin(context, live, event)
            registration = (
                await loaders.registration.load(event.registration_id) if event.registration_id else None
            )
            invitation = await loaders.invitation.load(event.invitation_id) if event.invitation_id else None
            privilege = await loaders.privilege.load(event.privilege_id) if event.privilege_id else None
            yield AccountEvent(
                live_event=event,
                kind=AccountEventKind(event.kind),
                at=event.at,
                court_code=event.court,
                registration=Registration.of(registration) if registration else None,
                invitation=FirmInvitation.of(invitation) if invitation else None,
                privilege=FilingPrivilege.of(privilege) if privilege else None,
                cursor=event_cursor(event),
            )
    except SlowConsumer:
        return
    finally:
        stream.close()


async def _courts_changed(live: LiveConnection) -> AsyncIterator[Court]:
    changes = cast(AsyncGenerator[CourtsChanged, None], live.registry.courts.changes())
    try:
        async for change in changes:
            registry = live.registry.courts.current
            for code in (*change.added, *change.changed, *change.retired):
                court = registry.find(code)
                if court is not None:
                    yield court_node(court)
    finally:
        await changes.aclose()


_AFTER = "The cursor of the last event seen, to resume after it (within the resume window)."


@strawberry.type(
    description="Live updates, over a WebSocket (graphql-transport-ws) or server-sent events on the GraphQL URLs."
)
class Subscription:
    @strawberry.subscription(
        description="The addressed court's e-file registrations as they are submitted, withdrawn and "
        "decided (its clerks only). after: the cursor of the last event seen, to resume (within the "
        "resume window)."
    )
    async def registration_events(
        self, info: Info, after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None
    ) -> AsyncIterator[RegistrationEvent]:
        live = _live(info)
        try:
            court = court_service.check_clerk(info.context.court, live.account_id, live.clerk_courts)
            position = _position(live, after)
        except DomainError as exc:
            raise graphql_error(exc) from None
        stream = await live.subscribe(outbox.court_topic(court.code), position)
        info.context.live_streams.append(stream)
        return cast(
            AsyncIterator[RegistrationEvent], _registration_events(info.context, live, court.code, stream)
        )

    @strawberry.subscription(
        description="What concerns the signed-in account: decisions, invitations, privileges, security "
        "changes. after: the cursor of the last event seen, to resume (within the resume window)."
    )
    async def my_events(
        self, info: Info, after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None
    ) -> AsyncIterator[AccountEvent]:
        live = _live(info)
        try:
            if live.account_id is None:
                raise Unauthenticated()
            position = _position(live, after)
        except DomainError as exc:
            raise graphql_error(exc) from None
        stream = await live.subscribe(outbox.account_topic(live.account_id), position)
        info.context.live_streams.append(stream)
        return cast(AsyncIterator[AccountEvent], _account_events(info.context, live, live.account_id, stream))

    @strawberry.subscription(
        description="Courts added, changed or retired, as this service starts serving the change (anyone)."
    )
    async def courts_changed(self, info: Info) -> AsyncIterator[Court]:
        return _courts_changed(_live(info))
