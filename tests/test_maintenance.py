"""Data lifecycle (issue 21, item 4): ``nextgen-gql maintenance`` deletes what has expired, in
batches, and keeps the rest; audit retention; ``nextgen-gql audit export``; bad input deletes
and writes nothing; on PostgreSQL one process at a time. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.cli import main
from nextgen_gql.models import AuditEvent, PacerAccount, PasswordReset, PersistedDocument, Session, Throttle
from nextgen_gql.services import clock, maintenance
from tests import databases
from tests.conftest import TENANTS, Api

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


async def world() -> dict[str, set[int]]:
    """Rows that maintenance must delete (``gone``) and rows it must keep (``kept``), by kind."""
    account = await PacerAccount.first()
    assert account is not None
    gone: dict[str, set[int]] = {}
    kept: dict[str, set[int]] = {}

    def note(kind: str, row: Any, *, deleted: bool) -> None:
        (gone if deleted else kept).setdefault(kind, set()).add(row.id)

    for i, (expires, revoked, deleted) in enumerate(
        [
            (NOW - 40 * DAY, None, True),  # expired 40 days ago
            (NOW - 31 * DAY, None, True),
            (NOW - 10 * DAY, None, False),  # expired, within the 30 days kept
            (NOW + DAY, None, False),  # live
            (NOW + DAY, NOW - 40 * DAY, True),  # revoked 40 days ago
            (NOW + DAY, NOW - 2 * DAY, False),  # revoked recently
        ]
    ):
        row = await Session.create(
            token_hash=f"maint{i:02}".ljust(64, "0"),
            account_id=account.id,
            created_at=NOW - 60 * DAY,
            expires_at=expires,
            revoked_at=revoked,
        )
        note("sessions", row, deleted=deleted)
    for i, (expires, used, deleted) in enumerate(
        [(NOW + DAY, NOW - DAY, True), (NOW - DAY, None, True), (NOW + DAY, None, False)]
    ):
        row = await PasswordReset.create(
            account_id=account.id,
            token_hash=f"reset{i:02}".ljust(64, "0"),
            created_at=NOW - DAY,
            expires_at=expires,
            used_at=used,
        )
        note("password_resets", row, deleted=deleted)
    for i, (started, locked, deleted) in enumerate(
        [
            (NOW - 3 * dt.timedelta(hours=1), None, True),  # window long past
            (NOW - 3 * dt.timedelta(hours=1), NOW + dt.timedelta(minutes=5), False),  # still locked
            (NOW - dt.timedelta(minutes=5), None, False),  # window open
        ]
    ):
        row = await Throttle.create(
            kind="address", key=f"maint-{i}", failures=3, window_started=started, locked_until=locked
        )
        note("throttles", row, deleted=deleted)
    for i, (trusted, source, used_on, deleted) in enumerate(
        [
            (False, "apq", (NOW - 40 * DAY).date(), True),  # unused for 40 days
            (False, "apq", (NOW - 2 * DAY).date(), False),
            (True, "spa", (NOW - 400 * DAY).date(), False),  # trusted: never
            (True, "apq", (NOW - 400 * DAY).date(), False),
        ]
    ):
        row = await PersistedDocument.create(
            key=f"maint{i}".ljust(64, "a"),
            sha256=f"maint{i}".ljust(64, "b"),
            canonical_sha256=f"maint{i}".ljust(64, "c"),
            document="{ __typename }",
            trusted=trusted,
            source=source,
            used_on=used_on,
        )
        note("persisted_documents", row, deleted=deleted)
    for i, (at, deleted) in enumerate(
        [(NOW - 100 * DAY, True), (NOW - 91 * DAY, True), (NOW - 89 * DAY, False)]
    ):
        row = await AuditEvent.create(
            at=at, action="maint.test", court_id="mad" if i else None, detail=str(i)
        )
        note("audit_events", row, deleted=deleted)
    return {
        "gone": {f"{k}:{i}" for k, ids in gone.items() for i in ids},
        "kept": {f"{k}:{i}" for k, ids in kept.items() for i in ids},
    }


async def present() -> set[str]:
    found = set()
    for kind, model in [
        ("sessions", Session),
        ("password_resets", PasswordReset),
        ("throttles", Throttle),
        ("persisted_documents", PersistedDocument),
        ("audit_events", AuditEvent),
    ]:
        found |= {f"{kind}:{i}" for i in await model.all().values_list("id", flat=True)}
    return found


async def test_maintenance_deletes_what_expired_and_keeps_the_rest(api: Api) -> None:
    clock.set_now(NOW)
    rows = await world()
    before = await present()
    assert rows["gone"] | rows["kept"] <= before
    retention = maintenance.Retention(audit=90 * DAY)
    report = await maintenance.run(retention, database_url=api.settings.database_url, batch=2)
    after = await present()
    assert not report.skipped
    assert rows["gone"] & after == set(), "expired rows are left"
    assert rows["kept"] <= after, "rows still in force were deleted"
    # Nothing else of the demo data was touched but what expired by the same rules.
    assert report.deleted["sessions"] >= 3 and report.deleted["throttles"] >= 1
    assert report.deleted["persisted_queries"] == 1 and report.deleted["audit_events"] >= 2
    # The kept counts followed the deletes (a court's audit trail).
    kept = await asyncio.to_thread(
        databases.query,
        api.settings.database_url,
        "SELECT n FROM list_counts WHERE court_id = 'mad' AND list = 'audit'",
    )
    assert kept[0][0] == await AuditEvent.filter(court_id="mad").count()
    # A second run finds nothing more.
    again = await maintenance.run(retention, database_url=api.settings.database_url, batch=2)
    assert again.total == 0


async def test_on_sqlite_a_batch_waits_for_the_requests_to_pause(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has one connection for everything: maintenance starts a batch only when no
    request runs (so a sign-in waits behind one batch at most), and a steady load delays it by
    ``BACKGROUND_WAIT_S`` at most, never forever. PostgreSQL's maintenance has its own
    connection and does not wait."""
    from nextgen_gql.db_backends import deadline

    clock.set_now(NOW)
    rows = await world()
    retention = maintenance.Retention(audit=90 * DAY)
    monkeypatch.setattr(deadline, "BACKGROUND_WAIT_S", 60.0)
    # The run is started before the request, so that it does not run inside the request.
    task = asyncio.create_task(maintenance.run(retention, database_url=api.settings.database_url, batch=2))
    request, token = deadline.start(60_000)
    try:
        assert deadline.running() >= 1
        for _ in range(50):
            await asyncio.sleep(0.01)
            if task.done():
                break
        if databases.backend() == "sqlite":
            assert not task.done(), "a batch ran while a request was running"
            assert rows["gone"] <= await present(), "rows were deleted while a request was running"
    finally:
        deadline.stop(request, token)
    await asyncio.wait_for(task, 60)
    assert rows["gone"] & await present() == set()
    # A load that never pauses delays each batch by the limit at most.
    monkeypatch.setattr(deadline, "BACKGROUND_WAIT_S", 0.05)
    rows = await world_again()
    task = asyncio.create_task(maintenance.run(retention, database_url=api.settings.database_url, batch=2))
    request, token = deadline.start(60_000)
    try:
        report = await asyncio.wait_for(task, 60)
    finally:
        deadline.stop(request, token)
    assert report.deleted["sessions"] >= 3 and rows & await present() == set()


