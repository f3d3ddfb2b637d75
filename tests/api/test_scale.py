"""National scale (issue 21): a list's size is kept, not counted, and kept exactly.

``list_counts`` (migration 0011) is kept by triggers in the transaction of every write, so
the counts are checked here against the rows after each kind of write (an import, links, a
submission, a decision, a withdrawal, deletes), and the lists are shown to answer from the
kept count (a count set by hand is what ``totalCount`` says) on both executors (the suite
compares the compiled path with the reference on every query). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from nextgen_gql.models import AuditEvent
from tests import databases
from tests.api.test_lists import QUEUE, ROSTER, TRAIL, applicants, roster_world
from tests.api.test_registrations import decide
from tests.conftest import CLERK_PASSWORD, CLERKS, Api

COUNTED = """
SELECT court_id, 'roster', COUNT(*) FROM cmecf_accounts GROUP BY court_id
UNION ALL SELECT court_id, 'roster.linked', COUNT(*) FROM cmecf_accounts WHERE linked_at IS NOT NULL GROUP BY court_id
UNION ALL SELECT court_id, 'registrations', COUNT(*) FROM registrations GROUP BY court_id
UNION ALL SELECT court_id, 'registrations.' || status, COUNT(*) FROM registrations GROUP BY court_id, status
UNION ALL SELECT court_id, 'audit', COUNT(*) FROM audit_events WHERE court_id IS NOT NULL GROUP BY court_id
UNION ALL SELECT court_id, 'privileges', COUNT(*) FROM filing_privileges GROUP BY court_id
UNION ALL SELECT court_id, 'roster.role.' || role, COUNT(*) FROM cmecf_accounts GROUP BY court_id, role
UNION ALL SELECT court_id, 'roster.role.' || role || '.linked', COUNT(*) FROM cmecf_accounts
  WHERE linked_at IS NOT NULL GROUP BY court_id, role
UNION ALL SELECT court_id, 'roster.role.' || role || '.no_email_unlinked', COUNT(*) FROM cmecf_accounts
  WHERE linked_at IS NULL AND email = '' GROUP BY court_id, role
