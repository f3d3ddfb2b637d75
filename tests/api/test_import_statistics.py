"""Issue 31, items 3 and 4: a roster import writes in bulk and still keeps every count and the
search index exact; it leaves the planner's statistics behind it; maintenance keeps them; and
a trigram search starts from its candidates whatever the planner knows.

Runs on SQLite and PostgreSQL (the plan test is SQLite's: its planner is the one that went
wrong without statistics).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.services import imports, ordering, statistics
from nextgen_gql.services.imports import ImportFailed, import_cmecf_accounts
from nextgen_gql.services.roster_load import INSERT_TRIGGERS
from tests import databases
from tests.api.test_lists import ROSTER, court, roster_world
from tests.api.test_scale import assert_exact, sql
from tests.conftest import CLERK_PASSWORD, CLERKS, Api

HEADER = "login,first_name,last_name,email,role,password_hash,cases\n"
#: One argon2 string for every row (hashing is not what these tests are about).
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$SGVsbG9Xb3JsZEhlbGxvV29ybGRIZWxsb1dvcmxkMDE"


def roster_file(tmp_path: Path, name: str, rows: list[tuple[str, str, str, str, str]]) -> Path:
    """A roster CSV: (login, first, last, email, role) rows; pro se rows list one case."""
    lines = [
        f'{login},{first},{last},{email},{role},"{HASH}",{"1:24-cv-00001" if role == "pro_se" else ""}'
        for login, first, last, email, role in rows
    ]
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


#: Roles a district court (mad) and a bankruptcy court (mab) accept, in turn.
DISTRICT = ("attorney", "pro_se", "attorney", "media")
BANKRUPTCY = ("attorney", "creditor", "trustee", "attorney")


def people(prefix: str, n: int, roles: tuple[str, ...] = DISTRICT) -> list[tuple[str, str, str, str, str]]:
    """``n`` accounts: roles in turn, every third without an email, names that search finds."""
    return [
        (
            f"{prefix}{i:04d}",
            "Quill" if i % 5 == 0 else "Pat",
            f"Zephyrine{i}" if i % 7 == 0 else f"Filer{i}",
            "" if i % 3 == 0 else f"{prefix}{i}@example.org",
            roles[i % len(roles)],
        )
        for i in range(n)
    ]


async def searched(api: Api, token: str, code: str, term: str) -> tuple[int, list[str]]:
    data = await api.data(ROSTER, {"first": 100, "search": term}, court=code, token=token)
    found = data["cmecfAccounts"]
    return int(found["totalCount"]), [e["node"]["login"] for e in found["edges"]]


async def expected(api: Api, code: str, term: str) -> list[str]:
    """The logins whose login, names or email hold ``term`` (case-folded), counted here."""
    rows = await sql(
        api, f"SELECT login, first_name, last_name, email FROM cmecf_accounts WHERE court_id = '{code}'"
    )
    key = term.casefold()
    hits = [str(r[0]) for r in rows if key in " ".join(str(p) for p in r if p).casefold()]
    return sorted(hits, key=lambda login: login.lower().encode())


async def triggers(api: Api) -> set[str]:
    if databases.backend() != "sqlite":
        return set()
    return {str(r[0]) for r in await sql(api, "SELECT name FROM sqlite_master WHERE type = 'trigger'")}


async def test_an_import_keeps_every_count_and_the_search_exact(api: Api, tmp_path: Path) -> None:
    """Into a court that has rows (mad, the demo's) and into one that has none (mab's roster
    is empty), in several batches, twice; every kept count equals a recount and every search
    finds what the rows hold; the per-row triggers are back and keep counting afterwards."""
    before = await triggers(api)
    assert databases.backend() != "sqlite" or set(INSERT_TRIGGERS) <= before
    imports_batch = imports.BATCH_SIZE
    imports.BATCH_SIZE = 40  # several batches from a small file
    try:
        assert (
            await import_cmecf_accounts(
                court(api, "mad"), roster_file(tmp_path, "a.csv", people("bulka", 150))
            )
            == 150
        )
        await assert_exact(api)
        assert (
            await import_cmecf_accounts(
                court(api, "mab"), roster_file(tmp_path, "b.csv", people("bulkb", 90, BANKRUPTCY))
            )
            == 90
        )
        await assert_exact(api)
        # Again into mad: beside the rows of the first import.
        assert (
            await import_cmecf_accounts(
                court(api, "mad"), roster_file(tmp_path, "c.csv", people("bulkc", 61))
            )
            == 61
        )
        await assert_exact(api)
    finally:
        imports.BATCH_SIZE = imports_batch
    assert await triggers(api) == before
    clerks = {code: await api.sign_in(CLERKS[code], CLERK_PASSWORD) for code in ("mad", "mab")}
    for code in ("mad", "mab"):
        for term in ("zephyrine", "ZEPHYRINE1", "quill", "bulkc00", "bulka0149", "@example", "Filer14"):
            want = await expected(api, code, term)
            total, logins = await searched(api, clerks[code], code, term)
            assert total == len(want), (code, term)
            assert logins == want[:100], (code, term)
    total, _ = await searched(api, clerks["mab"], "mab", "bulka")
    assert total == 0  # another court's rows are not this court's
    # The triggers count what comes after, row by row (links), and a later row is searchable.
    await roster_world(api, tmp_path)
    await assert_exact(api)
    assert (await searched(api, clerks["mad"], "mad", "Ávila"))[0] == 1


async def test_a_refused_import_changes_nothing(api: Api, tmp_path: Path) -> None:
    """A clash found after batches were written rolls everything back: rows, counts, search
    rows, and (SQLite) the triggers the bulk path had set aside."""
    before = await triggers(api)
    rows = people("undo", 100)
    rows.append((rows[3][0].upper(), "Dup", "Licate", "", "attorney"))  # a repeat within the file
    imports_batch = imports.BATCH_SIZE
    imports.BATCH_SIZE = 25
    try:
        with pytest.raises(ImportFailed) as failed:
            await import_cmecf_accounts(court(api, "mad"), roster_file(tmp_path, "dup.csv", rows))
    finally:
        imports.BATCH_SIZE = imports_batch
    assert "is already on line 5" in str(failed.value)
    # And a clash with the database, found in a later batch than the first.
    first = people("first", 30)
    assert await import_cmecf_accounts(court(api, "mad"), roster_file(tmp_path, "ok.csv", first)) == 30
    kept = await sql(api, "SELECT court_id, list, n FROM list_counts ORDER BY court_id, list")
    imports.BATCH_SIZE = 10
    try:
        with pytest.raises(ImportFailed) as failed:
            await import_cmecf_accounts(
                court(api, "mad"), roster_file(tmp_path, "late.csv", people("late", 35) + first[:1])
            )
    finally:
        imports.BATCH_SIZE = imports_batch
    assert "'first0000' already exists in mad" in str(failed.value)
    assert await sql(api, "SELECT COUNT(*) FROM cmecf_accounts WHERE login LIKE 'late%'") == [(0,)]
    assert await sql(api, "SELECT court_id, list, n FROM list_counts ORDER BY court_id, list") == kept
    assert await triggers(api) == before
    await assert_exact(api)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    assert (await searched(api, clerk, "mad", "late00"))[0] == 0
    assert (await searched(api, clerk, "mad", "first00"))[0] == 30


async def test_an_import_leaves_statistics_for_the_roster(api: Api, tmp_path: Path) -> None:
    await import_cmecf_accounts(court(api, "mad"), roster_file(tmp_path, "s.csv", people("stat", 20)))
    if databases.backend() == "sqlite":
        found = await sql(api, "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'cmecf_accounts'")
        assert found and all(str(stat).split()[0].isdigit() for _, stat in found)
    else:
        found = await sql(api, "SELECT COUNT(*) FROM pg_stats WHERE tablename = 'cmecf_accounts'")
        assert found[0][0] > 0
        analysed = await sql(
            api, "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'cmecf_accounts'"
        )
        assert analysed == [(True,)]


async def test_maintenance_analyses_what_has_no_statistics(api: Api) -> None:
    from nextgen_gql.services import maintenance

    if databases.backend() == "sqlite":
        await sql(api, "ANALYZE")
        await sql(
            api, "DELETE FROM sqlite_stat1 WHERE tbl IN ('cmecf_accounts', 'registrations') RETURNING 1"
        )
        report = await maintenance.run(maintenance.Retention(), database_url=api.settings.database_url)
        assert {"cmecf_accounts", "registrations"} <= set(report.analyzed)
        found = await sql(
            api, "SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl IN ('cmecf_accounts', 'registrations')"
        )
        assert sorted(str(t) for (t,) in found) == ["cmecf_accounts", "registrations"]
        # Nothing missing: nothing analysed (PRAGMA optimize decides about the rest).
        report = await maintenance.run(maintenance.Retention(), database_url=api.settings.database_url)
        assert "cmecf_accounts" not in report.analyzed
        return
    # PostgreSQL: a table changed past autovacuum's threshold since its last analysis.
    await sql(api, "ANALYZE registrations")
    await sql(
        api,
        "INSERT INTO throttles (kind, key, window_started, failures) SELECT 'stats', 'stats-' || g, now(), 0"
        " FROM generate_series(1, 300) g RETURNING 1",
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the statistics collector reports a moment later
        changed = await sql(
            api, "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'throttles'"
        )
        if changed and changed[0][0] >= 300:
            break
        await asyncio.sleep(0.2)
    report = await maintenance.run(maintenance.Retention(), database_url=api.settings.database_url)
    assert "throttles" in report.analyzed and "registrations" not in report.analyzed
    assert await sql(
        api, "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'throttles'"
    ) == [(True,)]


def test_the_maintenance_command_says_what_it_analysed(
    settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nextgen_gql.cli import main
    from tests.conftest import TENANTS

    if databases.backend() != "sqlite":
        pytest.skip("the SQLite form: the PostgreSQL one is the test above, through the same run")
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(TENANTS))
    monkeypatch.setenv("NEXTGEN_GQL_SECRET_KEY", databases.SECRET_KEY)
    databases.query(settings.database_url, "ANALYZE")
    databases.query(
        settings.database_url, "DELETE FROM sqlite_stat1 WHERE tbl = 'cmecf_accounts' RETURNING 1"
    )
    assert main(["maintenance", "--once"]) == 0
    out = capsys.readouterr().out
    assert "maintenance: analysed" in out and "cmecf_accounts" in out
    assert (
        databases.query(
            settings.database_url, "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'cmecf_accounts'"
        )[0][0]
        > 0
    )


async def test_a_search_starts_from_its_trigram_candidates_without_statistics(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A court just loaded, no statistics: the roster's and the registrations' searches
    (pages and counts, every order, with filters) start from the trigram candidates. SQLite
    (no ``sqlite_stat1`` at all): the FTS5 table first, then the rows by id, never a court
    index in the list's order. PostgreSQL: no index is walked in the list's order (each page
    sorts its matches)."""
    postgres = databases.backend() != "sqlite"

    async def no_statistics(tables: Any) -> None:
        return None

    monkeypatch.setattr(statistics, "refresh", no_statistics)
    await import_cmecf_accounts(court(api, "mad"), roster_file(tmp_path, "p.csv", people("plan", 300)))
    from tortoise import connections

    conn = connections.get("default")
    if (
        not postgres
        and (await sql(api, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))[0][0]
    ):
        # None left from the demo's own data either; the planner reads the (empty) table again.
        await conn.execute_query("DELETE FROM sqlite_stat1")
        await conn.execute_query("ANALYZE sqlite_schema")
        assert await sql(api, "SELECT COUNT(*) FROM sqlite_stat1") == [(0,)]
    sent: list[tuple[str, list[Any]]] = []
    original = ordering.query

    async def recording(text: str, params: Any) -> Any:
        sent.append((text, list(params)))
        return await original(text, params)

    monkeypatch.setattr(ordering, "query", recording)
    monkeypatch.setattr(ordering, "COUNTED_IN_PAGE", 20)  # past 20 matches: a count statement
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    variants: list[dict[str, Any]] = [
        {"search": "zephyrine"},
        {"search": "zephyrine", "order": {"field": "LAST_NAME", "direction": "DESC"}},
        {"search": "zephyrine", "order": {"field": "LINKED_AT", "direction": "ASC"}},
        {"search": "zephyrine", "linked": False},
        {"search": "plan0"},  # more matches than the page counts: a COUNT statement of its own
    ]
    for variables in variants:
        await api.data(ROSTER, {"first": 5, **variables}, court="mad", token=clerk)
    await api.data(
        '{ registrations(first: 5, search: "example") { totalCount edges { node { id } } } }',
        court="mad",
        token=clerk,
    )
    searches = [
        (text, params)
        for text, params in sent
        if ("search_text LIKE" if postgres else "_search MATCH") in text
    ]
    assert len(searches) >= len(variants) + 1
    assert any(text.startswith("SELECT COUNT(*)") for text, _ in searches)
    if postgres:
        for text, params in searches:
            if text.startswith("SELECT COUNT(*)"):
                continue
            plan = "\n".join(str(r[0]) for r in await _explain(api, text, params, postgres=True))
            assert "Sort Key: (COALESCE(" in plan, plan
        return
    for text, params in searches:
        plan = [str(r[3]) for r in await _explain(api, text, params)]
        table = "registrations" if "registrations_search" in text else "cmecf_accounts"
        # (A nullable order's two segments are co-routines, "SCAN s0": not reads of a table.)
        reads = [step for step in plan if step.split()[:2] in (["SCAN", table], ["SEARCH", table])]
        reads += [step for step in plan if step.startswith(f"SCAN {table}_search")]
        # The candidates, then the rows by id: never a scan of the rows nor an index's range.
        assert any(step.startswith(f"SCAN {table}_search VIRTUAL TABLE") for step in reads), plan
        assert all(
            step.startswith(
                (f"SCAN {table}_search VIRTUAL TABLE", f"SEARCH {table} USING INTEGER PRIMARY KEY")
            )
            for step in reads
        ), plan


async def _explain(api: Api, text: str, params: list[Any], *, postgres: bool = False) -> list[Any]:
    from tortoise import connections

    if postgres:
        numbered = iter(range(1, text.count("?") + 1))
        statement = "EXPLAIN " + "".join(f"${next(numbered)}" if c == "?" else c for c in text)
    else:
        statement = f"EXPLAIN QUERY PLAN {text}"
    _, rows = await connections.get("default").execute_query(statement, params)
    return [tuple(r.values()) if hasattr(r, "values") else tuple(r) for r in rows]
