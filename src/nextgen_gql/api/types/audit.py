"""The audit trail."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.pagination import encode_cursor, page_info
from nextgen_gql.api.types.common import Node, PageInfo
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.api.types.filing import CURSOR_HELP, PAGE_INFO_HELP, TOTAL_HELP, load_account
from nextgen_gql.models import AuditEvent as AuditEventModel
from nextgen_gql.services.pagination import Page

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount
    from nextgen_gql.api.types.keys import CourtServiceKey

__all__ = ["AuditEvent", "AuditEventConnection", "AuditEventEdge", "audit_connection"]

_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]


@strawberry.type(description="One state change: what, by whom, to whom, in which court.")
class AuditEvent(Node):
    model: strawberry.Private[AuditEventModel]

    @classmethod
    def of(cls, model: AuditEventModel) -> AuditEvent:
        return cls(model=model, id=strawberry.ID(encode_id("AuditEvent", model.id)))

    @strawberry.field(description="When it happened.")
    def at(self) -> dt.datetime:
        return self.model.at

    @strawberry.field(description='e.g. "cmecf.link", "registration.approve", "account.upgrade".')
    def action(self) -> str:
        return self.model.action

    @strawberry.field(description="Who did it (null for the system, an import or an anonymous request).")
    async def actor(self, info: Info) -> _PacerAccount | None:
        return await load_account(info, self.model.actor_id)

    @strawberry.field(description="Whom it concerned.")
    async def subject(self, info: Info) -> _PacerAccount | None:
        return await load_account(info, self.model.subject_id)

    @strawberry.field(description="The court it happened in; null for national events.")
    def court(self, info: Info) -> Court | None:
        court = info.context.courts.find(self.model.court_id) if self.model.court_id else None
        return court_node(court) if court else None

    @strawberry.field(description="What else the event records, in words (a firm, a key, an amount).")
    def detail(self) -> str | None:
        return self.model.detail

    @strawberry.field(
        description="The court's service key that acted (actor is then null): shown to the court's clerks "
        "only, null to others."
    )
    async def service_key(
        self, info: Info
    ) -> Annotated[CourtServiceKey, strawberry.lazy("nextgen_gql.api.types.keys")] | None:
        from nextgen_gql.api.types.keys import CourtServiceKey

        if self.model.service_key_id is None or self.model.court_id not in await info.context.clerk_courts():
            return None
        found = await info.context.loaders.service_key.load(self.model.service_key_id)
        return CourtServiceKey.of(found) if found else None


@strawberry.type(description="An audit event in a page of a trail, with its place.")
class AuditEventEdge:
    cursor: str = strawberry.field(description=CURSOR_HELP)
    node: AuditEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge] = strawberry.field(description="The page's events, newest first.")
    page_info: PageInfo = strawberry.field(description=PAGE_INFO_HELP)
    total_count: int = strawberry.field(description=TOTAL_HELP)


def audit_connection(page: Page[AuditEventModel]) -> AuditEventConnection:
    edges = [AuditEventEdge(cursor=encode_cursor(e.id), node=AuditEvent.of(e)) for e in page.rows]
    return AuditEventConnection(
        edges=edges, page_info=page_info(page, [e.cursor for e in edges]), total_count=page.total_count
    )
