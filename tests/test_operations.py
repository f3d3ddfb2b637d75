"""Operations against the real server (`nextgen-gql serve` in its own process): no secret in
the logs at debug, metrics in multiprocess mode, traces over OTLP, graceful shutdown."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import CLERK_PASSWORD, LEGACY, LEGACY_ECF_PASSWORD, TENANTS
from tests.test_server import Served, gql, serving

pytestmark = pytest.mark.server

SIGN_IN = "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token errors { code } } }"
START = """mutation($n: String!) { startAuthenticatorEnrollment(input: {name: $n}) {
  enrollment { id secret } errors { code } } }"""
CONFIRM = """mutation($i: ConfirmAuthenticatorEnrollmentInput!) { confirmAuthenticatorEnrollment(input: $i) {
  backupCodes errors { code message } } }"""
MFA_SIGN_IN = """mutation($p: String!) { signIn(input: {username: "lauraperez", password: $p,
  redactionAcknowledged: true}) { token mfaChallenge { token } errors { code } } }"""
VERIFY = """mutation($i: VerifySignInInput!) { verifySignIn(input: $i) { token errors { code message } } }"""


def _mailed(folder: Path, label: str) -> str:
    """The code after ``label`` in the newest message that has one."""
    mails = sorted((folder / "mail").glob("*.eml"), key=lambda m: m.stat().st_mtime_ns)
    text = next(m.read_text() for m in reversed(mails) if label in m.read_text())
    return re.search(re.escape(label) + r" (\S+)", text).group(1)  # type: ignore[union-attr]


def post(base: str, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
    headers = kw.pop("headers", {})
    token = kw.pop("token", None)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    path = f"/courts/{kw.pop('court')}/graphql" if "court" in kw else "/graphql"
    return httpx.post(
        base + path, json={"query": query, "variables": variables or {}}, headers=headers, timeout=60
    )


def test_no_secret_reaches_the_logs_at_debug(tmp_path: Path, fresh_database_url: str) -> None:
    """The demo's flows (sign-in, upgrade, link, password reset, an authenticator app and its
    sign-ins), logged at debug (every SQL statement included): no password, token, code or
    secret used appears anywhere in the output."""
    new_password = "Blue-Harbor-Lantern-42"
    after_reset = "Reset-Granite-Window-77"
    wrong = "Wrong-Guess-Password-913"
    secrets = [
        LEGACY[1],
        new_password,
        after_reset,
        wrong,
        LEGACY_ECF_PASSWORD,
        CLERK_PASSWORD,
        "wrong-ecf-pass-5",
    ]
    with serving(
        tmp_path, "--demo", database_url=fresh_database_url, env={"NEXTGEN_GQL_LOG_LEVEL": "debug"}
    ) as base:
        token = gql(base, SIGN_IN, {"u": LEGACY[0], "p": LEGACY[1]})["signIn"]["token"]  # type: ignore[index]
        secrets.append(str(token))
        # As the README writes it in GraphiQL: the password in the query's text.
        inline = post(
            base,
            f'mutation {{ signIn(input: {{username: "{LEGACY[0]}", password: "{LEGACY[1]}"}}) {{ token }} }}',
        )
        secrets.append(inline.json()["data"]["signIn"]["token"])
        assert post(base, SIGN_IN, {"u": LEGACY[0], "p": wrong}).json()["data"]["signIn"]["errors"]
        assert gql(base, "{ me { username } }", token=str(token)) == {"me": {"username": LEGACY[0]}}
        # The cookie, as the reference app signs in.
        with httpx.Client(base_url=base, timeout=60) as browser:
            browser.post("/graphql", json={"query": SIGN_IN, "variables": {"u": LEGACY[0], "p": LEGACY[1]}})
            secrets.append(browser.cookies["NextGenCSO"])
            assert browser.post("/graphql", json={"query": "{ me { username } }"}).json()["data"]["me"]
        upgraded = gql(
            base,
            """mutation($p: String!) { upgradePacerAccount(input: {email: "laura@perezlaw.example",
            newUsername: "lauraperez", newPassword: $p}) { errors { code } } }""",
            {"p": new_password},
            token=str(token),
        )
        assert upgraded == {"upgradePacerAccount": {"errors": []}}
        # The address given is confirmed from the mail it received, before anything else is mailed to it.
        verification = _mailed(tmp_path, "Email verification token:")
        secrets.append(verification)
        verified = gql(
            base,
            "mutation($t: String!) { verifyEmail(input: {token: $t}) { errors { code } } }",
            {"t": verification},
        )
        assert verified == {"verifyEmail": {"errors": []}}
        link = 'mutation($p: String!) { linkCmecfAccount(input: {login: "lperez", password: $p, confirm: true}) { errors { code } } }'
        wrong_link = post(base, link, {"p": "wrong-ecf-pass-5"}, court="mad", token=token).json()
        assert wrong_link["data"]["linkCmecfAccount"]["errors"] == [{"code": "INVALID_CMECF_CREDENTIALS"}]
        assert gql(base, link, {"p": LEGACY_ECF_PASSWORD}, court="mad", token=str(token)) == {
            "linkCmecfAccount": {"errors": []}
        }
        gql(base, 'mutation { requestPasswordReset(input: {usernameOrEmail: "lauraperez"}) { ok } }')
        reset_token = _mailed(tmp_path, "Reset token:")
        secrets.append(reset_token)
        reset = gql(
            base,
            "mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) { errors { code } } }",
            {"t": reset_token, "p": after_reset},
        )
        assert reset == {"resetPassword": {"errors": []}}
        signed = gql(
            base,
            'mutation($p: String!) { signIn(input: {username: "lauraperez", password: $p, redactionAcknowledged: true}) { token } }',
            {"p": after_reset},
        )
        last = str(signed["signIn"]["token"])  # type: ignore[index]
        secrets.append(last)
        # Multi-factor: an authenticator app enrolled with a mailed security code, then a sign-in
        # with a code of the app, and one with a backup code.
        started = gql(base, START, {"n": "Work phone"}, token=last)["startAuthenticatorEnrollment"]
        enrollment: dict[str, str] = started["enrollment"]  # type: ignore[index]
        security = _mailed(tmp_path, "Security code:")
        totp = pyotp.TOTP(enrollment["secret"]).now()
        inputs = {"enrollmentId": enrollment["id"], "securityCode": security, "totpCode": totp}
        confirmed: dict[str, Any] = gql(base, CONFIRM, {"i": inputs}, token=last)[
            "confirmAuthenticatorEnrollment"
        ]  # type: ignore[assignment]
        assert confirmed["errors"] == [], confirmed
        backup_codes = list(confirmed["backupCodes"])
        secrets += [enrollment["secret"], security, totp, *backup_codes]
        for method, second in (("TOTP", None), ("BACKUP_CODE", backup_codes[0])):
            signed_in: dict[str, Any] = gql(base, MFA_SIGN_IN, {"p": after_reset})["signIn"]  # type: ignore[assignment]
            challenge = str(signed_in["mfaChallenge"]["token"])
            # The next step's code (one step either side is accepted; the enrolment used this one's).
            given = second or pyotp.TOTP(enrollment["secret"]).at(time.time() + 30)
            verified: dict[str, Any] = gql(
                base, VERIFY, {"i": {"challenge": challenge, "code": given, "method": method}}
            )["verifySignIn"]  # type: ignore[assignment]
            assert verified["errors"] == [], verified
            secrets += [challenge, given, str(verified["token"])]
        clerk = gql(base, SIGN_IN, {"u": "madclerk01", "p": CLERK_PASSWORD})["signIn"]["token"]  # type: ignore[index]
        secrets.append(str(clerk))
        assert gql(base, "{ cmecfAccounts(first: 2) { totalCount } }", court="mad", token=str(clerk))
        assert gql(base, "mutation { signOut { ok } }", token=last) == {"signOut": {"ok": True}}
    output = (tmp_path / "server.log").read_text()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    loggers = {line["logger"] for line in lines}
    # It did log at debug: every statement, the requests and the security events.
    assert {"tortoise.db_client", "nextgen_gql.request", "nextgen_gql.security"} <= loggers, loggers
    assert any("parameter(s) withheld" in line["message"] for line in lines)
    events = {line.get("event") for line in lines if line["logger"] == "nextgen_gql.security"}
    assert {
        "account.sign_in",
        "account.sign_in_failed",
        "account.upgrade",
        "cmecf.link",
        "account.password_reset",
        "mfa.challenge",
    } <= events
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == [], f"{len(leaked)} secret(s) in the server's output"


def scrape(base: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(base + "/metrics", timeout=30).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def test_serve_counts_in_multiprocess_mode_and_cleans_up(tmp_path: Path, fresh_database_url: str) -> None:
    shared = tmp_path / "metrics"
    with serving(
        tmp_path, database_url=fresh_database_url, env={"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    ) as base:
        for _ in range(4):
            gql(base, "query Courts { courts { code kind } }")
        samples = scrape(base)
        assert (
            total(samples, "nextgen_gql_requests_total", operation="Courts", court="national", outcome="ok")
            == 4
        )
        assert sorted(p.name.split("_")[0] for p in shared.glob("*.db"))  # the workers' files
    assert list(shared.glob("*.db")) == []  # emptied when serving ends
    # Without PROMETHEUS_MULTIPROC_DIR, serve makes a folder of its own and removes it.
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("nextgen-gql-metrics-*"))
    with serving(tmp_path, database_url=fresh_database_url) as base:
        gql(base, "query Courts { courts { code kind } }")
        assert total(scrape(base), "nextgen_gql_requests_total", operation="Courts") == 1
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("nextgen-gql-metrics-*")) == before


def _sign_in(base: str) -> int:
    response = httpx.post(
        base + "/graphql", json={"query": SIGN_IN, "variables": {"u": LEGACY[0], "p": LEGACY[1]}}, timeout=60
    )
    return response.status_code


def _stop_after_first(base: Served, count: int) -> tuple[list[int | str], float]:
    """``count`` sign-ins at once (argon2 makes them queue); SIGTERM once the first is answered.
    Returns each one's status (or the error's name) and how long the server took to exit."""

    def attempt(_: int) -> int | str:
        try:
            return _sign_in(base)
        except httpx.HTTPError as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(attempt, i) for i in range(count)]
        while not any(f.done() for f in futures):
            time.sleep(0.01)
        stopped = time.monotonic()
        base.process.send_signal(signal.SIGTERM)
        results = [f.result() for f in futures]
    base.process.wait(timeout=60)
    return results, time.monotonic() - stopped


def test_sigterm_lets_the_requests_in_flight_finish(tmp_path: Path, fresh_database_url: str) -> None:
    with serving(tmp_path, "--demo", database_url=fresh_database_url) as base:
        results, _ = _stop_after_first(base, 6)
        assert results == [200] * 6
        assert base.process.returncode == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(base + "/healthz", timeout=2)


def test_sigterm_waits_no_longer_than_the_shutdown_timeout(tmp_path: Path, fresh_database_url: str) -> None:
    env = {"NEXTGEN_GQL_SHUTDOWN_TIMEOUT_SECONDS": "1"}
    with serving(tmp_path, "--demo", database_url=fresh_database_url, env=env) as base:
        results, took = _stop_after_first(base, 40)  # some 40 x 0.15 s of hashing, on one thread
        assert took < 10, took
        assert 200 in results and any(r != 200 for r in results), results


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A tiny OTLP/HTTP endpoint that keeps every export request's body."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_traces_go_to_the_otlp_endpoint_and_follow_traceparent(
    tmp_path: Path, fresh_database_url: str
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with otlp_receiver() as (endpoint, received):
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with serving(tmp_path, "--demo", database_url=fresh_database_url, env=env) as base:
            token = gql(base, SIGN_IN, {"u": LEGACY[0], "p": LEGACY[1]})["signIn"]["token"]  # type: ignore[index]
            response = post(
                base,
                "query Landing { me { username } }",
                token=token,
                headers={"traceparent": f"00-{trace_id}-{parent}-01"},
            )
            assert response.status_code == 200
            returned = response.headers["traceparent"]
            assert returned.startswith(f"00-{trace_id}-") and returned.endswith("-01")
        spans = []
        for body in received:
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
                assert service == "nextgen-gql"
                for scope in resource.scope_spans:
                    spans.extend(scope.spans)
    ours = [s for s in spans if s.trace_id.hex() == trace_id]
    by_id = {s.span_id.hex(): s for s in ours}
    [server] = [s for s in ours if s.parent_span_id.hex() == parent]
    assert server.kind == server.SPAN_KIND_SERVER
    assert returned.split("-")[2] == server.span_id.hex()
    [operation] = [s for s in ours if s.name == "query Landing"]
    attributes = {a.key: a.value.string_value for a in operation.attributes}
    assert attributes["graphql.operation.name"] == "Landing"
    assert attributes["nextgen.execution"] == "compiled"
    assert operation.parent_span_id.hex() == server.span_id.hex()
    statements = [s for s in ours if s.kind == s.SPAN_KIND_CLIENT]
    assert statements and all(by_id[s.parent_span_id.hex()] is operation for s in statements)
    assert all(
        "SELECT" in {a.key: a.value.string_value for a in s.attributes}["db.statement"] for s in statements
    )
    # The sign-in ran on the reference executor, through Tortoise: its statements are traced too,
    # with their text and never their parameters.
    sign_in = [s for s in spans if s.name == "mutation"]
    assert sign_in
    everything = b"".join(received)
    assert LEGACY[1].encode() not in everything and str(token).encode() not in everything


def test_imports_count_in_the_serving_instances_metrics(tmp_path: Path, fresh_database_url: str) -> None:
    """`nextgen-gql import` run with the server's PROMETHEUS_MULTIPROC_DIR adds its rows to
    the server's /metrics."""
    shared = tmp_path / "metrics"
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "login,first_name,last_name,email,role,password\n"
        "ximport1,Ann,One,,attorney,legacy-ecf-pass\n"
        "ximport2,Bob,Two,,attorney,legacy-ecf-pass\n",
        encoding="utf-8",
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    with serving(tmp_path, database_url=fresh_database_url, env=env) as base:
        before = total(scrape(base), "nextgen_gql_import_rows_total", kind="cmecf_accounts")
        command_env = {**os.environ, **env, "NEXTGEN_GQL_TENANTS_DIR": str(TENANTS)}
        command_env.pop("NEXTGEN_GQL_DATABASE_URL", None)
        if not fresh_database_url.startswith("sqlite://"):
            command_env["NEXTGEN_GQL_DATABASE_URL"] = fresh_database_url
        exe = Path(sys.executable).parent / "nextgen-gql"
        done = subprocess.run(
            [str(exe), "import", "cmecf-accounts", "mad", str(roster)],
            cwd=tmp_path,
            env=command_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        after = total(scrape(base), "nextgen_gql_import_rows_total", kind="cmecf_accounts")
        assert after - before == 2
