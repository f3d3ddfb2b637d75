"""The move to NextGen, seen from the court (issue 23): linkingProgress, reminder jobs, the
unlinked export. GraphQL over HTTP against the app; runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.models import AuditEvent
from nextgen_gql.services import clock, reminders
from nextgen_gql.services.imports import import_cmecf_accounts
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from tests import databases
from tests.api.firm_helpers import register
from tests.api.test_lists import court
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api, running_api

PROGRESS = """query($w: Int) { court { linkingProgress { legacyAccounts linked unlinked unlinkedWithoutEmail
  byRole { role legacyAccounts linked } weekly(weeks: $w) { weekStart linked registrationsApproved remindersSent } } } }"""
SEND = """mutation($i: SendLinkingRemindersInput!) { sendLinkingReminders(input: $i) {
  recipients skipped job { id state total sent startedBy { username } } errors { code field } } }"""
JOB = "{ court { reminderJob { state total sent finishedAt } } }"

#: A Wednesday: its week starts on Monday 2027-01-04.
WEDNESDAY = dt.datetime(2027, 1, 6, 15, 0, tzinfo=dt.UTC)


async def sql(api: Api, text: str) -> list[tuple[Any, ...]]:
    return await asyncio.to_thread(databases.query, api.settings.database_url, text)


@pytest.fixture
async def quiet_api(settings: Settings) -> AsyncIterator[Api]:
    """The app without its reminder worker: the test runs the jobs (``reminders.run_pending``)."""
    async with running_api(dataclasses.replace(settings, reminder_interval_s=0)) as running:
        yield running


async def add_roster(
    api: Api, tmp_path: Path, n: int, *, prefix: str = "move", email_every: int = 1
) -> list[str]:
    """``n`` unlinked attorneys and pro se parties at mad (every ``email_every``-th with an email)."""
    rows = []
    for i in range(n):
        role = "attorney" if i % 3 else "pro_se"
        mail = f"{prefix}{i:03}@example.com" if i % email_every == 0 else ""
        rows.append(f"{prefix}{i:03},First{i},Last{i},{mail},{role},pass-{prefix}-{i}\n")
    path = tmp_path / f"{prefix}.csv"
    path.write_text("login,first_name,last_name,email,role,password\n" + "".join(rows), encoding="utf-8")
    await import_cmecf_accounts(court(api, "mad"), path)
    return [f"{prefix}{i:03}" for i in range(n)]


async def link(api: Api, login: str, password: str, who: str) -> None:
    token, _ = await register(api, who, "Lin", "Ker")
    data = await api.data(
        """mutation($l: String!, $p: String!) { linkCmecfAccount(input: {login: $l, password: $p, confirm: true}) {
          errors { code } } }""",
        {"l": login, "p": password},
        court="mad",
        token=token,
    )
    assert data["linkCmecfAccount"]["errors"] == [], data


async def expected_progress(api: Api) -> dict[str, Any]:
    rows = await sql(
        api,
        "SELECT role, COUNT(*), SUM(CASE WHEN linked_at IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN linked_at IS NULL AND email = '' THEN 1 ELSE 0 END)"
        " FROM cmecf_accounts WHERE court_id = 'mad' GROUP BY role",
    )
    by_role = {str(r).upper(): (int(n), int(k), int(e)) for r, n, k, e in rows}
    return {
        "legacyAccounts": sum(v[0] for v in by_role.values()),
        "linked": sum(v[1] for v in by_role.values()),
        "unlinkedWithoutEmail": sum(v[2] for v in by_role.values()),
        "byRole": by_role,
    }


async def test_linking_progress_totals_by_role_and_week(api: Api, tmp_path: Path) -> None:
    clock.set_now(WEDNESDAY)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    await add_roster(api, tmp_path, 12, email_every=2)
    await link(api, "move001", "pass-move-1", "linkerone1")
    await link(api, "move002", "pass-move-2", "linkertwo2")
    clock.set_now(WEDNESDAY + dt.timedelta(days=7))
    await link(api, "move004", "pass-move-4", "linkerfour")
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)  # (sessions end when idle for long)

    found = (await api.data(PROGRESS, {"w": 3}, court="mad", token=clerk))["court"]["linkingProgress"]
    expected = await expected_progress(api)
    assert found["legacyAccounts"] == expected["legacyAccounts"]
    assert found["linked"] == expected["linked"]
    assert found["unlinked"] == expected["legacyAccounts"] - expected["linked"]
    assert found["unlinkedWithoutEmail"] == expected["unlinkedWithoutEmail"]
    # Each role the court accepts, in its order; the numbers the rows say.
    assert [r["role"] for r in found["byRole"]] == ["ATTORNEY", "PRO_SE", "MEDIA"]
    for r in found["byRole"]:
        n, k, _ = expected["byRole"].get(r["role"], (0, 0, 0))
        assert (r["legacyAccounts"], r["linked"]) == (n, k)
    # Weeks start on Monday (UTC), oldest first; the links fell in the weeks they were made.
    assert found["weekly"] == [
        {"weekStart": "2026-12-28", "linked": 0, "registrationsApproved": 0, "remindersSent": 0},
        {"weekStart": "2027-01-04", "linked": 2, "registrationsApproved": 0, "remindersSent": 0},
        {"weekStart": "2027-01-11", "linked": 1, "registrationsApproved": 0, "remindersSent": 0},
    ]
    default = (await api.data(PROGRESS, court="mad", token=clerk))["court"]["linkingProgress"]["weekly"]
    assert len(default) == 26 and default[-1]["weekStart"] == "2027-01-11"
    assert all(dt.date.fromisoformat(w["weekStart"]).weekday() == 0 for w in default)
    assert (
        len(
            (await api.data(PROGRESS, {"w": 520}, court="mad", token=clerk))["court"]["linkingProgress"][
                "weekly"
            ]
        )
        == 520
    )

    # Out of range: INVALID_INPUT.
    for weeks in (0, 521, -1):
        body = await api.gql(PROGRESS, {"w": weeks}, court="mad", token=clerk)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", body

    # Null to everyone but the court's clerks: a filer, another court's clerk, nobody, at any court's node.
    filer = await api.sign_in(*FILER)
    other = await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)
    for token in (filer, other, None):
        data = await api.data(
            "{ court { linkingProgress { linked } reminderJob { state } } }", court="mad", token=token
        )
        assert data["court"] == {"linkingProgress": None, "reminderJob": None}
    # mad's clerk sees mad's progress on the national list too, and no other court's.
    courts = (await api.data("{ courts { code linkingProgress { linked } } }", token=clerk))["courts"]
    assert {c["code"]: c["linkingProgress"] is not None for c in courts if c["code"] in ("mad", "mab")} == {
        "mad": True,
        "mab": False,
    }


BY_ROLE = """query($w: Int) { court { linkingProgress { byRole { role linked }
  weekly(weeks: $w) { weekStart linked byRole { role linked } } } } }"""


async def links_by_week_and_role(api: Api) -> dict[tuple[str, str], int]:
    """mad's links counted from the rows: (Monday, ROLE) -> links."""
    found: Counter[tuple[str, str]] = Counter()
    for at, role in await sql(
        api, "SELECT linked_at, role FROM cmecf_accounts WHERE court_id = 'mad' AND linked_at IS NOT NULL"
    ):
        moment = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        day = moment.astimezone(dt.UTC).date()
        found[((day - dt.timedelta(days=day.weekday())).isoformat(), str(role).upper())] += 1
    return dict(found)


