"""The arguments of a clerk's lists, read the same way by the reference resolvers
(``api.queries``) and the compiled path (``api.compiled.resolvers``): orders, cursors, filters."""

from __future__ import annotations

from typing import Any

from nextgen_gql.api.ids import decode_int_id
from nextgen_gql.api.pagination import CursorForm
from nextgen_gql.api.types.ordering import OrderDirection
from nextgen_gql.errors import DomainError, ErrorCode

__all__ = [
    "AUDIT_CURSORS",
    "actor_id",
    "registration_cursor_form",
    "registration_order",
    "roster_cursor_form",
    "roster_order",
]

AUDIT_CURSORS = CursorForm(keyed=False)


def roster_order(order_by: Any) -> tuple[str, bool]:
    """(``roster.ROSTER_ORDERS`` key, descending) of an orderBy argument (a Strawberry input,
    or the dict the compiled path coerces)."""
    if order_by is None:
        return "login", False
    field, direction = _order_parts(order_by)
    return str(field.value), direction is OrderDirection.DESC


def registration_order(order_by: Any) -> tuple[str | None, bool]:
    if order_by is None:
        return None, False
    field, direction = _order_parts(order_by)
    return str(field.value), direction is OrderDirection.DESC


def _order_parts(order_by: Any) -> tuple[Any, Any]:
    if isinstance(order_by, dict):
        return order_by["field"], order_by["direction"]
    return order_by.field, order_by.direction


def roster_cursor_form(order: str, descending: bool) -> CursorForm:
    if order == "login" and not descending:
        return CursorForm(keyed=True)  # the roster's cursors as they always were
    return CursorForm(
        keyed=True, tag=f"{order}:{'desc' if descending else 'asc'}", nullable=order == "linked_at"
    )


def registration_cursor_form(order: str | None, descending: bool) -> CursorForm:
    if order is None and not descending:
        return CursorForm(keyed=False)
    return CursorForm(keyed=order is not None, tag=f"{order}:{'desc' if descending else 'asc'}")


def actor_id(actor: str | None) -> int | None:
    """The account id of ``auditEvents(actor:)``; INVALID_INPUT when it is not a PacerAccount's id."""
    if actor is None:
        return None
    found = decode_int_id(actor, "PacerAccount")
    if found is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "actor is not a PacerAccount id.", "actor")
    return found
