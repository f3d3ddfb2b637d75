"""The billing ledger and quarterly statements."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.types.common import describe_values
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.api.types.filing import load_account
from nextgen_gql.enums import StatementKind, UsageKind
from nextgen_gql.models import Charge as ChargeModel
from nextgen_gql.services.billing import Statement as StatementValue

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = ["Charge", "Statement", "StatementKindEnum", "UsageKindEnum"]

UsageKindEnum = describe_values(
    strawberry.enum(UsageKind, name="UsageKind", description="What was used; it sets the price and cap."),
    {
        "DOCUMENT": "A document: $0.10 a page, at most $3.00.",
        "CASE_REPORT": "A case-specific report (a docket sheet): $0.10 a page, at most $3.00.",
        "SEARCH": "A search: $0.10 a page, at least one page even with no match; no cap.",
        "OTHER_REPORT": "A report not specific to a case: $0.10 a page, no cap.",
        "TRANSCRIPT": "A transcript: $0.10 a page, no cap.",
        "AUDIO": "An audio file: $2.40 a file (pages counts files).",
    },
)
StatementKindEnum = describe_values(
    strawberry.enum(
        StatementKind,
        name="StatementKind",
        description="An invoice when money is due, a statement of account otherwise.",
    ),
    {
        "INVOICE": "Money is due: the quarter's charges exceed $30.00.",
        "STATEMENT_OF_ACCOUNT": "Nothing is due: the quarter's charges total $30.00 or less (waived).",
    },
)
_PacerAccount = Annotated["PacerAccount", strawberry.lazy("nextgen_gql.api.types.accounts")]


@strawberry.type(description="One item of PACER usage, in cents after its cap.")
class Charge:
    model: strawberry.Private[ChargeModel]

    @strawberry.field(description="When the court reported it.")
    def at(self) -> dt.datetime:
        return self.model.at

    @strawberry.field(description="The court whose CM/ECF reported it.")
    def court(self, info: Info) -> Court:
        return court_node(info.context.courts.get(self.model.court_id))

    @strawberry.field(description="Whose usage it was.")
    async def account(self, info: Info) -> _PacerAccount:
        account = await load_account(info, self.model.account_id)
        assert account is not None  # a foreign key: the row exists
        return account

    @strawberry.field(description="What was used: it sets the price and the cap.")
    def kind(self) -> UsageKindEnum:  # type: ignore[valid-type]
        return self.model.kind

    @strawberry.field(description="Pages (files, for AUDIO).")
    def pages(self) -> int:
        return self.model.pages

    @strawberry.field(
        description="The client code it is billed under: the one reported, else the one of the account's sign-in."
    )
    def client_code(self) -> str | None:
        return self.model.client_code

    @strawberry.field(description="What the court's CM/ECF said of the item, if anything.")
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field(description="After the per-item cap.")
    def amount_cents(self) -> int:
        return self.model.amount_cents

    @strawberry.field(
        description="The court system's own id of the item, when it sent one (recordUsage's idempotencyKey)."
    )
    def idempotency_key(self) -> str | None:
        return self.model.idempotency_key


@strawberry.type(description="One quarter of a billing account, itemised by account and client code.")
class Statement:
    value: strawberry.Private[StatementValue]

    @strawberry.field(description='As "2026Q3".')
    def quarter(self) -> str:
        return self.value.quarter.label

    @strawberry.field(description="An invoice when money is due, a statement of account otherwise.")
    def kind(self) -> StatementKindEnum:  # type: ignore[valid-type]
        return self.value.kind

    @strawberry.field(description="The sum of the quarter's charges.")
    def charges_cents(self) -> int:
        return self.value.charges_cents

    @strawberry.field(description="True when the quarter's charges total $30.00 or less: nothing is owed.")
    def waived(self) -> bool:
        return self.value.waived

    @strawberry.field(description="What is owed for the quarter, in cents: 0 when waived.")
    def amount_due_cents(self) -> int:
        return self.value.amount_due_cents

    @strawberry.field(description="Every charge of the quarter, by account, client code and time.")
    def charges(self) -> list[Charge]:
        return [Charge(model=c) for c in self.value.charges]
