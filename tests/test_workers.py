"""Several worker processes on one port, on PostgreSQL: nothing shared lives in a process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.conftest import FILER
from tests.test_server import gql, serving, workers_of

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(databases.backend() != "postgres", reason="several workers need PostgreSQL"),
]

PASSWORD = "Harbor-Signal-Evening-5"


def test_two_workers_serve_the_demo_and_the_database_decides_races(
    tmp_path: Path, fresh_database_url: str
) -> None:
    with serving(tmp_path, "--demo", "--workers", "2", database_url=fresh_database_url) as base:
        # Sessions live in the database: a token made by one worker works on the other.
        tokens = []
        for i in range(6):
            username = f"worker{i}racer"
            gql(
                base,
                """mutation($u: String!, $p: String!) { registerPacerAccount(input: {username: $u, password: $p,
                firstName: "Wor", lastName: "Ker", email: "w@example.org"}) { errors { code } } }""",
                {"u": username, "p": PASSWORD},
            )
            signed = gql(
                base,
                "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
                {"u": username, "p": PASSWORD},
            )
            tokens.append(signed["signIn"]["token"])  # type: ignore[index]
        for token in tokens * 2:
            assert gql(base, "{ me { lastName } }", token=token) == {"me": {"lastName": "Ker"}}

        link = """mutation { linkCmecfAccount(input: {login: "kchen", password: "legacy-ecf-pass", confirm: true}) {
          errors { code } } }"""

        def attempt(token: str) -> list[str]:
            response = httpx.post(
                f"{base}/courts/mad/graphql",
                json={"query": link},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            return [e["code"] for e in response.json()["data"]["linkCmecfAccount"]["errors"]]

        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            results = list(pool.map(attempt, tokens))
        assert sum(r == [] for r in results) == 1, results
        assert sorted(c for r in results for c in r) == ["CMECF_ALREADY_LINKED"] * 5
        signed = gql(
            base,
            "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
            {"u": FILER[0], "p": FILER[1]},
        )
        assert signed["signIn"]["token"]  # type: ignore[index]
    # One link of kchen's legacy account (the demo's own links, its move to NextGen, aside).
    linked = databases.query(
        fresh_database_url,
        "SELECT count(*) FROM cmecf_links l JOIN cmecf_accounts c ON c.id = l.cmecf_account_id"
        " WHERE c.court_id = 'mad' AND c.login_key = 'kchen'",
    )
    assert linked == [(1,)]


def test_a_revocation_holds_on_every_worker_at_once(tmp_path: Path, fresh_database_url: str) -> None:
    """Permissions are read from the database on each request: no worker keeps a stale one."""
    sign_in = "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p,\n redactionAcknowledged: true}) { token } }"
    can_file = '{ me { canFile(court: "mad", caseNumber: "1:25-cv-10234") privileges { id permissions } } }'
    with serving(tmp_path, "--demo", "--workers", "2", database_url=fresh_database_url) as base:
        ravi = gql(base, sign_in, {"u": "rpatel2022", "p": "Silver-Harbor-Docket-64"})["signIn"]["token"]  # type: ignore[index]
        clerk = gql(base, sign_in, {"u": "madclerk01", "p": "Court-Docket-Review-2026!"})["signIn"]["token"]  # type: ignore[index]

        def ask(_: int) -> dict[str, object]:
            return gql(base, can_file, token=str(ravi))["me"]  # type: ignore[return-value]

        # Requests at once, so that both workers answer.
        with ThreadPoolExecutor(max_workers=8) as pool:
            before = list(pool.map(ask, range(24)))
        assert all(me["canFile"] is True for me in before), before
        [privilege] = before[0]["privileges"]  # type: ignore[misc]
        revoked = gql(
            base,
            'mutation($id: ID!) { revokeFilingPrivilege(input: {id: $id, reason: "Admission ended."}) { errors { code } } }',
            {"id": privilege["id"]},
            court="mad",
            token=str(clerk),
        )
        assert revoked == {"revokeFilingPrivilege": {"errors": []}}
        with ThreadPoolExecutor(max_workers=8) as pool:
            after = list(pool.map(ask, range(24)))
        assert all(me["canFile"] is False for me in after), after
        assert all(me["privileges"] == [{"id": privilege["id"], "permissions": []}] for me in after)


def test_a_revoked_service_key_stops_on_every_worker_at_once(tmp_path: Path, fresh_database_url: str) -> None:
    """A key's row is read on each request: revoking it ends it on both workers, at once."""
    sign_in = "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }"
    roster = "{ cmecfAccounts(first: 1) { totalCount } }"
    with serving(tmp_path, "--demo", "--workers", "2", database_url=fresh_database_url) as base:
        clerk = str(
            gql(base, sign_in, {"u": "madclerk01", "p": "Court-Docket-Review-2026!"})["signIn"]["token"]
        )  # type: ignore[index]
        made = gql(
            base,
            'mutation { createCourtServiceKey(input: {name: "sync", scopes: [READ_ROSTER]}) { key { id } secret } }',
            court="mad",
            token=clerk,
        )["createCourtServiceKey"]
        secret = str(made["secret"])  # type: ignore[index]

        def status(_: int) -> int:
            return httpx.post(
                f"{base}/courts/mad/graphql",
                json={"query": roster},
                headers={"authorization": f"Bearer {secret}"},
            ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(status, range(24))) == {200}
        revoked = gql(
            base,
            "mutation($id: ID!) { revokeCourtServiceKey(id: $id) { ok } }",
            {"id": made["key"]["id"]},  # type: ignore[index]
            court="mad",
            token=clerk,
        )
        assert revoked == {"revokeCourtServiceKey": {"ok": True}}
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(status, range(24))) == {401}