async def weekly_by_role(api: Api, token: str, weeks: int) -> list[dict[str, Any]]:
    """The weekly series by role, checked against the rows and against itself: each week has
    one entry per role of ``byRole``, in its order, and they add up to the week's ``linked``."""
    found = (await api.data(BY_ROLE, {"w": weeks}, court="mad", token=token))["court"]["linkingProgress"]
    roles = [r["role"] for r in found["byRole"]]
    counted = await links_by_week_and_role(api)
    for week in found["weekly"]:
        assert [r["role"] for r in week["byRole"]] == roles
        assert sum(r["linked"] for r in week["byRole"]) == week["linked"], week
        for r in week["byRole"]:
            assert r["linked"] == counted.get((week["weekStart"], r["role"]), 0), (week, r)
    # Every link of the window is in it: the per-role sums are the rows' counts.
    first = found["weekly"][0]["weekStart"]
    for role in roles:
        assert sum(
            w_r["linked"] for w in found["weekly"] for w_r in w["byRole"] if w_r["role"] == role
        ) == sum(n for (week, r), n in counted.items() if r == role and week >= first)
    return list(found["weekly"])


def shares(week: dict[str, Any]) -> dict[str, int]:
    return {r["role"]: r["linked"] for r in week["byRole"]}


async def test_weekly_links_by_role_follow_links_role_changes_and_deletes(api: Api, tmp_path: Path) -> None:
    clock.set_now(WEDNESDAY)
    await add_roster(api, tmp_path, 12)  # move000, 003, 006, 009 are pro se; the others attorneys
    await link(api, "move000", "pass-move-0", "linkerzero")
    await link(api, "move001", "pass-move-1", "linkerone1")
    await link(api, "move002", "pass-move-2", "linkertwo2")
    clock.set_now(WEDNESDAY + dt.timedelta(days=7, hours=3))
    await link(api, "move003", "pass-move-3", "linkerthre")
    await link(api, "move004", "pass-move-4", "linkerfour")
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)

    weeks = await weekly_by_role(api, clerk, 3)
    assert [w["weekStart"] for w in weeks] == ["2026-12-28", "2027-01-04", "2027-01-11"]
    assert [shares(w) for w in weeks] == [
        {"ATTORNEY": 0, "PRO_SE": 0, "MEDIA": 0},
        {"ATTORNEY": 2, "PRO_SE": 1, "MEDIA": 0},
        {"ATTORNEY": 1, "PRO_SE": 1, "MEDIA": 0},
    ]
    # The whole history the API keeps (the demo's links too) is the rows' count, week by week.
    assert len(await weekly_by_role(api, clerk, 520)) == 520

    # A linked account's role changes: its link moves to the new role's count of its week.
    await sql(
        api,
        "UPDATE cmecf_accounts SET role = 'media' WHERE court_id = 'mad' AND login = 'move001' RETURNING 1",
    )
    weeks = await weekly_by_role(api, clerk, 3)
    assert shares(weeks[1]) == {"ATTORNEY": 1, "PRO_SE": 1, "MEDIA": 1} and weeks[1]["linked"] == 3
    # A change that leaves the link alone (an email) moves nothing.
    await sql(api, "UPDATE cmecf_accounts SET email = 'x@example.com' WHERE login = 'move003' RETURNING 1")
    assert await weekly_by_role(api, clerk, 3) == weeks

    # A linked account deleted (with its link): its week's count goes down.
    for statement in [
        "DELETE FROM cmecf_links WHERE cmecf_account_id IN (SELECT id FROM cmecf_accounts WHERE login = 'move004')",
        "DELETE FROM cmecf_accounts WHERE court_id = 'mad' AND login = 'move004'",
    ]:
        await sql(api, statement + " RETURNING 1")
    weeks = await weekly_by_role(api, clerk, 3)
    assert shares(weeks[2]) == {"ATTORNEY": 0, "PRO_SE": 1, "MEDIA": 0} and weeks[2]["linked"] == 1
    # The per-role totals agree with the role counts (what the chart's lines end at).
    totals = (await api.data(BY_ROLE, {"w": 520}, court="mad", token=clerk))["court"]["linkingProgress"]
    for role in totals["byRole"]:
        assert role["linked"] == sum(
            n for (_, r), n in (await links_by_week_and_role(api)).items() if r == role["role"]
        )

    # Only the court's clerks: a filer and another court's clerk get null, not the weeks.
    for token in (await api.sign_in(*FILER), await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)):
        data = await api.data(BY_ROLE, {"w": 3}, court="mad", token=token)
        assert data["court"] == {"linkingProgress": None}


