"""Courts (tenants), as the court files describe them: no database access."""

from __future__ import annotations

import datetime as dt

import strawberry

from nextgen_gql.api.ids import encode_id
from nextgen_gql.api.types.common import Node
from nextgen_gql.enums import CourtKind, FilerRole
from nextgen_gql.tenancy import Court as CourtValue

__all__ = ["Court", "CourtKindEnum", "FilerRoleEnum", "HelpDesk"]

CourtKindEnum = strawberry.enum(CourtKind, name="CourtKind", description="Appellate, district or bankruptcy.")
FilerRoleEnum = strawberry.enum(FilerRole, name="FilerRole", description="The role in which a filer files.")


@strawberry.type(description="How to reach a court's CM/ECF help desk.")
class HelpDesk:
    phone: str | None
    email: str | None
    url: str | None


@strawberry.type(description="A federal court: a tenant of the service, with its own filers and clerks.")
class Court(Node):
    value: strawberry.Private[CourtValue]

    @strawberry.field(description="Opaque global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Court", self.value.code))

    @strawberry.field(description='PACER court id: "ca1", "mad", "mab".')
    def code(self) -> str:
        return self.value.code

    @strawberry.field(description="The court's full name.")
    def name(self) -> str:
        return self.value.name

    @strawberry.field(description="Appellate, district or bankruptcy.")
    def kind(self) -> CourtKindEnum:  # type: ignore[valid-type]
        return self.value.kind

    @strawberry.field(
        description="When the court moved to NextGen CM/ECF; null while still on legacy CM/ECF."
    )
    def nextgen_since(self) -> dt.date | None:
        return self.value.nextgen_since

    @strawberry.field(description="Whether linking and NextGen filing are available here now.")
    def is_nextgen(self) -> bool:
        return self.value.is_nextgen()

    @strawberry.field(description="The filer roles this court accepts.")
    def accepted_roles(self) -> list[FilerRoleEnum]:  # type: ignore[valid-type]
        return list(self.value.accepted_roles)

    @strawberry.field(description="The court's help desk.")
    def help_desk(self) -> HelpDesk | None:
        desk = self.value.help_desk
        return HelpDesk(phone=desk.phone, email=desk.email, url=desk.url) if desk else None