def test_a_revoked_session_stops_at_once_on_every_worker(tmp_path: Path, fresh_database_url: str) -> None:
    """Sessions are read from the database on each request: a revoked token works on no worker."""
    sign_in = "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }"
    with serving(tmp_path, "--demo", "--workers", "2", database_url=fresh_database_url) as base:
        laptop, phone = (
            str(gql(base, sign_in, {"u": FILER[0], "p": FILER[1]})["signIn"]["token"])  # type: ignore[index]
            for _ in range(2)
        )

        def ask(_: int) -> object:
            return gql(base, "{ me { username } }", token=phone)["me"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(me == {"username": FILER[0]} for me in pool.map(ask, range(24)))
        sessions = gql(base, "{ me { sessions { id current } } }", token=laptop)["me"]["sessions"]  # type: ignore[index]
        phone_id = next(s["id"] for s in sessions if not s["current"])  # type: ignore[attr-defined]
        revoked = gql(
            base, "mutation($id: ID!) { revokeSession(id: $id) { ok } }", {"id": phone_id}, token=laptop
        )
        assert revoked == {"revokeSession": {"ok": True}}

        def status(_: int) -> int:  # a revoked bearer token is refused: 401 (tests/api/test_tokens.py)
            return httpx.post(
                f"{base}/graphql",
                json={"query": "{ me { username } }"},
                headers={"authorization": f"Bearer {phone}"},
            ).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(status, range(24))) == {401}


def test_every_worker_counts_in_the_metrics(tmp_path: Path, fresh_database_url: str) -> None:
    """prometheus-client's multiprocess mode: each worker writes its counts, any worker
    answers a scrape with the sum of all of them."""
    from prometheus_client.mmap_dict import MmapedDict
    from prometheus_client.parser import text_string_to_metric_families

    shared = tmp_path / "metrics"
    query = "query Kinds { courts { code kind } }"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with serving(tmp_path, "--workers", "2", database_url=fresh_database_url, env=env) as base:
        workers = workers_of(base.process.pid)

        def ask(_: int) -> int:
            return httpx.post(f"{base}/graphql", json={"query": query}, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(ask, range(80))) == {200}
        by_worker = {}
        for pid in workers:
            found = shared / f"counter_{pid}.db"
            if not found.exists():
                continue
            counts = MmapedDict(str(found), read_mode=True)
            try:
                values = list(counts.read_all_values())
            finally:
                counts.close()
            # "Kinds" is no registered operation, so it is counted as "(other)" (made-up names
            # never become labels); nothing else runs GraphQL against this fresh database.
            by_worker[pid] = sum(v for key, v, _ in values if '"(other)"' in key and "requests_total" in key)
        # Both workers answered, both counted (workers_of also lists multiprocessing's helper).
        assert sum(1 for counted in by_worker.values() if counted > 0) == 2, by_worker
        assert sum(by_worker.values()) == 80
        for _ in range(4):  # whichever worker answers the scrape gives the sum
            text = httpx.get(f"{base}/metrics", timeout=30).text
            samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
            counted = sum(
                s.value
                for s in samples
                if s.name == "nextgen_gql_requests_total" and s.labels["operation"] == "(other)"
            )
            assert counted == 80
            pool_size = sum(s.value for s in samples if s.name == "nextgen_gql_db_connections")
            assert pool_size >= 2  # each live worker's pool, summed
    assert list(shared.glob("*.db")) == []
