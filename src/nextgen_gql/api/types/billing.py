"""The billing ledger and quarterly statements."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from nextgen_gql.api.context import Info
from nextgen_gql.api.errors import graphql_error
from nextgen_gql.api.pagination import CursorForm, order_cursors, page_info, relay_window
from nextgen_gql.api.types.common import PageInfo, describe_values
from nextgen_gql.api.types.courts import Court, court_node
from nextgen_gql.api.types.filing import CURSOR_HELP, PAGE_INFO_HELP, TOTAL_HELP, load_account
from nextgen_gql.enums import StatementKind, UsageKind
from nextgen_gql.errors import DomainError
from nextgen_gql.models import Charge as ChargeModel
from nextgen_gql.services import billing
from nextgen_gql.services.billing import Statement as StatementValue

if TYPE_CHECKING:
    from nextgen_gql.api.types.accounts import PacerAccount

__all__ = ["Charge", "ChargeConnection", "ChargeEdge", "Statement", "StatementKindEnum", "UsageKindEnum"]

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

    @strawberry.field(
        description="Every charge of the quarter, by account, client code and time, in one list (a firm's "
        "quarter may hold many: chargesConnection pages through them)."
    )
    async def charges(self) -> list[Charge]:
        return [Charge(model=c) for c in await billing.statement_charges(self.value)]

    @strawberry.field(
        description="The quarter's charges a page at a time, in the order they were recorded (by time, ties "
        "by the charge's id); the same cost on any page."
    )
    async def charges_connection(
        self,
        first: Annotated[
            int | None,
            strawberry.argument(description="Page forward: at most this many (1 to 100; default 50)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Page forward: the charges after this cursor (an edge's cursor)."
            ),
        ] = None,
    ) -> ChargeConnection:
        try:
            page = await billing.charge_page(
                self.value, relay_window(CHARGE_CURSORS, first=first, after=after, last=None, before=None)
            )
        except DomainError as exc:
            raise graphql_error(exc) from None
        cursors = order_cursors(CHARGE_CURSORS, page)
        edges = [ChargeEdge(cursor=c, node=Charge(model=m)) for m, c in zip(page.rows, cursors, strict=True)]
        return ChargeConnection(edges=edges, page_info=page_info(page, cursors), total_count=page.total_count)


#: A charge's cursor: its time and id, tagged (a cursor of another list is refused).
CHARGE_CURSORS = CursorForm(keyed=True, tag="charges")


@strawberry.type(description="A charge in a page of a statement, with its place.")
class ChargeEdge:
    cursor: str = strawberry.field(description=CURSOR_HELP)
    node: Charge = strawberry.field(description="The charge.")


@strawberry.type(description="A page of a quarter's charges, in the order they were recorded.")
class ChargeConnection:
    edges: list[ChargeEdge] = strawberry.field(description="The page's charges.")
    page_info: PageInfo = strawberry.field(description=PAGE_INFO_HELP)
    total_count: int = strawberry.field(description=TOTAL_HELP)
