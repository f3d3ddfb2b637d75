"""The roster import's column-wise check (``_CmecfImporter.fast``) against the row-by-row one
(``validate``): over generated good and bad rows, the fast check takes a chunk exactly when
``validate`` finds nothing wrong in it, and then gives the same rows, keys and state; when it
declines, it has changed nothing (the rows then go through ``validate``, which names each
problem). And through the whole command, a file imports to the same rows, counts and search
index whichever path its chunks take.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from nextgen_gql.cli import main
from nextgen_gql.services import imports
from nextgen_gql.tenancy import CourtRegistry, load_courts
from tests import databases
from tests.conftest import TENANTS

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$SGVsbG9Xb3JsZEhlbGxvV29ybGRIZWxsb1dvcmxkMDE"
COURTS = CourtRegistry(load_courts(TENANTS))
MOMENT = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def importer(court: str, header: list[str], tmp_path: Path) -> tuple[imports._CmecfImporter, imports._Reader]:
    path = tmp_path / f"{court}-{len(header)}.csv"
    path.write_text(",".join(header) + "\n", encoding="utf-8")
    found = imports._CmecfImporter(COURTS.get(court), path, None)
    found.created_at = MOMENT
    found.load = SimpleNamespace(stamp=lambda moment: moment.isoformat(" "))  # type: ignore[assignment]
    reader = imports._Reader(path, found.columns, found.problems, found.optional)
    reader.close()
    assert reader.secret is not None, found.problems.found
    return found, reader


#: Values a cell may hold, by column: mostly good, each list ending in bad ones.
GOOD_LOGINS = ["ann", "B.Ob_1", "c-d@e", "x" * 64, "ANN"]
BAD_LOGINS = ["", "has space", "x" * 65, "semi;colon", "tab\tin", "ÄNN"]
GOOD_NAMES = ["Pat", "Ann-Marie", "O'Brien", "Müller", "STRAẞE", "x" * 100, "  Lee  ", "İstanbul", "ﬃ"]
BAD_NAMES = ["", "x" * 101, "a\x00b", "line\nbreak", "c1\x85", "sep\u2028", "del\x7f", "   "]
GOOD_EMAILS = ["", "a@example.org", "First.Last+tag@sub.example.co", " pad@example.org "]
BAD_EMAILS = [
    "no-at",
    "a@b",
    "two@@example.org",
    "sp ace@example.org",
    "x" * 250 + "@example.org",
    "c\x01@example.org",
]
GOOD_ROLES = {
    "mad": ["attorney", "pro_se", "media", "Pro Se", "PRO-SE", " attorney "],
    "mab": ["attorney", "creditor", "trustee"],
}
BAD_ROLES = {"mad": ["", "judge", "creditor"], "mab": ["pro_se", "media", "nobody"]}
GOOD_CASES = {"mad": ["1:24-cv-00001", " 1:24-CV-10001-ABC ; 1:24-cv-7;1:24-cv-00007 ;", ";"], "mab": [""]}
BAD_CASES = {"mad": ["24-10001", "1:24-cv-1;nonsense"], "mab": ["24-10001"]}
GOOD_HASHES = [HASH, f" {HASH} "]
BAD_HASHES = ["", "plain", "$argon2id$v=19$m=1,t=1,p=1$salt"]


def cell(rng: random.Random, good: list[str], bad: list[str], bad_rate: float) -> str:
    return rng.choice(bad) if bad and rng.random() < bad_rate else rng.choice(good)


def make_rows(
    rng: random.Random, court: str, header: list[str], n: int, bad_rate: float, serial: list[int]
) -> list[list[str]]:
    rows = []
    for _ in range(n):
        serial[0] += 1
        role = cell(rng, GOOD_ROLES[court], BAD_ROLES[court], bad_rate)
        values = {
            "login": rng.choice(["", " "])
            + f"u{serial[0]}{rng.choice(GOOD_LOGINS)}"[:64]
            + rng.choice(["", "  "])
            if rng.random() >= bad_rate
            else rng.choice(BAD_LOGINS),
            "first_name": cell(rng, GOOD_NAMES, BAD_NAMES, bad_rate),
            "last_name": cell(rng, GOOD_NAMES, BAD_NAMES, bad_rate),
            "email": cell(rng, GOOD_EMAILS, BAD_EMAILS, bad_rate),
            "role": role,
            "cases": cell(rng, GOOD_CASES[court], BAD_CASES[court], bad_rate)
            if "pro" in role.lower() and rng.random() < 0.3
            else ("1:24-cv-00001" if rng.random() < bad_rate / 4 else ""),
            "password_hash": cell(rng, GOOD_HASHES, BAD_HASHES, bad_rate),
            "password": cell(rng, ["a clear password", " spaced "], ["", "  "], bad_rate),
        }
        row = [values[column] for column in header]
        if rng.random() < bad_rate / 4:
            row = row[:-1] if rng.random() < 0.5 else [*row, "extra"]  # the wrong width
        elif rng.random() < bad_rate / 4:
            row = []  # a blank line
        rows.append(row)
    if rows and rng.random() < bad_rate:  # a login given twice, in another case
        twin = rng.randrange(len(rows))
        if len(rows[twin]) == len(header):
            at = header.index("login")
            rows[rng.randrange(len(rows))][at : at + 1] = [rows[twin][at].upper()]
    return rows


HEADERS = [
    ["login", "first_name", "last_name", "email", "role", "password_hash"],
    ["password_hash", "role", "email", "last_name", "first_name", "login", "cases"],
    ["login", "first_name", "last_name", "email", "role", "cases", "password"],
]


@pytest.mark.parametrize("court", ["mad", "mab"])
@pytest.mark.parametrize("header", HEADERS, ids=["hashes", "reordered-with-cases", "clear-passwords"])
def test_the_fast_check_takes_a_chunk_exactly_when_validate_finds_nothing_wrong(
    tmp_path: Path, court: str, header: list[str]
) -> None:
    rng = random.Random(f"{court}-{header}")
    taken = declined = 0
    for bad_rate in (0.0, 0.002, 0.02, 0.2):
        fast, reader = importer(court, header, tmp_path)
        plain, plain_reader = importer(court, header, tmp_path)
        serial = [0]
        line = 1
        for _ in range(40):
            rows = make_rows(rng, court, header, rng.choice([1, 7, 250]), bad_rate, serial)
            lines = list(range(line + 1, line + 1 + len(rows)))
            line += len(rows)
            seen_before = copy.deepcopy(fast.seen)
            accepted_before = dict(fast.accepted)
            got = fast.fast(reader, lines, rows)
            expected = plain._checked(plain_reader, lines, rows)
            if plain.problems:
                assert got is None, (plain.problems.found, rows)
            elif any(not row for row in rows):
                pass  # a blank line: the fast check leaves the chunk to ``validate``, which skips it
            else:
                assert got is not None, rows
            if got is None:
                declined += 1
                assert fast.seen == seen_before and not fast.problems
                assert set(accepted_before) <= set(fast.accepted)  # only spellings it could parse
                got = fast._checked(reader, lines, rows)
            else:
                taken += 1
            assert (got.lines, got.keys, got.secrets, got.values) == (
                expected.lines,
                expected.keys,
                expected.secrets,
                expected.values,
            )
            assert fast.seen == plain.seen
            assert fast.problems.found == plain.problems.found
            if plain.problems:
                break  # the import is refused: nothing more is written
    assert taken and declined  # both paths ran


def test_the_fast_check_keeps_the_accepted_roles_to_the_court(tmp_path: Path) -> None:
    """A spelling the court does not accept is never cached as accepted (the next chunk with
    it goes to ``validate``, which names the problem)."""
    fast, reader = importer("mab", HEADERS[0], tmp_path)
    rows = [["ok1", "Pat", "One", "", "pro_se", HASH]]
    assert fast.fast(reader, [2], rows) is None
    assert "pro_se" not in fast.accepted
    assert fast.fast(reader, [3], [["ok2", "Pat", "Two", "", "Creditor", HASH]]) is not None
    assert fast.accepted == {"Creditor": "creditor"}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_database_url: str) -> Path:
    import shutil

    shutil.copytree(TENANTS, tmp_path / "tenants")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEXTGEN_GQL_TENANTS_DIR", raising=False)
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", fresh_database_url)
    return tmp_path


def everything(url: str, court: str = "mad") -> dict[str, Any]:
    columns = (
        "login, login_key, first_name, last_name, last_name_key, search_text, email, role, cases,"
        " password_hash, linked_at"
    )
    return {
        "rows": databases.query(
            url, f"SELECT {columns} FROM cmecf_accounts WHERE court_id = '{court}' ORDER BY id"
        ),
        "counts": databases.query(
            url,
            f"SELECT list, n FROM list_counts WHERE court_id = '{court}' AND list <> 'audit' ORDER BY list",
        ),
    }


def test_a_file_imports_the_same_through_either_path(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One file into two new databases: once as the command runs it (chunks checked column by
    column where they can be, others row by row: a blank line, a pro se account's cases), once
    with every row through ``validate``. Same rows, same counts, the same accounts found by a
    search."""
    rng = random.Random(31)
    header = HEADERS[1]
    rows = []
    for i in range(1200):
        row = make_rows(rng, "mad", header, 1, 0.0, [i])[0]
        rows.append(",".join(f'"{v}"' for v in row))
    rows[600] = ""  # a blank line: its chunk goes row by row
    path = env / "roster.csv"
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    chunks: list[bool] = []
    fast = imports._CmecfImporter.fast

    def counted(self: imports._CmecfImporter, *args: Any) -> imports._Batch | None:
        got = fast(self, *args)
        chunks.append(got is not None)
        return got

    monkeypatch.setattr(imports._CmecfImporter, "fast", counted)
    assert main(["import", "cmecf-accounts", "mad", str(path)]) == 0
    assert any(chunks) and not all(chunks)
    fast_url = os.environ["NEXTGEN_GQL_DATABASE_URL"]
    (env / "plain").mkdir()
    plain_url = databases.new_database_url(env / "plain")
    try:
        monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", plain_url)
        monkeypatch.setattr(imports._CmecfImporter, "fast", lambda self, *args: None)
        assert main(["import", "cmecf-accounts", "mad", str(path)]) == 0
        assert capsys.readouterr().err == ""
        fast_result, plain_result = everything(fast_url), everything(plain_url)
        assert len(fast_result["rows"]) == sum(1 for r in rows if r) > 1000
        assert fast_result == plain_result
        for term in ("müller", "strasse", "u11", "example.org", "o'brien"):
            assert search(fast_url, term) == search(plain_url, term)
    finally:
        databases.drop_database(plain_url)


def search(url: str, term: str) -> list[tuple[Any, ...]]:
    """The accounts a search finds, as the service searches (its trigram index on SQLite)."""
    quoted = term.replace("'", "''")
    if url.startswith("sqlite"):
        phrase = quoted.replace('"', '""')
        where = f"""id IN (SELECT rowid FROM cmecf_accounts_search WHERE cmecf_accounts_search MATCH '"{phrase}"')"""
    else:
        where = f"search_text LIKE '%{quoted}%'"
    return databases.query(url, f"SELECT login FROM cmecf_accounts WHERE {where} ORDER BY login")
