"""What operators see, through HTTP against the app: request ids, the request log, security
events, the metrics at /metrics and who may read them, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families

from nextgen_gql.app import create_app
from nextgen_gql.observability.logs import JsonFormatter, WithholdParameters
from nextgen_gql.settings import Settings
from tests import databases
from tests.conftest import FILER, LEGACY, REPO, STARTUP, Api, running_api, write_tenant

ME = "query Landing { me { username privileges { court { code } role } } }"
SIGN_IN = "mutation SignIn($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token errors { code } } }"


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "nextgen_gql.request"]  # type: ignore[attr-defined]


def security_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "nextgen_gql.security"]  # type: ignore[attr-defined]


async def scrape(
    client: httpx.AsyncClient, **headers: str
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


# --- Request ids -----------------------------------------------------------------------------


async def test_the_request_id_is_the_clients_when_sane_else_a_new_one(api: Api) -> None:
    given = await api.post(
        "{ courts { code } }", headers={"X-Request-ID": "3f1c2d4e-aa00-4b1e-9e3a-5b7c0d9e8f21"}
    )
    assert given.headers["x-request-id"] == "3f1c2d4e-aa00-4b1e-9e3a-5b7c0d9e8f21"
    for insane in ("a b", "x" * 129, '{"level": "error"}', ""):
        replaced = await api.post("{ courts { code } }", headers={"X-Request-ID": insane})
        assert replaced.headers["x-request-id"] != insane and len(replaced.headers["x-request-id"]) == 16
    fresh = await api.client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 16


# --- The request log ---------------------------------------------------------------------------


async def test_one_log_line_per_request_on_both_execution_paths(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    token = await api.sign_in(*FILER)
    caplog.clear()
    # A query: the compiled path (the suite checks it against the reference executor too).
    await api.data(ME, token=token, headers={"X-Request-ID": "req-compiled-1"})
    # A mutation: the reference executor, with an error in its payload.
    body = await api.data(
        SIGN_IN, {"u": FILER[0], "p": "not-the-password"}, headers={"X-Request-ID": "req-reference-1"}
    )
    assert body["signIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    # A query the compiler hands to the reference executor (introspection), at a court.
    await api.data(
        "query Types { __schema { queryType { name } } }", court="mad", headers={"X-Request-ID": "req-3"}
    )
    # Refused before anything runs: a validation error, and an unknown court.
    await api.gql("query Broken { nope }", headers={"X-Request-ID": "req-4"})
    unknown = await api.post("{ court { code } }", court="zzz", headers={"X-Request-ID": "req-5"})
    assert unknown.status_code == 404

    lines = {line["request_id"]: line for line in request_lines(caplog)}
    assert list(lines) == ["req-compiled-1", "req-reference-1", "req-3", "req-4", "req-5"]
    compiled = lines["req-compiled-1"]
    assert {
        k: compiled[k] for k in ("method", "path", "status", "operation", "operation_type", "execution")
    } == {
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "operation": "Landing",
        "operation_type": "query",
        "execution": "compiled",
    }
    assert compiled["account_id"] is not None and compiled["error_codes"] == [] and compiled["court"] is None
    assert compiled["duration_ms"] > 0 and compiled["client"] == "127.0.0.1"
    reference = lines["req-reference-1"]
    assert (reference["operation"], reference["execution"], reference["error_codes"]) == (
        "SignIn",
        "reference",
        ["INVALID_CREDENTIALS"],
    )
    assert reference["account_id"] is None  # a failed sign-in is nobody's
    assert (lines["req-3"]["court"], lines["req-3"]["execution"]) == ("mad", "reference")
    assert lines["req-4"]["error_codes"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert (lines["req-5"]["status"], lines["req-5"]["error_codes"]) == (404, ["UNKNOWN_COURT"])
    # A successful sign-in is the account's request.
    caplog.clear()
    await api.sign_in(*FILER)
    [signed] = request_lines(caplog)
    assert signed["account_id"] == compiled["account_id"]


async def test_the_request_log_can_be_turned_off_and_probes_log_at_debug(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    async with running_api(settings) as api:
        await api.client.get("/healthz")
        await api.client.get("/readyz")
        assert request_lines(caplog) == []
        caplog.set_level(logging.DEBUG, logger="nextgen_gql.request")
        await api.client.get("/healthz")
        assert [line["path"] for line in request_lines(caplog)] == ["/healthz"]
    caplog.clear()
    async with running_api(settings.with_(request_log=False)) as api:
        await api.data("{ courts { code } }")
        assert request_lines(caplog) == []


async def test_an_unexpected_exception_is_in_the_request_line(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from nextgen_gql.services import roster, rows

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(roster, "list_cmecf_accounts", broken)
    monkeypatch.setattr(rows, "cmecf_page", broken)
    token = await api.sign_in("madclerk01", "Court-Docket-Review-2026!")
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    await api.post("query Roster { cmecfAccounts { totalCount } }", court="mad", token=token)
    [line] = request_lines(caplog)
    assert (line["operation"], line["court"], line["error_codes"]) == ("Roster", "mad", ["INTERNAL_ERROR"])


# --- Security events ---------------------------------------------------------------------------


async def test_sign_ins_failures_and_lockouts_are_security_events_and_counted(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nextgen_gql")
    before = await scrape(api.client)
    await api.sign_in(*FILER)
    for _ in range(5):
        await api.data(SIGN_IN, {"u": LEGACY[0], "p": "wrong-password"}, headers={"X-Request-ID": "guess"})
    await api.data(SIGN_IN, {"u": "nobody-at-all", "p": "wrong-password"})
    locked = await api.data(SIGN_IN, {"u": LEGACY[0], "p": LEGACY[1]}, headers={"X-Request-ID": "locked-out"})
    assert locked["signIn"]["errors"] == [{"code": "ACCOUNT_LOCKED"}]
    after = await scrape(api.client)

    events = security_lines(caplog)
    names = [e["event"] for e in events]
    assert names.count("account.sign_in") == 1
    assert names.count("account.sign_in_failed") == 6
    # Five wrong passwords for one username from one address lock that pair (services.throttle).
    lock = next(e for e in events if e["event"] == "throttle.locked")
    assert (lock["policy"], lock["request_id"], lock["client"]) == ("acct_addr", "guess", "127.0.0.1")
    refused = next(e for e in events if e["event"] == "account.sign_in_refused")
    assert (refused["reason"], refused["request_id"]) == ("account_locked", "locked-out")
    warnings = {r.getMessage() for r in caplog.records if r.levelno == logging.WARNING}
    assert {"throttle.locked", "account.sign_in_refused"} <= warnings

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("nextgen_gql_sign_ins_total", outcome="success") == 1
    assert delta("nextgen_gql_sign_ins_total", outcome="failure") == 6
    assert delta("nextgen_gql_sign_ins_total", outcome="refused") == 1
    assert delta("nextgen_gql_lockouts_total", policy="acct_addr") == 1
    assert delta("nextgen_gql_errors_total", code="INVALID_CREDENTIALS") == 6
    assert delta("nextgen_gql_errors_total", code="ACCOUNT_LOCKED") == 1
    assert delta("nextgen_gql_requests_total", operation="SignIn", court="national", outcome="error") == 7


# --- Metrics -----------------------------------------------------------------------------------


async def test_requests_are_counted_by_operation_court_and_outcome(api: Api) -> None:
    token = await api.sign_in(*FILER)
    before = await scrape(api.client)
    for _ in range(3):
        await api.data(ME, token=token)
    await api.data("query Courts { court { code } }", court="mab")  # a registered operation's name
    await api.gql("query Broken { nope }", court="mab")
    await api.post("{ court { code } }", court="zzz")
    await api.client.get("/healthz")
    after = await scrape(api.client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "nextgen_gql_requests_total"
    # Landing is no registered operation (the front end's, or added): counted as (other).
    assert delta(requests, route="graphql", operation="(other)", court="national", outcome="ok") == 3
    assert delta(requests, route="graphql", operation="Landing") == 0
    assert delta(requests, route="graphql", operation="Courts", court="mab", outcome="ok") == 1
    assert delta(requests, route="graphql", operation="-", court="mab", outcome="error") == 1
    assert delta(requests, route="graphql", operation="-", court="-", outcome="refused") == 1
    assert delta(requests, route="healthz", outcome="ok") == 1
    assert delta("nextgen_gql_request_duration_seconds_count", route="graphql", operation="(other)") == 3
    assert delta("nextgen_gql_request_duration_seconds_sum", route="graphql", operation="(other)") > 0
    assert delta("nextgen_gql_errors_total", code="UNKNOWN_COURT") == 1
    assert delta("nextgen_gql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    # The pool, sampled at the scrape: SQLite's one connection, or the PostgreSQL pool.
    assert (
        value(after, "nextgen_gql_db_connections", state="idle")
        + value(after, "nextgen_gql_db_connections", state="in_use")
        >= 1
    )
    assert ("nextgen_gql_db_waiting", frozenset()) in after
    # Defined, waiting for their features: subscriptions, events fanned out, MFA challenges.
    for name in ("nextgen_gql_subscriptions_open", "nextgen_gql_events_fanned_out_total"):
        assert name in {n for n, _ in after}


async def test_persisted_document_hits_and_misses(api: Api) -> None:
    query = "query Kinds { courts { code kind } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    before = await scrape(api.client)
    miss = await api.client.post("/graphql", json={"extensions": extensions})
    assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert (
        await api.client.post("/graphql", json={"query": query, "extensions": extensions})
    ).status_code == 200
    hit = await api.client.post("/graphql", json={"extensions": extensions})
    assert "errors" not in hit.json()
    after = await scrape(api.client)
    result = "nextgen_gql_persisted_documents_total"
    assert value(after, result, result="miss") - value(before, result, result="miss") == 2
    assert value(after, result, result="hit") - value(before, result, result="hit") == 1


async def test_metrics_go_to_the_allowed_addresses_or_the_token_only(settings: Settings) -> None:
    token = "metrics-scraper-secret-0123456789"
    app = create_app(settings.with_(metrics_allow=("10.1.0.0/16",), metrics_token=token))
    async with LifespanManager(app, startup_timeout=STARTUP) as manager:

        def client(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=manager.app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://testserver")

        async with (
            client("10.1.2.3") as inside,
            client("127.0.0.1") as loopback,
            client("192.0.2.7") as outside,
        ):
            assert (await inside.get("/metrics")).status_code == 200
            # Not listed (loopback is not, here): refused, asked for the token.
            refused = await loopback.get("/metrics")
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
            assert (
                await outside.get("/metrics", headers={"Authorization": "Bearer wrong"})
            ).status_code == 401
            assert (
                await outside.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 200
            # Through a proxy, every caller could look like an allowed address: the token only.
            proxied = await inside.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
            assert proxied.status_code == 401
    async with running_api(settings) as api:  # the default: loopback only, no token
        assert (await api.client.get("/metrics")).status_code == 200
        transport = httpx.ASGITransport(app=api.app, client=("192.0.2.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as outside:
            assert (await outside.get("/metrics")).status_code == 403
    async with running_api(settings.with_(metrics=False)) as api:
        assert (await api.client.get("/metrics")).status_code == 404
        assert "errors" not in await api.gql("{ courts { code } }")


def test_metrics_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="METRICS_ALLOW"):
        Settings.from_env({"NEXTGEN_GQL_METRICS_ALLOW": "10.0.0.0/8,intranet"})
    with pytest.raises(ValueError, match="METRICS_TOKEN"):
        Settings.from_env({"NEXTGEN_GQL_METRICS_TOKEN": "short"})
    assert Settings.from_env({"NEXTGEN_GQL_METRICS_ALLOW": "none"}).metrics_allow == ()
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        Settings.from_env({"NEXTGEN_GQL_LOG_LEVEL": "trace"})


# --- Health ------------------------------------------------------------------------------------


async def test_readyz_says_why_it_is_not_ready(settings: Settings, tenants_copy: Path) -> None:
    write_tenant(
        tenants_copy,
        "nysd",
        'code = "nysd"\nname = "S.D.N.Y."\nkind = "district"\naccepted_roles = ["attorney"]\n',
    )
    async with running_api(settings.with_(tenants_dir=tenants_copy)) as api:
        assert (await api.client.get("/healthz")).json() == {"status": "ok"}
        assert (await api.client.get("/readyz")).json() == {"status": "ready"}
        url = api.settings.database_url
        for statement in (
            "DELETE FROM tortoise_migrations WHERE name = '0006_persisted_documents'",
            "DELETE FROM courts WHERE code = 'nysd'",
        ):
            await asyncio.to_thread(databases.query, url, statement)  # it runs a loop of its own
        response = await api.client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "not ready",
            "reasons": ["Migrations not applied: 0006_persisted_documents.", "Courts not loaded: nysd."],
        }
        assert (await api.client.get("/healthz")).status_code == 200  # alive all the same


# --- Logs and tracing, in themselves ---------------------------------------------------------


def test_sql_is_logged_without_its_parameters() -> None:
    record = logging.LogRecord(
        "tortoise.db_client",
        logging.DEBUG,
        __file__,
        1,
        "%s: %s",
        ("UPDATE t SET h=? WHERE k=?", ["s3cret", 1]),
        None,
    )
    assert WithholdParameters().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "UPDATE t SET h=? WHERE k=?: [2 parameter(s) withheld]"
    assert (line["level"], line["logger"]) == ("debug", "tortoise.db_client") and line["ts"].endswith("Z")


def test_tracing_off_imports_nothing_of_opentelemetry(settings: Settings) -> None:
    """With OTEL_EXPORTER_OTLP_ENDPOINT unset, a served request loads no OpenTelemetry module."""
    program = f"""
