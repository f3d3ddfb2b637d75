"""The committed migrations describe the models exactly, apply twice without harm, and keep
the data they find."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from nextgen_gql.db import apply_migrations, tortoise_config
from nextgen_gql.settings import Settings
from tests import databases
from tests.conftest import TENANTS, running_api

MIGRATIONS = Path(__file__).resolve().parent.parent / "src" / "nextgen_gql" / "migrations"


def test_no_model_change_lacks_a_migration(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path / 'm.sqlite3'}")

    async def pending() -> list[str]:
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            assert ctx.apps is not None
            writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
            return [w.name for w in writers]

    assert asyncio.run(pending()) == [], "run `tortoise makemigrations` and commit the file"


def test_migrating_twice_is_a_no_op(fresh_database_url: str) -> None:
    url = fresh_database_url
    asyncio.run(apply_migrations(url))
    databases.query(
        url,
        "INSERT INTO courts (code, name, kind, synced_at) VALUES ('mad', 'D. Mass.', 'district', '2026-01-01')"
        " RETURNING code",
    )
    asyncio.run(apply_migrations(url))
    assert databases.query(url, "SELECT code FROM courts") == [("mad",)]
    applied = databases.query(url, "SELECT name FROM tortoise_migrations")
    on_disk = sorted(p.stem for p in MIGRATIONS.glob("0*.py"))
    assert sorted(name for (name,) in applied) == on_disk


def test_every_index_names_real_columns(tmp_path: Path) -> None:
    """SQLite quietly indexes a constant when an index names a missing column; PostgreSQL refuses."""
    db = tmp_path / "indexes.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{db}"))
    with sqlite3.connect(db) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
        assert names
        for name in names:
            keys = list(conn.execute(f'PRAGMA index_info("{name}")'))
            columns = [row[2] for row in keys if row[1] != -2]
            assert keys and None not in columns, (name, columns)
            if len(columns) < len(keys):  # an expression (``LOWER(email)``): the columns it names are real
                table, sql = conn.execute(
                    "SELECT tbl_name, sql FROM sqlite_master WHERE name = ?", (name,)
                ).fetchone()
                real = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
                named = re.findall(r"\(\s*\"?(\w+)\"?\s*\)", sql.split(" ON ", 1)[1])
                assert named and set(named) <= real, (name, sql)


def test_migrating_from_the_previous_migration_keeps_every_row(fresh_database_url: str) -> None:
    """A database at the migration before head, with data in every table, migrates to head losing nothing."""
    url = fresh_database_url
    on_disk = sorted(p.stem for p in MIGRATIONS.glob("0*.py"))
    previous = on_disk[-2]
    asyncio.run(apply_migrations(url, target=f"models.{previous}"))
    assert [
        n for (n,) in databases.query(url, "SELECT name FROM tortoise_migrations ORDER BY name")
    ] == on_disk[:-1]
    at = "'2026-01-02 03:04:05+00:00'"
    statements = [
        f"INSERT INTO courts (code, name, kind, synced_at) VALUES ('mad', 'D. Mass.', 'district', {at})",
        "INSERT INTO pacer_accounts (account_number, username, username_key, first_name, last_name, email,"
        f" password_hash, password_compliant, created_at, upgraded_at, is_shared) VALUES"
        f" ('1234567', 'Keeper01', 'keeper01', 'Kee', 'Per', 'k@example.org', 'h', TRUE, {at}, NULL, FALSE)",
        "INSERT INTO cmecf_accounts (court_id, login, login_key, first_name, last_name, email, role, password_hash,"
        f" created_at) VALUES ('mad', 'kper', 'kper', 'Kee', 'Per', '', 'attorney', NULL, {at})",
        "INSERT INTO cmecf_links (cmecf_account_id, court_id, account_id, linked_by_id, linked_at)"
        f" SELECT c.id, 'mad', p.id, p.id, {at} FROM cmecf_accounts c, pacer_accounts p",
        "INSERT INTO filing_privileges (court_id, account_id, role, source, granted_at)"
        f" SELECT 'mad', id, 'attorney', 'linked_legacy_account', {at} FROM pacer_accounts",
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at, revoked_at, client_code,"
        f" redaction_acknowledged) SELECT 'abc', id, {at}, {at}, NULL, NULL, TRUE FROM pacer_accounts",
        f"INSERT INTO audit_events (at, action, actor_id, subject_id, court_id, detail) VALUES ({at}, 'cmecf.link', NULL, NULL, 'mad', 'kept')",
    ]
    if "registrations" in previous or previous > "0002":
        statements.append(
            "INSERT INTO registrations (court_id, account_id, role, pro_hac_vice, status, open_key, submitted_at)"
            f" SELECT 'mad', id, 'media', FALSE, 'pending', 'k', {at} FROM pacer_accounts"
        )
    for sql in statements:
        databases.query(url, sql + " RETURNING 1")
    tables = [
        "courts",
        "pacer_accounts",
        "cmecf_accounts",
        "cmecf_links",
        "filing_privileges",
        "sessions",
        "audit_events",
    ]
    if len(statements) > 7:
        tables.append("registrations")
    # Every column a table had keeps its values (a migration may add columns).
    kept = {t: ", ".join(f'"{c}"' for c in columns(url, t)) for t in tables}
    before = {t: databases.query(url, f"SELECT {kept[t]} FROM {t} ORDER BY 1") for t in tables}
    asyncio.run(apply_migrations(url))
    assert [
        n for (n,) in databases.query(url, "SELECT name FROM tortoise_migrations ORDER BY name")
    ] == on_disk
    for table, rows in before.items():
        assert databases.query(url, f"SELECT {kept[table]} FROM {table} ORDER BY 1") == rows, table


def columns(url: str, table: str) -> list[str]:
    if url.startswith("sqlite://"):
        return [str(row[1]) for row in databases.query(url, f'PRAGMA table_info("{table}")')]
    return [
        str(name)
        for (name,) in databases.query(
            url,
            "SELECT column_name FROM information_schema.columns"
            f" WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
    ]


AT = "'2026-01-02 03:04:05+00:00'"
# Before 0005: privileges (one per account, court and role) and the approved registrations
# that granted some of them. (account id, username, court, role, source, approved registrations
# as (pro hac vice, case number)).
BEFORE_0005: list[tuple[int, str, str, str, str, list[tuple[bool, str | None]]]] = [
    (1, "phvattorney", "mad", "attorney", "registration", [(True, "1:24-cv-10001-ABC")]),
    (2, "loosepro", "mad", "pro_se", "registration", [(False, " 1:24-CV-77-xyz ")]),
    (3, "badcase01", "mad", "pro_se", "registration", [(False, "my case 42")]),
    (4, "legacypro", "ca1", "pro_se", "linked_legacy_account", []),
    (5, "newsdesk1", "mad", "media", "linked_legacy_account", []),
    (6, "nowfull01", "mad", "attorney", "registration", [(True, "1:24-cv-10003"), (False, None)]),
    (7, "creditor1", "mab", "creditor", "registration", [(False, None)]),
    (8, "ca1phv001", "ca1", "attorney", "registration", [(True, "2024-1234"), (True, "24-1235-cv")]),
]
CLERK_ID, CLERK_TOKEN = 9, "clerk-token-for-the-migration-test"


def test_0005_keeps_every_privilege_and_gives_it_its_roles_permissions_and_cases(
    fresh_database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_database_url
    asyncio.run(apply_migrations(url, target="models.0004_throttles"))
    statements = [
        "INSERT INTO courts (code, name, kind, synced_at) VALUES"
        f" ('mad', 'D. Mass.', 'district', {AT}), ('mab', 'Bankr.', 'bankruptcy', {AT}),"
        f" ('ca1', 'First Cir.', 'appellate', {AT})"
    ]
    people = [(a, name) for a, name, *_ in BEFORE_0005] + [(CLERK_ID, "theclerk1")]
    for account_id, username in people:
        statements.append(
            "INSERT INTO pacer_accounts (id, account_number, username, username_key, first_name, last_name,"
            " email, password_hash, password_compliant, created_at, upgraded_at, is_shared) VALUES"
            f" ({account_id}, '{1000000 + account_id}', '{username}', '{username}', 'F', 'L', '', 'h', TRUE,"
            f" {AT}, NULL, FALSE)"
        )
    registration = 0
    for account_id, _, court, role, source, approved in BEFORE_0005:
        statements.append(
            "INSERT INTO filing_privileges (id, court_id, account_id, role, source, granted_at) VALUES"
            f" ({account_id}, '{court}', {account_id}, '{role}', '{source}', {AT})"
        )
        for phv, case in approved:
            registration += 1
            number = "NULL" if case is None else f"'{case}'"
            statements.append(
                "INSERT INTO registrations (id, court_id, account_id, role, pro_hac_vice, case_number, status,"
                f" submitted_at, decided_at, decided_by_id) VALUES ({registration}, '{court}', {account_id},"
                f" '{role}', {'TRUE' if phv else 'FALSE'}, {number}, 'approved', {AT}, {AT}, {CLERK_ID})"
            )
    # A rejected registration grants nothing and is linked to nothing.
    statements.append(
        "INSERT INTO registrations (id, court_id, account_id, role, pro_hac_vice, case_number, status,"
        f" submitted_at) VALUES (99, 'mad', 5, 'pro_se', FALSE, '1:24-cv-10009', 'rejected', {AT})"
    )
    token_hash = hashlib.sha256(CLERK_TOKEN.encode()).hexdigest()
    statements += [
        f"INSERT INTO clerks (court_id, account_id, granted_at) VALUES ('mad', {CLERK_ID}, {AT}),"
        f" ('ca1', {CLERK_ID}, {AT}), ('mab', {CLERK_ID}, {AT})",
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at, revoked_at, client_code,"
        f" redaction_acknowledged) VALUES ('{token_hash}', {CLERK_ID}, {AT}, '2099-01-01 00:00:00+00:00',"
        " NULL, NULL, FALSE)",
    ]
    for sql in statements:
        databases.query(url, sql + " RETURNING 1")
    if not url.startswith("sqlite://"):  # explicit ids: move the sequences past them
        for table in ("pacer_accounts", "filing_privileges", "registrations"):
            databases.query(url, f"SELECT setval('{table}_id_seq', 1000)")
    capsys.readouterr()

    asyncio.run(apply_migrations(url))

    printed = capsys.readouterr().out
    assert "8 filing privileges kept" in printed
    assert "2 pro hac vice" in printed  # phvattorney and ca1phv001; nowfull01 had a full admission too
    assert "2 case-restricted privileges have no case yet" in printed  # badcase01 and legacypro
    assert "registration 3 at mad: 'my case 42'" in printed
    rows = databases.query(
        url, "SELECT id, account_id, court_id, role, pro_hac_vice FROM filing_privileges ORDER BY id"
    )
    assert rows == [(a, a, court, role, int(a in (1, 8))) for a, _, court, role, *_ in BEFORE_0005]
    assert databases.query(
        url, "SELECT privilege_id, case_number FROM filing_privilege_cases ORDER BY privilege_id, case_number"
    ) == [(1, "1:24-cv-10001"), (2, "1:24-cv-00077"), (8, "24-1234"), (8, "24-1235")]
    linked = databases.query(url, "SELECT id, privilege_id FROM registrations ORDER BY id")
    assert linked == [(1, 1), (2, 2), (3, 3), (4, 6), (5, 6), (6, 7), (7, 8), (8, 8), (99, None)]
    # One live privilege per account, court and role, now enforced on live rows only.
    databases.query(url, f"UPDATE filing_privileges SET revoked_at = {AT} WHERE id = 5 RETURNING 1")
    databases.query(
        url,
        "INSERT INTO filing_privileges (court_id, account_id, role, source, granted_at, pro_hac_vice)"
        f" VALUES ('mad', 5, 'media', 'registration', {AT}, FALSE) RETURNING 1",
    )
    with pytest.raises(Exception, match=r"(?i)unique"):
        databases.query(
            url,
            "INSERT INTO filing_privileges (court_id, account_id, role, source, granted_at, pro_hac_vice)"
            f" VALUES ('mad', 5, 'media', 'registration', {AT}, FALSE) RETURNING 1",
        )

    # What a court's clerk now sees, over HTTP.
    async def seen() -> dict[str, Any]:
        settings = Settings(
            database_url=url, tenants_dir=TENANTS, mail_dir=tmp_path / "mail", secret_key=databases.SECRET_KEY
        )
        query = """query($needs: Boolean) { privileges(needsCases: $needs, revoked: false) { totalCount
          edges { node { account { username } role proHacVice permissions cases } } } }"""
        auth = {"token": CLERK_TOKEN}
        async with running_api(settings) as api:
            return {
                court: [
                    (await api.data(query, {"needs": needs}, court=court, **auth))["privileges"]
                    for needs in (True, None)
                ]
                for court in ("mad", "ca1", "mab")
            }

    answers = asyncio.run(seen())
    needing = {c: [e["node"]["account"]["username"] for e in a[0]["edges"]] for c, a in answers.items()}
    assert needing == {"mad": ["badcase01"], "ca1": ["legacypro"], "mab": []}
    nodes = {e["node"]["account"]["username"]: e["node"] for a in answers.values() for e in a[1]["edges"]}
    assert nodes["phvattorney"] == {
        "account": {"username": "phvattorney"},
        "role": "ATTORNEY",
        "proHacVice": True,
        "permissions": ["FILE_IN_LISTED_CASES", "RECEIVE_NOTICES"],
        "cases": ["1:24-cv-10001"],
    }
    assert nodes["nowfull01"]["permissions"] == ["FILE_IN_ANY_CASE", "OPEN_NEW_CASES", "RECEIVE_NOTICES"]
    assert nodes["nowfull01"]["cases"] == []
    assert nodes["loosepro"]["cases"] == ["1:24-cv-00077"]
    assert nodes["newsdesk1"]["permissions"] == ["RECEIVE_NOTICES"]  # the new live media privilege
    assert nodes["creditor1"]["permissions"] == ["FILE_CLAIMS", "RECEIVE_NOTICES"]
    assert nodes["ca1phv001"]["cases"] == ["24-1234", "24-1235"]


def test_0010_fills_the_orders_copies_from_their_sources(fresh_database_url: str) -> None:
    """A legacy account's folded last name and link date, a registration's applicant keys:
    filled from ``cmecf_links`` and ``pacer_accounts`` as the services write them."""
    url = fresh_database_url
    asyncio.run(apply_migrations(url, target="models.0009_live_events"))
    for sql in [
        f"INSERT INTO courts (code, name, kind, synced_at) VALUES ('mad', 'D. Mass.', 'district', {AT})",
        "INSERT INTO pacer_accounts (id, account_number, username, username_key, first_name, last_name, email,"
        f" password_hash, password_compliant, created_at, upgraded_at, is_shared) VALUES (1, '1234567', 'Mueller01',"
        f" 'mueller01', 'Jörg', 'MÜLLER-Straße', 'j@example.org', 'h', TRUE, {AT}, NULL, FALSE)",
        "INSERT INTO cmecf_accounts (id, court_id, login, login_key, first_name, last_name, email, role, password_hash,"
        f" created_at) VALUES (1, 'mad', 'jm', 'jm', 'Jörg', 'MÜLLER-Straße', '', 'attorney', NULL, {AT}),"
        f" (2, 'mad', 'xo', 'xo', 'X', 'O', '', 'attorney', 'h', {AT})",
        "INSERT INTO cmecf_links (cmecf_account_id, court_id, account_id, linked_by_id, linked_at)"
        f" VALUES (1, 'mad', 1, 1, {AT})",
        "INSERT INTO registrations (court_id, account_id, role, pro_hac_vice, bar_number, status, submitted_at)"
        f" VALUES ('mad', 1, 'attorney', FALSE, 'MA-42', 'pending', {AT})",
    ]:
        databases.query(url, sql + " RETURNING 1")
    asyncio.run(apply_migrations(url))
    rows = databases.query(url, "SELECT id, last_name_key, linked_at FROM cmecf_accounts ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [(1, "müller-strasse"), (2, "o")]
    assert rows[0][2] is not None and rows[1][2] is None
    assert databases.query(url, "SELECT applicant_last_name_key, search_text FROM registrations") == [
        ("müller-strasse", "jörg müller-strasse mueller01 j@example.org ma-42")
    ]


@pytest.mark.skipif(databases.backend() != "postgres", reason="the audit trail is partitioned on PostgreSQL")
def test_0014_partitions_the_audit_trail_by_month_keeping_every_row(fresh_database_url: str) -> None:
    """The unpartitioned trail of 0013 becomes a table partitioned by month: every row in its
    month's partition, ids going on from the same sequence, the kept counts and the triggers
    that keep them carried over."""
    url = fresh_database_url
    asyncio.run(apply_migrations(url, target="models.0013_move_to_nextgen"))
    databases.query(
        url,
        f"INSERT INTO courts (code, name, kind, synced_at) VALUES ('mad', 'D. Mass.', 'district', {AT}) RETURNING 1",
    )
    databases.query(
        url,
        "INSERT INTO audit_events (at, action, court_id, detail) SELECT"
        " TIMESTAMPTZ '2026-01-15 00:00:00+00' + (g || ' days')::interval, 'old', CASE WHEN g % 2 = 0"
        " THEN 'mad' END, g::text FROM generate_series(0, 99) g RETURNING 1",
    )
    before = databases.query(url, "SELECT id, at, action, court_id, detail FROM audit_events ORDER BY id")
    counts = databases.query(url, "SELECT n FROM list_counts WHERE court_id = 'mad' AND list = 'audit'")
    assert counts == [(50,)]
    asyncio.run(apply_migrations(url))
    assert databases.query(
        url, "SELECT relkind::text FROM pg_class WHERE oid = 'audit_events'::regclass"
    ) == [("p",)]
    assert (
        databases.query(url, "SELECT id, at, action, court_id, detail FROM audit_events ORDER BY id")
        == before
    )
    placed = databases.query(
        url,
        "SELECT tableoid::regclass::text, to_char(at AT TIME ZONE 'UTC', 'YYYY\"m\"MM') FROM audit_events",
    )
    assert {table for table, _ in placed} >= {"audit_events_y2026m01", "audit_events_y2026m04"}
    assert all(table == f"audit_events_y{month}" for table, month in placed)
    # Inserts go on: ids from the same sequence, the count kept by the carried-over triggers.
    (new_id,) = databases.query(
        url, f"INSERT INTO audit_events (at, action, court_id) VALUES ({AT}, 'new', 'mad') RETURNING id"
    )[0]
    assert new_id > max(row[0] for row in before)
    assert databases.query(url, "SELECT n FROM list_counts WHERE court_id = 'mad' AND list = 'audit'") == [
        (51,)
    ]
    databases.query(
        url, "DELETE FROM audit_events WHERE court_id = 'mad' AND detail IN ('0', '2') RETURNING 1"
    )
    assert databases.query(url, "SELECT n FROM list_counts WHERE court_id = 'mad' AND list = 'audit'") == [
        (49,)
    ]


def _links_by_week_and_role(url: str) -> dict[tuple[str, str], int]:
    """``week.<monday>.linked.<role>`` counted from the rows (Mondays in UTC)."""
    counted: dict[tuple[str, str], int] = {}
    for court, at, role in databases.query(
        url, "SELECT court_id, linked_at, role FROM cmecf_accounts WHERE linked_at IS NOT NULL"
    ):
        moment = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        day = moment.astimezone(dt.UTC).date()
        key = (str(court), f"week.{(day - dt.timedelta(days=day.weekday())).isoformat()}.linked.{role}")
        counted[key] = counted.get(key, 0) + 1
    return counted


def _kept(url: str, like: str) -> dict[tuple[str, str], int]:
    rows = databases.query(url, f"SELECT court_id, list, n FROM list_counts WHERE list LIKE '{like}'")
    return {(str(c), str(k)): int(n) for c, k, n in rows if n != 0}


def test_0015_counts_the_weekly_links_by_role_from_the_rows_and_keeps_them(fresh_database_url: str) -> None:
    """Links made before 0015 are counted by week and role from the rows; from then on the
    replaced triggers keep the counts through links, role changes, unlinks and deletes, and
    0013's lists stay as they were."""
    url = fresh_database_url
    asyncio.run(apply_migrations(url, target="models.0014_audit_partitions"))
    databases.query(
        url,
        "INSERT INTO courts (code, name, kind, synced_at) VALUES ('mad', 'D. Mass.', 'district', "
        f"{AT}), ('mab', 'Bankr. D. Mass.', 'bankruptcy', {AT}) RETURNING 1",
    )
    # (login, court, role, linked at): two weeks, three roles, one unlinked, one linked late on
    # a Sunday in New York (a Monday in UTC: the next week).
    accounts = [
        ("a1", "mad", "attorney", "'2027-01-04 09:00:00+00:00'"),
        ("a2", "mad", "attorney", "'2027-01-10 23:59:59+00:00'"),
        ("p1", "mad", "pro_se", "'2027-01-06 12:00:00+00:00'"),
        ("p2", "mad", "pro_se", "'2027-01-10 23:30:00-05:00'"),
        ("m1", "mad", "media", "NULL"),
        ("c1", "mab", "creditor", "'2027-01-05 08:00:00+00:00'"),
    ]
    for login, court, role, linked_at in accounts:
        databases.query(
            url,
            "INSERT INTO cmecf_accounts (court_id, login, login_key, first_name, last_name, email, role,"
            f" password_hash, created_at, linked_at) VALUES ('{court}', '{login}', '{login}', 'F', 'L', '',"
            f" '{role}', NULL, {AT}, {linked_at}) RETURNING 1",
        )
    before = _kept(url, "week.%")
    assert _kept(url, "week.%.linked.%") == {}
    asyncio.run(apply_migrations(url))
    counted = _links_by_week_and_role(url)
    assert _kept(url, "week.%.linked.%") == counted
    assert counted == {
        ("mad", "week.2027-01-04.linked.attorney"): 2,
        ("mad", "week.2027-01-04.linked.pro_se"): 1,
        ("mad", "week.2027-01-11.linked.pro_se"): 1,
        ("mab", "week.2027-01-04.linked.creditor"): 1,
    }
    # 0013's lists are untouched by the migration.
    assert {k: n for k, n in _kept(url, "week.%").items() if ".linked." not in k[1]} == before
    # The replaced triggers keep the new lists (and 0013's) through every kind of write.
    for statement in [
        "UPDATE cmecf_accounts SET role = 'media' WHERE login = 'a1'",
        "UPDATE cmecf_accounts SET linked_at = '2027-01-12 10:00:00+00:00' WHERE login = 'm1'",
        "UPDATE cmecf_accounts SET linked_at = '2026-12-30 10:00:00+00:00' WHERE login = 'a2'",
        "UPDATE cmecf_accounts SET linked_at = NULL WHERE login = 'p1'",
        "UPDATE cmecf_accounts SET email = 'x@example.org' WHERE login = 'p2'",
        "UPDATE cmecf_accounts SET court_id = 'mab', role = 'creditor' WHERE login = 'm1'",
        "DELETE FROM cmecf_accounts WHERE login = 'c1'",
        "INSERT INTO cmecf_accounts (court_id, login, login_key, first_name, last_name, email, role,"
        f" password_hash, created_at, linked_at) VALUES ('mad', 'n1', 'n1', 'F', 'L', '', 'attorney', NULL, {AT},"
        f" '2027-01-13 10:00:00+00:00'), ('mad', 'n2', 'n2', 'F', 'L', '', 'pro_se', NULL, {AT}, NULL)",
    ]:
        databases.query(url, statement + " RETURNING 1")
        assert _kept(url, "week.%.linked.%") == _links_by_week_and_role(url), statement
        by_week: dict[tuple[str, str], int] = {}
        for (court, key), n in _links_by_week_and_role(url).items():
            week = (court, key.rsplit(".", 1)[0])
            by_week[week] = by_week.get(week, 0) + n
        assert {k: n for k, n in _kept(url, "week.%.linked").items()} == by_week, statement
    # Back to 0014: 0013's triggers again, the new lists gone; forward again: counted again.
    asyncio.run(apply_migrations(url, target="models.0014_audit_partitions"))
    assert _kept(url, "week.%.linked.%") == {}
    databases.query(url, "UPDATE cmecf_accounts SET linked_at = NULL WHERE login = 'n1' RETURNING 1")
    assert _kept(url, "week.%.linked.%") == {}
    asyncio.run(apply_migrations(url))
    assert _kept(url, "week.%.linked.%") == _links_by_week_and_role(url) != {}


