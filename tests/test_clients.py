"""Real JavaScript GraphQL clients against the real server (`nextgen-gql serve --demo`).

The clients are pinned npm packages in ``tests/clients`` (``npm ci --prefix tests/clients``;
see its README): graphql-http's GraphQL-over-HTTP server audits, Apollo Client's automatic
persisted queries, Relay (relay-compiler's persisted ids, relay-runtime sending
``doc_id``), and for subscriptions graphql-ws (graphql-transport-ws over a WebSocket) and
graphql-sse (server-sent events). Each script prints a JSON report of its checks with the requests and responses
behind them; a failing check fails the test with that evidence.

Without Node or the packages these tests are skipped, unless ``NEXTGEN_GQL_CI`` is set (as
``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import databases
from tests.conftest import CLERK_PASSWORD, CLERKS, REPO, TENANTS
from tests.test_server import serving

CLIENTS = REPO / "tests" / "clients"
NODE = shutil.which("node")
IN_CI = bool(os.environ.get("NEXTGEN_GQL_CI"))
SETUP = "npm ci --prefix tests/clients"
EXE = shutil.which("nextgen-gql", path=str(Path(sys.executable).parent)) or "nextgen-gql"


def missing_clients() -> str | None:
    """Why the JavaScript clients cannot run here, or None."""
    if NODE is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < 18:
        return f"node {version} is too old (18 or newer: its global fetch)"
    wanted: dict[str, str] = json.loads((CLIENTS / "package.json").read_text())["dependencies"]
    for name, pinned in wanted.items():
        manifest = CLIENTS / "node_modules" / name / "package.json"
        if not manifest.exists():
            return f"the npm package {name} is not installed in tests/clients ({SETUP})"
        installed = json.loads(manifest.read_text())["version"]
        if installed != pinned:
            return f"tests/clients has {name} {installed}, package.json pins {pinned} ({SETUP})"
    return None


MISSING = missing_clients()
pytestmark = [
    pytest.mark.server,
    # In CI a missing client is a failure (node_clients), never a skip.
    pytest.mark.skipif(MISSING is not None and not IN_CI, reason=f"JavaScript client tests: {MISSING}"),
]


@pytest.fixture(scope="module")
def node_clients() -> str:
    """Node, with the pinned packages (without them: skipped, or in CI failed)."""
    if MISSING is not None:
        pytest.fail(f"NEXTGEN_GQL_CI is set and the JavaScript clients cannot run: {MISSING}")
    assert NODE is not None
    return NODE


def node(script: str, *args: str, timeout: float = 120, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one of the client scripts (with ``env`` added to the environment); its JSON report (stdout)."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, script, *args],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"node {script} exited {done.returncode} without a JSON report\n"
            f"stdout:\n{done.stdout[-5000:]}\nstderr:\n{done.stderr[-5000:]}"
        ) from None
    report["exit_code"] = done.returncode
    report["stderr"] = done.stderr[-5000:]
    return report


def evidence(report: dict[str, Any], items: list[Any]) -> str:
    text = json.dumps(items, indent=2, default=str)
    if len(text) > 30000:
        text = text[:30000] + "\n... (cut)"
    error = f"\nfatal: {json.dumps(report['error'], indent=2)}" if report.get("error") else ""
    return f"{text}{error}\nstderr: {report.get('stderr', '')}"


def assert_checks(report: dict[str, Any]) -> None:
    """Every check of a report passed (and the script agreed, by its exit code)."""
    failed = [check for check in report.get("checks", []) if not check["ok"]]
    assert not failed and not report.get("error"), (
        "failed: " + ", ".join(check["name"] for check in failed) + "\n" + evidence(report, failed)
    )
    assert report["checks"], report
    assert report["exit_code"] == 0, report


@dataclass
class Server:
    base: str
    workdir: Path
    database_url: str

    def cli_env(self) -> dict[str, str]:
        """The environment ``nextgen-gql`` needs to reach the server's database."""
        env = {**os.environ, "NEXTGEN_GQL_TENANTS_DIR": str(TENANTS)}
        env.pop("NEXTGEN_GQL_DATABASE_URL", None)
        if not self.database_url.startswith("sqlite://"):
            env["NEXTGEN_GQL_DATABASE_URL"] = self.database_url
            env.setdefault("NEXTGEN_GQL_SECRET_KEY", databases.SECRET_KEY)
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``nextgen-gql`` on the server's database (as ``serving`` addresses it)."""
        return subprocess.run(
            [EXE, *args],
            cwd=self.workdir,
            env=self.cli_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@contextlib.contextmanager
def demo_server(folder: Path, demo_template: str, port: int | None = None, **env: str) -> Iterator[Server]:
    """``nextgen-gql serve --demo``, started with ``env`` added (on ``port``, if given), on a copy
    of the session's demo database (``--demo`` then adds nothing: this spares the server the
    demo's password hashing)."""
    url = databases.copy_database(demo_template, folder)
    try:
        with contextlib.ExitStack() as stack:
            with pytest.MonkeyPatch.context() as patch:  # only the server's process sees env
                for name, value in env.items():
                    patch.setenv(name, value)
                base = stack.enter_context(serving(folder, "--demo", database_url=url, port=port))
            yield Server(base, folder, url)
    finally:
        databases.drop_database(url)


@pytest.fixture(scope="module")
def server(
    node_clients: str, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("clients-server"), demo_template) as running:
        yield running


@pytest.fixture(scope="module")
def trusted_server(
    node_clients: str, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("clients-trusted")
    with demo_server(folder, demo_template, NEXTGEN_GQL_TRUSTED_DOCUMENTS="only") as running:
        yield running


# -- graphql-http: the GraphQL-over-HTTP audits --------------------------------------------

ENDPOINTS = ["/graphql", "/courts/mad/graphql"]


@pytest.fixture(scope="module")
def audits(server: Server) -> dict[str, dict[str, Any]]:
    return {path: node("audit.mjs", server.base + path) for path in ENDPOINTS}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_graphql_http_audit_no_errors_no_warnings(audits: dict[str, dict[str, Any]], path: str) -> None:
    """graphql-http 1.23.1's server audits: every MUST and every SHOULD holds."""
    report = audits[path]
    assert not report.get("error"), evidence(report, [])
    failing = [f for f in report["failures"] if f["status"] in ("error", "warn")]
    assert not failing, (
        f"{path}: {report['counts']}\n"
        + "\n".join(f"{f['status']} {f['id']} {f['name']}: {f['reason']}" for f in failing)
        + "\n"
        + evidence(report, failing)
    )
    counts = report["counts"]
    assert counts["ok"] >= 50 and report["total"] == sum(counts.values()), counts
    assert report["exit_code"] == 0


@pytest.mark.parametrize("path", ENDPOINTS)
def test_graphql_http_audit_bad_parameters_are_400(audits: dict[str, dict[str, Any]], path: str) -> None:
    """The audits' notices (MAY) too: the service answers a parameter of the wrong type with 400."""
    report = audits[path]
    notices = [f for f in report["failures"] if f["status"] == "notice"]
    assert not notices, (
        "\n".join(f"{f['id']} {f['name']}: {f['reason']}" for f in notices) + "\n" + evidence(report, notices)
    )


# -- Apollo Client: automatic persisted queries ----------------------------------------------


def test_apollo_client_automatic_persisted_queries(server: Server) -> None:
    """PersistedQueryLink: hash, PERSISTED_QUERY_NOT_FOUND, retry with the text; then the hash
    alone, over POST and GET, at /graphql and a court's endpoint, signed in or not."""
    report = node("apollo-apq.mjs", server.base)
    assert_checks(report)
    names = [check["name"] for check in report["checks"]]
    assert any("GET /courts/mad/graphql" in name for name in names)
    assert any("Authorization" in name for name in names)


# -- Relay: relay-compiler's persisted ids, relay-runtime sending doc_id ---------------------


@dataclass
class RelayBuild:
    persisted: Path
    artifacts: Path
    operations: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def relay_build(node_clients: str, tmp_path_factory: pytest.TempPathFactory) -> RelayBuild:
    """tests/clients/relay compiled by relay-compiler (persistConfig: a JSON file of id: text)."""
    report = node("relay/compile.mjs", str(tmp_path_factory.mktemp("relay")))
    assert report["ok"], json.dumps(report, indent=2)
    return RelayBuild(Path(report["persisted"]), Path(report["artifacts"]), report["operations"])


def test_relay_compiler_persists_every_operation(relay_build: RelayBuild) -> None:
    documents = json.loads(relay_build.persisted.read_text())
    names = {"CourtsQuery", "CourtQuery", "CourtNodeQuery", "SignInMutation", "MeQuery"}
    assert set(relay_build.operations) == names
    assert {op["id"] for op in relay_build.operations.values()} == set(documents)
    assert "fragment CourtsCourt_court on Court" in documents[relay_build.operations["CourtsQuery"]["id"]]


def register(server: Server, relay_build: RelayBuild) -> None:
    """``nextgen-gql operations add`` of relay-compiler's file; ``operations list`` shows each id."""
    added = server.cli("operations", "add", str(relay_build.persisted))
    assert added.returncode == 0, f"operations add: exit {added.returncode}\n{added.stdout}\n{added.stderr}"
    listed = server.cli("operations", "list")
    assert listed.returncode == 0, (
        f"operations list: exit {listed.returncode}\n{listed.stdout}\n{listed.stderr}"
    )
    for name, operation in relay_build.operations.items():
        assert operation["id"] in listed.stdout and name in listed.stdout, listed.stdout


def test_relay_runtime_doc_ids(server: Server, relay_build: RelayBuild) -> None:
    """Registered with the CLI, then run by relay-runtime sending only {doc_id, variables}."""
    register(server, relay_build)
    assert_checks(node("relay/run.mjs", server.base, str(relay_build.artifacts)))


def test_relay_runtime_trusted_documents_only(trusted_server: Server, relay_build: RelayBuild) -> None:
    """NEXTGEN_GQL_TRUSTED_DOCUMENTS=only: the registered documents still run; any other text,
    plain or as an automatic persisted query, is refused with 400 PERSISTED_QUERY_REQUIRED."""
    register(trusted_server, relay_build)
    report = node("relay/run.mjs", trusted_server.base, str(relay_build.artifacts), "--trusted-only")
    assert_checks(report)
    assert report["trustedOnly"] is True


# -- subscriptions: graphql-ws (WebSocket) and graphql-sse (server-sent events) --------------


def test_graphql_ws_client_subscribes_resumes_and_is_signed_out(server: Server) -> None:
    """graphql-ws 6.4.2 over ws: a clerk hears a registration as it is submitted, a second
    client resumes after a cursor, myEvents reaches the applicant, refusals are coded (FORBIDDEN,
    GRAPHQL_VALIDATION_FAILED, a bad token closes 4403), and signing out closes 4401 within 2 s."""
    report = node("graphql-ws.mjs", server.base)
    assert_checks(report)
    assert len(report["checks"]) == 7


def test_graphql_sse_client_streams_subscriptions_and_queries(server: Server) -> None:
    """graphql-sse 2.6.1 (distinct connections): a query as one result, a validation error
    through the stream, and a clerk's registrationEvents as a registration is submitted."""
    report = node("graphql-sse.mjs", server.base)
    assert_checks(report)


def test_standard_webhooks_receiver_verifies_deliveries(
    node_clients: str, demo_template: str, tmp_path: Path
) -> None:
    """A court system's receiver in Node (the standardwebhooks npm package) verifies a PING,
    refuses an altered body and another secret, accepts either secret during a rotation, sees a
    failed attempt sent again with the same webhook-id (the server's own worker), gets every
    event type once per endpoint that asked for it, waits as its Retry-After asked, and a 410
    disables the endpoint (webhook-receiver.mjs)."""
    with demo_server(
        tmp_path,
        demo_template,
        NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32",
        NEXTGEN_GQL_WEBHOOK_INTERVAL_S="1",
    ) as running:
        report = node("webhook-receiver.mjs", running.base, timeout=120)
        assert_checks(report)
        assert len(report["checks"]) == 18, [c["name"] for c in report["checks"]]  # every step ran


def process_connected_from(port: int, candidates: set[int]) -> int:
    """Which of ``candidates`` holds the TCP connection whose local end is ``port`` (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            inodes.add(fields[9])
    for pid in candidates:
        try:
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return pid
    raise AssertionError(f"no process of {sorted(candidates)} holds the connection from port {port}")


@pytest.mark.skipif(databases.backend() != "postgres", reason="workers share deliveries on PostgreSQL")
def test_a_worker_killed_mid_delivery_leaves_it_to_another_process(
    node_clients: str, demo_template: str, tmp_path: Path
) -> None:
    """``serve --workers 2`` on PostgreSQL: the worker process sending a delivery is killed
    (SIGKILL) while the receiver holds the request; once its lease runs out another process
    sends it again, with the same webhook-id and body, and both verify (webhook-verify.mjs):
    redelivered, not lost, and the log shows the attempt that was answered."""
    from nextgen_gql.webhooks import worker
    from tests.test_outages_restart import serving_workers, wait_for
    from tests.test_server import gql, serving
    from tests.webhook_receiver import HoldingReceiver

    url = databases.copy_database(demo_template, tmp_path)
    env = {"NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32", "NEXTGEN_GQL_WEBHOOK_INTERVAL_S": "1"}
    try:
        with (
            HoldingReceiver() as receiver,
            serving(
                tmp_path, "--demo", "--workers", "2", database_url=url, env=env, start_timeout=300
            ) as base,
        ):
            signed = gql(
                base,
                "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
                {"u": CLERKS["mad"], "p": CLERK_PASSWORD},
            )
            token: str = signed["signIn"]["token"]  # type: ignore[index]
            made = gql(
                base,
                """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
                  secret endpoint { id } errors { code } } }""",
                {
                    "i": {
                        "url": receiver.url,
                        "description": "failover",
                        "eventTypes": ["REGISTRATION_DECIDED"],
                    }
                },
                court="mad",
                token=token,
            )["createWebhookEndpoint"]
            secret: str = made["secret"]  # type: ignore[index]
            sent = gql(
                base,
                "mutation($id: ID!) { sendTestWebhook(id: $id) { delivery { id } errors { code } } }",
                {"id": made["endpoint"]["id"]},  # type: ignore[index]
                court="mad",
                token=token,
            )["sendTestWebhook"]
            delivery_id: str = sent["delivery"]["id"]  # type: ignore[index]
            [held] = receiver.wait_for(1, 30)
            workers = serving_workers(base.process.pid)
            assert len(workers) == 2, workers
            sender = process_connected_from(held["port"], workers)
            os.kill(sender, signal.SIGKILL)
            killed_at = time.monotonic()
            receiver.release.set()
            lease = worker.LEASE.total_seconds()
            _, again = receiver.wait_for(2, lease + 60)
            waited = time.monotonic() - killed_at
            assert again["headers"]["webhook-id"] == held["headers"]["webhook-id"] == delivery_id
            assert again["body"] == held["body"]
            assert waited > lease - 5, f"sent again after {waited:.1f} s, within the {lease:.0f} s lease"
            wait_for(
                "the killed worker replaced",
                lambda: (
                    len(serving_workers(base.process.pid)) == 2
                    and sender not in serving_workers(base.process.pid)
                ),
                limit=120,
            )
            log = gql(
                base,
                "query($id: ID!) { node(id: $id) { ... on WebhookDelivery { outcome attempts { statusCode } } } }",
                {"id": delivery_id},
                court="mad",
                token=token,
            )["node"]
            assert log == {"outcome": "SUCCEEDED", "attempts": [{"statusCode": 200}]}, log
            assert len(receiver.received) == 2, receiver.received
        deliveries = tmp_path / "deliveries.json"
        deliveries.write_text(json.dumps({"secret": secret, "deliveries": receiver.received}))
        report = node("webhook-verify.mjs", str(deliveries))
        assert_checks(report)
        assert len(report["checks"]) == 2
    finally:
        databases.drop_database(url)


# -- openid-client: a certified relying party against the provider ---------------------------


def enrol_over_http(base: str, workdir: Path, username: str, password: str) -> tuple[str, str]:
    """Sign ``username`` in, then add an authenticator app with that session (the security code
    from the mail folder): the session, which has no second factor, and the app's seed."""
    import re

    import httpx
    import pyotp

    def gql(query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        answer = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers)
        body: dict[str, Any] = answer.json()
        assert answer.status_code == 200 and "errors" not in body, body
        return body["data"]

    signed = gql(
        "mutation($i: SignInInput!) { signIn(input: $i) { token errors { code } } }",
        {"i": {"username": username, "password": password, "redactionAcknowledged": True}},
    )
    session: str = signed["signIn"]["token"]
    started = gql(
        'mutation { startAuthenticatorEnrollment(input: {name: "Phone"}) { enrollment { id secret } errors { code } } }',
        {},
        session,
    )["startAuthenticatorEnrollment"]["enrollment"]
    mail = sorted((workdir / "mail").glob("*.eml"))[-1].read_text()
    security = re.search(r"Security code: (\d+)", mail)
    assert security, mail
    confirmed = gql(
        """mutation($i: ConfirmAuthenticatorEnrollmentInput!) { confirmAuthenticatorEnrollment(input: $i) {
          errors { code message } } }""",
        {
            "i": {
                "enrollmentId": started["id"],
                "securityCode": security.group(1),
                "totpCode": pyotp.TOTP(started["secret"]).now(),
            }
        },
        session,
    )
    assert confirmed["confirmAuthenticatorEnrollment"]["errors"] == [], confirmed
    return session, started["secret"]


