"""The rules under multi-factor sign-in, without HTTP: TOTP steps and drift, the skips,
sealed secrets and the secret key, and what a restricted session may run."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pyotp
import pytest
from graphql import OperationDefinitionNode, parse

from nextgen_gql.api.enrolment import allowed_while_enrolling
from nextgen_gql.cli import main
from nextgen_gql.services import clock, mfa, totp
from nextgen_gql.services.crypto import MissingSecretKey, Sealer, resolve_secret_key, secret_key_file
from nextgen_gql.settings import Settings

AT = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)  # the start of a 30-second step
KEY = "k" * 40


def test_a_code_is_accepted_for_its_step_and_one_either_side() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32
    step = int(AT.timestamp()) // 30
    app = pyotp.TOTP(secret)
    for offset, expected in [(-60, None), (-30, step - 1), (0, step), (30, step + 1), (60, None)]:
        assert totp.matching_step(secret, app.at(AT + dt.timedelta(seconds=offset)), AT) == expected
    # Typed with a blank, as apps show it.
    value = app.at(AT)
    assert totp.matching_step(secret, f"{value[:3]} {value[3:]}", AT) == step


def test_a_code_is_not_accepted_again_nor_an_earlier_one() -> None:
    secret = totp.new_secret()
    step = int(AT.timestamp()) // 30
    value = pyotp.TOTP(secret).at(AT)
    assert totp.matching_step(secret, value, AT, after=step) is None
    earlier = pyotp.TOTP(secret).at(AT - dt.timedelta(seconds=30))
    assert totp.matching_step(secret, earlier, AT, after=step) is None
    later = pyotp.TOTP(secret).at(AT + dt.timedelta(seconds=30))
    assert totp.matching_step(secret, later, AT, after=step) == step + 1


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12345a"])
def test_malformed_codes_match_nothing(bad: str) -> None:
    assert totp.matching_step(totp.new_secret(), bad, AT) is None


def test_the_qr_code_carries_the_uri() -> None:
    uri = totp.otpauth_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "jmorgan2019")
    assert (
        uri
        == "otpauth://totp/PACER%20NextGen:jmorgan2019?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=PACER%20NextGen"
    )
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<script" not in svg


def test_skips_count_the_sign_in_in_progress() -> None:
    assert [mfa.skips_left(n) for n in range(6)] == [3, 3, 2, 1, 0, 0]


def test_sealed_secrets_open_only_with_their_key() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    assert (
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" not in sealed
        and sealer.open(sealed) == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    )
    with pytest.raises(ValueError, match="does not open"):
        Sealer("x" * 40).open(sealed)
    assert sealer.code_hash("12345678") == Sealer(KEY).code_hash("12345678")
    assert sealer.code_hash("12345678") != Sealer("x" * 40).code_hash("12345678")


def test_postgresql_needs_the_secret_key() -> None:
    with pytest.raises(MissingSecretKey, match="NEXTGEN_GQL_SECRET_KEY is required on PostgreSQL"):
        resolve_secret_key(None, "postgres://u@127.0.0.1:5432/db")
    assert resolve_secret_key(KEY, "postgres://u@127.0.0.1:5432/db") == KEY
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(secret_key="short")


def test_the_service_refuses_to_start_on_postgresql_without_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NEXTGEN_GQL_SECRET_KEY", raising=False)
    code = main(["--database-url", "postgres://nobody@127.0.0.1:1/nothing", "serve"])
    assert code != 0
    assert "NEXTGEN_GQL_SECRET_KEY is required on PostgreSQL" in capsys.readouterr().err


def test_a_sqlite_database_keeps_its_key_beside_it(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'nextgen.sqlite3'}"
    path = secret_key_file(url)
    assert path == tmp_path / "nextgen.sqlite3.secret-key"
    first = resolve_secret_key(None, url)
    assert len(first) >= 32 and path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_secret_key(None, url) == first  # a second start reuses it
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    assert resolve_secret_key(KEY, url) == KEY  # the setting wins


def test_the_clock_stops_and_moves_for_tests() -> None:
    clock.set_now(AT)
    assert clock.now() == AT
    assert clock.advance(dt.timedelta(seconds=30)) == AT + dt.timedelta(seconds=30)
    clock.reset()
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    with pytest.raises(ValueError):
        clock.set_now(dt.datetime(2026, 1, 1))


def _operation(text: str) -> tuple[OperationDefinitionNode, dict[str, object]]:
    document = parse(text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if not isinstance(d, OperationDefinitionNode)}  # type: ignore[attr-defined]
    return operation, fragments


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("{ me { username } }", True),
        ("{ __typename me { mfa { enabled } } }", True),
        ("mutation { signOut { ok } }", True),
        ('mutation { startAuthenticatorEnrollment(input: {name: "x"}) { errors { code } } }', True),
        ("{ ... on Query { me { id } } }", True),
        ("{ ...F } fragment F on Query { me { id } }", True),
        ("{ courts { code } }", False),
        ("{ me { id } court { code } }", False),
        ('{ node(id: "x") { id } }', False),
        ("mutation { signOutOtherSessions { ok } }", False),
        ("{ ... on Query { courts { code } } }", False),
        ("{ ...F } fragment F on Query { courts { code } }", False),
    ],
)
def test_what_a_restricted_session_may_run(text: str, allowed: bool) -> None:
    operation, fragments = _operation(text)
    assert allowed_while_enrolling(operation, fragments) is allowed  # type: ignore[arg-type]
    # Without its fragments (the compiled path), a fragment spread counts as not allowed.
    if "...F" in text:
        assert allowed_while_enrolling(operation) is False