async def world_again() -> set[str]:
    """Three more expired sessions (their ids)."""
    account = await PacerAccount.first()
    assert account is not None
    made = [
        await Session.create(
            token_hash=f"again{i:02}".ljust(64, "0"),
            account_id=account.id,
            created_at=NOW - 60 * DAY,
            expires_at=NOW - 40 * DAY,
        )
        for i in range(3)
    ]
    return {f"sessions:{s.id}" for s in made}


async def test_the_audit_trail_is_kept_forever_by_default(api: Api) -> None:
    clock.set_now(NOW)
    old = await AuditEvent.create(at=NOW - 4000 * DAY, action="maint.test", court_id="mad")
    report = await maintenance.run(maintenance.Retention(), database_url=api.settings.database_url)
    assert "audit_events" not in report.deleted
    assert await AuditEvent.filter(id=old.id).exists()


@pytest.mark.skipif(databases.backend() != "postgres", reason="the advisory lock is PostgreSQL's")
async def test_one_process_at_a_time(api: Api) -> None:
    import asyncpg

    clock.set_now(NOW)
    rows = await world()
    holder = await asyncpg.connect(api.settings.database_url)
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", maintenance.LOCK_KEY)
        report = await maintenance.run(
            maintenance.Retention(audit=90 * DAY), database_url=api.settings.database_url
        )
        assert report.skipped and report.total == 0
        assert rows["gone"] <= await present()
    finally:
        await holder.close()
    report = await maintenance.run(
        maintenance.Retention(audit=90 * DAY), database_url=api.settings.database_url
    )
    assert not report.skipped and rows["gone"] & await present() == set()