async def run_jobs(api: Api, **kw: Any) -> int:
    return await reminders.run_pending(api.app.state.courts.current, Mailer(api.settings.mail_dir), **kw)


def mailed(api: Api, prefix: str = "move") -> Counter[str]:
    return Counter(str(m["To"]) for m in api.mails() if str(m["To"]).startswith(prefix))


async def test_reminders_count_send_once_and_keep_seven_days(quiet_api: Api, tmp_path: Path) -> None:
    api = quiet_api
    clock.set_now(WEDNESDAY)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    logins = await add_roster(api, tmp_path, 9, email_every=3)  # move000, move003, move006 have an email
    await link(api, "move003", "pass-move-3", "linkerthre")
    before = mailed(api)

    # A dry run counts and sends nothing; no job.
    dry = (await api.data(SEND, {"i": {"dryRun": True}}, court="mad", token=clerk))["sendLinkingReminders"]
    reachable = await sql(
        api,
        "SELECT COUNT(*) FROM cmecf_accounts WHERE court_id = 'mad' AND linked_at IS NULL AND email <> ''",
    )
    unlinked = await sql(
        api, "SELECT COUNT(*) FROM cmecf_accounts WHERE court_id = 'mad' AND linked_at IS NULL"
    )
    assert dry["job"] is None and dry["errors"] == []
    assert dry["recipients"] == reachable[0][0] and dry["recipients"] + dry["skipped"] == unlinked[0][0]
    only_pro_se = (
        await api.data(SEND, {"i": {"dryRun": True, "roles": ["PRO_SE"]}}, court="mad", token=clerk)
    )["sendLinkingReminders"]
    assert only_pro_se["recipients"] < dry["recipients"]
    assert await run_jobs(api) == 0 and mailed(api) == before

    # Refusals send nothing: a role mad does not accept, a filer, another court's clerk.
    refused = (await api.data(SEND, {"i": {"roles": ["CREDITOR"]}}, court="mad", token=clerk))[
        "sendLinkingReminders"
    ]
    assert refused["errors"] == [{"code": "ROLE_NOT_ACCEPTED", "field": "roles"}] and refused["job"] is None
    for token in (await api.sign_in(*FILER), await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)):
        refused = (await api.data(SEND, {"i": {}}, court="mad", token=token))["sendLinkingReminders"]
        assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]

    # The job: counted at start, one per court.
    started = (await api.data(SEND, {"i": {}}, court="mad", token=clerk))["sendLinkingReminders"]
    assert started["errors"] == [] and started["recipients"] == dry["recipients"]
    job = started["job"]
    assert job["state"] == "QUEUED" and job["total"] == dry["recipients"] and job["sent"] == 0
    assert job["startedBy"]["username"] == CLERKS["mad"]
    again = (await api.data(SEND, {"i": {}}, court="mad", token=clerk))["sendLinkingReminders"]
    assert again["errors"] == [{"code": "REMINDER_JOB_RUNNING", "field": None}] and again["job"] is None
    assert await run_jobs(api) == 1
    state = (await api.data(JOB, court="mad", token=clerk))["court"]["reminderJob"]
    assert state["state"] == "DONE" and state["sent"] == state["total"] == dry["recipients"]
    assert state["finishedAt"] is not None

    # Each reachable account mailed once: the court, the legacy login, the two steps, the help desk.
    counts = mailed(api) - before
    assert set(counts.values()) == {1}
    assert {"move000@example.com", "move006@example.com"} <= set(counts)
    assert "move003@example.com" not in counts  # linked
    message = next(m for m in api.mails("move006@example.com"))
    body = message.get_content()
    assert "U.S. District Court for the District of Massachusetts" in body
    assert "Legacy login: move006" in body
    assert body.index("Upgrade") < body.index("Link this legacy login")
    assert "866-239-6233" in body
    assert await AuditEvent.filter(action="reminders.start", court_id="mad").count() == 1

    # The week's reminders, kept; the export says when each was reminded.
    weekly = (await api.data(PROGRESS, {"w": 1}, court="mad", token=clerk))["court"]["linkingProgress"][
        "weekly"
    ]
    assert weekly[0]["remindersSent"] == dry["recipients"]

    # The 7-day rule across jobs: nobody to remind six days later, everyone again after seven.
    clock.set_now(WEDNESDAY + dt.timedelta(days=6))
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    later = (await api.data(SEND, {"i": {"dryRun": True}}, court="mad", token=clerk))["sendLinkingReminders"]
    assert later["recipients"] == 0 and later["skipped"] == unlinked[0][0]
    empty = (await api.data(SEND, {"i": {}}, court="mad", token=clerk))["sendLinkingReminders"]
    assert empty["job"]["total"] == 0
    assert await run_jobs(api) == 1 and mailed(api) - before == counts
    clock.set_now(WEDNESDAY + dt.timedelta(days=7, seconds=1))
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    week_on = (await api.data(SEND, {"i": {"dryRun": True}}, court="mad", token=clerk))[
        "sendLinkingReminders"
    ]
    assert week_on["recipients"] == dry["recipients"]
    assert len(logins) == 9


