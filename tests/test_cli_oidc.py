"""``nextgen-gql clients`` and ``nextgen-gql signing-keys``, in-process through ``main()``."""

from __future__ import annotations

import pytest

from nextgen_gql.cli import main
from tests import databases
from tests.conftest import TENANTS


@pytest.fixture
def run(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(TENANTS))
    monkeypatch.setenv("NEXTGEN_GQL_SECRET_KEY", databases.SECRET_KEY)

    def invoke(*args: str) -> int:
        return main(list(args))

    invoke.db = fresh_database_url  # type: ignore[attr-defined]
    return invoke


def test_clients_add_list_remove(run, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(
            "clients", "add", "--name", "CM/ECF mad", "--court", "mad",
            "--redirect-uri", "https://ecf.mad.example/cb", "--redirect-uri", "https://ecf2.mad.example/cb",
        )
        == 0
    )  # fmt: skip
    out = capsys.readouterr().out
    client_id = out.split("client_id: ")[1].split()[0]
    secret = out.split("client_secret (shown this once): ")[1].split()[0]
    assert client_id.startswith("ngo_") and secret.startswith("ngc_")
    stored = databases.query(run.db, "SELECT secret_hash, redirect_uris, court_id FROM oidc_clients")
    assert secret not in str(stored)
    assert stored[0][1:] == ("https://ecf.mad.example/cb\nhttps://ecf2.mad.example/cb", "mad")

    assert run("clients", "add", "--name", "Phone", "--public", "--redirect-uri", "gov.uscourts.app:/cb") == 0
    out = capsys.readouterr().out
    assert "authenticating with none" in out and "client_secret" not in out

    assert (
        run("clients", "add", "--name", "Signer", "--court", "mad", "--redirect-uri", "https://ecf.mad.example/cb",
            "--auth-method", "private_key_jwt", "--jwks-uri", "https://ecf.mad.example/jwks.json")
        == 0
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "authenticating with private_key_jwt" in out and "client_secret" not in out
    assert "keys read from: https://ecf.mad.example/jwks.json" in out

    assert run("clients", "list") == 0
    listed = capsys.readouterr().out
    assert "3 client(s)" in listed and client_id in listed and "ngc_" not in listed

    assert run("clients", "remove", client_id) == 0
    assert "removed" in capsys.readouterr().out
    assert run("clients", "list") == 0
    assert client_id not in capsys.readouterr().out
    assert run("clients", "remove", client_id) == 2
    assert "no live client" in capsys.readouterr().err


def test_clients_add_refuses_bad_input_and_writes_nothing(run, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("clients", "add", "--name", "X", "--redirect-uri", "http://app.example/cb") == 2
    assert "--redirect-uri" in capsys.readouterr().err
    assert (
        run("clients", "add", "--name", "X", "--court", "zzz", "--redirect-uri", "https://a.example/cb") == 2
    )
    assert "--court" in capsys.readouterr().err
    assert (
        run(
            "clients",
            "add",
            "--name",
            "X",
            "--auth-method",
            "private_key_jwt",
            "--redirect-uri",
            "https://a.example/cb",
        )
        == 2
    )
    assert "--jwks-uri" in capsys.readouterr().err
    assert databases.query(run.db, "SELECT COUNT(*) FROM oidc_clients") == [(0,)]


def test_signing_keys_rotate_and_list(run, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("NEXTGEN_GQL_SIGNING_KEY_PUBLISH_S", "600")
    assert run("signing-keys", "rotate") == 0
    assert "Published the key" in capsys.readouterr().out
    assert run("signing-keys", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 signing key(s)")
    assert [line.split("\t")[-1] for line in lines[1:]] == ["signing", "pending"]
    sealed = databases.query(run.db, "SELECT sealed_private FROM oidc_signing_keys")
    assert all('"d"' not in row[0] for row in sealed)
