"""Shared fixtures.

The app runs with its real lifespan (``asgi_lifespan.LifespanManager``, as a server runs
it; see STACK.md traps 1-3) over a SQLite file of its own per test. Building the demo
database costs a few seconds of argon2 hashing, so it is built once per session as a
template file and copied for each test.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email
import email.policy
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager

from nextgen_gql.app import create_app
from nextgen_gql.services import clock, imports, mail, passwords
from nextgen_gql.services.demo import MOVE_FILER_PREFIX as MOVE_FILER_PREFIX
from nextgen_gql.services.demo import MOVE_LOGIN_PREFIX as MOVE_LOGIN_PREFIX
from nextgen_gql.settings import Settings
from tests import databases

REPO = Path(__file__).resolve().parent.parent
#: Seconds an app may take to start in tests: the demo's password hashing on a busy machine.
STARTUP = 120
#: The suite's own courts (a copy of the shipped ones): a court an integrator adds to the
#: project's tenants/ changes nothing here.
TENANTS = REPO / "tests" / "fixtures" / "tenants"

# Demo credentials (README, "Demo accounts").
LEGACY = ("lp1234", "Boston2011!")
SHARED = ("harborlawoffice", "Quiet-Stacks-Reading-42")
FILER = ("jmorgan2019", "Granite-Falcon-Morning-88")
CLERK_PASSWORD = "Court-Docket-Review-2026!"
CLERKS = {"mad": "madclerk01", "mab": "mabclerk01", "ca1": "ca1clerk01"}
LEGACY_ECF_PASSWORD = "legacy-ecf-pass"
# Demo filers whose registrations mad's clerk approved (README): a pro se party with a case,
# a media account, a pro hac vice attorney. Tests that count mad's rows leave them out.
DEMO_FILERS = ("nreyes2021", "dwalsh2022", "rpatel2022")
#: The demo's move to NextGen at mad (services/demo.py): generated filers who linked a generated
#: legacy account or had a registration approved, weeks ago.


def pytest_report_header() -> str:
    return f"database backend: {databases.backend()}"


#: argon2id at its lowest cost for what the suite's own process hashes and checks (the demo's
#: accounts in the template, the accounts tests register, every sign-in against them): about
#: 1 ms a hash instead of 190 ms on 2 cores. A hash carries its parameters, so a server process
#: a test starts checks these cheaply too, while hashing anything new at the production cost.
#: The production parameters are checked in a process of their own
#: (``tests/services/test_input_rules.py``); the servers tests start hash new passwords at the
#: production cost.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", TEST_HASHER)
        patch.setattr(passwords, "_DUMMY_HASH", TEST_HASHER.hash("not a password of anyone's"))
        patch.setattr(imports, "hasher", TEST_HASHER)
        yield


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database holding the demo data, built once and copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    url = databases.new_database_url(folder, "demo")
    settings = Settings(
        database_url=url,
        tenants_dir=TENANTS,
        mail_dir=folder / "mail",
        demo=True,
        secret_key=databases.SECRET_KEY,
    )

    async def build() -> None:
        async with LifespanManager(create_app(settings), startup_timeout=STARTUP, shutdown_timeout=STARTUP):
            pass

    asyncio.run(build())
    yield url
    databases.drop_database(url)


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the suite's backend that exists and is empty (dropped afterwards)."""
    url = databases.new_database_url(tmp_path)
    yield url
    databases.drop_database(url)


