"""Case numbers: one canonical form per court kind, and the one function that finds it.

DOMAIN.md ("Filer permissions by role") gives the forms; a case number is stored and
compared only in its canonical form::

    kind        canonical        also written as
    district    O:YY-tt-NNNNN    1:24-cv-10001-ABC, 2:20-CV-01234-BBD-dkv, 1:24-cv-1
    bankruptcy  YY-NNNNN         1:24-bk-10001, 24-10001-FJB, 24-1
    appellate   YY-NNNN(N)       2024-1234 (a four-digit year), 24-1234-cv, 24-12

Letters may come in any case and blanks around the number are ignored. Judges' initials
(and, on appellate numbers, a trailing case type) are accepted and dropped: they change
when a case is reassigned, the case does not. As CM/ECF itself does, a number may be
written without its leading zeros; the canonical form has them (five digits, four on
appellate numbers). The district case type (``cv``, ``cr``, ``mc``, ``mj``, ...) is kept, in
lower case: ``1:24-cv-10001`` and ``1:24-cr-10001`` are two cases.
"""

from __future__ import annotations

import re

from nextgen_gql.enums import CourtKind
from nextgen_gql.errors import DomainError, ErrorCode

__all__ = ["CASE_NUMBER_MAX", "EXPECTED_FORM", "CaseNumberInvalid", "parse_case_number"]

#: Longer input is refused before any pattern is tried (a canonical number has 13 characters at most).
CASE_NUMBER_MAX = 64

#: What a person is told to write, per court kind.
EXPECTED_FORM: dict[CourtKind, str] = {
    CourtKind.DISTRICT: "O:YY-tt-NNNNN, e.g. 1:24-cv-10001",
    CourtKind.BANKRUPTCY: "YY-NNNNN, e.g. 24-10001 (or 1:24-bk-10001)",
    CourtKind.APPELLATE: "YY-NNNN or YY-NNNNN, e.g. 24-1234 (or 2024-1234)",
}

# Judges' initials (or a trailing type), each group letters only: "-ABC", "-BBD-dkv", "-cv".
_TAIL = r"(?:-[a-z]{1,4}){0,3}"
_DISTRICT = re.compile(
    rf"(?P<office>\d):(?P<year>\d{{2}})-(?P<type>[a-z]{{2,4}})-(?P<number>\d{{1,5}}){_TAIL}", re.ASCII
)
_BANKRUPTCY = re.compile(
    rf"(?:(?P<office>\d):)?(?P<year>\d{{2}})-(?:(?P<type>[a-z]{{2}})-)?(?P<number>\d{{1,5}}){_TAIL}", re.ASCII
)
_APPELLATE = re.compile(rf"(?P<year>\d{{2}}|(?:19|20)\d{{2}})-(?P<number>\d{{1,5}}){_TAIL}", re.ASCII)
# Case types that name bankruptcy cases, never a district court's own.
_BANKRUPTCY_TYPES = frozenset({"bk"})


class CaseNumberInvalid(DomainError):
    """Not a case number of the court's kind; the message names the expected form."""

    def __init__(self, message: str, field: str | None = "caseNumber") -> None:
        super().__init__(ErrorCode.CASE_NUMBER_INVALID, message, field)


def _district(text: str) -> str | None:
    match = _DISTRICT.fullmatch(text)
    if match is None or match["type"] in _BANKRUPTCY_TYPES:
        return None
    return f"{match['office']}:{match['year']}-{match['type']}-{int(match['number']):05d}"


def _bankruptcy(text: str) -> str | None:
    match = _BANKRUPTCY.fullmatch(text)
    if match is None or (match["type"] is not None and match["type"] not in _BANKRUPTCY_TYPES):
        return None
    return f"{match['year']}-{int(match['number']):05d}"


def _appellate(text: str) -> str | None:
    match = _APPELLATE.fullmatch(text)
    if match is None:
        return None
    return f"{match['year'][-2:]}-{int(match['number']):04d}"


_PARSERS = {
    CourtKind.DISTRICT: _district,
    CourtKind.BANKRUPTCY: _bankruptcy,
    CourtKind.APPELLATE: _appellate,
}


def parse_case_number(raw: str, kind: CourtKind, *, field: str | None = "caseNumber") -> str:
    """The canonical form of ``raw`` in a court of ``kind``.

    Raises:
        CaseNumberInvalid: ``raw`` is no case number of that kind (code ``CASE_NUMBER_INVALID``);
            the message names the expected form, and the kind the number looks like when it is
            another kind's.

    Example:
        >>> parse_case_number(" 1:24-CV-10001-abc ", CourtKind.DISTRICT)
        '1:24-cv-10001'
        >>> parse_case_number("1:24-bk-10001", CourtKind.BANKRUPTCY)
        '24-10001'
    """
    text = raw.strip().lower() if len(raw) <= CASE_NUMBER_MAX else ""
    canonical = _PARSERS[kind](text) if text else None
    if canonical is not None:
        return canonical
    shown = raw.strip()[:CASE_NUMBER_MAX]
    message = f"{shown!r} is not {_a(kind)} court case number: write it as {EXPECTED_FORM[kind]}"
    elsewhere = [_a(other) for other, parse in _PARSERS.items() if other is not kind and text and parse(text)]
    if elsewhere:
        message += f" ({shown!r} looks like {' or '.join(elsewhere)} court's)"
    raise CaseNumberInvalid(message + ".", field)


def _a(kind: CourtKind) -> str:
    return f"{'an' if kind is CourtKind.APPELLATE else 'a'} {kind.value}"
