"""A court's webhook endpoints: its clerks and its MANAGE_WEBHOOKS keys manage them
(``nextgen_gql.webhooks``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import UserError, payload_errors
from nextgen_gql.api.ids import decode_id, decode_int_id
from nextgen_gql.api.types.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEventTypeEnum
from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.services import courts as court_service
from nextgen_gql.tenancy import Court
from nextgen_gql.webhooks import endpoints
from nextgen_gql.webhooks.endpoints import Actor

__all__ = ["WebhookMutations"]

_SCOPE = CourtKeyScope.MANAGE_WEBHOOKS


@strawberry.input(description="A new webhook endpoint of the addressed court.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where deliveries are POSTed: https://, to a host whose every address is public."
    )
    description: str = strawberry.field(description="1 to 200 characters: which system receives it.")
    event_types: list[WebhookEventTypeEnum] = strawberry.field(
        description="The events it receives, at least one (PING is sendTestWebhook's only)."
    )


@strawberry.input(description="What to change of an endpoint; what is left out stays.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID = strawberry.field(description="The WebhookEndpoint's id.")
    url: str | None = strawberry.field(default=None, description="A new URL (checked as at creation).")
    description: str | None = strawberry.field(default=None, description="A new description.")
    event_types: list[WebhookEventTypeEnum] | None = strawberry.field(
        default=None, description="The events it receives from now on."
    )
    enabled: bool | None = strawberry.field(
        default=None,
        description="false: it receives nothing, and its pending deliveries end; true: it receives again "
        "(disabledReason is cleared).",
    )


@strawberry.type(description="An endpoint made or changed; its secret when one was just made.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(default=None, description="The endpoint.")
    secret: str | None = strawberry.field(
        default=None,
        description="whsec_...: shown once, at creation and at rotation, never again. Receivers verify "
        "webhook-signature with it.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why nothing was done.")


@strawberry.type(description="A delivery made or started over.")
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = strawberry.field(default=None, description="The delivery.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why nothing was done.")


async def _court(info: Info) -> tuple[Court, Actor]:
    ctx = info.context
    viewer = await ctx.viewer() if ctx.service_key is None else None
    court = await court_service.require_reader(viewer, ctx.court, ctx.service_key, _SCOPE)
    actor = Actor(
        account_id=viewer.id if viewer is not None else None,
        service_key_id=ctx.service_key.id if ctx.service_key is not None else None,
    )
    return court, actor


_ID = Annotated[strawberry.ID, strawberry.argument(description="The WebhookEndpoint's id.")]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Make a webhook endpoint of the addressed court (its clerks, and its keys with "
        "MANAGE_WEBHOOKS); its signing secret is in the answer only. WEBHOOK_URL_NOT_ALLOWED: not https, "
        "or its host resolves to an address the service may not call."
    )
    @payload_errors(WebhookEndpointPayload, key_scope=_SCOPE)
    async def create_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[CreateWebhookEndpointInput, strawberry.argument(description="The endpoint.")],
    ) -> WebhookEndpointPayload:
        court, actor = await _court(info)
        made = await endpoints.create(
            court,
            actor,
            url=input.url,
            description=input.description,
            types=list(input.event_types),
            sealer=info.context.sealer,
            reach=info.context.reach,
        )
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(made.endpoint), secret=made.secret)

    @strawberry.mutation(description="Change an endpoint of the addressed court, enable or disable it.")
    @payload_errors(WebhookEndpointPayload, key_scope=_SCOPE)
    async def update_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[UpdateWebhookEndpointInput, strawberry.argument(description="What to change.")],
    ) -> WebhookEndpointPayload:
        court, actor = await _court(info)
        changed = await endpoints.update(
            court,
            actor,
            decode_int_id(input.id, "WebhookEndpoint"),
            url=input.url,
            description=input.description,
            types=list(input.event_types) if input.event_types is not None else None,
            enabled=input.enabled,
            reach=info.context.reach,
        )
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(changed))

    @strawberry.mutation(
        description="A new signing secret (in the answer only); the old one keeps signing beside it for 24 hours."
    )
    @payload_errors(WebhookEndpointPayload, key_scope=_SCOPE)
    async def rotate_webhook_secret(self, info: Info, id: _ID) -> WebhookEndpointPayload:
        court, actor = await _court(info)
        made = await endpoints.rotate_secret(
            court, actor, decode_int_id(id, "WebhookEndpoint"), sealer=info.context.sealer
        )
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(made.endpoint), secret=made.secret)

    @strawberry.mutation(description="Remove an endpoint, with its delivery log.")
    @payload_errors(WebhookEndpointPayload, key_scope=_SCOPE)
    async def delete_webhook_endpoint(self, info: Info, id: _ID) -> WebhookEndpointPayload:
        court, actor = await _court(info)
        removed = await endpoints.delete(court, actor, decode_int_id(id, "WebhookEndpoint"))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.of(removed))

    @strawberry.mutation(description="Send a test PING delivery to an endpoint now (even a disabled one).")
    @payload_errors(WebhookDeliveryPayload, key_scope=_SCOPE)
    async def send_test_webhook(self, info: Info, id: _ID) -> WebhookDeliveryPayload:
        court, actor = await _court(info)
        made = await endpoints.send_test(court, actor, decode_int_id(id, "WebhookEndpoint"))
        return WebhookDeliveryPayload(delivery=WebhookDelivery.of(made))

    @strawberry.mutation(
        description="Send a delivery again now: the same event, body and webhook-id; its schedule starts over."
    )
    @payload_errors(WebhookDeliveryPayload, key_scope=_SCOPE)
    async def redeliver_webhook(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The WebhookDelivery's id.")],
    ) -> WebhookDeliveryPayload:
        court, actor = await _court(info)
        decoded = decode_id(id)
        uid = decoded[1] if decoded is not None and decoded[0] == "WebhookDelivery" else None
        again = await endpoints.redeliver(court, actor, uid)
        return WebhookDeliveryPayload(delivery=WebhookDelivery.of(again))
