"""Root query fields."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from nextgen_gql.api import lists
from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.ids import decode_id, row_id
from nextgen_gql.api.pagination import (
    decode_id_cursor,
    encode_cursor,
    order_cursors,
    page_info,
    relay_window,
)
from nextgen_gql.api.types.accounts import PacerAccount
from nextgen_gql.api.types.audit import AuditEvent, AuditEventConnection, audit_connection
from nextgen_gql.api.types.common import Node
from nextgen_gql.api.types.courts import Court, FilerRoleEnum, court_node
from nextgen_gql.api.types.filing import (
    CmecfAccount,
    CmecfAccountConnection,
    CmecfAccountEdge,
    FilingPrivilege,
    FilingPrivilegeConnection,
    FilingPrivilegeEdge,
)
from nextgen_gql.api.types.firms import Firm, FirmInvitation
from nextgen_gql.api.types.keys import CourtServiceKey
from nextgen_gql.api.types.oidc import AppGrant
from nextgen_gql.api.types.ordering import CmecfAccountOrder, RegistrationOrder
from nextgen_gql.api.types.progress import ReminderJob
from nextgen_gql.api.types.rate_limit import RateLimit
from nextgen_gql.api.types.registrations import (
    Registration,
    RegistrationConnection,
    RegistrationEdge,
    RegistrationStatusEnum,
)
from nextgen_gql.api.types.security import Authenticator, Session
from nextgen_gql.api.types.webhooks import WebhookDelivery, WebhookEndpoint
from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.errors import DomainError
from nextgen_gql.models import WebhookDelivery as WebhookDeliveryModel
from nextgen_gql.models import WebhookEndpoint as WebhookEndpointModel
from nextgen_gql.services import audit, keys, nodes, registrations, roster
from nextgen_gql.services import courts as court_service
from nextgen_gql.services import privileges as privilege_service
from nextgen_gql.services.visibility import FULL_ACCESS
from nextgen_gql.webhooks import endpoints as webhook_endpoints

__all__ = ["Query"]

_NODE_TYPES: dict[str, Any] = {
    "PacerAccount": PacerAccount,
    "CmecfAccount": CmecfAccount,
    "FilingPrivilege": FilingPrivilege,
    "Registration": Registration,
    "AuditEvent": AuditEvent,
    "Firm": Firm,
    "FirmInvitation": FirmInvitation,
    "CourtServiceKey": CourtServiceKey,
    "Authenticator": Authenticator,
    "Session": Session,
    "AppGrant": AppGrant,
    "ReminderJob": ReminderJob,
}


async def _webhook_node(info: Info, type_name: str, key: str) -> Node | None:
    """A webhook endpoint or delivery of the addressed court, for its clerks and its keys with
    MANAGE_WEBHOOKS (on the national endpoint, or anyone else: null)."""
    ctx = info.context
    try:
        court = await court_service.require_reader(
            await ctx.viewer(), ctx.court, ctx.service_key, CourtKeyScope.MANAGE_WEBHOOKS
        )
    except DomainError:
        return None
    if type_name == "WebhookEndpoint":
        found = await WebhookEndpointModel.get_or_none(id=row_id(key) or 0, court_id=court.code)
        return WebhookEndpoint.of(found) if found is not None else None
    delivery = await WebhookDeliveryModel.get_or_none(uid=key[:40], court_id=court.code)
    return WebhookDelivery.of(delivery) if delivery is not None else None


FIRST_HELP = "Page forward: at most this many (1 to 100; default 50)."
FIRST = Annotated[int | None, strawberry.argument(description=FIRST_HELP)]
AFTER = Annotated[
    str | None,
    strawberry.argument(description="Page forward: the rows after this cursor (an edge's cursor)."),
]
LAST = Annotated[
    int | None,
    strawberry.argument(
        description="Page backward: the last this many (1 to 100) before `before`, or of all."
    ),
]
BEFORE = Annotated[
    str | None,
    strawberry.argument(description="Page backward: the rows before this cursor (an edge's cursor)."),
]


@strawberry.type(
    description="What can be read: the addressed court and every court, the signed-in account, any object by id, "
    "and a court's lists for its clerks (send those to /courts/{code}/graphql)."
)
class Query:
    @strawberry.field(
        description="Any object by its global id, under the same access rules; null if not visible."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="An object's global id.")],
    ) -> Node | None:
        decoded = decode_id(id)
        if decoded is None:
            return None
        type_name, key = decoded
        ctx = info.context
        if type_name == "Court":
            return court_node(ctx.courts.get(key)) if key in ctx.courts else None
        if type_name in ("WebhookEndpoint", "WebhookDelivery"):
            return await _webhook_node(info, type_name, key)
        key_id = row_id(key)
        if type_name not in _NODE_TYPES or key_id is None:
            return None
        found = await nodes.visible_node(await ctx.viewer(), type_name, key_id, ctx.courts)
        if found is None:
            return None
        if type_name == "Session":
            current = await ctx.session()
            return Session.of(found, current.id if current else None)  # type: ignore[arg-type]
        node: Node = _NODE_TYPES[type_name].of(found)
        return node

    @strawberry.field(description="The court this request is addressed to; null on the national endpoint.")
    def court(self, info: Info) -> Court | None:
        return court_node(info.context.court) if info.context.court else None

    @strawberry.field(description="Every court served, by code.")
    def courts(self, info: Info) -> list[Court]:
        return [court_node(c) for c in info.context.courts]

    @strawberry.field(
        description="What this operation costs and the points you have left this hour. dryRun: true costs "
        "the operation without running its other fields (they answer null) and spends nothing."
    )
    def rate_limit(
        self,
        info: Info,
        dry_run: Annotated[
            bool | None,
            strawberry.argument(description="Cost the operation only: nothing else runs or is spent."),
        ] = None,
    ) -> RateLimit | None:
        state = info.context.rate_limit
        return state if isinstance(state, RateLimit) else None

    @strawberry.field(description="The signed-in account; null when not signed in.")
    async def me(self, info: Info) -> PacerAccount | None:
        viewer = await info.context.viewer()
        return PacerAccount.of(viewer, FULL_ACCESS) if viewer else None

    @strawberry.field(
        description="The addressed court's legacy CM/ECF roster, by login unless orderBy says otherwise: its "
        "clerks, and its service keys with READ_ROSTER. Page forward with first/after, or backward with "
        "last/before."
    )
    async def cmecf_accounts(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Accounts whose login, first or last name or email contains this, in any case."
            ),
        ] = None,
        linked: Annotated[
            bool | None,
            strawberry.argument(description="true: linked accounts only; false: not yet linked; null: all."),
        ] = None,
        order_by: Annotated[
            CmecfAccountOrder | None,
            strawberry.argument(description="The order (default: LOGIN, ascending); ties by id."),
        ] = None,
    ) -> CmecfAccountConnection:
        ctx = info.context
        try:
            court = await court_service.require_reader(
                await ctx.viewer(), ctx.court, ctx.service_key, CourtKeyScope.READ_ROSTER
            )
            order, descending = lists.roster_order(order_by)
            form = lists.roster_cursor_form(order, descending)
            page = await roster.list_cmecf_accounts(
                court,
                win=relay_window(form, first=first, after=after, last=last, before=before),
                search=search,
                linked=linked,
                order=order,
                descending=descending,
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        # Prefetched in the parent (two queries), so the rows' relations resolve synchronously;
        # the court's clerk sees the contact details of the accounts linked in their court.
        links, owners = await roster.links_and_owners(list(page.rows))
        edges = []
        for r, cursor in zip(page.rows, order_cursors(form, page), strict=True):
            link = links.get(r.id)
            owner = owners.get(link.account_id) if link else None
            linker = owners.get(link.linked_by_id) if link else None
            node = CmecfAccount.of(r, link=link, owner=owner, linker=linker, owner_contact=True)
            edges.append(CmecfAccountEdge(cursor=cursor, node=node))
        return CmecfAccountConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges]), total_count=page.total_count
        )

    @strawberry.field(
        description="The addressed court's e-file registrations, oldest first unless orderBy says otherwise: "
        "its clerks, and its service keys with READ_REGISTRATIONS. Page forward with first/after, or "
        "backward with last/before."
    )
    async def registrations(
        self,
        info: Info,
        status: Annotated[
            RegistrationStatusEnum | None,
            strawberry.argument(description="Only registrations in this state (PENDING: the queue)."),
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Registrations whose applicant's first or last name, username or email, or whose "
                "bar number, contains this, in any case."
            ),
        ] = None,
        order_by: Annotated[
            RegistrationOrder | None,
            strawberry.argument(
                description="The order (default: as they arrived, oldest first); ties by id."
            ),
        ] = None,
    ) -> RegistrationConnection:
        ctx = info.context
        try:
            court = await court_service.require_reader(
                await ctx.viewer(), ctx.court, ctx.service_key, CourtKeyScope.READ_REGISTRATIONS
            )
            order, descending = lists.registration_order(order_by)
            form = lists.registration_cursor_form(order, descending)
            page = await registrations.list_registrations(
                court,
                status=status,
                win=relay_window(form, first=first, after=after, last=last, before=before),
                search=search,
                order=order,
                descending=descending,
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        edges = [
            RegistrationEdge(cursor=cursor, node=Registration.of(r))
            for r, cursor in zip(page.rows, order_cursors(form, page), strict=True)
        ]
        return RegistrationConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges]), total_count=page.total_count
        )

    @strawberry.field(
        description="The addressed court's filing privileges, oldest first (its clerks only): needsCases "
        "finds the live case-restricted ones with no case yet (they file nowhere until a case is added)."
    )
    async def privileges(
        self,
        info: Info,
        role: Annotated[
            FilerRoleEnum | None,
            strawberry.argument(description="Only privileges in this role."),
        ] = None,
        needs_cases: Annotated[
            bool | None,
            strawberry.argument(
                description="true: only live case-restricted privileges with no case yet (they file nowhere)."
            ),
        ] = None,
        revoked: Annotated[
            bool | None, strawberry.argument(description="true: revoked ones only; false: live ones only.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> FilingPrivilegeConnection:
        try:
            court = await court_service.require_clerk(
                await info.context.viewer(), info.context.court, info.context.service_key
            )
            page = await privilege_service.list_privileges(
                court,
                role=role,
                needs_cases=needs_cases,
                revoked=revoked,
                first=first,
                after=decode_id_cursor(after),
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        edges = [
            FilingPrivilegeEdge(cursor=encode_cursor(p.id), node=FilingPrivilege.of(p)) for p in page.rows
        ]
        return FilingPrivilegeConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges]), total_count=page.total_count
        )

    @strawberry.field(
        description="The addressed court's audit trail, newest first (its clerks only), filtered by action, "
        "actor and time. Page forward (to older events) with first/after, or backward with last/before."
    )
    async def audit_events(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
        action: Annotated[
            str | None,
            strawberry.argument(
                description='Only events of this action, exactly: "cmecf.link", "billing.charge".'
            ),
        ] = None,
        actor: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only events a PacerAccount (by its id) performed."),
        ] = None,
        since: Annotated[
            dt.datetime | None, strawberry.argument(description="Only events at or after this moment.")
        ] = None,
        until: Annotated[
            dt.datetime | None, strawberry.argument(description="Only events before this moment.")
        ] = None,
    ) -> AuditEventConnection:
        ctx = info.context
        try:
            court = await court_service.require_clerk(await ctx.viewer(), ctx.court, ctx.service_key)
            page = await audit.court_events(
                court,
                win=relay_window(lists.AUDIT_CURSORS, first=first, after=after, last=last, before=before),
                action=action,
                actor_id=lists.actor_id(actor),
                since=since,
                until=until,
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        return audit_connection(page)

    @strawberry.field(
        description="The addressed court's service keys, oldest first, revoked ones included, without their "
        "secrets (its clerks only)."
    )
    async def court_service_keys(self, info: Info) -> list[CourtServiceKey]:
        ctx = info.context
        try:
            court = await court_service.require_clerk(await ctx.viewer(), ctx.court, ctx.service_key)
        except DomainError as exc:
            raise graphql_error(exc) from None
        return [CourtServiceKey.of(key) for key in await keys.list_keys(court)]

    @strawberry.field(
        description="The addressed court's webhook endpoints, oldest first, without their secrets (its clerks "
        "and its service keys with MANAGE_WEBHOOKS)."
    )
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        ctx = info.context
        try:
            court = await court_service.require_reader(
                await ctx.viewer(), ctx.court, ctx.service_key, CourtKeyScope.MANAGE_WEBHOOKS
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        return [WebhookEndpoint.of(e) for e in await webhook_endpoints.endpoints_of(court)]
