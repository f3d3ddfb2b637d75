"""revokeAppGrant: a person ends what an app may do in their name."""

from __future__ import annotations

from typing import Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import ERRORS_HELP, UserError, payload_errors
from nextgen_gql.api.ids import decode_int_id
from nextgen_gql.api.types.oidc import AppGrant
from nextgen_gql.errors import NotFound
from nextgen_gql.oidc import grants

__all__ = ["AppGrantMutations"]


@strawberry.type(description="An app grant, as it stands after the change.")
class AppGrantPayload:
    grant: AppGrant | None = strawberry.field(default=None, description="The grant, now revoked.")
    errors: list[UserError] = strawberry.field(default_factory=list, description=ERRORS_HELP)


@strawberry.type
class AppGrantMutations:
    @strawberry.mutation(description="End what an app may do in your name: its tokens stop working at once.")
    @payload_errors(AppGrantPayload)
    async def revoke_app_grant(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The AppGrant's id (from me.appGrants).")
        ],
    ) -> AppGrantPayload:
        viewer = await info.context.require_viewer()
        grant_id = decode_int_id(id, "AppGrant")
        try:
            if grant_id is None:
                raise grants.GrantNotFound(id)
            ended = await grants.revoke_grant(viewer.id, grant_id)
        except grants.GrantNotFound:
            raise NotFound("No such app grant of yours (it may be revoked already).", "id") from None
        return AppGrantPayload(grant=AppGrant.of(ended))