def test_0016_counts_held_addresses_as_verified_and_makes_verified_ones_unique(
    fresh_database_url: str,
) -> None:
    """Addresses held before 0016 count as verified (where two accounts held one, in any case,
    the first); from then on no two accounts verify one address, and unverified ones block
    nobody. Back to 0015 the flag and the index go; forward again they come back."""
    url = fresh_database_url
    asyncio.run(apply_migrations(url, target="models.0015_weekly_links_by_role"))
    for n, (username, email) in enumerate(
        [
            ("first001", "Shared@Example.org"),
            ("second02", "shared@example.org"),
            ("legacy", ""),
            ("alone003", "alone@example.org"),
        ],
        start=1,
    ):
        databases.query(
            url,
            "INSERT INTO pacer_accounts (id, account_number, username, username_key, first_name, last_name,"
            " email, password_hash, password_compliant, created_at, upgraded_at, is_shared) VALUES"
            f" ({n}, '{1000000 + n}', '{username}', '{username}', 'F', 'L', '{email}', 'h', TRUE, {AT}, NULL,"
            " FALSE) RETURNING 1",
        )
    asyncio.run(apply_migrations(url))

    def verified() -> list[tuple[str, bool]]:
        rows = databases.query(url, "SELECT username, email_verified FROM pacer_accounts ORDER BY id")
        return [(str(u), bool(v)) for u, v in rows]

    assert verified() == [("first001", True), ("second02", False), ("legacy", False), ("alone003", True)]
    with pytest.raises(Exception, match=r"(?i)unique"):
        databases.query(url, "UPDATE pacer_accounts SET email_verified = TRUE WHERE id = 2 RETURNING 1")
    with pytest.raises(Exception, match=r"(?i)unique"):
        databases.query(url, "UPDATE pacer_accounts SET email = 'ALONE@example.org' WHERE id = 1 RETURNING 1")
    # Unverified, the same address is held by as many accounts as like.
    databases.query(url, "UPDATE pacer_accounts SET email = 'alone@EXAMPLE.org' WHERE id = 2 RETURNING 1")

    asyncio.run(apply_migrations(url, target="models.0015_weekly_links_by_role"))
    assert "email_verified" not in columns(url, "pacer_accounts")
    databases.query(url, "UPDATE pacer_accounts SET email = 'alone@example.org' WHERE id = 1 RETURNING 1")
    databases.query(url, "UPDATE pacer_accounts SET email = 'shared@example.org' WHERE id = 1 RETURNING 1")
    asyncio.run(apply_migrations(url))
    # second02 now holds alone003's address, and has held its account longer.
    assert verified() == [("first001", True), ("second02", True), ("legacy", False), ("alone003", False)]


