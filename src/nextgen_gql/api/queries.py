"""Root query fields."""

from __future__ import annotations

from typing import Any

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.ids import decode_id, row_id
from nextgen_gql.api.pagination import decode_id_cursor, decode_login_cursor, encode_cursor, page_info
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
from nextgen_gql.api.types.registrations import (
    Registration,
    RegistrationConnection,
    RegistrationEdge,
    RegistrationStatusEnum,
)
from nextgen_gql.api.types.security import Authenticator, Session
from nextgen_gql.errors import DomainError
from nextgen_gql.services import audit, nodes, registrations, roster
from nextgen_gql.services import courts as court_service
from nextgen_gql.services import privileges as privilege_service
from nextgen_gql.services.visibility import FULL_ACCESS

__all__ = ["Query"]

_NODE_TYPES: dict[str, Any] = {
    "PacerAccount": PacerAccount,
    "CmecfAccount": CmecfAccount,
    "FilingPrivilege": FilingPrivilege,
    "Registration": Registration,
    "AuditEvent": AuditEvent,
    "Firm": Firm,
    "FirmInvitation": FirmInvitation,
    "Authenticator": Authenticator,
    "Session": Session,
}


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by its global id, under the same access rules; null if not visible."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        decoded = decode_id(id)
        if decoded is None:
            return None
        type_name, key = decoded
        ctx = info.context
        if type_name == "Court":
            return court_node(ctx.courts.get(key)) if key in ctx.courts else None
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

    @strawberry.field(description="The signed-in account; null when not signed in.")
    async def me(self, info: Info) -> PacerAccount | None:
        viewer = await info.context.viewer()
        return PacerAccount.of(viewer, FULL_ACCESS) if viewer else None

    @strawberry.field(description="The addressed court's legacy CM/ECF roster, by login (its clerks only).")
    async def cmecf_accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        linked: bool | None = None,
    ) -> CmecfAccountConnection:
        try:
            court = await court_service.require_clerk(await info.context.viewer(), info.context.court)
            page = await roster.list_cmecf_accounts(
                court, first=first, after=decode_login_cursor(after), search=search, linked=linked
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        # Prefetched in the parent (two queries), so the rows' relations resolve synchronously;
        # the court's clerk sees the contact details of the accounts linked in their court.
        links, owners = await roster.links_and_owners(list(page.rows))
        edges = []
        for r in page.rows:
            link = links.get(r.id)
            owner = owners.get(link.account_id) if link else None
            linker = owners.get(link.linked_by_id) if link else None
            node = CmecfAccount.of(r, link=link, owner=owner, linker=linker, owner_contact=True)
            edges.append(CmecfAccountEdge(cursor=encode_cursor(r.login_key, r.id), node=node))
        return CmecfAccountConnection(
            edges=edges, page_info=page_info(page, [e.cursor for e in edges]), total_count=page.total_count
        )

    @strawberry.field(
        description="The addressed court's e-file registrations, oldest first (its clerks only)."
    )
    async def registrations(
        self,
        info: Info,
        status: RegistrationStatusEnum | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> RegistrationConnection:
        try:
            court = await court_service.require_clerk(await info.context.viewer(), info.context.court)
            page = await registrations.list_registrations(
                court, status=status, first=first, after=decode_id_cursor(after)
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        edges = [RegistrationEdge(cursor=encode_cursor(r.id), node=Registration.of(r)) for r in page.rows]
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
        role: FilerRoleEnum | None = None,  # type: ignore[valid-type]
        needs_cases: bool | None = None,
        revoked: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> FilingPrivilegeConnection:
        try:
            court = await court_service.require_clerk(await info.context.viewer(), info.context.court)
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

    @strawberry.field(description="The addressed court's audit trail, newest first (its clerks only).")
    async def audit_events(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AuditEventConnection:
        try:
            court = await court_service.require_clerk(await info.context.viewer(), info.context.court)
            page = await audit.court_events(court, first=first, after=decode_id_cursor(after))
        except DomainError as exc:
            raise graphql_error(exc) from None
        return audit_connection(page)
