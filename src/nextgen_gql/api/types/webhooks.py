"""A court's webhook endpoints and their delivery logs, as its clerks and MANAGE_WEBHOOKS keys
see them (never a secret)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.pagination import decode_id_cursor, encode_cursor
from nextgen_gql.api.types.common import Node, PageInfo, describe_values
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.enums import WebhookEventType
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.models import WebhookAttempt as WebhookAttemptModel
from nextgen_gql.models import WebhookDelivery as WebhookDeliveryModel
from nextgen_gql.models import WebhookEndpoint as WebhookEndpointModel
from nextgen_gql.webhooks import deliveries
from nextgen_gql.webhooks.endpoints import event_types

__all__ = [
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryConnection",
    "WebhookDeliveryEdge",
    "WebhookEndpoint",
    "WebhookEndpointStatus",
    "WebhookEventTypeEnum",
    "WebhookOutcome",
]

WebhookEventTypeEnum = describe_values(
    strawberry.enum(
        WebhookEventType,
        name="WebhookEventType",
        description="What a court's webhook endpoint hears of; a delivery's `type` is the lowercase dotted "
        "form (REGISTRATION_DECIDED: registration.decided).",
    ),
    {
        "REGISTRATION_SUBMITTED": "A filer submitted an e-file registration to the court.",
        "REGISTRATION_WITHDRAWN": "A filer withdrew a pending registration.",
        "REGISTRATION_DECIDED": "A clerk approved or rejected a registration (data.status).",
        "ACCOUNT_LINKED": "A legacy CM/ECF account of the court was linked to a PACER account.",
        "PRIVILEGE_GRANTED": "A filing privilege was granted (data: role, cases, pacerAccountNumber).",
        "PRIVILEGE_CASES_CHANGED": "A privilege's cases changed, or a pro hac vice one became court-wide.",
        "PRIVILEGE_REVOKED": "A filing privilege was revoked.",
        "PING": "sendTestWebhook only: a test delivery.",
    },
)


@strawberry.enum(description="Whether an endpoint receives deliveries.")
class WebhookEndpointStatus(enum.Enum):
    ENABLED = strawberry.enum_value("ENABLED", description="It receives the events it asked for.")
    DISABLED = strawberry.enum_value(
        "DISABLED", description="It receives nothing (disabledReason says why when the service did it)."
    )


@strawberry.enum(description="Where a delivery stands.")
class WebhookOutcome(enum.Enum):
    PENDING = strawberry.enum_value("pending", description="Not yet accepted: attempts are still scheduled.")
    SUCCEEDED = strawberry.enum_value("succeeded", description="An attempt was answered 2xx.")
    FAILED = strawberry.enum_value(
        "failed", description="Every attempt failed, the receiver answered 410, or the endpoint was disabled."
    )


@strawberry.type(description="One call made for a delivery.")
class WebhookAttempt:
    model: strawberry.Private[WebhookAttemptModel]

    @strawberry.field(description="When the call was made.")
    def at(self) -> dt.datetime:
        return self.model.at

    @strawberry.field(
        description="The receiver's HTTP status; null: no answer (refused, timed out, address not allowed)."
    )
    def status_code(self) -> int | None:
        return self.model.status_code

    @strawberry.field(description="How long the call took, in milliseconds.")
    def duration_ms(self) -> int:
        return self.model.duration_ms

    @strawberry.field(description="Why it failed, in words; null when it succeeded.")
    def error(self) -> str | None:
        return self.model.error


@strawberry.type(description="One event owed to one endpoint, with every attempt made.")
class WebhookDelivery(Node):
    model: strawberry.Private[WebhookDeliveryModel]
    loaded_attempts: strawberry.Private[list[WebhookAttemptModel] | None] = None

    @classmethod
    def of(
        cls, model: WebhookDeliveryModel, attempts: list[WebhookAttemptModel] | None = None
    ) -> WebhookDelivery:
        return cls(
            model=model, loaded_attempts=attempts, id=strawberry.ID(encode_id("WebhookDelivery", model.uid))
        )

    @strawberry.field(description="The endpoint it is owed to.")
    async def endpoint(self) -> WebhookEndpoint:
        return WebhookEndpoint.of(await WebhookEndpointModel.get(id=self.model.endpoint_id))

    @strawberry.field(description="What happened.")
    def event_type(self) -> WebhookEventTypeEnum:  # type: ignore[valid-type]
        return WebhookEventType(self.model.event_type)

    @strawberry.field(description="The JSON body, exactly as every attempt sends it.")
    def payload(self) -> str:
        return self.model.payload

    @strawberry.field(description="Where it stands.")
    def outcome(self) -> WebhookOutcome:
        return WebhookOutcome(self.model.outcome)

    @strawberry.field(description="Every attempt made, oldest first.")
    async def attempts(self) -> list[WebhookAttempt]:
        found = self.loaded_attempts
        if found is None:
            found = (await deliveries.attempts_of([self.model.id]))[self.model.id]
        return [WebhookAttempt(model=a) for a in found]

    @strawberry.field(description="When the next attempt is due; null once it has ended.")
    def next_attempt_at(self) -> dt.datetime | None:
        return self.model.next_attempt_at

    @strawberry.field(description="When the event happened and the delivery was written.")
    def created_at(self) -> dt.datetime:
        return self.model.created_at


@strawberry.type(description="A delivery in an endpoint's log.")
class WebhookDeliveryEdge:
    cursor: str = strawberry.field(description="Page on after this edge with `after`.")
    node: WebhookDelivery = strawberry.field(description="The delivery.")


@strawberry.type(description="A page of an endpoint's delivery log, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="The deliveries of this page.")
    page_info: PageInfo = strawberry.field(description="Whether more follow.")
    total_count: int = strawberry.field(
        description="How many deliveries the log holds (of the outcome asked)."
    )


@strawberry.type(
    description="Where a court's systems hear of its events: signed deliveries (Standard Webhooks)."
)
class WebhookEndpoint(Node):
    model: strawberry.Private[WebhookEndpointModel]

    @classmethod
    def of(cls, model: WebhookEndpointModel) -> WebhookEndpoint:
        return cls(model=model, id=strawberry.ID(encode_id("WebhookEndpoint", model.id)))

    @strawberry.field(description="The court whose events it receives.")
    def court(self, info: Info) -> Court:
        return court_node(info.context.courts.get(self.model.court_id))

    @strawberry.field(description="Where deliveries are POSTed (https://).")
    def url(self) -> str:
        return self.model.url

    @strawberry.field(description="What its clerks say it is (which system receives it).")
    def description(self) -> str:
        return self.model.description

    @strawberry.field(description="The events it receives.")
    def event_types(self) -> list[WebhookEventTypeEnum]:  # type: ignore[valid-type]
        return event_types(self.model)

    @strawberry.field(description="Whether it receives deliveries.")
    def status(self) -> WebhookEndpointStatus:
        return WebhookEndpointStatus.ENABLED if self.model.enabled else WebhookEndpointStatus.DISABLED

    @strawberry.field(
        description="Why the service disabled it (it answered 410, or every attempt failed for 5 days); "
        "null while enabled or when a person disabled it."
    )
    def disabled_reason(self) -> str | None:
        return self.model.disabled_reason

    @strawberry.field(description="When it was made.")
    def created_at(self) -> dt.datetime:
        return self.model.created_at

    @strawberry.field(
        description="When its secret was last rotated (the previous one signs beside it for 24 hours); "
        "null if never."
    )
    def secret_rotated_at(self) -> dt.datetime | None:
        return self.model.secret_rotated_at

    @strawberry.field(description="Its delivery log, newest first, with every attempt.")
    async def deliveries(
        self,
        first: Annotated[
            int | None,
            strawberry.argument(description=f"At most this many (1 to {deliveries.PAGE_MAX}; default 20)."),
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The deliveries after this cursor.")
        ] = None,
        outcome: Annotated[
            WebhookOutcome | None, strawberry.argument(description="Only those of this outcome.")
        ] = None,
    ) -> WebhookDeliveryConnection:
        size = 20 if first is None else first
        try:
            if not 1 <= size <= deliveries.PAGE_MAX:
                raise DomainError(
                    ErrorCode.INVALID_INPUT, f"first must be 1 to {deliveries.PAGE_MAX}, got {size}.", "first"
                )
            after_id = decode_id_cursor(after)
        except DomainError as exc:
            raise graphql_error(exc) from None
        rows, more, total = await deliveries.log_page(
            self.model.id, outcome=str(outcome.value) if outcome else None, first=size, after_id=after_id
        )
        attempts = await deliveries.attempts_of([r.id for r in rows])
        edges = [
            WebhookDeliveryEdge(cursor=encode_cursor(r.id), node=WebhookDelivery.of(r, attempts[r.id]))
            for r in rows
        ]
        return WebhookDeliveryConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after_id is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )
