"""The real thing: `nextgen-gql serve --demo` in its own process, spoken to over TCP.

This catches what in-process tests cannot (STACK.md traps 1 and 2): the Tortoise context
under uvicorn's tasks, the console script, the start-up and migrations, a restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.conftest import LEGACY, LEGACY_ECF_PASSWORD, TENANTS

pytestmark = pytest.mark.server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served(str):
    """The base URL of a server ``serving`` started, and its process."""

    process: subprocess.Popen[bytes]


@contextmanager
def serving(
    workdir: Path,
    *extra: str,
    database_url: str | None = None,
    tenants: Path = TENANTS,
    env: dict[str, str] | None = None,
    start_timeout: float = 60,
    port: int | None = None,
) -> Iterator[Served]:
    """``nextgen-gql serve`` in ``workdir`` (its output in ``server.log``), with ``env`` added to
    this process's environment, on ``port`` (a free one unless given: an issuer URL must name it
    before the server starts); stopped with SIGINT at the end (unless it stopped already)."""
    port = port or free_port()
    exe = shutil.which("nextgen-gql", path=str(Path(sys.executable).parent)) or "nextgen-gql"
    given = env or {}
    env = {**os.environ, "NEXTGEN_GQL_TENANTS_DIR": str(tenants), **given}
    env.pop("NEXTGEN_GQL_DATABASE_URL", None)
    if database_url is not None and not database_url.startswith("sqlite://"):
        env.update(databases.pooled_env(database_url))  # else the default file in the working folder
        env.setdefault("NEXTGEN_GQL_SECRET_KEY", databases.SECRET_KEY)  # required on PostgreSQL
    log = (workdir / "server.log").open("ab")
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), *extra],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = Served(f"http://127.0.0.1:{port}")
    base.process = proc
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError("server exited:\n" + (workdir / "server.log").read_text())
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start:\n" + (workdir / "server.log").read_text())
            time.sleep(0.2)
        if "--workers" in extra:
            wanted = int(extra[extra.index("--workers") + 1])
            deadline = time.monotonic() + 60
            while len(workers_of(proc.pid)) < wanted and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(workers_of(proc.pid)) >= wanted, "the workers did not start"
        if database_url is not None:
            databases.assert_pooled(database_url)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("server did not stop on SIGINT") from None
        finally:
            log.close()
        assert proc.returncode == 0, (workdir / "server.log").read_text()


def workers_of(pid: int) -> list[int]:
    """Child processes of ``pid`` (uvicorn's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def gql(
    base: str,
    query: str,
    variables: dict[str, object] | None = None,
    *,
    court: str | None = None,
    token: str | None = None,
) -> dict[str, object]:
    path = f"/courts/{court}/graphql" if court else "/graphql"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        base + path, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, object] = body["data"]
    return data


def test_serve_demo_upgrade_link_restart(tmp_path: Path, fresh_database_url: str) -> None:
    new_password = "Blue-Harbor-Lantern-42"
    with serving(tmp_path, "--demo", database_url=fresh_database_url) as base:
        page = httpx.get(base + "/graphql", headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        signed = gql(
            base,
            "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
            {"u": LEGACY[0], "p": LEGACY[1]},
        )
        token = signed["signIn"]["token"]  # type: ignore[index]
        upgraded = gql(
            base,
            """mutation { upgradePacerAccount(input: {email: "laura@perezlaw.example",
            newUsername: "lauraperez", newPassword: "Blue-Harbor-Lantern-42"}) { errors { code } } }""",
            token=token,
        )
        assert upgraded == {"upgradePacerAccount": {"errors": []}}
        linked = gql(
            base,
            'mutation($p: String!) { linkCmecfAccount(input: {login: "lperez", password: $p, confirm: true}) { errors { code } } }',
            {"p": LEGACY_ECF_PASSWORD},
            court="mad",
            token=token,
        )
        assert linked == {"linkCmecfAccount": {"errors": []}}
    if databases.backend() == "sqlite":
        assert (tmp_path / "nextgen.sqlite3").exists()  # the default: a file in the working folder
    # A second start on the same database (with --demo again) loses nothing.
    with serving(tmp_path, "--demo", database_url=fresh_database_url) as base:
        signed = gql(
            base,
            'mutation($p: String!) { signIn(input: {username: "lauraperez", password: $p, redactionAcknowledged: true}) { token } }',
            {"p": new_password},
        )
        token = signed["signIn"]["token"]  # type: ignore[index]
        me = gql(
            base, '{ me { isLegacy mad: canFile(court: "mad") ca1: canFile(court: "ca1") } }', token=token
        )
        assert me == {"me": {"isLegacy": False, "mad": True, "ca1": False}}
