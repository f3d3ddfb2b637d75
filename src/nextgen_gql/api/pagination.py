"""Opaque cursors for keyset pages."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from nextgen_gql.api.types.common import PageInfo
from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services.pagination import Page

__all__ = ["decode_cursor", "decode_id_cursor", "decode_login_cursor", "encode_cursor", "page_info"]


def encode_cursor(*key: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


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


def page_info(page: Page[Any], cursors: list[str]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