@dataclass
class Api:
    """GraphQL over HTTP against the app, the way a front end calls it."""

    client: httpx.AsyncClient
    settings: Settings
    #: The Starlette app under test (its ``state``: compiled plans, persisted documents).
    app: Any = None
    #: Tokens a test keeps for the length of the test (e.g. a court's clerk, signed in once).
    sessions: dict[str, str] = field(default_factory=dict)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        court: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        path = f"/courts/{court}/graphql" if court else "/graphql"
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return await self.client.post(path, json={"query": query, "variables": variables or {}}, headers=sent)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """The response body; fails the test on an HTTP error status."""
        response = await self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """``data`` of a response that must have no GraphQL errors."""
        body = await self.gql(query, variables, **kw)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def mails(self, to: str | None = None) -> list[EmailMessage]:
        """Messages written to the mail folder, oldest first (optionally only those to ``to``)."""
        folder = self.settings.mail_dir
        found = []
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if to is None or message["To"] == to:
                found.append(message)
        return found

    async def wait_mails(
        self, to: str | None = None, count: int = 1, within_s: float = 10.0
    ) -> list[EmailMessage]:
        """``mails(to)`` once at least ``count`` are there: for mail sent after the answer
        (``Mailer.send_later``), written a moment after the request returned. Fails the test
        after ``within_s`` seconds."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within_s
        while True:
            found = self.mails(to)
            if len(found) >= count:
                return found
            assert loop.time() < until, (
                f"{len(found)} of {count} message(s) to {to or 'anyone'} after {within_s} s"
            )
            await asyncio.sleep(0.01)

    async def no_more_mail(self) -> None:
        """Let every message handed over for sending be written (``mail.drain``), so that a test
        asserting that nothing was mailed does not look too early."""
        await mail.drain()

    async def sign_in(self, username: str, password: str, **extra: Any) -> str:
        data = await self.data(
            "mutation($input: SignInInput!) { signIn(input: $input) { token errors { code message } } }",
            {"input": {"username": username, "password": password, **extra}},
        )
        assert data["signIn"]["errors"] == [], data
        # Tests pass the token explicitly; the cookie is tested on its own.
        self.client.cookies.clear()
        token: str = data["signIn"]["token"]
        return token


#: Across the session: queries answered on the compiled path, and why others fell back.
COMPILED_STATS: dict[str, Any] = {"answered": 0, "fell_back": collections.Counter()}


@contextlib.asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[Api]:
    """The app with its lifespan running, and a client talking HTTP to it in-process."""
    app = create_app(settings)
    compiled = app.state.compiled
    if compiled is not None:
        compiled.on_fallback = lambda query, why: COMPILED_STATS["fell_back"].update([why])
    async with LifespanManager(app, startup_timeout=STARTUP, shutdown_timeout=STARTUP) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client=client, settings=settings, app=app)
    if compiled is not None:
        COMPILED_STATS["answered"] += compiled.answered


def pytest_terminal_summary(terminalreporter: Any) -> None:
    fell_back = COMPILED_STATS["fell_back"]
    if COMPILED_STATS["answered"] or fell_back:
        terminalreporter.write_line(
            f"compiled path: {COMPILED_STATS['answered']} queries answered, "
            f"{sum(fell_back.values())} requests on the reference executor"
        )
        for why, count in fell_back.most_common(int(os.environ.get("NEXTGEN_GQL_TEST_FALLBACKS", "0"))):
            terminalreporter.write_line(f"  {count:5d}  {why}")


#: The PgBouncer leg of CI (.ci/run): the tests of the server, its workers, races, live courts
#: and subscriptions, run with ``NEXTGEN_GQL_TEST_PGBOUNCER`` set (``pytest -m pgbouncer``).
PGBOUNCER_LEG = (
    "tests/test_server.py",
    "tests/test_workers.py",
    "tests/test_live_server.py",
    "tests/test_live_courts.py",
    "tests/test_pooling.py",
    "tests/api/test_races.py",
    "tests/api/test_courts_live.py",
    "tests/api/test_subscriptions.py",
    "tests/api/test_live_fanout.py",
    "tests/api/test_live_sse.py",
    "tests/api/test_live_protocol.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    leg = {REPO / name for name in PGBOUNCER_LEG}
    for item in items:
        if item.path in leg:
            item.add_marker(pytest.mark.pgbouncer)


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, demo_template: str) -> Iterator[Settings]:
    """Settings over a fresh copy of the demo database (through the suite's PgBouncer, when
    it runs through one: ``databases.pooled_settings``)."""
    url = databases.copy_database(demo_template, tmp_path)
    # Every query a test sends runs on the compiled path and on the reference executor, and
    # any difference between the two answers fails the request (COMPILED_MISMATCH).
    yield Settings(
        **databases.pooled_settings(url),
        tenants_dir=TENANTS,
        mail_dir=tmp_path / "mail",
        compiled_check=True,
        secret_key=databases.SECRET_KEY,
        # The database deadline (default 1 s from a request's arrival) would shed a test's
        # request whenever this shared machine is slow; tests/api/test_db_deadline.py sets its own.
        db_acquire_timeout_ms=60_000,
    )
    if request.node.get_closest_marker("pgbouncer"):
        databases.assert_pooled(url)
    databases.drop_database(url)


@pytest.fixture(autouse=True)
def real_clock() -> Iterator[None]:
    """Tests may stop or move the service's clock (``services.clock``); each starts and ends on the real one."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings) as running:
        yield running


def write_tenant(folder: Path, code: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{code}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tenants_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the shipped court files."""
    folder = tmp_path / "tenants"
    shutil.copytree(TENANTS, folder)
    yield folder


def not_demo(query: Any) -> Any:
    """A queryset of rows with an ``account`` (privileges, registrations), without the demo filers'."""
    return query.exclude(account__username_key__in=DEMO_FILERS).exclude(
        account__username_key__startswith=MOVE_FILER_PREFIX
    )