"""
#: The weekly lists (migration 0013), counted here in Python from the rows' dates.
WEEKLY = {
    "linked": "SELECT court_id, linked_at FROM cmecf_accounts WHERE linked_at IS NOT NULL",
    "approved": "SELECT court_id, decided_at FROM registrations WHERE status = 'approved' AND decided_at IS NOT NULL",
    "reminded": "SELECT court_id, sent_at FROM linking_reminders",
    # Migration 0015: the week's links by role (``linked.<role>``).
    "linked.": "SELECT court_id, linked_at, role FROM cmecf_accounts WHERE linked_at IS NOT NULL",
}


async def sql(api: Api, text: str) -> list[tuple[Any, ...]]:
    """One statement on the test's database, off the test's event loop (PostgreSQL)."""
    return await asyncio.to_thread(databases.query, api.settings.database_url, text)


async def kept_and_counted(api: Api) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    kept = {
        (str(c), str(k)): int(n) for c, k, n in await sql(api, "SELECT court_id, list, n FROM list_counts")
    }
    counted = {(str(c), str(k)): int(n) for c, k, n in await sql(api, COUNTED)}
    for name, statement in WEEKLY.items():
        for c, at, *role in await sql(api, statement):
            moment = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
            day = moment.astimezone(dt.UTC).date()
            week = (day - dt.timedelta(days=day.weekday())).isoformat()
            key = (str(c), f"week.{week}.{name}{''.join(str(r) for r in role)}")
            counted[key] = counted.get(key, 0) + 1
    # A list emptied keeps its row at 0; a list never written has none.
    return {key: n for key, n in kept.items() if n != 0}, counted


async def assert_exact(api: Api) -> None:
    kept, counted = await kept_and_counted(api)
    assert kept == counted


async def test_kept_counts_follow_every_write(api: Api, tmp_path: Path) -> None:
    await assert_exact(api)  # the demo data, counted by the migration and kept since
    kept, _ = await kept_and_counted(api)
    assert kept[("mad", "roster")] > 0 and kept[("mad", "audit")] > 0
    clerk = await roster_world(api, tmp_path)  # an import, then three links
    await assert_exact(api)
    made = await applicants(api)  # submissions
    await assert_exact(api)
    decided = await decide(api, clerk, "mad", id=made["zoeyadams1"], approve=True)
    assert decided["errors"] == [], decided
    decided = await decide(
        api, clerk, "mad", id=made["bobbyBRUNO"], approve=False, reason="Not a journalist."
    )
    assert decided["errors"] == [], decided
    await assert_exact(api)
    kept, _ = await kept_and_counted(api)
    assert kept[("mad", "registrations.approved")] >= 1 and kept[("mad", "registrations.rejected")] >= 1
    # Deletes (as retention makes them) are kept too.
    oldest = await AuditEvent.filter(court_id="mad").order_by("id").limit(3).values_list("id", flat=True)
    await AuditEvent.filter(id__in=list(oldest)).delete()
    await assert_exact(api)

    # The lists' totalCounts are the kept counts: unfiltered, linked, unlinked, by status.
    kept, _ = await kept_and_counted(api)
    roster = kept[("mad", "roster")]
    linked = kept[("mad", "roster.linked")]

    async def total(query: str, field: str, **variables: Any) -> int:
        data = await api.data(query, {"first": 1, **variables}, court="mad", token=clerk)
        return int(data[field]["totalCount"])

    assert await total(ROSTER, "cmecfAccounts") == roster
    assert await total(ROSTER, "cmecfAccounts", linked=True) == linked == 3 + (linked - 3)
    assert await total(ROSTER, "cmecfAccounts", linked=False) == roster - linked
    assert await total(QUEUE, "registrations") == kept[("mad", "registrations")]
    assert await total(QUEUE, "registrations", status="PENDING") == kept[("mad", "registrations.pending")]
    assert await total(TRAIL, "auditEvents") == kept[("mad", "audit")]


async def test_unfiltered_lists_read_the_kept_count_not_the_rows(api: Api) -> None:
    """A count set by hand is what the unfiltered lists say (so they do not count the rows);
    a searched or filtered list counts its matches."""
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    for name, n in [("roster", 123456), ("roster.linked", 23456), ("registrations", 777), ("audit", 98765)]:
        await sql(
            api,
            f"INSERT INTO list_counts (court_id, list, n) VALUES ('mad', '{name}', {n})"
            f" ON CONFLICT (court_id, list) DO UPDATE SET n = {n} RETURNING 1",
        )
    roster = (await api.data("{ cmecfAccounts(first: 2) { totalCount } }", court="mad", token=clerk))[
        "cmecfAccounts"
    ]
    assert roster["totalCount"] == 123456
    linked = await api.data(
        "{ a: cmecfAccounts(first: 2, linked: true) { totalCount } b: cmecfAccounts(first: 2, linked: false) {"
        " totalCount } c: cmecfAccounts(first: 2, orderBy: {field: LAST_NAME, direction: DESC}) { totalCount } }",
        court="mad",
        token=clerk,
    )
    assert [linked[k]["totalCount"] for k in "abc"] == [23456, 100000, 123456]
    queue = await api.data("{ registrations(first: 1) { totalCount } }", court="mad", token=clerk)
    assert queue["registrations"]["totalCount"] == 777
    trail = await api.data("{ auditEvents(first: 1) { totalCount } }", court="mad", token=clerk)
    assert trail["auditEvents"]["totalCount"] == 98765
    # Filtered, the matches are counted.
    searched = await api.data(
        '{ cmecfAccounts(first: 2, search: "zzzz-none") { totalCount } }', court="mad", token=clerk
    )
    assert searched["cmecfAccounts"]["totalCount"] == 0
    actions = await api.data(
        '{ auditEvents(first: 1, action: "no.such") { totalCount } }', court="mad", token=clerk
    )
    assert actions["auditEvents"]["totalCount"] == 0


# Legacy accounts whose names test the search's case folding beyond ASCII: (login, first, last).
SEARCH_ROSTER = [
    ("hmuller", "Hans", "Müller"),
    ("jmueller", "Jo", "MUELLER"),
    ("aavila", "Ana", "Ávila"),
    ("ustrasse", "Ulf", "Straße"),
    ("estrasse", "Eva", "STRASSE"),
    ("ocelik", "Ömer", "Çelik"),
    ("idjordj", "Ivo", "Đorđević"),
    ("pobrien", "Pat", "O'Brien"),
    ("lcruz", "Lu", "de la Cruz"),
    ("sokrates", "Ξένια", "Σωκράτης"),
    ("iinan", "Işık", "İnan"),  # noqa: RUF001 (a Turkish dotless i, on purpose)
    ("percent", "Cent", "100%Sure"),
]
SEARCH_TERMS = [
    *(
        "mül",
        "MÜL",
        "muel",
        "MUELLER",
        "straße",
        "STRASSE",
        "ss",
        "st",
        "çel",
        "ÇELİK",
        "đorđ",
        "o'b",
        "la c",
    ),
    *(
        "σωκ",
        "ΣΩΚΡ",
        "ξέν",
        "işı",  # noqa: RUF001
        "İNAN",
        "a",
        "Á",
        "áv",
        "d",
        "de",
        "@exa",
        "example.org",
        "zzz",
    ),
    *("m", "mu", "100%", "0%s", "_", "%", "lcr", "h", "hm"),
]


async def searched(settings: Any, tmp_path: Path) -> dict[str, list[str]]:
    """The logins each of SEARCH_TERMS finds in mad's roster (SEARCH_ROSTER imported into a
    fresh database of ``settings``), through the service."""
    from nextgen_gql.services.imports import import_cmecf_accounts
    from nextgen_gql.services.ordering import Window
    from nextgen_gql.services.roster import list_cmecf_accounts
    from nextgen_gql.tenancy import CourtRegistry, load_courts
    from tests.conftest import running_api

    path = tmp_path / "search.csv"
    lines = [
        f"{login},{first},{last},{login}@example.org,attorney,pass-{login}-01"
        for login, first, last in SEARCH_ROSTER
    ]
    path.write_text(
        "login,first_name,last_name,email,role,password\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    found: dict[str, list[str]] = {}
    async with running_api(settings):
        court = CourtRegistry(load_courts(settings.tenants_dir)).get("mad")
        assert court is not None
        await import_cmecf_accounts(court, path)
        for term in SEARCH_TERMS:
            page = await list_cmecf_accounts(court, win=Window(100), search=term)
            found[term] = sorted(r.login for r in page.rows)
    return found


def expected_search() -> dict[str, list[str]]:
    """What each term finds, computed here: 3 characters or more (case-folded) anywhere in
    login, names and email; 1 or 2 at the start of the login or the last name."""
    out = {}
    for term in SEARCH_TERMS:
        key = term.casefold()
        hits = []
        for login, first, last in SEARCH_ROSTER:
            text = f"{login} {first} {last} {login}@example.org".casefold()
            if (len(key) >= 3 and key in text) or (
                len(key) < 3 and (login.startswith(key) or last.casefold().startswith(key))
            ):
                hits.append(login)
        out[term] = sorted(hits)
    return out


async def test_search_finds_the_same_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    """The same searches, non-ASCII names included, on SQLite (FTS5 trigram) and, when the suite
    has a PostgreSQL server, on PostgreSQL (pg_trgm) too: each finds what the rule says, so
    both find the same."""
    from nextgen_gql.settings import Settings
    from tests.conftest import TENANTS

    expected = expected_search()
    assert expected["mül"] == ["hmuller"] and expected["muel"] == ["jmueller"]
    assert expected["straße"] == expected["STRASSE"] == ["estrasse", "ustrasse"]  # ß folds to ss
    assert expected["mu"] == ["jmueller"] and expected["@exa"] == [s[0] for s in sorted(SEARCH_ROSTER)]
    backends = {"sqlite": f"sqlite://{tmp_path / 'search.sqlite3'}"}
    if databases.POSTGRES:
        backends["postgres"] = await asyncio.to_thread(databases.new_database_url, tmp_path, "search")
    results = {}
    try:
        for name, url in backends.items():
            folder = tmp_path / name
            folder.mkdir()
            settings = Settings(
                database_url=url,
                tenants_dir=TENANTS,
                mail_dir=folder / "mail",
                secret_key=databases.SECRET_KEY,
            )
            results[name] = await searched(settings, folder)
    finally:
        if "postgres" in backends:
            await asyncio.to_thread(databases.drop_database, backends["postgres"])
    for name, found in results.items():
        assert found == expected, name
    if len(results) == 2:
        assert results["sqlite"] == results["postgres"]


async def test_the_linked_filter_reads_its_partial_index(api: Api) -> None:
    """On SQLite a page filtered on linking is read by that side's partial index in its order
    (``INDEXED BY``: its statistics would pick (court_id, linked_at) and sort every match; a
    missing index fails the statement). PostgreSQL's plans are checked by tests/test_plans.py."""
    from tests.api.test_batching import counting_sql

    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    for linked, field, index in [
        (False, "LOGIN", "cmecf_accounts_unlinked_login_key"),
        (True, "LOGIN", "cmecf_accounts_linked_login_key"),
        (False, "LAST_NAME", "cmecf_accounts_unlinked_last_name_key"),
        (True, "LAST_NAME", "cmecf_accounts_linked_last_name_key"),
    ]:
        with counting_sql() as statements:
            await api.data(
                ROSTER,
                {"first": 5, "linked": linked, "order": {"field": field, "direction": "DESC"}},
                court="mad",
                token=clerk,
            )
        hinted = [s for s in statements if f"INDEXED BY {index}" in s]
        assert bool(hinted) is (databases.backend() == "sqlite"), (linked, field, statements)