@pytest.mark.skipif(databases.backend() != "postgres", reason="the audit trail is partitioned on PostgreSQL")
async def test_retention_drops_whole_months_and_trims_the_boundary_month(api: Api) -> None:
    """On PostgreSQL the trail is partitioned by month (0014): retention drops the months past
    the cutoff whole, deletes the boundary month's older rows in batches, keeps the counts
    exact, and each run creates the months ahead."""
    from nextgen_gql.services import audit_partitions

    assert await audit_partitions.is_partitioned()
    # Maintenance ran in June: June, July and August exist.
    clock.set_now(dt.datetime(2026, 6, 15, tzinfo=dt.UTC))
    created = await audit_partitions.ensure_months(clock.now())
    assert {"audit_events_y2026m06", "audit_events_y2026m07", "audit_events_y2026m08"} <= set(created)
    cutoff = NOW - 90 * DAY  # 2026-08-25 12:00
    rows = {
        "june": NOW - 160 * DAY,
        "july": NOW - 130 * DAY,
        "august, before the cutoff": cutoff - DAY,
        "august, after the cutoff": cutoff + DAY,
        "march (default partition)": NOW - 250 * DAY,
        "now": NOW,
    }
    ids = {}
    for name, at in rows.items():
        ids[name] = (await AuditEvent.create(at=at, action="maint.part", court_id="mad", detail=name)).id
    where = await AuditEvent.get(id=ids["march (default partition)"])
    assert where.detail == "march (default partition)"

    def placed() -> dict[str, str]:
        found = databases.query(
            api.settings.database_url,
            "SELECT detail, tableoid::regclass::text FROM audit_events WHERE action = 'maint.part'",
        )
        return {detail: table for detail, table in found}

    assert (await asyncio.to_thread(placed))["june"] == "audit_events_y2026m06"
    assert (await asyncio.to_thread(placed))["march (default partition)"] == "audit_events_default"
    clock.set_now(NOW)
    report = await maintenance.run(
        maintenance.Retention(audit=90 * DAY), database_url=api.settings.database_url, batch=2
    )
    left = await AuditEvent.filter(action="maint.part").values_list("detail", flat=True)
    assert sorted(left) == ["august, after the cutoff", "now"]
    assert report.deleted["audit_events"] >= 4
    months = await audit_partitions.months()
    names = set(months.values())
    assert not names & {"audit_events_y2026m06", "audit_events_y2026m07"}, "past months are dropped whole"
    assert "audit_events_y2026m08" in names, "the boundary month stays, trimmed"
    # The current month and the two after it, the "now" event in its month.
    assert {"audit_events_y2026m11", "audit_events_y2026m12", "audit_events_y2027m01"} <= names
    assert (await asyncio.to_thread(placed))["now"] == "audit_events_y2026m11"
    kept = await asyncio.to_thread(
        databases.query,
        api.settings.database_url,
        "SELECT n FROM list_counts WHERE court_id = 'mad' AND list = 'audit'",
    )
    assert kept[0][0] == await AuditEvent.filter(court_id="mad").count()


@pytest.mark.skipif(databases.backend() != "postgres", reason="the audit trail is partitioned on PostgreSQL")
async def test_a_month_created_late_takes_its_rows_from_the_default_partition(api: Api) -> None:
    from nextgen_gql.services import audit_partitions

    later = dt.datetime(2027, 5, 10, tzinfo=dt.UTC)
    event = await AuditEvent.create(at=later, action="maint.late", court_id="mad")
    before = await AuditEvent.filter(court_id="mad").count()
    created = await audit_partitions.ensure_months(later, ahead=0)
    assert created == ["audit_events_y2027m05"]
    table = await asyncio.to_thread(
        databases.query,
        api.settings.database_url,
        f"SELECT tableoid::regclass::text FROM audit_events WHERE id = {event.id}",
    )
    assert table == [("audit_events_y2027m05",)]
    # Moving rows between partitions is no change to the kept count.
    kept = await asyncio.to_thread(
        databases.query,
        api.settings.database_url,
        "SELECT n FROM list_counts WHERE court_id = 'mad' AND list = 'audit'",
    )
    assert kept[0][0] == before == await AuditEvent.filter(court_id="mad").count()
    assert await audit_partitions.ensure_months(later, ahead=0) == []


