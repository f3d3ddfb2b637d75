"""Proved by plans (issue 21, item 3): on PostgreSQL, every statement of the hot queries
(the reference SPA's operations in schema/operations/, the clerk lists with each filter and
order, sign-in, session lookup, node lookups, a statement's pages) is read by an index, not by
a sequential scan of a big table, when the list is unfiltered or its filter selective (a
broad filter's count reads its matches, and may rightly scan).

The demo database is grown to national proportions where it matters to the planner (some
hundred thousand rows in each big table: enough that a sequential scan is never the cheap
plan for a selective statement), analysed, and then each operation is sent over HTTP; every
statement the service sends is captured with its parameters (at the asyncpg connection) and
``EXPLAIN``ed with them. Any ``Seq Scan`` of a big table fails the test, naming the statement.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.api.ids import encode_id
from nextgen_gql.services import audit_partitions, clock
from nextgen_gql.settings import Settings
from tests import databases
from tests.api.firm_helpers import firm_with_james
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, LEGACY, running_api

pytestmark = pytest.mark.skipif(databases.backend() != "postgres", reason="plans are PostgreSQL's")

OPERATIONS = Path(__file__).resolve().parents[1] / "schema" / "operations"

#: The tables that grow with the country (a sequential scan of one of these fails).
BIG = {
    "pacer_accounts",
    "cmecf_accounts",
    "cmecf_links",
    "audit_events",
    "sessions",
    "registrations",
    "charges",
    "filing_privileges",
}

GROW = [
    # 200,000 PACER accounts
    "INSERT INTO pacer_accounts (account_number, username, username_key, first_name, last_name, email,"
    " password_hash, created_at, is_shared)"
    " SELECT 'B' || g, 'bulk' || g, 'bulk' || g, 'Bulk', 'Person' || g, 'bulk' || g || '@example.org', 'h',"
    " now() - interval '1 year', FALSE FROM generate_series(1, 200000) AS g",
    # 300,000 legacy accounts at mad (1 in 100 linked), 100,000 at mab
    "INSERT INTO cmecf_accounts (court_id, login, login_key, first_name, last_name, last_name_key, email, role,"
    " created_at, linked_at, search_text)"
    " SELECT CASE WHEN g % 4 = 0 THEN 'mab' ELSE 'mad' END, 'bulk' || g, 'bulk' || g, 'Bulk', 'Roster' || g,"
    " 'roster' || g, 'r' || g || '@example.org', 'attorney', now() - interval '2 years',"
    " CASE WHEN g % 100 = 0 THEN now() - interval '1 day' * (g % 300) END,"
    " 'bulk' || g || ' bulk roster' || g || ' r' || g || '@example.org' FROM generate_series(1, 400000) AS g",
    # 400,000 audit events, half of them at mad, over a year
    "INSERT INTO audit_events (at, action, actor_id, subject_id, court_id, detail)"
    " SELECT now() - interval '1 minute' * g, (ARRAY['signin.success', 'signin.failure', 'cmecf.link'])[1 + g % 3],"
    " NULL, NULL, CASE WHEN g % 2 = 0 THEN 'mad' END, NULL FROM generate_series(1, 400000) AS g",
    # 300,000 sessions, nearly all expired
    "INSERT INTO sessions (token_hash, account_id, created_at, expires_at, redaction_acknowledged)"
    " SELECT 'bulk' || g, (SELECT MIN(id) FROM pacer_accounts) + g % 150000, now() - interval '60 days',"
    " now() - interval '30 days' + interval '1 second' * (g % 100), FALSE FROM generate_series(1, 300000) AS g",
    # 100,000 decided registrations at mad
    "INSERT INTO registrations (court_id, account_id, role, pro_hac_vice, status, submitted_at,"
    " applicant_last_name_key, search_text)"
    " SELECT 'mad', (SELECT MIN(id) FROM pacer_accounts) + g, 'media', FALSE, 'approved',"
    " now() - interval '1 minute' * g, 'person' || g, 'bulk person' || g || ' bulk' || g"
    " FROM generate_series(1, 100000) AS g",
    # 200,000 charges to bulk accounts
    "INSERT INTO charges (at, kind, pages, amount_cents, account_id, court_id)"
    " SELECT now() - interval '1 minute' * g, 'document', 1, 10, (SELECT MIN(id) FROM pacer_accounts) + g % 50000,"
    " 'mad' FROM generate_series(1, 200000) AS g",
    # the roster's links (1 in 100 of the bulk roster), each to its own bulk account
    "INSERT INTO cmecf_links (cmecf_account_id, court_id, account_id, linked_by_id, linked_at)"
    " SELECT c.id, c.court_id, b.first + n, b.first + n, c.linked_at FROM (SELECT id, court_id, linked_at,"
    " ROW_NUMBER() OVER (ORDER BY id) AS n FROM cmecf_accounts WHERE linked_at IS NOT NULL AND login LIKE 'bulk%')"
    " AS c, (SELECT MIN(id) AS first FROM pacer_accounts WHERE username LIKE 'bulk%') AS b",
    # 200,000 filing privileges, one per bulk account, at mad
    "INSERT INTO filing_privileges (court_id, account_id, role, source, granted_at)"
    " SELECT 'mad', id, 'attorney', 'registration', now() - interval '1 day' FROM pacer_accounts"
    " WHERE username LIKE 'bulk%'",
    "ANALYZE",
]


def _run(url: str, statements: list[str]) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def captured() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every statement sent through asyncpg while inside, with its parameters."""
    import asyncpg

    found: list[tuple[str, tuple[Any, ...]]] = []
    cls = asyncpg.connection.Connection
    originals = {name: getattr(cls, name) for name in ("fetch", "fetchrow", "fetchval", "execute")}

    def spy(name: str) -> Any:
        original = originals[name]

        async def call(self: Any, query: str, *args: Any, **kw: Any) -> Any:
            found.append((query, args))
            return await original(self, query, *args, **kw)

        return call

    for name in originals:
        setattr(cls, name, spy(name))
    try:
        yield found
    finally:
        for name, original in originals.items():
            setattr(cls, name, original)