def _everything(database: Path) -> dict[str, Any]:
    """All a SQLite database holds that a migration can make: every schema object in
    SQLite's order, every table's rows (FTS5's own tables and ``sqlite_sequence`` included;
    the migration records without their times), and the header settings."""
    conn = sqlite3.connect(database)
    try:
        found: dict[str, Any] = {
            "schema": conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
            ).fetchall(),
            "records": conn.execute("SELECT id, app, name FROM tortoise_migrations ORDER BY id").fetchall(),
        }
        for pragma in (
            "user_version",
            "application_id",
            "journal_mode",
            "auto_vacuum",
            "encoding",
            "page_size",
        ):
            found[pragma] = conn.execute(f"PRAGMA {pragma}").fetchall()
        tables = [
            n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            if table != "tortoise_migrations":
                found[table] = sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
        return found
    finally:
        conn.close()


def test_a_new_sqlite_database_is_built_in_one_step_as_the_migrations_build_it(tmp_path: Path) -> None:
    """``schema_snapshot``: a new SQLite file gets, from the snapshot, exactly what Tortoise's
    migrations make of it, recorded as migrated (so that later migrations apply on top)."""
    from nextgen_gql import schema_snapshot

    snapshot = json.loads(schema_snapshot.SNAPSHOT.read_text(encoding="utf-8"))
    stale = "a migration changed: run `python -m nextgen_gql.schema_snapshot` and commit the file"
    assert snapshot["migrations"] == sorted(p.stem for p in MIGRATIONS.glob("0*.py")), stale
    assert snapshot["digest"] == schema_snapshot.digest(), stale

    migrated, built = tmp_path / "migrated.sqlite3", tmp_path / "built.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{migrated}", snapshot=False))
    asyncio.run(apply_migrations(f"sqlite://{built}"))
    assert _everything(built) == _everything(migrated)
    asyncio.run(apply_migrations(f"sqlite://{built}", snapshot=False))  # Tortoise finds nothing to do
    assert _everything(built) == _everything(migrated)