def test_openid_client_relying_party(node_clients: str, demo_template: str, tmp_path: Path) -> None:
    """openid-client 6 (certified) as a court's CM/ECF: discovery, the code flow with PKCE through
    the provider's own pages, ID tokens verified, userinfo per scope, refresh rotation and reuse,
    acr loa:2 forcing the second factor, revocation and introspection, private_key_jwt, a bad
    redirect URI, key rotation, RP-initiated and back-channel logout (oidc-rp.mjs)."""
    from tests.test_server import free_port

    port, rp_port = free_port(), free_port()
    issuer, rp = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{rp_port}"
    with demo_server(
        tmp_path,
        demo_template,
        port=port,
        NEXTGEN_GQL_PUBLIC_URL=issuer,
        NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32",
        NEXTGEN_GQL_WEBHOOK_INTERVAL_S="1",
    ) as running:
        made = running.cli(
            "clients", "add", "--name", "CM/ECF (D. Mass.)", "--court", "mad",
            "--redirect-uri", f"{rp}/cb", "--post-logout-redirect-uri", f"{rp}/bye",
            "--backchannel-logout-uri", f"{rp}/backchannel",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        client_id = made.stdout.split("client_id: ")[1].split()[0]
        secret = made.stdout.split("client_secret (shown this once): ")[1].split()[0]
        signer = running.cli(
            "clients", "add", "--name", "CM/ECF (D. Mass.), signed", "--court", "mad",
            "--redirect-uri", f"{rp}/cb", "--auth-method", "private_key_jwt", "--jwks-uri", f"{rp}/jwks.json",
        )  # fmt: skip
        assert signer.returncode == 0, signer.stderr
        pk_client_id = signer.stdout.split("client_id: ")[1].split()[0]
        session, seed = enrol_over_http(
            running.base, running.workdir, "jmorgan2019", "Granite-Falcon-Morning-88"
        )
        env = {
            **running.cli_env(),
            "OIDC_ISSUER": issuer,
            "OIDC_RP_PORT": str(rp_port),
            "OIDC_CLIENT_ID": client_id,
            "OIDC_CLIENT_SECRET": secret,
            "OIDC_PK_CLIENT_ID": pk_client_id,
            "OIDC_USERNAME": "jmorgan2019",
            "OIDC_PASSWORD": "Granite-Falcon-Morning-88",
            "OIDC_TOTP_SEED": seed,
            "OIDC_SESSION": session,
            "OIDC_ROTATE": json.dumps([EXE, "signing-keys", "rotate", str(running.workdir)]),
        }
        report = node("oidc-rp.mjs", timeout=120, env=env)
        assert_checks(report)
        assert len(report["checks"]) == 21, [c["name"] for c in report["checks"]]  # every step ran
