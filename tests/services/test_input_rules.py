"""The rules every service applies to what callers type: single-line text, date-times in
range, and mail headers that no value can break."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import sys
import unicodedata
from pathlib import Path

import pytest

from nextgen_gql.errors import DomainError, ErrorCode
from nextgen_gql.services import mail, moments
from nextgen_gql.services.mail import Mailer, header_value
from nextgen_gql.services.text import control_character, multi_line, single_line


@pytest.mark.parametrize(
    "value",
    [
        "Acme\nLaw",
        "Acme\rLaw",
        "Acme\tLaw",
        "Acme\x00",
        "\x1b[2J",
        "Acme\x7f",
        "A\x85B",
        "A\u2028B",
        "A\u2029B",
    ],
)
def test_single_line_refuses_every_control_character_naming_the_field(value: str) -> None:
    with pytest.raises(DomainError) as refused:
        single_line(value, "name", "A firm name")
    assert refused.value.code is ErrorCode.INVALID_INPUT and refused.value.field == "name"
    assert refused.value.message.startswith("A firm name must be one line of text, without ")


def written(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


@pytest.mark.parametrize(
    "value", ["Acme Law", "Čech & Søn", "O'Brien-Smith, LLP", "法律事務所", "  spaced  "]
)
def test_single_line_keeps_ordinary_text(value: str) -> None:
    assert single_line(value, "name", "A name") == value


def test_multi_line_keeps_line_breaks_and_tabs_only() -> None:
    reason = "Line one.\r\nLine two,\tindented.\n"
    assert multi_line(reason, "reason", "A reason") == reason
    with pytest.raises(DomainError) as refused:
        multi_line("bell\x07", "reason", "A reason")
    assert refused.value.field == "reason" and "U+0007" in refused.value.message
    assert control_character("a\nb", allowed=frozenset("\n")) is None


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(1, 1, 1),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(9999, 12, 31, 23, 59, 59),
        dt.datetime.max,
        dt.datetime.min,
    ],
)
def test_moments_out_of_range_are_invalid_input_on_their_argument(value: dt.datetime) -> None:
    with pytest.raises(DomainError) as refused:
        moments.in_range(value, "since")
    assert refused.value.code is ErrorCode.INVALID_INPUT and refused.value.field == "since"


def test_moments_in_range_are_utc() -> None:
    paris = dt.datetime(2026, 12, 4, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert moments.in_range(paris, "since") == dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)
    assert moments.in_range(dt.datetime(2026, 12, 4), "since").tzinfo is dt.UTC  # no offset: UTC
    assert moments.from_text("2026-12-04T09:00:00+00:00", "after").hour == 9
    assert moments.from_epoch_ms(0, "after") == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("ms", [2**62, -(2**62), 2**2000])
def test_epoch_milliseconds_naming_no_date_are_invalid_input(ms: int) -> None:
    with pytest.raises(DomainError) as refused:
        moments.from_epoch_ms(ms, "after")
    assert refused.value.field == "after"


def test_cursor_text_that_is_no_date_says_so() -> None:
    with pytest.raises(DomainError) as refused:
        moments.from_text("yesterday", "before")
    assert refused.value.field == "before" and "not one this API gave out" in refused.value.message


def test_header_values_lose_their_line_breaks() -> None:
    assert header_value("Acme\r\nBcc: x@example.org\n\tLaw\u2028!") == "Acme Bcc: x@example.org Law !"


async def test_a_subject_holding_line_breaks_is_mailed_on_one_line(tmp_path: Path) -> None:
    mailer = Mailer(tmp_path)
    await mailer.send("kim@example.org", "Join Acme\nBcc: x@example.org", "Body\nwith lines.\n")
    [path] = written(tmp_path)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Join Acme Bcc: x@example.org" and message["Bcc"] is None
    assert message.get_content() == "Body\nwith lines.\n"  # type: ignore[attr-defined]


async def test_a_recipient_that_is_not_one_address_is_not_mailed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = Mailer(tmp_path)
    await mailer.send("kim@example.org\nBcc: x@example.org", "Hello", "Body")
    await mailer.send("kim@example.org, x@example.org", "Hello", "Body")
    assert written(tmp_path) == []
    assert "not one email address" in caplog.text


async def test_send_later_delivers_after_returning(tmp_path: Path) -> None:
    mailer = Mailer(tmp_path)
    mailer.send_later("kim@example.org", "Later", "Body")
    assert written(tmp_path) == []  # handed to a task, not yet written
    await mail.drain()
    assert len(written(tmp_path)) == 1


def test_control_characters_are_unicodes_categories_cc_zl_zp() -> None:
    """The fast scan (one regular expression) finds exactly the characters whose Unicode
    category is Cc, Zl or Zp, over every code point."""
    differ = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (unicodedata.category(chr(code)) in ("Cc", "Zl", "Zp"))
        != (control_character(chr(code)) is not None)
    ]
    assert differ == []
    assert control_character("a\nb\x07c", allowed=frozenset("\n")) == "\x07"
    assert control_character("a\r\nb\tc", allowed=frozenset("\n\r\t")) is None


def test_the_dummy_hash_costs_what_an_accounts_hash_costs() -> None:
    """A sign-in for no account verifies against ``_DUMMY_HASH``, written out in the source:
    it must carry the hasher's own parameters (else a wrong username would answer faster or
    slower than a wrong password) and be a hash of no password a caller could give.

    Checked in a process of its own: the suite's process hashes at the lowest cost
    (``tests/conftest.py``), the service at argon2id's RFC 9106 low-memory profile."""
    import subprocess
    import sys

    script = """
from nextgen_gql.services import passwords
h = passwords._hasher
assert (h.time_cost, h.memory_cost, h.parallelism) == (3, 65536, 4), (h.time_cost, h.memory_cost, h.parallelism)
assert passwords.is_argon2_hash(passwords._DUMMY_HASH)
assert passwords._DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
assert not h.check_needs_rehash(passwords._DUMMY_HASH)
assert h.verify(passwords._DUMMY_HASH, "not a password of anyone's")
assert passwords._verify(None, "not a password of anyone's") is False
assert not h.check_needs_rehash(h.hash("a password of someone's"))
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