# ------------------------------------------------------------------------------- the commands


@pytest.fixture
def run(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``nextgen-gql`` in-process, on a copy of the demo database."""
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(TENANTS))
    monkeypatch.setenv("NEXTGEN_GQL_SECRET_KEY", databases.SECRET_KEY)

    def invoke(*args: str) -> int:
        return main(list(args))

    invoke.db = settings.database_url  # type: ignore[attr-defined]
    return invoke


def count(url: str, sql: str) -> int:
    return int(databases.query(url, sql)[0][0])


def test_audit_export_writes_json_lines(run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "all.jsonl"
    assert run("audit", "export", "--output", str(out)) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    total = count(run.db, "SELECT COUNT(*) FROM audit_events")
    assert len(lines) == total > 0
    assert [e["id"] for e in lines] == sorted(e["id"] for e in lines)  # oldest first
    assert set(lines[0]) == {
        "id",
        "at",
        "action",
        "actor_id",
        "subject_id",
        "court",
        "detail",
        "service_key_id",
    }
    assert (
        any(e["court"] is None for e in lines)
        or count(run.db, "SELECT COUNT(*) FROM audit_events WHERE court_id IS NULL") == 0
    )
    assert f"{total} event(s)" in capsys.readouterr().err
    # One court's, and a time range.
    mad = tmp_path / "mad.jsonl"
    assert run("audit", "export", "--court", "MAD", "--output", str(mad)) == 0
    court_lines = [json.loads(line) for line in mad.read_text(encoding="utf-8").splitlines()]
    assert {e["court"] for e in court_lines} == {"mad"}
    assert len(court_lines) == count(run.db, "SELECT COUNT(*) FROM audit_events WHERE court_id = 'mad'")
    middle = dt.datetime.fromisoformat(lines[len(lines) // 2]["at"])
    ranged = tmp_path / "ranged.jsonl"
    assert run("audit", "export", "--since", middle.isoformat(), "--output", str(ranged)) == 0
    later = [json.loads(line) for line in ranged.read_text(encoding="utf-8").splitlines()]
    assert later and all(dt.datetime.fromisoformat(e["at"]) >= middle for e in later)
    assert len(later) == sum(dt.datetime.fromisoformat(e["at"]) >= middle for e in lines)


def test_bad_input_is_refused_and_changes_nothing(
    run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "x.jsonl"
    assert run("audit", "export", "--court", "zzz", "--output", str(out)) == 2
    assert "--court" in capsys.readouterr().err and not out.exists()
    assert run("audit", "export", "--since", "2026-05-01", "--until", "2026-04-01", "--output", str(out)) == 2
    assert "--until" in capsys.readouterr().err and not out.exists()
    assert run("audit", "export", "--since", "last tuesday", "--output", str(out)) == 2
    assert "--since" in capsys.readouterr().err
    assert run("audit", "export", "--output", str(tmp_path / "missing" / "x.jsonl")) == 2
    assert "--output" in capsys.readouterr().err
    # A retention of 0 or less deletes nothing.
    events = count(run.db, "SELECT COUNT(*) FROM audit_events")
    for bad in ("0", "-5", "soon"):
        monkeypatch.setenv("NEXTGEN_GQL_AUDIT_RETENTION_DAYS", bad)
        assert run("maintenance", "--once") == 2
        assert "NEXTGEN_GQL_AUDIT_RETENTION_DAYS" in capsys.readouterr().err
    assert count(run.db, "SELECT COUNT(*) FROM audit_events") == events


def test_maintenance_command_applies_audit_retention(
    run: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = count(run.db, "SELECT COUNT(*) FROM audit_events")
    assert run("maintenance", "--once") == 0  # kept forever by default
    assert "maintenance: deleted" in capsys.readouterr().out
    assert count(run.db, "SELECT COUNT(*) FROM audit_events") == events
    databases.query(
        run.db,
        "INSERT INTO audit_events (at, action, court_id) VALUES ('2020-01-01 00:00:00+00:00', 'maint.old', 'mad')"
        " RETURNING 1",
    )
    monkeypatch.setenv("NEXTGEN_GQL_AUDIT_RETENTION_DAYS", "365")
    # Older than a year: that event, and the demo's move to NextGen (written at start-up with the
    # clock set to moments since mad's NextGen date, 2021-09-20).
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=365)).isoformat(" ")
    stale = count(run.db, f"SELECT COUNT(*) FROM audit_events WHERE at < '{cutoff}'")
    assert stale > 1
    assert run("maintenance", "--once") == 0
    assert f"audit_events {stale}" in capsys.readouterr().out
    assert count(run.db, "SELECT COUNT(*) FROM audit_events WHERE action = 'maint.old'") == 0
    assert count(run.db, "SELECT COUNT(*) FROM audit_events") == events + 1 - stale


@pytest.mark.skipif(databases.backend() != "postgres", reason="statement_timeout is PostgreSQL's")
async def test_a_runaway_statement_on_the_request_pool_ends(settings: Any) -> None:
    """NEXTGEN_GQL_STATEMENT_TIMEOUT_MS holds on the request pool; the commands' own
    connections (exports, maintenance, migrations) are exempt."""
    import asyncpg
    from tortoise.context import TortoiseContext

    from nextgen_gql.db import tortoise_config
    from nextgen_gql.services.ordering import query
    from tests.conftest import running_api

    async with running_api(settings.with_(statement_timeout_ms=250)):
        assert (await query("SHOW statement_timeout", []))[0][0] == "250ms"
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await query("SELECT pg_sleep(2)", [])
        assert (await query("SELECT 1", []))[0][0] == 1  # the pool goes on
    async with TortoiseContext() as ctx:  # as a command opens the database
        await ctx.init(config=tortoise_config(settings.connection_url))
        assert (await query("SHOW statement_timeout", []))[0][0] == "0"


def test_no_statement_reads_the_databases_clock() -> None:
    """Time comparisons take the service's clock (``services.clock``, which tests set) as a
    parameter: no SQL the service sends names the database's own time."""
    import io
    import re
    import tokenize

    source = Path(__file__).resolve().parents[1] / "src" / "nextgen_gql"
    database_time = re.compile(
        r"(?i)\b(now\(\)|current_timestamp|current_date|localtimestamp|datetime\('now'\))"
    )
    found = []
    for path in sorted(source.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
            text = token.string
            if token.type == tokenize.STRING and text.lower().lstrip("rb").startswith("f"):
                text = re.sub(r"\{[^{}]*\}", "", text)  # an f-string's Python expressions
            if token.type == tokenize.STRING and database_time.search(text):
                if token.string.lstrip("rbuRBUf").startswith(('"""', "'''")):
                    continue  # a docstring (it may say what is not done)
                found.append(f"{path.relative_to(source)}:{token.start[0]}: {token.string[:80]}")
    assert found == []


@pytest.mark.skipif(databases.backend() != "postgres", reason="statement_timeout is PostgreSQL's")
async def test_a_statement_past_the_timeout_is_a_clear_error_and_the_worker_goes_on(settings: Any) -> None:
    """A statement cancelled by NEXTGEN_GQL_STATEMENT_TIMEOUT_MS (here: waiting on a lock another
    connection holds) answers an error that says so, instead of a bare internal error or a hang;
    the same worker then answers the next request."""
    import asyncpg

    from tests.conftest import CLERK_PASSWORD, CLERKS, running_api

    async with running_api(settings.with_(statement_timeout_ms=300)) as api:
        clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        query = '{ cmecfAccounts(first: 5, search: "zzzz") { edges { node { login } } } }'
        holder = await asyncpg.connect(settings.database_url)
        try:
            await holder.execute("BEGIN; LOCK TABLE cmecf_accounts IN ACCESS EXCLUSIVE MODE")
            answer = await api.gql(query, court="mad", token=clerk)
        finally:
            await holder.close()
        assert answer.get("data") is None or answer["data"].get("cmecfAccounts") is None
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "INTERNAL_ERROR"
        assert "300 ms" in error["message"] and "statement timeout" in error["message"], error
        assert error["extensions"]["requestId"]
        assert "errors" not in await api.gql(query, court="mad", token=clerk)
