"""Free text a person types: single-line fields carry no control characters.

A name, a title, a code or a one-line description ends up in places that give a line break
or a control character a meaning of its own: a mail header (a line feed there ends the
header, or the message refuses to be built), a CSV row, a log line, a terminal. So every
service that takes such a field passes it through :func:`single_line` before anything is
stored: ``INVALID_INPUT`` naming the field. Multi-line fields (a rejection's or a
revocation's reason) keep their line breaks and tabs through :func:`multi_line`, which
refuses the other control characters.
"""

from __future__ import annotations

import re

from nextgen_gql.errors import DomainError, ErrorCode

__all__ = ["CONTROL_RE", "control_character", "multi_line", "single_line"]

#: Unicode's categories Cc (C0 controls, DEL, C1 controls), Zl and Zp, spelled as ranges: one
#: regular expression scans a value in C (a roster import checks hundreds of thousands of names).
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

#: Line breaks and tabs a multi-line field may hold.
_MULTI_LINE_ALLOWED = frozenset("\n\r\t")


def control_character(value: str, *, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first character of ``value`` that is a control character (C0, DEL, C1) or a
    Unicode line or paragraph separator, other than those ``allowed``; None when there is none."""
    for match in CONTROL_RE.finditer(value):
        if match.group() not in allowed:
            return match.group()
    return None


def _describe(char: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}
    return names.get(char, f"a control character (U+{ord(char):04X})")


def single_line(value: str, field: str, label: str) -> str:
    """``value`` if it holds no control character (line breaks and tabs included), else
    ``INVALID_INPUT`` on ``field``: "<label> must be a single line, without ...".

    Args:
        value: the text as given (the caller strips or folds it as its field wants).
        field: the input field, as the API names it (``name``, ``firstName``).
        label: what the field is, for the message ("A firm's name").
    """
    bad = control_character(value)
    if bad is not None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{label} must be one line of text, without {_describe(bad)}.",
            field,
        )
    return value


def multi_line(value: str, field: str, label: str) -> str:
    """``value`` if its only control characters are line breaks and tabs, else
    ``INVALID_INPUT`` on ``field``."""
    bad = control_character(value, allowed=_MULTI_LINE_ALLOWED)
    if bad is not None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{label} may not hold {_describe(bad)}.", field)
    return value
