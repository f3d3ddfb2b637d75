"""Case numbers: one canonical form per court kind (DOMAIN.md), found by one function.

Property-based (hypothesis): every canonical number is its own canonical form; every way
DOMAIN.md allows to write it (letters in any case, blanks around, judges' initials or a
trailing type, a four-digit appellate year, leading zeros left out) parses back to it; a
number of another kind, or anything else, is refused with CASE_NUMBER_INVALID naming the
expected form, and never with another exception.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nextgen_gql.enums import CourtKind
from nextgen_gql.errors import ErrorCode
from nextgen_gql.services.case_numbers import EXPECTED_FORM, CaseNumberInvalid, parse_case_number

DISTRICT, BANKRUPTCY, APPELLATE = CourtKind.DISTRICT, CourtKind.BANKRUPTCY, CourtKind.APPELLATE
CANONICAL = {
    DISTRICT: re.compile(r"\d:\d{2}-[a-z]{2,4}-\d{5}"),
    BANKRUPTCY: re.compile(r"\d{2}-\d{5}"),
    APPELLATE: re.compile(r"\d{2}-\d{4,5}"),
}

digits = st.integers(min_value=0, max_value=9)
years = st.integers(min_value=0, max_value=99).map(lambda y: f"{y:02d}")
case_types = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=4).filter(lambda t: t != "bk")
five = st.integers(min_value=0, max_value=99_999)
initials = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=4), max_size=3
)
blanks = st.text(" \t\n\r", max_size=3)
flip = st.randoms(use_true_random=False)


def in_any_case(text: str, rnd: object) -> str:
    return "".join(c.upper() if rnd.random() < 0.5 else c for c in text)  # type: ignore[attr-defined]


def tail(groups: list[str]) -> str:
    return "".join(f"-{g}" for g in groups)


@st.composite
def district(draw: st.DrawFn) -> tuple[str, str]:
    """(canonical, a way a person writes it)."""
    office, year, kind, number = draw(digits), draw(years), draw(case_types), draw(five)
    canonical = f"{office}:{year}-{kind}-{number:05d}"
    shown = f"{number:05d}" if draw(st.booleans()) else str(number)
    written = f"{office}:{year}-{in_any_case(kind, draw(flip))}-{shown}{tail(draw(initials))}"
    return canonical, draw(blanks) + written + draw(blanks)


@st.composite
def bankruptcy(draw: st.DrawFn) -> tuple[str, str]:
    year, number = draw(years), draw(five)
    canonical = f"{year}-{number:05d}"
    shown = f"{number:05d}" if draw(st.booleans()) else str(number)
    if draw(st.booleans()):  # the district-style form: 1:24-bk-10001
        written = f"{draw(digits)}:{year}-{in_any_case('bk', draw(flip))}-{shown}"
    else:
        written = f"{year}-{shown}"
    return canonical, draw(blanks) + written + tail(draw(initials)) + draw(blanks)


@st.composite
def appellate(draw: st.DrawFn) -> tuple[str, str]:
    year, number = draw(years), draw(st.integers(min_value=0, max_value=99_999))
    canonical = f"{year}-{number:04d}"
    shown_year = draw(st.sampled_from([year, f"19{year}", f"20{year}"]))
    shown = f"{number:04d}" if draw(st.booleans()) else str(number)
    return canonical, draw(blanks) + f"{shown_year}-{shown}" + tail(draw(initials)) + draw(blanks)


WRITTEN = {DISTRICT: district(), BANKRUPTCY: bankruptcy(), APPELLATE: appellate()}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(CourtKind)).flatmap(lambda k: st.tuples(st.just(k), WRITTEN[k])))
def test_every_written_form_parses_to_its_canonical_form(pair: tuple[CourtKind, tuple[str, str]]) -> None:
    kind, (canonical, written) = pair
    assert CANONICAL[kind].fullmatch(canonical)
    assert parse_case_number(canonical, kind) == canonical  # canonical is a fixed point
    assert parse_case_number(written, kind) == canonical
    assert parse_case_number(canonical.upper(), kind) == canonical


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(CourtKind)), st.text(max_size=40))
@example(DISTRICT, "1:24-cv-10001")
@example(APPELLATE, "١٢-١٢٣٤")  # digits of another script are not case numbers
def test_anything_either_parses_to_a_canonical_fixed_point_or_is_refused_by_name(
    kind: CourtKind, text: str
) -> None:
    try:
        canonical = parse_case_number(text, kind)
    except CaseNumberInvalid as exc:
        assert exc.code is ErrorCode.CASE_NUMBER_INVALID and exc.field == "caseNumber"
        assert EXPECTED_FORM[kind] in exc.message
        return
    assert CANONICAL[kind].fullmatch(canonical)
    assert parse_case_number(canonical, kind) == canonical


def refused(text: str, kind: CourtKind) -> CaseNumberInvalid:
    with pytest.raises(CaseNumberInvalid) as caught:
        parse_case_number(text, kind)
    return caught.value


@settings(max_examples=200, deadline=None)
@given(district())
def test_a_district_number_is_no_bankruptcy_or_appellate_number(pair: tuple[str, str]) -> None:
    _, written = pair
    for kind in (BANKRUPTCY, APPELLATE):
        assert "looks like a district court's" in refused(written, kind).message


@settings(max_examples=200, deadline=None)
@given(st.one_of(bankruptcy(), appellate()))
def test_bankruptcy_and_appellate_numbers_are_no_district_numbers(pair: tuple[str, str]) -> None:
    error = refused(pair[1], DISTRICT)
    assert "O:YY-tt-NNNNN" in error.message


@pytest.mark.parametrize(
    ("kind", "written", "canonical"),
    [  # DOMAIN.md's own examples
        (DISTRICT, "1:24-cv-10001", "1:24-cv-10001"),
        (DISTRICT, "1:24-cv-10001-ABC", "1:24-cv-10001"),
        (DISTRICT, "2:20-cv-01234-BBD-dkv", "2:20-cv-01234"),
        (DISTRICT, "  1:24-CR-7  ", "1:24-cr-00007"),
        (BANKRUPTCY, "24-10001", "24-10001"),
        (BANKRUPTCY, "1:24-bk-10001", "24-10001"),
        (BANKRUPTCY, "24-10001-FJB", "24-10001"),
        (APPELLATE, "24-1234", "24-1234"),
        (APPELLATE, "24-12345", "24-12345"),
        (APPELLATE, "2024-1234", "24-1234"),
        (APPELLATE, "24-1234-cv", "24-1234"),
    ],
)
def test_domain_examples(kind: CourtKind, written: str, canonical: str) -> None:
    assert parse_case_number(written, kind) == canonical


@pytest.mark.parametrize(
    ("kind", "written"),
    [
        (DISTRICT, ""),
        (DISTRICT, "1:24-cv-"),
        (DISTRICT, "1:24-cv-123456"),  # six digits
        (DISTRICT, "1:24-bk-10001"),  # a bankruptcy case
        (DISTRICT, "1:24 -cv-10001"),  # blanks inside
        (DISTRICT, "12:24-cv-10001"),
        (DISTRICT, "1:2024-cv-10001"),
        (DISTRICT, "1:24-cv-10001-ABCDE"),  # initials are 1 to 4 letters
        (DISTRICT, "1:24-cv-10001-A1"),
        (BANKRUPTCY, "1:24-ap-10001"),  # an adversary proceeding is not the case
        (BANKRUPTCY, "24-100001"),
        (BANKRUPTCY, "2024-10001"),
        (APPELLATE, "1:24-cv-10001"),
        (APPELLATE, "1824-1234"),
        (APPELLATE, "24-123456"),
        (APPELLATE, "24/1234"),
        (APPELLATE, "x" * 65),
    ],
)
def test_malformed_numbers_are_refused_naming_the_form(kind: CourtKind, written: str) -> None:
    error = refused(written, kind)
    assert error.code is ErrorCode.CASE_NUMBER_INVALID
    assert EXPECTED_FORM[kind] in error.message and error.message.endswith(".")
    assert len(error.message) < 300  # a long input is not echoed whole


def test_the_field_at_fault_is_named_by_the_caller() -> None:
    assert refused("nope", DISTRICT).field == "caseNumber"
    with pytest.raises(CaseNumberInvalid) as caught:
        parse_case_number("nope", DISTRICT, field="cases")
    assert caught.value.field == "cases"