class Crash(Exception):
    pass


async def test_a_reminder_job_interrupted_and_resumed_mails_nobody_twice(
    quiet_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = quiet_api
    monkeypatch.setattr(reminders, "BATCH", 4)
    clock.set_now(WEDNESDAY)
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    await add_roster(api, tmp_path, 15)
    before = mailed(api, "")
    started = (await api.data(SEND, {"i": {}}, court="mad", token=clerk))["sendLinkingReminders"]
    total = started["job"]["total"]
    assert total >= 15

    # The process dies after its second batch committed, before that batch was mailed.
    batches = 0

    async def die(point: str) -> None:
        nonlocal batches
        if point == "recorded":
            batches += 1
            if batches == 2:
                raise Crash()

    with pytest.raises(Crash):
        await run_jobs(api, crash=die)
    state = (await api.data(JOB, court="mad", token=clerk))["court"]["reminderJob"]
    assert state["state"] == "RUNNING" and state["sent"] == 8
    assert sum((mailed(api, "") - before).values()) == 4  # the first batch only
    # Another worker cannot take it while the lease holds; once it ran out, one resumes it.
    assert await run_jobs(api) == 0
    clock.set_now(WEDNESDAY + reminders.LEASE + dt.timedelta(seconds=1))
    assert await run_jobs(api) == 1
    counts = mailed(api, "") - before
    assert set(counts.values()) == {1} and sum(counts.values()) == total
    state = (await api.data(JOB, court="mad", token=clerk))["court"]["reminderJob"]
    assert state == {"state": "DONE", "total": total, "sent": total, "finishedAt": state["finishedAt"]}

    # A crash between claiming a reminder and handing it to the mailer loses that mail and
    # never sends it twice (at most once).
    clock.set_now(WEDNESDAY + dt.timedelta(days=8))
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    await api.data(SEND, {"i": {}}, court="mad", token=clerk)
    claims = 0

    async def die_once_claimed(point: str) -> None:
        nonlocal claims
        if point == "claimed":
            claims += 1
            if claims == 3:
                raise Crash()

    before = mailed(api, "")
    with pytest.raises(Crash):
        await run_jobs(api, crash=die_once_claimed)
    clock.set_now(WEDNESDAY + dt.timedelta(days=8) + reminders.LEASE + dt.timedelta(seconds=1))
    assert await run_jobs(api) == 1
    counts = mailed(api, "") - before
    assert set(counts.values()) == {1} and sum(counts.values()) == total - 1


async def test_a_started_job_runs_in_the_background(api: Api, tmp_path: Path) -> None:
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    await add_roster(api, tmp_path, 5, prefix="bg")
    started = (await api.data(SEND, {"i": {"roles": ["ATTORNEY", "PRO_SE"]}}, court="mad", token=clerk))[
        "sendLinkingReminders"
    ]
    assert started["errors"] == []
    for _ in range(200):
        job = (await api.data(JOB, court="mad", token=clerk))["court"]["reminderJob"]
        if job["state"] == "DONE":
            break
        await asyncio.sleep(0.05)
    assert job["state"] == "DONE" and job["sent"] == job["total"] == started["recipients"]
    assert set(mailed(api, "bg").values()) == {1} and len(mailed(api, "bg")) == 5


CSV_HEADER = ["login", "first_name", "last_name", "email", "role", "cases", "reminded_at"]


async def test_the_unlinked_export(api: Api, tmp_path: Path) -> None:
    from nextgen_gql.services import exports

    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    await add_roster(api, tmp_path, 7, prefix="exp")
    await link(api, "exp001", "pass-exp-1", "linkerexp1")
    path = "/courts/mad/exports/unlinked.csv"
    response = await api.client.get(path, headers={"Authorization": f"Bearer {clerk}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == CSV_HEADER
    unlinked = await sql(
        api,
        "SELECT login FROM cmecf_accounts WHERE court_id = 'mad' AND linked_at IS NULL ORDER BY login_key, id",
    )
    assert [r[0] for r in rows[1:]] == [str(r[0]) for r in unlinked]
    exp2 = next(r for r in rows if r[0] == "exp002")
    assert exp2 == ["exp002", "First2", "Last2", "exp002@example.com", "ATTORNEY", "", ""]
    assert "exp001" not in [r[0] for r in rows]

    # Batched the same (a batch smaller than the rows).
    small = b"".join([chunk async for chunk in exports.unlinked_csv("mad", batch=2)])
    assert small.decode() == response.text

    # The cookie works too.
    api.client.cookies.set("NextGenCSO", clerk)
    by_cookie = await api.client.get(path)
    api.client.cookies.clear()
    assert by_cookie.status_code == 200 and by_cookie.text == response.text

    # Nobody, a filer, another court's clerk: refused.
    assert (await api.client.get(path)).status_code == 401
    assert (await api.client.get(path, headers={"Authorization": "Bearer nonsense"})).status_code == 401
    filer = await api.sign_in(*FILER)
    assert (await api.client.get(path, headers={"Authorization": f"Bearer {filer}"})).status_code == 403
    other = await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)
    refused = await api.client.get(path, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api.client.get("/courts/nowhere/exports/unlinked.csv")).status_code == 404

    # The court's service keys: READ_ROSTER may, another scope may not.
    make = """mutation($i: CreateCourtServiceKeyInput!) { createCourtServiceKey(input: $i) { secret errors { code } } }"""
    roster_key = await api.data(
        make, {"i": {"name": "roster", "scopes": ["READ_ROSTER"]}}, court="mad", token=clerk
    )
    usage_key = await api.data(
        make, {"i": {"name": "usage", "scopes": ["RECORD_USAGE"]}}, court="mad", token=clerk
    )
    keyed = await api.client.get(
        path, headers={"Authorization": f"Bearer {roster_key['createCourtServiceKey']['secret']}"}
    )
    assert keyed.status_code == 200 and keyed.text == response.text
    no_scope = await api.client.get(
        path, headers={"Authorization": f"Bearer {usage_key['createCourtServiceKey']['secret']}"}
    )
    assert no_scope.status_code == 403


async def test_node_resolves_a_reminder_job_for_the_courts_clerks_only(
    quiet_api: Api, tmp_path: Path
) -> None:
    """``node(id:)`` answers a ReminderJob as ``Court.reminderJob`` does: to that court's clerks
    (at any endpoint), and null to a filer, another court's clerk, a service key and anyone."""
    from tests.api.test_service_keys import make_key

    api = quiet_api
    clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    await add_roster(api, tmp_path, 3, prefix="nd")
    started = (await api.data(SEND, {"i": {"roles": ["ATTORNEY"]}}, court="mad", token=clerk))[
        "sendLinkingReminders"
    ]
    assert started["errors"] == [] and started["job"]["state"] == "QUEUED"
    job_id = started["job"]["id"]
    node = """query($id: ID!) { node(id: $id) { __typename id
      ... on ReminderJob { state total sent startedBy { username } } } }"""
    expected = {
        "__typename": "ReminderJob",
        "id": job_id,
        "state": "QUEUED",
        "total": started["recipients"],
        "sent": 0,
        "startedBy": {"username": CLERKS["mad"]},
    }
    for endpoint in ("mad", None, "ca1"):
        assert (await api.data(node, {"id": job_id}, court=endpoint, token=clerk)) == {"node": expected}
    assert await run_jobs(api) == 1
    done = (await api.data(node, {"id": job_id}, court="mad", token=clerk))["node"]
    assert done["state"] == "DONE" and done["sent"] == done["total"] == started["recipients"]
    # The same job as Court.reminderJob shows it.
    latest = (await api.data("{ court { reminderJob { id } } }", court="mad", token=clerk))["court"]
    assert latest["reminderJob"]["id"] == job_id
    filer = await api.sign_in(*FILER)
    other_clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)
    secret, _ = await make_key(api, clerk, "mad", "roster feed", "READ_ROSTER")
    for token in (filer, other_clerk, None):
        assert (await api.data(node, {"id": job_id}, court="mad", token=token)) == {"node": None}
    assert (await api.data(node, {"id": job_id}, court="mad", token=secret)) == {"node": None}
    # An id of a job that does not exist, and one that is not a job's, answer null too.
    from nextgen_gql.api.ids import encode_id

    for missing in (encode_id("ReminderJob", 987654), encode_id("ReminderJob", "x")):
        assert (await api.data(node, {"id": missing}, court="mad", token=clerk)) == {"node": None}
