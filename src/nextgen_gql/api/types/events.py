"""Live updates: the events the subscriptions deliver (``api.subscriptions``).

An event names what changed; the objects it carries (a registration, an invitation, a
privilege) are read when the event is delivered, under the viewer's usual visibility
rules, so they show the state of that moment. Each event has a cursor: subscribing again
with ``after`` set to the last one seen delivers what came after it, within the resume
window.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.pagination import decode_cursor, encode_cursor
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.api.types.filing import FilingPrivilege
from nextgen_gql.api.types.firms import FirmInvitation
from nextgen_gql.api.types.registrations import Registration
from nextgen_gql.enums import AccountEventKind, RegistrationEventKind
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services import moments
from nextgen_gql.services.outbox import Event

__all__ = [
    "AccountEvent",
    "AccountEventKindEnum",
    "RegistrationEvent",
    "RegistrationEventKindEnum",
    "decode_event_cursor",
    "event_cursor",
]


def _described(enum: Any, descriptions: dict[Enum, str]) -> Any:
    """Descriptions of an enum's values, set in the API layer (the domain enum stays plain)."""
    for value in enum.__strawberry_definition__.values:
        value.description = descriptions[value.value if isinstance(value.value, Enum) else enum(value.value)]
    return enum


RegistrationEventKindEnum = _described(
    strawberry.enum(
        RegistrationEventKind,
        name="RegistrationEventKind",
        description="What happened to an e-file registration.",
    ),
    {
        RegistrationEventKind.SUBMITTED: "A filer sent it: it is in the queue.",
        RegistrationEventKind.WITHDRAWN: "The filer withdrew it.",
        RegistrationEventKind.APPROVED: "A clerk approved it.",
        RegistrationEventKind.REJECTED: "A clerk rejected it.",
    },
)
AccountEventKindEnum = _described(
    strawberry.enum(
        AccountEventKind, name="AccountEventKind", description="What happened that concerns your account."
    ),
    {
        AccountEventKind.REGISTRATION_DECIDED: "A court decided one of your registrations (registration, privilege).",
        AccountEventKind.INVITATION_RECEIVED: "A firm invited you (invitation).",
        AccountEventKind.MEMBERSHIP_ENDED: "You are no longer a member of your firm.",
        AccountEventKind.LINKED_ON_YOUR_BEHALF: "Your firm's administrator linked a legacy account for you (court, privilege).",
        AccountEventKind.PRIVILEGE_GRANTED: "A filing privilege was granted to you, or a case added to one (court, privilege).",
        AccountEventKind.PRIVILEGE_REVOKED: "A court revoked one of your filing privileges (court, privilege).",
        AccountEventKind.SECURITY_CHANGED: "Your password, email, username, authenticator apps, backup codes "
        "or sessions changed (a sign-out too).",
    },
)


def event_cursor(event: Event) -> str:
    """The event's cursor: its id and time (the time tells whether it is still in the window)."""
    return encode_cursor("e", event.id, int(event.at.timestamp() * 1000))


def decode_event_cursor(cursor: str | None, retention: dt.timedelta) -> int | None:
    """The event id of a cursor given out by ``event_cursor`` (None: none given); a cursor
    older than the resume window (``retention``) is refused, since events after it may be gone."""
    if cursor is None:
        return None
    raw = decode_cursor(cursor)
    if (
        len(raw) != 3
        or raw[0] != "e"
        or not isinstance(raw[1], int)
        or not isinstance(raw[2], int)
        or not 0 < raw[1] < 2**63
    ):
        raise DomainError(ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", "after")
    at = moments.from_epoch_ms(raw[2], "after")
    if at < dt.datetime.now(dt.UTC) - retention:
        hours = retention.total_seconds() / 3600
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"The cursor is older than the resume window ({hours:g} hours): events after it may be gone. "
            "Load the current state, then subscribe without after.",
            "after",
        )
    return raw[1]


@strawberry.type(description="A registration of the addressed court submitted, withdrawn or decided.")
class RegistrationEvent:
    #: The event delivered (its answers are shared by the subscribers of one sign-in: ``api.live.sharing``).
    live_event: strawberry.Private[Event]
    kind: RegistrationEventKindEnum = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    at: dt.datetime = strawberry.field(description="When it was committed.")
    registration: Registration = strawberry.field(description="The registration, as it is now.")
    cursor: str = strawberry.field(description="Pass as after to resume after this event.")


@strawberry.type(description="Something that concerns the signed-in account.")
class AccountEvent:
    live_event: strawberry.Private[Event]
    kind: AccountEventKindEnum = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    at: dt.datetime = strawberry.field(description="When it was committed.")
    court_code: strawberry.Private[str | None]
    registration: Registration | None = strawberry.field(description="The registration it concerns, if any.")
    invitation: FirmInvitation | None = strawberry.field(description="The invitation it concerns, if any.")
    privilege: FilingPrivilege | None = strawberry.field(
        description="The filing privilege it concerns, if any."
    )
    cursor: str = strawberry.field(description="Pass as after to resume after this event.")

    @strawberry.field(description="The court it happened in, if any.")
    def court(self, info: Info) -> Court | None:
        court = info.context.courts.find(self.court_code) if self.court_code else None
        return court_node(court) if court else None
