"""Opaque cursors for keyset pages."""

from __future__ import annotations

import base64
import binascii

import orjson

from nextgen_gql.errors import DomainError, ErrorCode

__all__ = ["decode_cursor", "encode_cursor"]


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