def seq_scans(plan: Any, big: set[str] = BIG) -> list[str]:
    """The big tables a plan (EXPLAIN's JSON) reads sequentially."""
    found = []
    if isinstance(plan, dict):
        if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in big:
            found.append(str(plan["Relation Name"]))
        for value in plan.values():
            found += seq_scans(value, big)
    elif isinstance(plan, list):
        for value in plan:
            found += seq_scans(value, big)
    return found


def explain_all(url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    import asyncpg
    import orjson

    async def run() -> list[str]:
        conn = await asyncpg.connect(url)
        bad = []
        try:
            # The audit trail is partitioned by month on PostgreSQL (0014): a month with rows
            # counts as big (an empty month, ahead or before the data, is rightly scanned).
            months = await conn.fetch(
                "SELECT relname FROM pg_class WHERE relname LIKE 'audit\\_events\\_%' AND relkind = 'r'"
                " AND reltuples >= 1000"
            )
            big = BIG | {str(row[0]) for row in months}
            assert len(big) > len(BIG) + 3, "the audit trail's months were not analysed"
            seen = set()
            for sql, args in statements:
                head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
                key = (sql, repr(args))  # arguments may be lists (ANY($1))
                if head not in {"SELECT", "WITH", "UPDATE", "DELETE"} or key in seen:
                    continue
                if "pg_" in sql or "tortoise_migrations" in sql:
                    continue  # locks, notifications and the migrator's own reads
                seen.add(key)
                [row] = await conn.fetch(f"EXPLAIN (FORMAT JSON) {sql}", *args)
                plan = row[0]
                scans = seq_scans(orjson.loads(plan) if isinstance(plan, str) else plan, big)
                if scans:
                    text = " ".join(sql.split())[:400]
                    bad.append(f"{', '.join(scans)}: {text} {args!r:.200}")
        finally:
            await conn.close()
        return bad

    return asyncio.run(run())


def operations() -> dict[str, str]:
    """The reference SPA's queries, by name (the files hold no fragments)."""
    from graphql import OperationDefinitionNode, OperationType, parse, print_ast

    found = {}
    for path in sorted(OPERATIONS.glob("*.graphql")):
        for node in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(node, OperationDefinitionNode) and node.operation is OperationType.QUERY:
                assert node.name is not None
                found[node.name.value] = print_ast(node)
    return found


ROSTER = """query($first: Int, $after: String, $order: CmecfAccountOrder, $linked: Boolean, $search: String) {
  cmecfAccounts(first: $first, after: $after, orderBy: $order, linked: $linked, search: $search) {
    totalCount pageInfo { endCursor } edges { node { id login linkedAt linkedAccount { username } } } } }"""
QUEUE = """query($status: RegistrationStatus, $search: String, $order: RegistrationOrder, $after: String) {
  registrations(first: 25, status: $status, search: $search, orderBy: $order, after: $after) {
    totalCount pageInfo { endCursor } edges { node { id account { username } } } } }"""
TRAIL = """query($action: String, $actor: ID, $since: DateTime, $until: DateTime, $after: String) {
  auditEvents(first: 50, action: $action, actor: $actor, since: $since, until: $until, after: $after) {
    totalCount pageInfo { endCursor } edges { node { id action } } } }"""


async def test_no_hot_statement_scans_a_big_table(settings: Settings, tmp_path: Path) -> None:
    await asyncio.to_thread(_run, settings.database_url, GROW)
    async with running_api(settings) as api:
        # The year of audit events in monthly partitions, as maintenance keeps them (then analysed).
        await audit_partitions.ensure_months(clock.now() - dt.timedelta(days=300), ahead=10)
        await asyncio.to_thread(_run, settings.database_url, ["ANALYZE audit_events"])
        maria, james, _ = await firm_with_james(api)
        clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        legacy = await api.sign_in(*LEGACY)
        account_id = (await api.data("{ me { id } }", token=james))["me"]["id"]
        ops = operations()
        with captured() as statements:
            # Sign-in (a password check and a session written), session lookups on every request.
            await api.sign_in(*FILER)
            for name, token, court, variables in [
                ("Me", james, None, {}),
                ("Me", legacy, None, {}),
                ("Courts", None, None, {}),
                ("MySessions", james, None, {}),
                ("ClerkQueue", clerk, "mad", {}),
                ("ClerkPrivileges", clerk, "mad", {}),
                ("ClerkPrivileges", clerk, "mad", {"needsCases": True}),
                ("CourtKeys", clerk, "mad", {}),
                ("FirmMembers", maria, None, {}),
                ("FirmStatement", maria, None, {"quarter": "2026Q4"}),
            ]:
                assert name in ops, name
                answer = await api.gql(ops[name], variables, token=token, court=court)
                assert "errors" not in answer, (name, answer)
            for variables in [
                {},
                {"first": 100},
                {"linked": True},
                {"linked": False},
                {"search": "roster12345"},
                {"search": "jm"},
                {"search": "z"},
                {"order": {"field": "LAST_NAME", "direction": "DESC"}},
                {"order": {"field": "LINKED_AT", "direction": "ASC"}},
                {"order": {"field": "LINKED_AT", "direction": "DESC"}, "linked": False},
                {"order": {"field": "LAST_NAME", "direction": "ASC"}, "linked": True},
            ]:
                page = await api.data(ROSTER, {"first": 20, **variables}, court="mad", token=clerk)
                after = page["cmecfAccounts"]["pageInfo"]["endCursor"]
                if after:
                    await api.data(
                        ROSTER, {"first": 20, **variables, "after": after}, court="mad", token=clerk
                    )
            for variables in [
                {},
                {"status": "APPROVED"},
                {"search": "person777"},
                {"search": "zo"},
                {"order": {"field": "LAST_NAME", "direction": "ASC"}},
                {"order": {"field": "SUBMITTED_AT", "direction": "DESC"}},
            ]:
                page = await api.data(QUEUE, variables, court="mad", token=clerk)
                after = page["registrations"]["pageInfo"]["endCursor"]
                if after:
                    await api.data(QUEUE, {**variables, "after": after}, court="mad", token=clerk)
            for variables in [
                {},
                {"action": "registration.submit"},
                {"actor": account_id},
                {"since": "2026-11-20T00:00:00Z", "until": "2026-11-20T06:00:00Z"},
            ]:
                page = await api.data(TRAIL, variables, court="mad", token=clerk)
                after = page["auditEvents"]["pageInfo"]["endCursor"]
                if after:
                    await api.data(TRAIL, {**variables, "after": after}, court="mad", token=clerk)
            # Node lookups.
            for type_name, key in [("PacerAccount", account_id), ("CmecfAccount", None)]:
                node_id = key or encode_id(type_name, 1)
                await api.gql(
                    "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, court="mad", token=clerk
                )
            await api.gql(
                """{ me { statement(quarter: "2026Q4") { chargesConnection(first: 10) { totalCount
                  pageInfo { endCursor } } } } }""",
                token=james,
            )
        assert len(statements) > 50
    bad = await asyncio.to_thread(explain_all, settings.database_url, statements)
    assert bad == [], "\n".join(bad)
