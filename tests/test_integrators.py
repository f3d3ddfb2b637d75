"""What a court integrator does: add a court, validate, import a roster, see it listed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from nextgen_gql.cli import main
from nextgen_gql.services import imports
from nextgen_gql.services.passwords import _hasher
from tests import databases
from tests.conftest import TENANTS

HASH = _hasher.hash("a legacy password")
HEADER = "login,first_name,last_name,email,role,password_hash\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_database_url: str) -> Path:
    """A working folder with a copy of the shipped court files, as an integrator has."""
    import shutil

    shutil.copytree(TENANTS, tmp_path / "tenants")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEXTGEN_GQL_TENANTS_DIR", raising=False)
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", fresh_database_url)
    return tmp_path


def roster(path: Path, rows: int, bad: Callable[[int], str | None] = lambda i: None) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for i in range(rows):
            handle.write(bad(i) or f'filer{i:05d},Pat,Filer{i},filer{i}@example.org,attorney,"{HASH}"\n')
    return path


def count(sql: str = "SELECT count(*) FROM cmecf_accounts") -> int:
    return int(databases.query(os.environ["NEXTGEN_GQL_DATABASE_URL"], sql)[0][0])


def test_add_a_court_with_one_command(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "tenants",
            "add",
            "nysd",
            "--name",
            "U.S. District Court, S.D.N.Y.",
            "--kind",
            "district",
            "--nextgen-since",
            "2023-05-08",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Wrote tenants/nysd.toml" in out and "nextgen-gql import cmecf-accounts nysd" in out
    text = (env / "tenants" / "nysd.toml").read_text()
    assert 'code = "nysd"' in text and "nextgen_since = 2023-05-08" in text
    assert 'accepted_roles = ["attorney", "pro_se", "media"]' in text
    assert 'hosts = ["ecf.nysd.uscourts.gov"]' in text
    assert main(["tenants", "validate"]) == 0
    bankruptcy = [
        "tenants",
        "add",
        "nysb",
        "--name",
        "Bankr. S.D.N.Y.",
        "--kind",
        "bankruptcy",
        "--role",
        "Creditor",
        "--role",
        "trustee",
        "--host",
        "ecf.nysb.example",
        "--help-desk-phone",
        "212",
    ]
    assert main(bankruptcy) == 0
    text = (env / "tenants" / "nysb.toml").read_text()
    assert 'accepted_roles = ["creditor", "trustee"]' in text and "nextgen_since" not in text
    assert 'phone = "212"' in text
    assert main(["tenants", "validate"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mad", "--name", "Again", "--kind", "district"], "'mad' exists already"),
        (["Bad!", "--name", "X", "--kind", "district"], "CODE must be lowercase letters and digits"),
        (
            ["xyzd", "--name", "X", "--kind", "galactic"],
            "--kind must be one of appellate | district | bankruptcy",
        ),
        (["xyzd", "--name", "X", "--kind", "district", "--role", "wizard"], "--role: unknown role 'wizard'"),
        (
            ["xyzd", "--name", "X", "--kind", "district", "--nextgen-since", "soon"],
            "--nextgen-since must be a date",
        ),
        (
            ["xyzd", "--name", "X", "--kind", "district", "--host", "ecf.mad.uscourts.gov"],
            "host 'ecf.mad.uscourts.gov' is already used by mad.toml",
        ),
        (["xyzd", "--name", "X", "--kind", "district", "--host", "not a host"], "not a valid host name"),
    ],
)
def test_add_refuses_and_writes_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = sorted(p.name for p in (env / "tenants").iterdir())
    mad = (env / "tenants" / "mad.toml").read_text()
    assert main(["tenants", "add", *args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in (env / "tenants").iterdir()) == before
    assert (env / "tenants" / "mad.toml").read_text() == mad


def test_list_shows_roster_sizes(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenants", "list"]) == 0
    assert "(roster: no database yet;" in capsys.readouterr().out
    if databases.backend() == "sqlite":
        assert not list(env.glob("*.sqlite3"))  # listing creates nothing
    assert main(["import", "cmecf-accounts", "mab", str(roster(env / "r.csv", 7))]) == 0
    capsys.readouterr()
    assert main(["tenants", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:] if line.strip()}
    assert lines["mab"].split()[4] == "7" and lines["mad"].split()[4] == "0"


def test_a_bad_row_after_the_first_batches_rolls_everything_back(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = imports.BATCH_SIZE * 2 + 10
    last = rows - 1
    path = roster(env / "big.csv", rows, lambda i: "filer-bad,Pat,Bad,,wizard,x\n" if i == last else None)
    assert main(["import", "cmecf-accounts", "mad", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{rows + 1}: role: unknown role 'wizard'" in err
    assert f"{path}:{rows + 1}: password_hash: is not an argon2 PHC string" in err
    assert count() == 0
    good = roster(env / "good.csv", rows)
    assert main(["import", "cmecf-accounts", "mad", str(good)]) == 0
    assert count() == rows


def test_a_duplicate_of_the_database_in_a_later_batch_rolls_back(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "cmecf-accounts", "mad", str(roster(env / "one.csv", 1))]) == 0  # filer00000
    rows = imports.BATCH_SIZE + 5
    clash = f'FILER00000,Pat,Again,,attorney,"{HASH}"\n'
    path = roster(
        env / "clash.csv", rows, lambda i: clash if i == rows - 1 else f'x{i:05d},Pat,X,,attorney,"{HASH}"\n'
    )
    assert main(["import", "cmecf-accounts", "mad", str(path)]) == 2
    assert f"{path}:{rows + 1}: login: 'filer00000' already exists in mad" in capsys.readouterr().err
    assert count() == 1


def test_a_duplicate_found_while_the_next_batch_is_read_rolls_back(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A batch is written while the next one is read: a duplicate of the database found by
    the second batch's write (the third batch being read) still rolls back every batch."""
    assert main(["import", "cmecf-accounts", "mad", str(roster(env / "one.csv", 1))]) == 0  # filer00000
    rows = imports.BATCH_SIZE * 3 + 5
    at = imports.BATCH_SIZE + 3
    clash = f'FILER00000,Pat,Again,,attorney,"{HASH}"\n'
    path = roster(
        env / "clash.csv", rows, lambda i: clash if i == at else f'x{i:05d},Pat,X,,attorney,"{HASH}"\n'
    )
    assert main(["import", "cmecf-accounts", "mad", str(path)]) == 2
    assert f"{path}:{at + 2}: login: 'filer00000' already exists in mad" in capsys.readouterr().err
    assert count() == 1


