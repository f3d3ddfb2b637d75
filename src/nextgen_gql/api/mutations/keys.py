"""createCourtServiceKey, revokeCourtServiceKey: a court's clerks manage its service keys."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import UserError, payload_errors
from nextgen_gql.api.ids import decode_int_id
from nextgen_gql.api.mutations.recovery import AcceptedPayload
from nextgen_gql.api.types.keys import CourtKeyScopeEnum, CourtServiceKey
from nextgen_gql.errors import NotFound
from nextgen_gql.services import keys
from nextgen_gql.services.courts import require_clerk

__all__ = ["KeyMutations"]


@strawberry.input(description="A new service key of the addressed court.")
class CreateCourtServiceKeyInput:
    name: str = strawberry.field(
        description='1 to 100 characters, saying which system uses it (e.g. "CM/ECF billing feed").'
    )
    scopes: list[CourtKeyScopeEnum] = strawberry.field(
        description="What it may do, at least one: RECORD_USAGE, READ_ROSTER, READ_REGISTRATIONS, MANAGE_WEBHOOKS."
    )


@strawberry.type(description="The key made, and its secret, shown this once.")
class CourtServiceKeyPayload:
    key: CourtServiceKey | None = strawberry.field(default=None, description="The key, without its secret.")
    secret: str | None = strawberry.field(
        default=None,
        description='Shown once, never again: send it as "Authorization: Bearer <secret>" to this court only.',
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done; empty on success."
    )


@strawberry.type
class KeyMutations:
    @strawberry.mutation(
        description="Make a service key for the addressed court's own systems; its secret is in the answer "
        "only (the court's clerks)."
    )
    @payload_errors(CourtServiceKeyPayload)
    async def create_court_service_key(
        self,
        info: Info,
        input: Annotated[
            CreateCourtServiceKeyInput, strawberry.argument(description="The key's name and scopes.")
        ],
    ) -> CourtServiceKeyPayload:
        viewer = await info.context.viewer()
        court = await require_clerk(viewer, info.context.court)
        made = await keys.create_key(court, name=input.name, scopes=list(input.scopes), created_by=viewer)
        return CourtServiceKeyPayload(key=CourtServiceKey.of(made.key), secret=made.secret)

    @strawberry.mutation(
        description="Revoke a service key of the addressed court: it stops working at once, on every worker "
        "(the court's clerks). A key revoked before is INVALID_INPUT."
    )
    @payload_errors(AcceptedPayload)
    async def revoke_court_service_key(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The CourtServiceKey's id (from courtServiceKeys)."),
        ],
    ) -> AcceptedPayload:
        viewer = await info.context.viewer()
        court = await require_clerk(viewer, info.context.court)
        assert viewer is not None  # require_clerk refuses the anonymous
        key_id = decode_int_id(id, "CourtServiceKey")
        if key_id is None:
            raise NotFound("No service key has that id.", "id")
        await keys.revoke_key(viewer, court, key_id)
        return AcceptedPayload(ok=True)
