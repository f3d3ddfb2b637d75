"""The court catalog in the database, applied and followed live (in-process; the
cross-process test with real servers is tests/test_live_courts.py)."""

from __future__ import annotations

import json
from pathlib import Path

from nextgen_gql.models import AuditEvent, CmecfAccount, CourtCatalog, FilingPrivilege
from nextgen_gql.services import court_catalog
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import load_courts
from tests.conftest import Api, running_api, write_tenant

RAVI = ("rpatel2022", "Silver-Harbor-Docket-64")
CAN_FILE = '{ me { canFile(court: "mad", caseNumber: "1:25-cv-10234") } }'
NYSD = """code = "nysd"
name = "Southern District of New York"
kind = "district"
nextgen_since = 2022-05-02
accepted_roles = ["attorney", "pro_se"]
hosts = ["ecf.nysd.uscourts.gov"]
"""


async def applied(api: Api, folder: Path) -> court_catalog.CatalogPlan:
    plan, version = await court_catalog.apply(load_courts(folder))
    live = api.app.state.courts
    await live.refresh()  # what the version check or LISTEN does within 2 s (it may have already)
    assert live.current.version == version
    return plan


async def test_a_court_added_changed_and_retired_is_served_at_once(
    settings: Settings, tenants_copy: Path
) -> None:
    async with running_api(settings.with_(tenants_dir=tenants_copy)) as api:
        # Kept answers (the whole `courts` answer is kept per catalog version) never go stale.
        assert "nysd" not in [c["code"] for c in (await api.data("{ courts { code } }"))["courts"]]
        write_tenant(tenants_copy, "nysd", NYSD)
        plan = await applied(api, tenants_copy)
        assert [c.code for c in plan.added] == ["nysd"] and not plan.retired
        assert "nysd" in [c["code"] for c in (await api.data("{ courts { code } }"))["courts"]]
        assert (await api.data("{ court { name acceptedRoles } }", court="nysd"))["court"] == {
            "name": "Southern District of New York",
            "acceptedRoles": ["ATTORNEY", "PRO_SE"],
        }
        by_host = await api.client.post(
            "/graphql", json={"query": "{ court { code } }"}, headers={"host": "ecf.nysd.uscourts.gov"}
        )
        assert by_host.json() == {"data": {"court": {"code": "nysd"}}}

        (tenants_copy / "nysd.toml").write_text(NYSD.replace('"attorney", "pro_se"', '"attorney"'))
        plan = await applied(api, tenants_copy)
        assert plan.lines() == ['~ nysd: accepted_roles: ["attorney", "pro_se"] -> ["attorney"]']
        assert (await api.data("{ court { acceptedRoles } }", court="nysd"))["court"]["acceptedRoles"] == [
            "ATTORNEY"
        ]

        (tenants_copy / "nysd.toml").unlink()
        plan = await applied(api, tenants_copy)
        assert plan.retired == ("nysd",)
        gone = await api.post("{ court { code } }", court="nysd")
        assert gone.status_code == 404 and gone.json()["errors"][0]["extensions"]["code"] == "UNKNOWN_COURT"
        assert "nysd" not in [c["code"] for c in (await api.data("{ courts { code } }"))["courts"]]
        event = await AuditEvent.filter(action="courts.apply").order_by("-id").first()
        assert event is not None and json.loads(event.detail or "{}")["retired"] == ["nysd"]


