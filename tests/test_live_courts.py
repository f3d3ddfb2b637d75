"""Courts change live: an apply from another process reaches every running server within
2 seconds, with no failed request in flight (two servers on PostgreSQL, one on SQLite)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.conftest import TENANTS
from tests.test_server import serving

pytestmark = pytest.mark.server

WITHIN = 2.0


def cli(tenants: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``nextgen-gql`` in a process of its own (the integrator's shell)."""
    exe = shutil.which("nextgen-gql", path=str(Path(sys.executable).parent)) or "nextgen-gql"
    env = {**os.environ, "NEXTGEN_GQL_TENANTS_DIR": str(tenants), **databases.pooled_env(database_url)}
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def court_of(base: str, code: str) -> dict[str, object] | str:
    """What a server says at /courts/{code}/graphql: the court, or the error code."""
    response = httpx.post(
        f"{base}/courts/{code}/graphql", json={"query": "{ court { code name nextgenSince } }"}, timeout=10
    )
    body = response.json()
    if response.status_code != 200:
        return str(body["errors"][0]["extensions"]["code"])
    court: dict[str, object] = body["data"]["court"]
    return court


def until(check: Callable[[], bool], what: str) -> float:
    """Seconds until ``check`` holds; fails past the deadline."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > WITHIN + 3:
            raise AssertionError(f"not within {WITHIN} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - started


class Load:
    """Requests to every server, all the time, counting any that failed."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.failures: list[str] = []
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                for base in self.bases:
                    for path, query in [
                        ("/graphql", "{ courts { code isNextgen acceptedRoles } }"),
                        ("/courts/mad/graphql", "{ court { code nextgenSince } me { username } }"),
                    ]:
                        response = client.post(base + path, json={"query": query})
                        self.sent += 1
                        if response.status_code != 200 or "errors" in response.json():
                            self.failures.append(
                                f"{base}{path}: {response.status_code} {response.text[:200]}"
                            )

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_an_apply_reaches_every_server_within_two_seconds(tmp_path: Path, fresh_database_url: str) -> None:
    tenants = tmp_path / "tenants"
    shutil.copytree(TENANTS, tenants)
    postgres = databases.backend() == "postgres"
    url = fresh_database_url if postgres else f"sqlite://{tmp_path / 'a' / 'nextgen.sqlite3'}"
    count = 2 if postgres else 1
    with ExitStack() as stack:
        bases = []
        for i in range(count):
            workdir = tmp_path / "ab"[i]
            workdir.mkdir()
            bases.append(
                stack.enter_context(
                    serving(
                        workdir,
                        "--demo",
                        database_url=url if postgres else None,
                        tenants=tenants,
                        # The load below is one anonymous caller sending thousands of requests:
                        # points per hour would (rightly) refuse it; budgets are not this test's.
                        env={"NEXTGEN_GQL_RATE_LIMIT_POINTS": "0"},
                    )
                )
            )
        with Load(bases) as load:
            # A new court, written and applied by a third process.
            added = cli(
                tenants, url, "tenants", "add", "nysd", "--name", "Southern District of New York",
                "--kind", "district", "--nextgen-since", "2022-05-02", "--apply",
            )  # fmt: skip
            assert added.returncode == 0, added.stderr
            assert "+ nysd: added (district, Southern District of New York)" in added.stdout
            for base in bases:
                took = until(lambda b=base: isinstance(court_of(b, "nysd"), dict), f"{base} serves nysd")
                assert took <= WITHIN, took

            # A changed NextGen date.
            mad = tenants / "mad.toml"
            mad.write_text(
                mad.read_text().replace("nextgen_since = 2021-09-20", "nextgen_since = 2021-10-04")
            )
            dry = cli(tenants, url, "tenants", "apply", "--dry-run")
            assert '~ mad: nextgen_since: "2021-09-20" -> "2021-10-04"' in dry.stdout, dry.stdout
            assert "Dry run: nothing written" in dry.stdout
            assert all(court_of(b, "mad")["nextgenSince"] == "2021-09-20" for b in bases)  # type: ignore[index]
            changed = cli(tenants, url, "tenants", "apply")
            assert changed.returncode == 0, changed.stderr
            for base in bases:
                took = until(
                    lambda b=base: court_of(b, "mad")["nextgenSince"] == "2021-10-04",  # type: ignore[index]
                    f"{base} serves mad's new date",
                )
                assert took <= WITHIN, took

            # A retirement: the file removed, applied.
            (tenants / "nysd.toml").unlink()
            retired = cli(tenants, url, "tenants", "apply")
            assert "- nysd: retired (not served; its data is kept)" in retired.stdout
            for base in bases:
                took = until(lambda b=base: court_of(b, "nysd") == "UNKNOWN_COURT", f"{base} retires nysd")
                assert took <= WITHIN, took
        assert load.sent > 50
        assert load.failures == [], load.failures[:5]
    listed = cli(tenants, url, "tenants", "list")
    assert "RETIRED" in listed.stdout and "nysd" in listed.stdout, listed.stdout
