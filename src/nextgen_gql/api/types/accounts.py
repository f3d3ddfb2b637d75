"""National PACER accounts."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.pagination import decode_id_cursor
from nextgen_gql.api.types.common import Node
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.errors import DomainError, Forbidden, NotFound
from nextgen_gql.models import PacerAccount as PacerAccountModel
from nextgen_gql.services import audit, auth, billing, firms, linking, mfa
from nextgen_gql.services.visibility import AccountAccess
from nextgen_gql.tenancy import UnknownCourt

if TYPE_CHECKING:
    from nextgen_gql.api.types.audit import AuditEventConnection
    from nextgen_gql.api.types.billing import Statement
    from nextgen_gql.api.types.filing import CmecfAccount, FilingPrivilege
    from nextgen_gql.api.types.firms import Firm, FirmInvitation
    from nextgen_gql.api.types.oidc import AppGrant
    from nextgen_gql.api.types.registrations import Registration
    from nextgen_gql.api.types.security import MfaStatus, Session

__all__ = ["PacerAccount"]

T = TypeVar("T")


@strawberry.type(description="A national PACER account (Central Sign-On): one login for every NextGen court.")
class PacerAccount(Node):
    model: strawberry.Private[PacerAccountModel]
    # What the viewer may see, when the parent already knows it (``me``: everything); else
    # decided on first need, from batched facts (``Context.account_access``).
    known_access: strawberry.Private[AccountAccess | None]
    # Whether the viewer sees email and account number, when the parent knows (a court's
    # clerk looking at the account linked to a legacy account of that court does).
    known_contact: strawberry.Private[bool | None]
    username: str = strawberry.field(description="The sign-in name (matched regardless of case).")
    first_name: str = strawberry.field(description="The account holder's first name.")
    last_name: str = strawberry.field(description="The account holder's last name.")
    created_at: dt.datetime = strawberry.field(
        description="When the account was opened (before 2014-08-11: a legacy account until upgraded)."
    )
    is_legacy: bool = strawberry.field(
        description="Created before 2014-08-11 and not upgraded: may search, not link or file."
    )
    upgraded_at: dt.datetime | None = strawberry.field(
        description="When the legacy account was upgraded; null if never (or born upgraded)."
    )
    is_shared: bool = strawberry.field(
        description="A shared office account: research only, never used to link or file."
    )

    @classmethod
    def of(
        cls, model: PacerAccountModel, access: AccountAccess | None = None, *, contact: bool | None = None
    ) -> PacerAccount:
        return cls(
            model=model,
            known_access=access,
            known_contact=access.sees_contact if access is not None else contact,
            id=strawberry.ID(encode_id("PacerAccount", model.id)),
            username=model.username,
            first_name=model.first_name,
            last_name=model.last_name,
            created_at=model.created_at,
            is_legacy=model.is_legacy,
            upgraded_at=model.upgraded_at,
            is_shared=model.is_shared,
        )

    async def _access(self, info: Info) -> AccountAccess:
        if self.known_access is not None:
            return self.known_access
        return await info.context.account_access(self.model.id)

    async def _contact(self, info: Info, value: T, hidden: T) -> T:
        return value if (await self._access(info)).sees_contact else hidden

    def _contact_now_or_later(self, info: Info, value: T, hidden: T) -> T:
        # Synchronous when the answer is known (the common case), an awaitable otherwise.
        if self.known_contact is not None:
            return value if self.known_contact else hidden
        return self._contact(info, value, hidden)  # type: ignore[return-value]

    @strawberry.field(
        description="7 digits, fixed for life. Empty unless you are the account, its firm's "
        "administrator, or a clerk of a court it files or asks to file in."
    )
    def account_number(self, info: Info) -> str:
        return self._contact_now_or_later(info, self.model.account_number, "")

    @strawberry.field(
        description="Empty for a legacy account that never gave one, and unless you are the account, its "
        "firm's administrator, or a clerk of a court it files or asks to file in."
    )
    def email(self, info: Info) -> str:
        return self._contact_now_or_later(info, self.model.email, "")

    @strawberry.field(
        description="Whether the owner confirmed the email with the token mailed to it (verifyEmail); "
        "until then it receives no other mail and blocks nobody. Addresses held before 2026-12-04 count "
        "as verified. False whenever the email is not shown to you."
    )
    def email_verified(self, info: Info) -> bool:
        return self._contact_now_or_later(info, bool(self.model.email and self.model.email_verified), False)

    @strawberry.field(
        description="Legacy CM/ECF accounts this account linked, in every court (to a court's clerks, theirs)."
    )
    async def cmecf_accounts(
        self, info: Info
    ) -> list[Annotated[CmecfAccount, strawberry.lazy("nextgen_gql.api.types.filing")]]:
        from nextgen_gql.api.types.filing import CmecfAccount

        access = await self._access(info)
        links = [
            link
            for link in await info.context.loaders.links_of_account.load(self.model.id)
            if access.sees_court(link.court_id)
        ]
        return [CmecfAccount.of(link.cmecf_account, link=link) for link in links]

    @strawberry.field(
        description="Its filing privileges in every court, live and revoked (to a court's clerks, theirs)."
    )
    async def privileges(
        self, info: Info
    ) -> list[Annotated[FilingPrivilege, strawberry.lazy("nextgen_gql.api.types.filing")]]:
        from nextgen_gql.api.types.filing import FilingPrivilege

        access = await self._access(info)
        rows = await info.context.loaders.privileges.load(self.model.id)
        return [FilingPrivilege.of(row) for row in rows if access.sees_court(row.court_id)]

    @strawberry.field(
        description="Whether this account may file in the court with this code now: in any case (or "
        "claims), or, with caseNumber, also in that case when a case-restricted privilege lists it."
    )
    async def can_file(
        self,
        info: Info,
        court: Annotated[str, strawberry.argument(description='A court\'s code: "ca1", "mad", "mab".')],
        case_number: Annotated[
            str | None,
            strawberry.argument(
                description="A case of that court, as the court writes it (judges' initials may follow); "
                "a malformed one is a CASE_NUMBER_INVALID error."
            ),
        ] = None,
    ) -> bool:
        try:
            target = info.context.courts.serve(court)
        except UnknownCourt as exc:
            raise graphql_error(NotFound(str(exc), "court")) from None
        access = await self._access(info)
        if not access.sees_court(target.code):
            raise graphql_error(Forbidden(f"You may not see where this account files in {target.code}."))
        privileges = await info.context.loaders.privileges.load(self.model.id)
        cases = None
        if case_number is not None:
            ids = [p.id for p in privileges if p.court_id == target.code]
            cases = dict(zip(ids, await info.context.loaders.cases.load_many(ids), strict=True))
        try:
            return linking.can_file(self.model, target, privileges, case_number, cases=cases)
        except DomainError as exc:
            raise graphql_error(exc) from None

    @strawberry.field(
        description="Its e-file requests, in every court (to a court's clerks, only those in their courts)."
    )
    async def registrations(
        self, info: Info
    ) -> list[Annotated[Registration, strawberry.lazy("nextgen_gql.api.types.registrations")]]:
        from nextgen_gql.api.types.registrations import Registration

        access = await self._access(info)
        rows = await info.context.loaders.registrations.load(self.model.id)
        return [Registration.of(r) for r in rows if access.sees_court(r.court_id)]

    @strawberry.field(
        description="The account's own audit trail, newest first: sign-ins, upgrade, links, decisions. "
        "Visible to the account itself only."
    )
    async def audit_events(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="At most this many (1 to 100; default 50).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The events after this cursor (an edge's cursor).")
        ] = None,
    ) -> Annotated[AuditEventConnection, strawberry.lazy("nextgen_gql.api.types.audit")]:
        from nextgen_gql.api.types.audit import audit_connection

        try:
            viewer = await info.context.viewer()
            if viewer is None or viewer.id != self.model.id:
                raise Forbidden("Only the account itself sees its audit trail.")
            page = await audit.account_events(self.model.id, first=first, after=decode_id_cursor(after))
        except DomainError as exc:
            raise graphql_error(exc) from None
        return audit_connection(page)

    @strawberry.field(
        description="The PAA whose member this account is, if any (to the account itself and its firm's admins)."
    )
    async def firm(
        self, info: Info
    ) -> Annotated[Firm, strawberry.lazy("nextgen_gql.api.types.firms")] | None:
        from nextgen_gql.api.types.firms import Firm

        membership = await info.context.loaders.membership.load(self.model.id)
        if membership is None or not (await self._access(info)).full:
            return None
        firm = await info.context.loaders.firm.load(membership.firm_id)
        return Firm.of(firm) if firm else None

    @strawberry.field(
        description='The account\'s own quarterly statement, as "2026Q3": the charges billed to it rather than '
        "to a firm. Visible to the account itself only."
    )
    async def statement(
        self,
        info: Info,
        quarter: Annotated[str, strawberry.argument(description='The quarter, as "2026Q3".')],
    ) -> Annotated[Statement, strawberry.lazy("nextgen_gql.api.types.billing")]:
        from nextgen_gql.api.types.billing import Statement

        try:
            viewer = await info.context.viewer()
            if viewer is None or viewer.id != self.model.id:
                raise Forbidden("Only the account itself sees its statement.")
            value = await billing.account_statement(self.model, billing.parse_quarter(quarter))
        except DomainError as exc:
            raise graphql_error(exc) from None
        return Statement(value=value)

    @strawberry.field(
        description="Pending invitations to join a firm addressed to this account, oldest first: "
        "answer them with acceptFirmInvitation or declineFirmInvitation. Null unless you are the account."
    )
    async def invitations(
        self, info: Info
    ) -> list[Annotated[FirmInvitation, strawberry.lazy("nextgen_gql.api.types.firms")]] | None:
        from nextgen_gql.api.types.firms import FirmInvitation

        if not await info.context.is_owner(self.model.id):
            return None
        (rows,) = await firms.invitations_for_accounts([self.model.id])
        return [FirmInvitation.of(row) for row in rows]

    @strawberry.field(
        description="The courts whose clerk this account is (shown to the account itself only)."
    )
    async def clerk_of(self, info: Info) -> list[Court]:
        viewer = await info.context.viewer()
        if viewer is None or viewer.id != self.model.id:
            return []
        codes = await info.context.clerk_courts()
        return [court_node(c) for c in info.context.courts if c.code in codes]

    @strawberry.field(description="Its multi-factor authentication; null unless you are the account.")
    async def mfa(
        self, info: Info
    ) -> Annotated[MfaStatus, strawberry.lazy("nextgen_gql.api.types.security")] | None:
        from nextgen_gql.api.types.security import MfaStatus

        if not await info.context.is_owner(self.model.id):
            return None
        return MfaStatus(state=await mfa.status(self.model))

    @strawberry.field(
        description="Whether it has an authenticator app enrolled: to the account and its firm's "
        "administrators; null to others."
    )
    async def mfa_enabled(self, info: Info) -> bool | None:
        if not (await self._access(info)).full:
            return None
        return await info.context.loaders.mfa_enabled.load(self.model.id)

    @strawberry.field(
        description="Its sign-ins that still hold, newest first; null unless you are the account."
    )
    async def sessions(
        self, info: Info
    ) -> list[Annotated[Session, strawberry.lazy("nextgen_gql.api.types.security")]] | None:
        from nextgen_gql.api.types.security import Session

        if not await info.context.is_owner(self.model.id):
            return None
        session = await info.context.session()
        current = session.id if session is not None and session.account_id == self.model.id else None
        return [Session.of(row, current) for row in await auth.live_sessions(self.model.id)]

    @strawberry.field(
        description="The apps you let sign you in and act in your name (OpenID Connect), newest first; "
        "empty unless you are the account."
    )
    async def app_grants(
        self, info: Info
    ) -> list[Annotated[AppGrant, strawberry.lazy("nextgen_gql.api.types.oidc")]]:
        from nextgen_gql.api.types.oidc import AppGrant
        from nextgen_gql.oidc import grants

        if not await info.context.is_owner(self.model.id):
            return []
        return [AppGrant.of(row) for row in await grants.account_grants(self.model.id)]