def test_problems_are_reported_up_to_a_limit(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = roster(env / "bad.csv", 300, lambda i: f'user{i},,X,,attorney,"{HASH}"\n')
    assert main(["import", "cmecf-accounts", "mad", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("first_name: is required") == imports.MAX_PROBLEMS
    assert f"the first {imports.MAX_PROBLEMS} are shown" in err


async def test_progress_counts_every_row(tmp_path: Path, fresh_database_url: str) -> None:
    """The progress callback an import drives a progress bar with."""
    from tortoise.context import TortoiseContext

    from nextgen_gql.db import apply_migrations, tortoise_config
    from nextgen_gql.services.court_catalog import apply
    from nextgen_gql.tenancy import CourtRegistry, load_courts

    url = fresh_database_url
    courts = CourtRegistry(load_courts(TENANTS))
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await apply(list(courts))
        seen: list[int] = []
        path = roster(tmp_path / "r.csv", 2345)
        assert imports.count_rows(path) == 2345
        assert await imports.import_cmecf_accounts(courts.get("mab"), path, progress=seen.append) == 2345
        assert sum(seen) == 2345


CASES_HEADER = "login,first_name,last_name,email,role,cases,password_hash\n"


def test_the_optional_cases_column_lists_a_pro_se_accounts_cases(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env / "cases.csv"
    path.write_text(
        CASES_HEADER
        + f'prose1,Pat,One,,pro_se," 1:24-CV-10001-ABC ; 1:24-cv-7;1:24-cv-00007 ;","{HASH}"\n'
        + f'prose2,Pat,Two,,Pro Se,,"{HASH}"\n'
        + f'lawyer,Lee,Law,,attorney,,"{HASH}"\n',
        encoding="utf-8",
    )
    assert main(["import", "cmecf-accounts", "mad", str(path)]) == 0
    rows = databases.query(
        os.environ["NEXTGEN_GQL_DATABASE_URL"], "SELECT login, cases FROM cmecf_accounts ORDER BY login"
    )
    # Canonical, each once, in the file's order; an empty cell lists none.
    assert rows == [("lawyer", ""), ("prose1", "1:24-cv-10001;1:24-cv-00007"), ("prose2", "")]


@pytest.mark.parametrize(
    ("court", "row", "problem"),
    [
        (
            "mad",
            "pro_se,24-10001",
            "cases: '24-10001' is not a district court case number: write it as O:YY-tt-NNNNN",
        ),
        ("mab", "creditor,24-10001", "cases: only case-restricted (pro_se) accounts list cases"),
        ("ca1", "pro_se,24-1234;1:24-cv-1", "cases: '1:24-cv-1' is not an appellate court case number"),
        ("mad", "attorney,1:24-cv-1", "cases: only case-restricted (pro_se) accounts list cases"),
    ],
)
def test_a_bad_cases_cell_is_named_and_nothing_is_written(
    env: Path, capsys: pytest.CaptureFixture[str], court: str, row: str, problem: str
) -> None:
    path = env / "bad-cases.csv"
    path.write_text(
        CASES_HEADER + f'good1,Pat,Good,,pro_se,,"{HASH}"\n' + f'bad1,Pat,Bad,,{row},"{HASH}"\n',
        encoding="utf-8",
    )
    assert main(["import", "cmecf-accounts", court, str(path)]) == 2
    assert f"{path}:3: {problem}" in capsys.readouterr().err
    assert count() == 0