def test_a_stale_snapshot_or_a_database_with_anything_in_it_migrates_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nextgen_gql import schema_snapshot

    migrated = tmp_path / "migrated.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{migrated}", snapshot=False))

    used: list[bool] = []
    apply = schema_snapshot.apply

    async def spy(conn: Any) -> bool:
        used.append(await apply(conn))
        return used[-1]

    monkeypatch.setattr(schema_snapshot, "apply", spy)
    # A migration changed since the file was made: its digest no longer matches.
    monkeypatch.setattr(schema_snapshot, "digest", lambda: "0" * 64)
    stale = tmp_path / "stale.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{stale}"))
    assert used == [False]
    assert _everything(stale) == _everything(migrated)
    monkeypatch.undo()
    monkeypatch.setattr(schema_snapshot, "apply", spy)

    # A database holding anything (here a table of someone else's) is never built over.
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    asyncio.run(apply_migrations(f"sqlite://{other}"))
    assert used == [False, False]
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT count(*) FROM tortoise_migrations").fetchone() == (len(snapshot_names()),)

    fresh = tmp_path / "fresh.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{fresh}"))
    assert used == [False, False, True]


def snapshot_names() -> list[str]:
    return sorted(p.stem for p in MIGRATIONS.glob("0*.py"))


def _parsed_imports(source: str) -> set[str]:
    """Project modules a source imports, as Python's parser reads it (the reference for
    ``schema_snapshot._imported``, which reads text)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return {n for n in names if n == "nextgen_gql" or n.startswith("nextgen_gql.")}


def test_snapshot_digest_reads_every_import_the_parser_finds() -> None:
    """The snapshot's digest finds the modules the migrations import by reading text: over
    every module of the project, and over awkward spellings, it finds at least what Python's
    parser finds (more is harmless: a module more in the digest)."""
    from nextgen_gql import schema_snapshot

    awkward = (
        "from nextgen_gql.models import (\n    Court,  # the court\n    Clerk as C,\n)\n"
        "import os, nextgen_gql.enums as e\n"
        "from nextgen_gql import settings  # a comment\n"
        "mod = importlib.import_module('nextgen_gql.services.counts')\n"
        "def f():\n    from nextgen_gql.tenancy import files\n"
    )
    sources = [awkward] + [
        path.read_text(encoding="utf-8") for path in sorted(schema_snapshot.PACKAGE.rglob("*.py"))
    ]
    for source in sources:
        missed = _parsed_imports(source) - set(schema_snapshot._imported(source))
        assert not missed, (missed, source[:200])
    assert {"nextgen_gql.models.Court", "nextgen_gql.enums", "nextgen_gql.settings"} <= set(
        schema_snapshot._imported(awkward)
    )
