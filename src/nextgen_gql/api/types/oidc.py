"""The apps a person signed in to with the service (OpenID Connect), as that person sees them."""

from __future__ import annotations

import datetime as dt

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.models import AppGrantRecord, OidcClientRecord
from nextgen_gql.oidc.grants import scopes_of

__all__ = ["AppGrant", "OidcClient"]


@strawberry.type(
    description="A system that signs people in with the service (an OpenID Connect client): a court's own "
    "system, or a national third-party app."
)
class OidcClient:
    model: strawberry.Private[OidcClientRecord]

    @strawberry.field(description="Its OpenID Connect client_id.")
    def client_id(self) -> str:
        return self.model.client_id

    @strawberry.field(description="Its name, as registered.")
    def name(self) -> str:
        return self.model.name

    @strawberry.field(
        description="The court whose own system it is (no consent asked); null: a national app."
    )
    def court(self, info: Info) -> Court | None:
        code = self.model.court_id
        return court_node(info.context.courts.get(code)) if code and code in info.context.courts else None

    @strawberry.field(description="A court's own system: it may act as you at that court (scope api).")
    def first_party(self) -> bool:
        return self.model.court_id is not None


@strawberry.type(description="What you let an app do in your name, until you revoke it.")
class AppGrant(Node):
    model: strawberry.Private[AppGrantRecord]

    @classmethod
    def of(cls, model: AppGrantRecord) -> AppGrant:
        return cls(model=model, id=strawberry.ID(encode_id("AppGrant", model.id)))

    @strawberry.field(description="The app.")
    async def client(self) -> OidcClient:
        await self.model.fetch_related("client")
        return OidcClient(model=self.model.client)

    @strawberry.field(description="The scopes granted, such as openid, profile, email, pacer, api.read.")
    def scopes(self) -> list[str]:
        return scopes_of(self.model)

    @strawberry.field(description="When it was first granted.")
    def granted_at(self) -> dt.datetime:
        return self.model.granted_at

    @strawberry.field(description="When the app last used it (within a minute); null: never.")
    def last_used_at(self) -> dt.datetime | None:
        return self.model.last_used_at
