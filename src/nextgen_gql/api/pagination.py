"""Opaque cursors for keyset pages."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from nextgen_gql.api.ids import b64url
from nextgen_gql.api.types.common import PageInfo
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services.ordering import Cursor, Window, window
from nextgen_gql.services.pagination import Page

__all__ = [
    "CursorForm",
    "decode_cursor",
    "decode_id_cursor",
    "decode_login_cursor",
    "encode_cursor",
    "order_cursors",
    "page_info",
    "relay_window",
]


def encode_cursor(*key: object) -> str:
    return b64url(orjson.dumps(key))


def decode_cursor(cursor: str, field: str = "after") -> list[object]:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        value = None
    if not isinstance(value, list):
        raise DomainError(ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", field)
    return value


def decode_id_cursor(cursor: str | None, field: str = "after") -> int | None:
    """The row id of a cursor made by ``encode_cursor(id)``; None when no cursor was given."""
    if cursor is None:
        return None
    raw = decode_cursor(cursor, field)
    if len(raw) != 1 or not isinstance(raw[0], int) or not 0 < raw[0] < 2**31:
        raise DomainError(ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", field)
    return raw[0]


def decode_login_cursor(cursor: str | None, field: str = "after") -> tuple[str, int] | None:
    """The (login key, id) of a roster cursor made by ``encode_cursor(login_key, id)``."""
    if cursor is None:
        return None
    raw = decode_cursor(cursor, field)
    if len(raw) != 2 or not isinstance(raw[0], str) or not isinstance(raw[1], int) or not 0 < raw[1] < 2**31:
        raise DomainError(ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", field)
    return raw[0], raw[1]


@dataclass(frozen=True)
class CursorForm:
    """How a list's cursors look in one order: ``[id]`` when the order is by id alone
    (``keyed`` false), ``[key, id]`` in the list's default keyed order (the roster by login:
    the form its cursors always had), ``[key, id, tag]`` in any other, so that a cursor of
    one order is refused in another."""

    keyed: bool
    tag: str | None = None
    #: Whether the key may be null (rows without a value, under a nullable order).
    nullable: bool = False

    def encode(self, cursor: Cursor) -> str:
        if not self.keyed:
            return encode_cursor(cursor.id)
        if self.tag is None:
            return encode_cursor(cursor.key, cursor.id)
        return encode_cursor(cursor.key, cursor.id, self.tag)

    def decode(self, raw: str | None, field: str) -> Cursor | None:
        if raw is None:
            return None
        value = decode_cursor(raw, field)
        bad = DomainError(ErrorCode.INVALID_INPUT, "The cursor is not one this API gave out.", field)
        if not self.keyed:
            if len(value) != 1:
                raise bad
            return Cursor(None, _row_id(value[0], bad))
        expected = 2 if self.tag is None else 3
        if len(value) != expected or (self.tag is not None and value[2] != self.tag):
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "The cursor is not one of this list in this order: page again from the start.",
                field,
            )
        key = value[0]
        if not ((isinstance(key, str) and len(key) <= 200) or (key is None and self.nullable)):
            raise bad
        return Cursor(key, _row_id(value[1], bad))


def _row_id(value: object, bad: DomainError) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        raise bad
    return value


def relay_window(
    form: CursorForm, *, first: int | None, after: str | None, last: int | None, before: str | None
) -> Window:
    """Relay's arguments as a window of the list (``services.ordering.window``)."""
    return window(
        first=first, after=form.decode(after, "after"), last=last, before=form.decode(before, "before")
    )


def order_cursors(form: CursorForm, page: Page[Any]) -> list[str]:
    return [form.encode(c) for c in page.cursors]


def page_info(page: Page[Any], cursors: list[str]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