async def test_retiring_keeps_everything_and_applying_the_file_again_brings_it_back(
    settings: Settings, tenants_copy: Path
) -> None:
    async with running_api(settings.with_(tenants_dir=tenants_copy)) as api:
        token = await api.sign_in(*RAVI, redactionAcknowledged=True)  # pro hac vice at mad, in one case
        query = "{ me { privileges { court { code name } role } } }"
        before = await api.data(query, token=token)
        assert "mad" in [p["court"]["code"] for p in before["me"]["privileges"]]
        roster = await CmecfAccount.filter(court_id="mad").count()
        privileges = await FilingPrivilege.filter(court_id="mad").count()
        mad = (tenants_copy / "mad.toml").read_text()
        (tenants_copy / "mad.toml").unlink()
        await applied(api, tenants_copy)
        refused = await api.post("{ cmecfAccounts(first: 1) { totalCount } }", court="mad", token=token)
        assert refused.status_code == 404
        # Nothing was deleted; what is kept still describes its court.
        assert await CmecfAccount.filter(court_id="mad").count() == roster
        assert await FilingPrivilege.filter(court_id="mad").count() == privileges
        assert await api.data(query, token=token) == before
        can = await api.gql(CAN_FILE, token=token)
        assert can["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # not served: no one files there
        write_tenant(tenants_copy, "mad", mad)
        plan = await applied(api, tenants_copy)
        assert [c.code for c in plan.restored] == ["mad"]
        assert (await api.data(CAN_FILE, token=token))["me"]["canFile"] is True


async def test_a_bad_file_refuses_the_whole_apply(settings: Settings, tenants_copy: Path) -> None:
    from nextgen_gql.cli import main

    async with running_api(settings.with_(tenants_dir=tenants_copy)):
        version = (await CourtCatalog.get(id=1)).version
    write_tenant(tenants_copy, "nysd", NYSD)
    write_tenant(
        tenants_copy, "bad", 'code = "bad"\nname = "B"\nkind = "galactic"\naccepted_roles = ["attorney"]\n'
    )
    import asyncio

    status = await asyncio.to_thread(
        main,
        ["--database-url", settings.direct_url, "--tenants-dir", str(tenants_copy), "tenants", "apply"],
    )
    assert status == 2
    async with running_api(settings.with_(tenants_dir=None)) as api:
        assert (await CourtCatalog.get(id=1)).version == version
        assert "nysd" not in [c["code"] for c in (await api.data("{ courts { code } }"))["courts"]]


async def test_an_empty_tenants_dir_serves_what_the_database_holds(
    settings: Settings, tenants_copy: Path
) -> None:
    write_tenant(tenants_copy, "nysd", NYSD)
    async with running_api(settings.with_(tenants_dir=tenants_copy)):
        pass  # applies the folder, nysd included
    (tenants_copy / "nysd.toml").unlink()  # a folder elsewhere: not read any more
    async with running_api(settings.with_(tenants_dir=None)) as api:
        codes = [c["code"] for c in (await api.data("{ courts { code } }"))["courts"]]
        assert codes == ["ca1", "mab", "mad", "nysd"]


async def test_every_process_hears_an_apply_and_the_listener_reconnects(
    settings: Settings, tenants_copy: Path
) -> None:
    """Another process's view: a LiveCourts of its own hears the apply (LISTEN on PostgreSQL,
    the version check on SQLite), also after its LISTEN connection was cut, and tells its
    subscribers (the courtsChanged subscription's source) what changed."""
    import asyncio

    from tortoise import connections

    async with running_api(settings.with_(tenants_dir=tenants_copy)) as api:
        postgres = settings.database_url.startswith("postgres")
        # Only LISTEN can wake it this fast on PostgreSQL: its version check is set to a minute.
        other = court_catalog.LiveCourts(
            await court_catalog.load_registry(),
            database_url=settings.direct_url,
            poll_seconds=60.0 if postgres else 0.5,
        )
        await other.start()
        changes = other.changes()
        heard = asyncio.ensure_future(anext(changes))
        try:
            if postgres:
                await asyncio.sleep(0.5)  # listening
                client = connections.get("default")
                _, cut = await client.execute_query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%nextgen_courts%'"
                )
                assert len(cut) >= 2  # this process's listener, and the other's
                await asyncio.sleep(0.5)  # reconnected
            write_tenant(tenants_copy, "nysd", NYSD)
            await court_catalog.apply(load_courts(tenants_copy))
            change = await asyncio.wait_for(heard, 2.0)
            assert change.added == ("nysd",) and change.retired == ()
            assert "nysd" in other.current
        finally:
            heard.cancel()
            await changes.aclose()
            await other.stop()
        assert api.app.state.courts.current.version <= change.version
