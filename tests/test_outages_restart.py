"""Database outages, for real (issue 31, item 2; PostgreSQL): ``nextgen-gql serve --workers 2``
under a steady stream of ``recordUsage`` writes from a court's service key, while

- a PostgreSQL server of the test's own (never the suite's shared one) restarts
  (``pg_ctl restart -m fast``): no 500, answers during the outage 503 ``DATABASE_UNAVAILABLE``
  with ``Retry-After`` (or the code as a field error, for a write that may have happened),
  ``/readyz`` 503 then 200, every acknowledged write kept, service back without a restart;
- a worker is killed with SIGKILL: the supervisor starts another, nothing acknowledged is lost.

Each failed or unanswered write is resent with its idempotency key at the end: each item is
then billed exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import databases
from tests.api.firm_helpers import JAMES_NUMBER
from tests.conftest import CLERK_PASSWORD, CLERKS
from tests.test_server import free_port, gql, serving, workers_of

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        databases.backend() != "postgres", reason="the PostgreSQL leg (NEXTGEN_GQL_TEST_POSTGRES)"
    ),
]

USAGE = (
    f'mutation($k: String!) {{ recordUsage(input: {{accountNumber: "{JAMES_NUMBER}", kind: DOCUMENT, pages: 1, '
    "idempotencyKey: $k}) { charge { idempotencyKey } errors { code } } }"
)
ROSTER = "{ cmecfAccounts(first: 1) { totalCount } }"
#: The hour's points would run out under a steady stream of writes.
PLENTY = {"NEXTGEN_GQL_RATE_LIMIT_POINTS": "10000000"}
#: A new database is migrated and the demo loaded before the server answers: slow on a busy machine.
START = 300


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    return found[-1]


class Cluster:
    """A throwaway PostgreSQL cluster of the test's own (as scripts/pg-cluster makes one)."""

    def __init__(self, folder: Path) -> None:
        self.bin = _pg_bin()
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _options(self) -> str:
        return (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=100 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            subprocess.run(["chown", "postgres:", str(self.folder)], check=True)
        self._run(
            "initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-locale"
        )
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        # -l: the server's output to a file (a pipe left open would hold subprocess.run).
        log = str(self.folder / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", *extra, "-o", self._options(), action
        )

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@contextmanager
def own_cluster() -> Iterator[Cluster]:
    # Not under pytest's folder: the server runs as the postgres user, who cannot enter root's.
    folder = Path(tempfile.mkdtemp(prefix="nextgen-gql-pg-"))
    cluster = Cluster(folder)
    try:
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Writes:
    """A stream of recordUsage writes from several threads, each answer kept."""

    base: str
    secret: str
    threads: int = 4
    acknowledged: set[str] = field(default_factory=set)
    unacknowledged: set[str] = field(default_factory=set)
    answers: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    last_ok: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _one(self, client: httpx.Client, key: str) -> None:
        try:
            response = client.post(
                f"{self.base}/courts/mad/graphql",
                json={"query": USAGE, "variables": {"k": key}},
                headers={"authorization": f"Bearer {self.secret}"},
            )
        except httpx.TransportError as exc:  # a killed worker's connections: no answer, not acknowledged
            with self._lock:
                self.unacknowledged.add(key)
                self.answers[f"no answer ({type(exc).__name__})"] += 1
            return
        with self._lock:
            self._judge(key, response)

    def _judge(self, key: str, response: httpx.Response) -> None:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            self.problems.append(f"{status} not JSON: {response.text[:200]}")
            self.unacknowledged.add(key)
            return
        errors = body.get("errors") or []
        codes = [e.get("extensions", {}).get("code") for e in errors]
        self.answers[f"{status} {','.join(codes) or 'ok'}"] += 1
        if status == 200 and not errors and body["data"]["recordUsage"]["charge"]["idempotencyKey"] == key:
            self.acknowledged.add(key)
            self.last_ok = time.monotonic()
            return
        self.unacknowledged.add(key)
        if status == 503:
            if codes != ["DATABASE_UNAVAILABLE"] or response.headers.get("retry-after") != "1":
                self.problems.append(f"503 {codes} retry-after={response.headers.get('retry-after')}")
        elif status == 200:  # a write that may have happened: its field's error
            if codes != ["DATABASE_UNAVAILABLE"] or [e.get("path") for e in errors] != [["recordUsage"]]:
                self.problems.append(f"200 with {errors}")
        else:
            self.problems.append(f"{status}: {response.text[:300]}")

    def _run(self, name: str) -> None:
        with httpx.Client(timeout=30) as client:
            i = 0
            while not self._stop.is_set():
                i += 1
                self._one(client, f"{name}-{i}")

    @contextmanager
    def running(self) -> Iterator[Writes]:
        workers = [threading.Thread(target=self._run, args=(f"w{n}",)) for n in range(self.threads)]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self._stop.set()
            for worker in workers:
                worker.join(60)

    def resend_the_unacknowledged(self) -> None:
        with httpx.Client(timeout=30) as client:
            for key in sorted(self.unacknowledged):
                response = client.post(
                    f"{self.base}/courts/mad/graphql",
                    json={"query": USAGE, "variables": {"k": key}},
                    headers={"authorization": f"Bearer {self.secret}"},
                )
                assert response.status_code == 200, response.text
                assert response.json()["data"]["recordUsage"]["charge"]["idempotencyKey"] == key


def service_key(base: str) -> str:
    signed = gql(
        base,
        "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
        {"u": CLERKS["mad"], "p": CLERK_PASSWORD},
    )
    made = gql(
        base,
        """mutation { createCourtServiceKey(input: {name: "billing feed", scopes: [RECORD_USAGE, READ_ROSTER]}) {
          secret errors { code } } }""",
        court="mad",
        token=signed["signIn"]["token"],  # type: ignore[index]
    )
    secret: str = made["createCourtServiceKey"]["secret"]  # type: ignore[index]
    return secret


def serving_workers(parent: int) -> set[int]:
    """uvicorn's live worker processes under ``parent`` (not multiprocessing's resource tracker,
    nor a killed worker not reaped yet)."""
    found = set()
    for pid in workers_of(parent):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z" and b"spawn_main" in command:
            found.add(pid)
    return found


def charged_keys(url: str) -> Counter[str]:
    rows = databases.query(url, "SELECT idempotency_key FROM charges WHERE idempotency_key IS NOT NULL")
    return Counter(str(row[0]) for row in rows)


def wait_for(what: str, check: Any, limit: float = 30) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            raise AssertionError(f"{what}: not within {limit} s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_database_restart_under_writes_answers_503s_loses_nothing_and_recovers(tmp_path: Path) -> None:
    with (
        own_cluster() as cluster,
        serving(
            tmp_path, "--demo", "--workers", "2", database_url=cluster.url, env=PLENTY, start_timeout=START
        ) as base,
    ):
        workers = serving_workers(base.process.pid)
        secret = service_key(base)
        ready: list[tuple[float, int]] = []
        roster: Counter[str] = Counter()
        stop_polling = threading.Event()

        def poll() -> None:
            # /readyz on a connection of its own, as a balancer's probe: a connection answered
            # 503 with Retry-After is not read again until then (admission.pacing).
            with httpx.Client(timeout=10) as probe, httpx.Client(timeout=10) as client:
                while not stop_polling.is_set():
                    try:
                        ready.append((time.monotonic(), probe.get(f"{base}/readyz").status_code))
                        answer = client.post(
                            f"{base}/courts/mad/graphql",
                            json={"query": ROSTER},
                            headers={
                                "authorization": f"Bearer {secret}",
                                "accept": "application/graphql-response+json",
                            },
                        )
                        codes = [e["extensions"]["code"] for e in answer.json().get("errors", [])]
                        roster[
                            f"{answer.status_code} {','.join(codes) or 'ok'} {answer.headers.get('retry-after')}"
                        ] += 1
                    except httpx.TransportError:
                        pass
                    time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        writes = Writes(base, secret)
        try:
            with writes.running():
                wait_for("writes acknowledged", lambda: len(writes.acknowledged) >= 20)
                restarted_at = time.monotonic()
                cluster.restart()
                restart_took = time.monotonic() - restarted_at
                back = wait_for(
                    "a write acknowledged after the restart",
                    lambda: writes.last_ok > restarted_at + restart_took,
                )
                time.sleep(1)
        finally:
            stop_polling.set()
            poller.join(30)
        print(  # the figures docs/operations.md quotes
            f"\nrestart took {restart_took:.2f} s; first acknowledged write {back:.2f} s after pg_ctl returned; "
            f"answers {dict(writes.answers)}; reads {dict(roster)}"
        )
        assert writes.problems == [], writes.problems[:10]
        assert not any(status.startswith("500") for status in writes.answers), writes.answers
        outage = {k for k in writes.answers if not k.startswith("200 ok")}
        assert outage, f"no write met the outage: {writes.answers}"
        assert all(
            k.startswith("503 DATABASE_UNAVAILABLE") or k == "200 DATABASE_UNAVAILABLE" for k in outage
        ), outage
        # Reads during the outage: 503 DATABASE_UNAVAILABLE with Retry-After, nothing else.
        assert set(roster) <= {"200 ok None", "503 DATABASE_UNAVAILABLE 1"}, roster
        statuses = [status for _, status in ready]
        assert 503 in statuses and statuses[-1] == 200, statuses
        assert statuses[0] == 200, statuses
        # Every acknowledged write is there, once; the service came back without a restart.
        charged = charged_keys(cluster.url)
        assert writes.acknowledged <= set(charged), sorted(writes.acknowledged - set(charged))[:10]
        assert serving_workers(base.process.pid) == workers
        writes.resend_the_unacknowledged()
        charged = charged_keys(cluster.url)
        assert set(charged) >= writes.acknowledged | writes.unacknowledged
        assert max(charged.values()) == 1
        log = (tmp_path / "server.log").read_text()
        assert "Exception in ASGI application" not in log


def test_a_killed_worker_is_replaced_and_nothing_acknowledged_is_lost(
    tmp_path: Path, fresh_database_url: str
) -> None:
    with serving(
        tmp_path, "--demo", "--workers", "2", database_url=fresh_database_url, env=PLENTY, start_timeout=START
    ) as base:
        secret = service_key(base)
        before = serving_workers(base.process.pid)
        assert len(before) == 2, before
        writes = Writes(base, secret)
        with writes.running():
            wait_for("writes acknowledged", lambda: len(writes.acknowledged) >= 20)
            victim = min(before)
            os.kill(victim, signal.SIGKILL)
            try:
                replaced = wait_for(
                    "a new worker",
                    lambda: (
                        len(serving_workers(base.process.pid) - before) == 1
                        and len(serving_workers(base.process.pid)) == 2
                    ),
                    limit=120,
                )
            except AssertionError:
                raise AssertionError(
                    f"workers before {sorted(before)}, now {sorted(serving_workers(base.process.pid))}:\n"
                    + (tmp_path / "server.log").read_text()[-5000:]
                ) from None
            count = len(writes.acknowledged)
            wait_for("writes acknowledged after the kill", lambda: len(writes.acknowledged) >= count + 20)
        print(f"\nworker replaced within {replaced:.2f} s; answers {dict(writes.answers)}")
        assert writes.problems == [], writes.problems[:10]
        assert victim not in serving_workers(base.process.pid)
        charged = charged_keys(fresh_database_url)
        assert writes.acknowledged <= set(charged), sorted(writes.acknowledged - set(charged))[:10]
        writes.resend_the_unacknowledged()
        charged = charged_keys(fresh_database_url)
        assert set(charged) >= writes.acknowledged | writes.unacknowledged
        assert max(charged.values()) == 1
