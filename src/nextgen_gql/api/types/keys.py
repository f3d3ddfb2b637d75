"""A court's service keys, as its clerks see them (never their secrets)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node, describe_values
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.api.types.filing import load_account
from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.models import CourtServiceKey as CourtServiceKeyModel
from nextgen_gql.services.keys import scopes_of

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = ["CourtKeyScopeEnum", "CourtServiceKey"]

CourtKeyScopeEnum = describe_values(
    strawberry.enum(
        CourtKeyScope,
        name="CourtKeyScope",
        description="What a court's service key may do at its court.",
    ),
    {
        "RECORD_USAGE": "Call recordUsage (the court's CM/ECF reporting PACER usage).",
        "READ_ROSTER": "Read the legacy roster as the court's clerks do (cmecfAccounts).",
        "READ_REGISTRATIONS": "Read the court's e-file registrations (registrations).",
        "MANAGE_WEBHOOKS": "Manage the court's webhook endpoints as its clerks do (webhookEndpoints).",
    },
)
_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]


@strawberry.type(
    description="A key of a court's own systems (its CM/ECF, billing feeds): sent as "
    "`Authorization: Bearer ngk_...` to that court only, it acts within its scopes and for no person. "
    "Its secret is shown once, when it is made, and never stored."
)
class CourtServiceKey(Node):
    model: strawberry.Private[CourtServiceKeyModel]

    @classmethod
    def of(cls, model: CourtServiceKeyModel) -> CourtServiceKey:
        return cls(model=model, id=strawberry.ID(encode_id("CourtServiceKey", model.id)))

    @strawberry.field(description="The court the key acts at (and nowhere else).")
    def court(self, info: Info) -> Court:
        return court_node(info.context.courts.get(self.model.court_id))

    @strawberry.field(description="The name its clerks gave it, such as the system that uses it.")
    def name(self) -> str:
        return self.model.name

    @strawberry.field(
        description="What it may do: RECORD_USAGE, READ_ROSTER, READ_REGISTRATIONS, MANAGE_WEBHOOKS."
    )
    def scopes(self) -> list[CourtKeyScopeEnum]:  # type: ignore[valid-type]
        return scopes_of(self.model)

    @strawberry.field(
        description="The secret's first characters (\"ngk_\" and the key's 8-character id), to recognise "
        "it in logs and lists; not a secret."
    )
    def prefix(self) -> str:
        return self.model.prefix

    @strawberry.field(description="When it was made.")
    def created_at(self) -> dt.datetime:
        return self.model.created_at

    @strawberry.field(description="The clerk who made it; null when it was made on the command line.")
    async def created_by(self, info: Info) -> _PacerAccount | None:
        return await load_account(info, self.model.created_by_id)

    @strawberry.field(
        description="When it was last used, to the minute (written at most once a minute); null if never."
    )
    def last_used_at(self) -> dt.datetime | None:
        return self.model.last_used_at

    @strawberry.field(
        description="When it was revoked (it stopped working then, on every worker); null while live."
    )
    def revoked_at(self) -> dt.datetime | None:
        return self.model.revoked_at
