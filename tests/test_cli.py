"""The ``nextgen-gql`` command: imports, clerks, tenants, schema export.

Each runs in-process through ``main()``, against a database file of its own.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from nextgen_gql.cli import main
from nextgen_gql.services.passwords import _hasher
from tests import databases
from tests.conftest import TENANTS

PACER_HEADER = "account_number,username,first_name,last_name,email,created_at,is_shared,password\n"
CMECF_HEADER = "login,first_name,last_name,email,role,password\n"


@pytest.fixture
def run(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(TENANTS))
    monkeypatch.setenv("NEXTGEN_GQL_SECRET_KEY", databases.SECRET_KEY)  # required on PostgreSQL

    def invoke(*args: str) -> int:
        return main(list(args))

    invoke.db = fresh_database_url  # type: ignore[attr-defined]
    return invoke


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    return databases.query(url, sql)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_pacer_accounts_good_file(run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good_hash = _hasher.hash("Some-Long-Password-1")
    csv = write(
        tmp_path,
        "pacer.csv",
        PACER_HEADER
        + "1234567,ab1234,Ann,Bell,,2010-01-02,false,old-pass\n"
        + "7654321,Carl.Dunn,Carl,Dunn,carl@example.org,2020-05-05T10:00:00,true,Winter-Lights-Glow-77\n",
    )
    assert run("import", "pacer-accounts", str(csv)) == 0
    assert "Imported 2 PACER accounts" in capsys.readouterr().out
    got = rows(
        run.db,
        "SELECT account_number, username_key, upgraded_at, is_shared, password_compliant FROM pacer_accounts ORDER BY account_number",
    )
    assert got == [("1234567", "ab1234", None, 0, 0), ("7654321", "carl.dunn", None, 1, 1)]
    # password_hash files are stored as given.
    hashed = write(
        tmp_path,
        "hashed.csv",
        PACER_HEADER.replace(",password", ",password_hash")
        + f'2222222,zz9999,Zed,Zane,,2001-01-01,false,"{good_hash}"\n',
    )
    assert run("import", "pacer-accounts", str(hashed)) == 0
    assert rows(run.db, "SELECT password_hash FROM pacer_accounts WHERE account_number='2222222'") == [
        (good_hash,)
    ]


def test_a_bad_row_names_file_line_and_field_and_writes_nothing(
    run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(
        tmp_path,
        "bad.csv",
        PACER_HEADER
        + "1234567,ab1234,Ann,Bell,,2010-01-02,false,pw\n"
        + "12345,cd5678,Cy,Dee,,2010-01-02,false,pw\n"
        + "7654321,ef5678,Eve,Fox,,yesterday,maybe,pw\n"
        + "7654322,AB1234,Gil,Hay,,2010-01-02,false,\n",
    )
    assert run("import", "pacer-accounts", str(csv)) == 2
    err = capsys.readouterr().err
    assert f"{csv}:3: account_number: must be 7 digits" in err
    assert f"{csv}:4: created_at:" in err and f"{csv}:4: is_shared:" in err
    assert f"{csv}:5: username: 'AB1234' is already on line 2" in err
    assert f"{csv}:5: password: is required" in err
    assert rows(run.db, "SELECT count(*) FROM pacer_accounts") == [(0,)]


def test_header_problems(run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write(tmp_path, "hdr.csv", "account_number,username,colour\n1,2,3\n")
    assert run("import", "pacer-accounts", str(csv)) == 2
    err = capsys.readouterr().err
    assert f"{csv}:1: first_name: column is missing" in err and f"{csv}:1: colour: unknown column" in err
    assert run("import", "pacer-accounts", str(tmp_path / "missing.csv")) == 2
    assert "no such file" in capsys.readouterr().err


def test_import_cmecf_roster_rules_and_duplicates(
    run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(
        tmp_path,
        "mad.csv",
        CMECF_HEADER + "jdoe,Jane,Doe,jdoe@example.org,Attorney,pw1\nmsmith,Mo,Smith,,PRO SE,pw2\n",
    )
    assert run("import", "cmecf-accounts", "mad", str(good)) == 0
    assert rows(run.db, "SELECT court_id, login_key, role FROM cmecf_accounts ORDER BY login_key") == [
        ("mad", "jdoe", "attorney"),
        ("mad", "msmith", "pro_se"),
    ]
    capsys.readouterr()
    again = write(
        tmp_path,
        "again.csv",
        CMECF_HEADER + "JDOE,Jane,Doe,,attorney,pw\nnewbie,New,Bie,,creditor,pw\nx y,A,B,,wizard,pw\n",
    )
    assert run("import", "cmecf-accounts", "mad", str(again)) == 2
    err = capsys.readouterr().err
    # Every row is checked and reported; clashes with the database are checked once the rows are valid.
    assert f"{again}:3: role: mad does not accept the role 'creditor'" in err
    assert f"{again}:4: login:" in err and f"{again}:4: role: unknown role 'wizard'" in err
    dup = write(tmp_path, "dup.csv", CMECF_HEADER + "JDOE,Jane,Doe,,attorney,pw\n")
    assert run("import", "cmecf-accounts", "mad", str(dup)) == 2
    assert f"{dup}:2: login: 'jdoe' already exists in mad" in capsys.readouterr().err
    # The same login in another court is another account.
    assert run("import", "cmecf-accounts", "mab", str(dup)) == 0
    assert rows(run.db, "SELECT count(*) FROM cmecf_accounts") == [(3,)]
    assert run("import", "cmecf-accounts", "zzz", str(dup)) == 2
    assert "Unknown court 'zzz'" in capsys.readouterr().err


def test_clerks_grant_and_revoke(run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write(
        tmp_path, "p.csv", PACER_HEADER + "7654321,Carl.Dunn,Carl,Dunn,carl@example.org,2020-05-05,false,pw\n"
    )
    assert run("import", "pacer-accounts", str(csv)) == 0
    assert run("clerks", "grant", "mad", "CARL.DUNN") == 0
    assert run("clerks", "grant", "mad", "carl.dunn") == 0  # idempotent
    assert rows(run.db, "SELECT court_id FROM clerks") == [("mad",)]
    assert run("clerks", "revoke", "mad", "carl.dunn") == 0
    assert rows(run.db, "SELECT count(*) FROM clerks") == [(0,)]
    assert run("clerks", "grant", "mad", "nobody99") == 2
    assert "No PACER account has the username 'nobody99'" in capsys.readouterr().err
    actions = [a for (a,) in rows(run.db, "SELECT action FROM audit_events ORDER BY id")]
    assert actions == ["courts.apply", "import.pacer_accounts", "clerk.grant", "clerk.revoke"]


def test_tenants_validate_and_list(
    run, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("tenants", "validate") == 0
    assert "3 court file(s)" in capsys.readouterr().out
    assert run("tenants", "list") == 0
    out = capsys.readouterr().out
    assert "mad" in out and "district" in out and "since 2021-09-20" in out
    bad = tmp_path / "tenants"
    bad.mkdir()
    (bad / "xyz.toml").write_text(
        'code = "xyz"\nname = "X"\nkind = "galactic"\naccepted_roles = ["attorney"]\n'
    )
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(bad))
    assert run("tenants", "validate") == 2
    err = capsys.readouterr().err
    assert f"{bad / 'xyz.toml'}:3: kind: must be one of" in err


def test_serve_refuses_bad_court_files(
    run, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "tenants"
    bad.mkdir()
    (bad / "xyz.toml").write_text(
        'code = "abc"\nname = "X"\nkind = "district"\naccepted_roles = ["attorney"]\n'
    )
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(bad))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert run("serve", "--port", "0") == 2
    assert "xyz.toml:1: code: 'abc' does not match the file name" in capsys.readouterr().err
    # The metrics folder serve made for itself is gone, and so is its name: the process
    # (here the tests) counts in its own registry again, as it did before.
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_export_schema_writes_the_sdl(run, tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    assert run("export-schema", "--output", str(out)) == 0
    assert "type PacerAccount implements Node" in out.read_text()


def test_no_event_loop_left_behind() -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


OPS = """query CourtCodes { courts { ...CourtBits } }
query OneCourt { court { ...CourtBits helpDesk { phone } } }
fragment CourtBits on Court { code name }
"""


def test_operations_add_and_list(run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib
    import json

    graphql = write(tmp_path, "ops.graphql", OPS)
    relay = write(
        tmp_path,
        "relay.json",
        json.dumps({"a1b2c3d4e5f60718293a4b5c6d7e8f90": "query R { courts { code } }"}),
    )
    codegen_text = "query G { courts { kind } }"
    codegen = write(
        tmp_path,
        "persisted-documents.json",
        json.dumps({hashlib.sha256(codegen_text.encode()).hexdigest(): codegen_text}),
    )
    apollo = write(
        tmp_path,
        "apollo.json",
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": "x" * 10, "body": "query A { courts { name } }", "name": "A", "type": "query"}
                ],
            }
        ),
    )
    assert run("operations", "add", str(graphql), str(relay), str(codegen), str(apollo)) == 0
    assert "Registered 5 trusted documents (0 registered already)" in capsys.readouterr().out
    found = rows(
        run.db, "SELECT key, operation_names, document FROM persisted_documents WHERE trusted ORDER BY id"
    )
    assert [r[1] for r in found] == ["CourtCodes", "OneCourt", "R", "G", "A"]
    # Each operation of a .graphql file is its own document, with the fragments it uses.
    assert "fragment CourtBits on Court" in str(found[0][2]) and "helpDesk" not in str(found[0][2])
    assert found[0][0] == hashlib.sha256(str(found[0][2]).encode()).hexdigest()
    assert found[2][0] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    # Again: nothing new, nothing lost.
    assert run("operations", "add", str(graphql)) == 0
    assert "Registered 0 trusted documents (2 registered already)" in capsys.readouterr().out
    assert run("operations", "list") == 0
    listed = capsys.readouterr().out
    assert (
        "CourtCodes" in listed
        and "a1b2c3d4e5f60718293a4b5c6d7e8f90" in listed
        and "5 trusted documents" in listed
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.graphql", "query Q { courts { nope } }", "bad.graphql Q (line 1): Cannot query field 'nope'"),
        ("broken.graphql", "query Q { courts {", "broken.graphql:1:"),
        ("frag.graphql", "query Q { courts { ...Missing } }", "does not define"),
        ("bad.json", '{"k": ', "bad.json:1:"),
        ("list.json", "[1, 2]", "not a manifest"),
        ("key.json", '{"bad key!": "query Q { courts { code } }"}', "is not 1-128"),
        ("ops.txt", "query Q { courts { code } }", "expected a .graphql"),
    ],
)
def test_operations_add_refuses_bad_documents_and_registers_nothing(
    run, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, expected: str
) -> None:
    good = write(tmp_path, "good.graphql", "query Good { courts { code } }")
    bad = write(tmp_path, name, text)
    assert run("operations", "add", str(good), str(bad)) != 0
    assert expected in capsys.readouterr().err
    assert run("operations", "list") == 0
    assert "0 trusted documents." in capsys.readouterr().out


def test_operations_add_refuses_an_id_that_names_another_document(
    run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    first = write(tmp_path, "one.json", json.dumps({"same-id": "query A { courts { code } }"}))
    second = write(tmp_path, "two.json", json.dumps({"same-id": "query B { courts { name } }"}))
    assert run("operations", "add", str(first)) == 0
    capsys.readouterr()
    assert run("operations", "add", str(second)) != 0
    assert "same-id is registered already, for another document" in capsys.readouterr().err
    assert [r[0] for r in rows(run.db, "SELECT operation_names FROM persisted_documents WHERE trusted")] == [
        "A"
    ]


def test_imported_addresses_count_as_verified_for_their_first_holder(run, tmp_path: Path) -> None:
    """PACER's own accounts hold verified addresses (as migration 0016 counted them), one
    account an address: the first in the file, or one imported before."""
    first = write(
        tmp_path,
        "first.csv",
        PACER_HEADER
        + "1111111,Early.Bird,Ann,Bell,Shared@Example.org,2020-01-02,false,Winter-Lights-Glow-77\n"
        + "2222222,Late.Comer,Carl,Dunn,shared@example.org,2020-01-03,false,Winter-Lights-Glow-77\n"
        + "3333333,ab1234,Ed,Fox,,2010-01-02,false,old-pass\n",
    )
    assert run("import", "pacer-accounts", str(first)) == 0
    second = write(
        tmp_path,
        "second.csv",
        PACER_HEADER
        + "4444444,Third.Party,Gil,Hay,SHARED@example.org,2020-01-04,false,Winter-Lights-Glow-77\n"
        + "5555555,Own.Address,Ida,Jay,ida@example.org,2020-01-05,false,Winter-Lights-Glow-77\n",
    )
    assert run("import", "pacer-accounts", str(second)) == 0
    got = rows(run.db, "SELECT account_number, email_verified FROM pacer_accounts ORDER BY account_number")
    assert [(n, bool(v)) for n, v in got] == [
        ("1111111", True),
        ("2222222", False),
        ("3333333", False),
        ("4444444", False),
        ("5555555", True),
    ]


def _roster_indexes(url: str) -> set[tuple[object, ...]]:
    if url.startswith("sqlite://"):
        return set(
            rows(
                url,
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cmecf_accounts'",
            )
        )
    return set(rows(url, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cmecf_accounts'"))


def test_a_first_import_into_an_empty_roster_leaves_every_index_whole(run, tmp_path: Path) -> None:
    """Into a roster table with no row at all, SQLite's import builds the secondary indexes
    once at the end instead of row by row: afterwards they are the same indexes, holding
    every row (``PRAGMA integrity_check`` compares each index with the table), and a refused
    import leaves them as they were."""
    empty = tmp_path / "empty.csv"
    empty.write_text("login,first_name,last_name,email,role,password\n", encoding="utf-8")
    assert run("import", "cmecf-accounts", "mad", str(empty)) == 0
    before = _roster_indexes(run.db)
    assert len(before) >= 6
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "login,first_name,last_name,email,role,password\n"
        "firstok,Ann,One,,attorney,legacy-ecf-pass\n"
        "second,Bob,Two,,no-such-role,legacy-ecf-pass\n",
        encoding="utf-8",
    )
    assert run("import", "cmecf-accounts", "mad", str(bad)) == 2
    assert _roster_indexes(run.db) == before
    assert rows(run.db, "SELECT COUNT(*) FROM cmecf_accounts") == [(0,)]
    good = tmp_path / "good.csv"
    good.write_text(
        "login,first_name,last_name,email,role,password_hash\n"
        + "".join(
            f"first{i:03d},Ann,Surname{i},{'' if i % 3 else f'f{i}@example.org'},"
            f'{("attorney", "media")[i % 2]},"$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"\n'
            for i in range(300)
        ),
        encoding="utf-8",
    )
    assert run("import", "cmecf-accounts", "mad", str(good)) == 0
    assert _roster_indexes(run.db) == before
    if run.db.startswith("sqlite://"):
        assert rows(run.db, "PRAGMA integrity_check") == [("ok",)]
        found = rows(
            run.db,
            "SELECT login FROM cmecf_accounts INDEXED BY cmecf_accounts_unlinked_last_name_key"
            " WHERE court_id = 'mad' AND last_name_key = 'surname42' AND linked_at IS NULL",
        )
        assert found == [("first042",)]
    counts = dict(
        rows(run.db, "SELECT list, n FROM list_counts WHERE court_id = 'mad' AND list LIKE 'roster%'")
    )
    assert counts["roster"] == 300
    assert counts["roster.role.attorney"] == 150 and counts["roster.role.media"] == 150
    assert counts["roster.role.attorney.no_email_unlinked"] == 100