import asyncio, sys, httpx
from asgi_lifespan import LifespanManager
from nextgen_gql.app import create_app
from nextgen_gql.settings import Settings
settings = Settings(database_url={settings.database_url!r}, tenants_dir=__import__("pathlib").Path({str(settings.tenants_dir)!r}), secret_key={settings.secret_key!r})
async def main():
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.post("/graphql", json={{"query": "{{ courts {{ code }} }}"}})).status_code == 200
    names = [m.cls.__name__ for m in app.user_middleware]
    print(sorted(m for m in sys.modules if m.startswith("opentelemetry")), names)
asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] ['TrustedProxies', 'ObserveRequests', 'SecurityHeaders']", out.stdout


def test_the_operations_guide_and_the_dashboard_name_the_metrics_that_exist() -> None:
    from prometheus_client.metrics import MetricWrapperBase

    from nextgen_gql.observability import metrics

    defined = {}
    for thing in vars(metrics).values():
        if isinstance(thing, MetricWrapperBase):
            suffix = "_total" if thing._type == "counter" else ""
            defined[thing._name + suffix] = thing._type
    guide = (REPO / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"^\| `(nextgen_gql_\w+)` \|", guide, re.MULTILINE))
    assert documented == set(defined)
    dashboard = json.loads((REPO / "docs" / "grafana" / "nextgen-gql.json").read_text())
    used = {
        re.sub(r"_(bucket|sum|count)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"nextgen_gql_\w+", target["expr"])
    }
    assert used <= set(defined), used - set(defined)


async def test_mfa_challenges_are_counted(api: Api) -> None:
    from tests.api.mfa_helpers import SIGN_IN as MFA_SIGN_IN
    from tests.api.mfa_helpers import VERIFY, code, enrol, next_step, stop_clock

    stop_clock()
    token = await api.sign_in(*FILER)
    app = await enrol(api, token, "james.morgan@morganlegal.example")
    before = await scrape(api.client)
    signed = await api.data(MFA_SIGN_IN, {"i": {"username": FILER[0], "password": FILER[1]}})
    challenge = signed["signIn"]["mfaChallenge"]["token"]
    wrong = await api.data(VERIFY, {"i": {"challenge": challenge, "code": "000000", "method": "TOTP"}})
    assert wrong["verifySignIn"]["errors"][0]["code"] == "INVALID_MFA_CODE"
    next_step()
    right = await api.data(
        VERIFY, {"i": {"challenge": challenge, "code": code(app.secret), "method": "TOTP"}}
    )
    assert right["verifySignIn"]["errors"] == []
    used = await api.data(VERIFY, {"i": {"challenge": challenge, "code": code(app.secret), "method": "TOTP"}})
    assert used["verifySignIn"]["errors"][0]["code"] == "MFA_CHALLENGE_EXPIRED"
    after = await scrape(api.client)
    for outcome in ("issued", "failed", "passed", "expired"):
        counted = value(after, "nextgen_gql_mfa_challenges_total", outcome=outcome)
        assert counted - value(before, "nextgen_gql_mfa_challenges_total", outcome=outcome) == 1, outcome


async def test_the_hooks_waiting_for_subscriptions_count(api: Api) -> None:
    """Subscriptions (other work) only have to tell these events."""
    from nextgen_gql.services import events

    before = await scrape(api.client)
    events.emit("subscription.opened")
    events.emit("subscription.opened")
    events.emit("subscription.closed")
    events.emit("events.fanned_out", count=5)
    after = await scrape(api.client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("nextgen_gql_subscriptions_open") == 1
    assert delta("nextgen_gql_events_fanned_out_total") == 5


async def test_a_client_gone_before_its_body_arrived_is_logged_499_not_a_failure(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that closes while its request's body is on the way (wrk stopping, a browser tab
    closed) leaves no one to answer: the request log says 499, nothing is sent, and no
    "Exception in ASGI application" is raised to the server as a 500."""
    caplog.set_level(logging.INFO)
    body = json.dumps({"query": ME}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", b"req-gone-1"),
        ],
        "client": ("127.0.0.1", 50003),
        "server": ("testserver", 80),
    }
    parts = [{"type": "http.request", "body": body[:10], "more_body": True}, {"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await api.app(scope, receive, send)  # returns: nothing raised to the server
    assert sent == []
    [line] = [line for line in request_lines(caplog) if line["request_id"] == "req-gone-1"]
    assert (line["status"], line["error_codes"]) == (499, [])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
