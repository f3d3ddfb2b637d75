"""Issue 34: webhooks for court systems, over GraphQL against the running app and a local
receiver (NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS=127.0.0.1/32 lets the suite deliver to it).

Most tests drive the worker's rounds themselves (``worker.run_round``) and the service's
clock (``services.clock``), so that retries and leases are tested without waiting; one lets
the app's own worker deliver.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from nextgen_gql.api.ids import encode_id
from nextgen_gql.enums import WebhookEventType
from nextgen_gql.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from nextgen_gql.outbound.addresses import Reach
from nextgen_gql.outbound.client import guarded_pool
from nextgen_gql.services import clock, maintenance
from nextgen_gql.services.court_catalog import load_registry
from nextgen_gql.services.crypto import Sealer
from nextgen_gql.services.mail import Mailer
from nextgen_gql.settings import Settings
from nextgen_gql.webhooks import endpoints, payloads, worker
from nextgen_gql.webhooks.signing import signature
from tests.api.live_helpers import clerk, decide, filer, submit, withdraw
from tests.conftest import CLERK_PASSWORD, CLERKS, Api, running_api
from tests.webhook_receiver import Receiver

ENDPOINT_FIELDS = "id url description status disabledReason eventTypes secretRotatedAt court { code }"
CREATE = f"""mutation($i: CreateWebhookEndpointInput!) {{ createWebhookEndpoint(input: $i) {{
  secret endpoint {{ {ENDPOINT_FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE = f"""mutation($i: UpdateWebhookEndpointInput!) {{ updateWebhookEndpoint(input: $i) {{
  endpoint {{ {ENDPOINT_FIELDS} }} errors {{ code message field }} }} }}"""
ROTATE = f"""mutation($id: ID!) {{ rotateWebhookSecret(id: $id) {{
  secret endpoint {{ {ENDPOINT_FIELDS} }} errors {{ code message }} }} }}"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { endpoint { id } errors { code message } } }"
TEST = "mutation($id: ID!) { sendTestWebhook(id: $id) { delivery { id eventType outcome } errors { code message } } }"
REDELIVER = (
    "mutation($id: ID!) { redeliverWebhook(id: $id) { delivery { id outcome } errors { code message } } }"
)
LIST = f"query {{ webhookEndpoints {{ {ENDPOINT_FIELDS} }} }}"
LOG = """query($id: ID!, $outcome: WebhookOutcome) { node(id: $id) { ... on WebhookEndpoint {
  deliveries(first: 50, outcome: $outcome) { totalCount edges { cursor node { id eventType payload outcome
  nextAttemptAt createdAt attempts { at statusCode durationMs error } } } pageInfo { hasNextPage } } } } }"""
ALL_EVENTS = [
    "REGISTRATION_SUBMITTED",
    "REGISTRATION_WITHDRAWN",
    "REGISTRATION_DECIDED",
    "ACCOUNT_LINKED",
    "PRIVILEGE_GRANTED",
    "PRIVILEGE_CASES_CHANGED",
    "PRIVILEGE_REVOKED",
]


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    # No worker of the app's own: the tests run the rounds.
    return dataclasses.replace(settings, webhook_allow_networks="127.0.0.1/32", webhook_interval_s=0)


@pytest.fixture
async def hooks(hook_settings: Settings) -> AsyncIterator[Api]:
    async with running_api(hook_settings) as running:
        yield running
    clock.reset()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


def sender(api: Api, **kw: Any) -> worker.Sender:
    settings = api.settings
    assert settings.secret_key
    kw.setdefault("reach", Reach(settings.webhook_networks))
    return worker.Sender(
        Sealer(settings.secret_key), Mailer(settings.mail_dir, None, settings.mail_from), **kw
    )


async def create(
    api: Api, token: str, url: str, types: list[str] | None = None, court: str = "mad"
) -> dict[str, Any]:
    data = await api.data(
        CREATE,
        {"i": {"url": url, "description": "CM/ECF intake", "eventTypes": types or ALL_EVENTS}},
        court=court,
        token=token,
    )
    made: dict[str, Any] = data["createWebhookEndpoint"]
    return made


async def log_of(api: Api, token: str, endpoint_id: str, outcome: str | None = None) -> dict[str, Any]:
    data = await api.data(LOG, {"id": endpoint_id, "outcome": outcome}, court="mad", token=token)
    found: dict[str, Any] = data["node"]["deliveries"]
    return found


async def a_round(api: Api, send: worker.Sender | None = None) -> int:
    own = send is None
    send = send or sender(api)
    try:
        return await worker.run_round(send)
    finally:
        if own:
            await send.close()


def verified(secret: str, request: Any) -> dict[str, Any]:
    body: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    return body


async def test_a_clerk_makes_an_endpoint_and_its_events_arrive_signed(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    assert made["errors"] == []
    secret = made["secret"]
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    endpoint = made["endpoint"]
    assert endpoint["status"] == "ENABLED" and endpoint["court"] == {"code": "mad"}
    assert endpoint["eventTypes"] == ALL_EVENTS
    # The secret is shown once: no field of the endpoint gives it again, nor does the database hold it.
    listed = (await hooks.data(LIST, court="mad", token=token))["webhookEndpoints"]
    assert listed == [endpoint] and secret not in json.dumps(listed)
    row = await WebhookEndpoint.get(court_id="mad")
    assert secret not in row.secret_sealed and secret[6:] not in row.secret_sealed

    registration = await submit(hooks, await filer(hooks))
    assert await a_round(hooks) == 1
    [request] = await receiver.wait_for(1)
    assert request.method == "POST" and request.path == "/hooks/nextgen"
    assert request.headers["content-type"] == "application/json"
    body = verified(secret, request)
    assert body["type"] == "registration.submitted"
    assert body["data"]["court"] == "mad" and body["data"]["registrationId"] == registration
    assert body["data"]["role"] == "MEDIA" and body["data"]["pacerAccountNumber"]
    assert body["timestamp"].endswith("Z")
    # Another secret does not verify it; nor does the body changed.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"mad", b"mab"), request.headers)
    # The log: one delivery, succeeded, its id the webhook-id header, its payload the body sent.
    log = await log_of(hooks, token, endpoint["id"])
    assert log["totalCount"] == 1
    delivery = log["edges"][0]["node"]
    assert delivery["id"] == request.headers["webhook-id"]
    assert delivery["payload"].encode() == request.body
    assert delivery["outcome"] == "SUCCEEDED" and delivery["nextAttemptAt"] is None
    assert delivery["eventType"] == "REGISTRATION_SUBMITTED"
    [attempt] = delivery["attempts"]
    assert attempt["statusCode"] == 200 and attempt["error"] is None and attempt["durationMs"] >= 0
    # node(id:) finds the delivery too, for the court's clerks.
    found = await hooks.data(
        "query($id: ID!) { node(id: $id) { ... on WebhookDelivery { id outcome endpoint { id } } } }",
        {"id": delivery["id"]},
        court="mad",
        token=token,
    )
    assert found["node"] == {"id": delivery["id"], "outcome": "SUCCEEDED", "endpoint": {"id": endpoint["id"]}}


async def test_every_event_type_is_delivered_with_thin_data(hooks: Api, receiver: Receiver) -> None:
    """Submitted, withdrawn, decided (approved: a privilege granted), linked; the data carry ids,
    codes, roles and cases, never a password, token or secret."""
    token = await clerk(hooks)
    secret = (await create(hooks, token, receiver.url))["secret"]
    applicant = await filer(hooks)
    first = await submit(hooks, applicant)
    await withdraw(hooks, applicant, first)
    second = await submit(hooks, applicant)
    decided = await decide(hooks, token, second)
    assert await a_round(hooks) == 5
    got = await receiver.wait_for(5)
    bodies = [verified(secret, r) for r in got]
    types = sorted(b["type"] for b in bodies)
    assert types == sorted(
        [
            "registration.submitted",
            "registration.withdrawn",
            "registration.submitted",
            "privilege.granted",
            "registration.decided",
        ]
    )
    by_type = {b["type"]: b["data"] for b in bodies}
    assert by_type["registration.decided"]["status"] == "APPROVED"
    assert by_type["registration.decided"]["privilegeId"] == decided["privilege"]["id"]
    granted = by_type["privilege.granted"]
    assert granted["privilegeId"] == decided["privilege"]["id"] and granted["role"] == "MEDIA"
    assert granted["cases"] == [] and granted["pacerAccountNumber"] and granted["court"] == "mad"
    assert len({r.headers["webhook-id"] for r in got}) == 5
    sent = b" ".join(r.body for r in got).lower()
    for secretish in (b"password", b"token", b"whsec_", b"hash"):
        assert secretish not in sent


async def test_an_endpoint_hears_only_its_types_and_its_court(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    await create(hooks, token, receiver.url, ["REGISTRATION_DECIDED"])
    mab = await clerk(hooks, "mab")
    await create(hooks, mab, receiver.url, ALL_EVENTS, court="mab")
    await submit(hooks, await filer(hooks))  # mad, submitted: asked for by nobody
    assert await a_round(hooks) == 0
    assert receiver.received == []


async def test_an_events_data_is_read_only_when_an_endpoint_wants_it(
    hooks: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change nobody listens to reads nothing for webhooks beyond the court's endpoints."""
    read: list[int] = []
    account_number = payloads._account_number

    async def counted(conn: Any, account_id: int) -> str | None:
        read.append(account_id)
        return await account_number(conn, account_id)

    monkeypatch.setattr(payloads, "_account_number", counted)
    token = await clerk(hooks)
    applicant = await filer(hooks)
    await withdraw(hooks, applicant, await submit(hooks, applicant))  # no endpoint at mad
    assert read == []
    await create(hooks, token, receiver.url, ["REGISTRATION_DECIDED"])
    await withdraw(hooks, applicant, await submit(hooks, applicant))  # one, not for these
    assert read == []
    await create(hooks, token, receiver.url, ["REGISTRATION_SUBMITTED"])
    await submit(hooks, applicant)
    assert len(read) == 1
    assert await a_round(hooks) == 1
    (got,) = await receiver.wait_for(1)
    assert json.loads(got.body)["data"]["pacerAccountNumber"]


async def test_a_failed_attempt_is_retried_on_schedule_with_the_same_id(
    hooks: Api, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    secret = made["secret"]
    caplog.set_level(logging.INFO, logger="nextgen_gql.webhooks")
    receiver.answers.extend([500, (503, {"retry-after": "120"}), 200])
    start = dt.datetime.now(dt.UTC)
    clock.set_now(start)
    await submit(hooks, await filer(hooks))
    assert await a_round(hooks) == 1
    log = (await log_of(hooks, token, made["endpoint"]["id"]))["edges"][0]["node"]
    assert log["outcome"] == "PENDING" and log["attempts"][0]["statusCode"] == 500
    assert log["attempts"][0]["error"] == "answered 500"
    due = dt.datetime.fromisoformat(log["nextAttemptAt"])
    assert dt.timedelta(seconds=4.4) <= due - start <= dt.timedelta(seconds=5.6)  # 5 s, with jitter
    assert await a_round(hooks) == 0  # not yet due
    clock.advance(dt.timedelta(seconds=6))
    assert await a_round(hooks) == 1
    log = (await log_of(hooks, token, made["endpoint"]["id"]))["edges"][0]["node"]
    # The schedule says 5 min next; the receiver asked for 120 s: the later of the two.
    due = dt.datetime.fromisoformat(log["nextAttemptAt"])
    assert dt.timedelta(seconds=269) <= due - clock.now() <= dt.timedelta(seconds=331)
    clock.advance(dt.timedelta(seconds=331))
    assert await a_round(hooks) == 1
    got = await receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    verified(secret, got[0])  # signed at the real time (the receiver allows five minutes of skew)
    for request in got:  # each attempt signed at its own moment
        at = dt.datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), dt.UTC)
        assert request.headers["webhook-signature"] == signature(
            [secret], request.headers["webhook-id"], at, request.body.decode()
        )
    timestamps = [int(r.headers["webhook-timestamp"]) for r in got]
    assert timestamps == sorted(timestamps) and timestamps[0] < timestamps[-1]  # signed at each attempt
    log = (await log_of(hooks, token, made["endpoint"]["id"]))["edges"][0]["node"]
    assert log["outcome"] == "SUCCEEDED" and [a["statusCode"] for a in log["attempts"]] == [500, 503, 200]
    # One structured log line per attempt (JSON logs carry its fields).
    lines = [r.fields for r in caplog.records if r.name == "nextgen_gql.webhooks" and hasattr(r, "fields")]
    assert [(f["attempt"], f["status"], f["outcome"]) for f in lines] == [
        (1, 500, "pending"),
        (2, 503, "pending"),
        (3, 200, "succeeded"),
    ]
    assert all(f["delivery"] == log["id"] and f["court"] == "mad" for f in lines)


async def test_a_delivery_ends_failed_when_the_schedule_is_spent(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    receiver.default = 500
    clock.set_now(dt.datetime.now(dt.UTC))
    await submit(hooks, await filer(hooks))
    for _ in range(8):
        assert await a_round(hooks) == 1
        clock.advance(dt.timedelta(hours=11))
    assert await a_round(hooks) == 0
    token = await clerk(hooks)  # three days on: a new sign-in
    log = (await log_of(hooks, token, made["endpoint"]["id"], "FAILED"))["edges"]
    assert len(log) == 1 and len(log[0]["node"]["attempts"]) == 8 and log[0]["node"]["nextAttemptAt"] is None
    # Failing for 5 days disables the endpoint; it had failed for 77 hours: still enabled.
    endpoint = (await hooks.data(LIST, court="mad", token=token))["webhookEndpoints"][0]
    assert endpoint["status"] == "ENABLED"


async def test_gone_disables_the_endpoint_and_mails_the_clerks(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    receiver.answers.append(410)
    applicant = await filer(hooks)
    await submit(hooks, applicant)
    assert await a_round(hooks) == 1
    endpoint = (await hooks.data(LIST, court="mad", token=token))["webhookEndpoints"][0]
    assert endpoint["status"] == "DISABLED" and "410" in endpoint["disabledReason"]
    mails = [m for m in hooks.mails() if "webhook endpoint" in str(m["subject"])]
    assert mails and receiver.url in mails[0].get_content()
    # Disabled: nothing more is sent, but a test PING is.
    pinged = await hooks.data(TEST, {"id": made["endpoint"]["id"]}, court="mad", token=token)
    assert (
        pinged["sendTestWebhook"]["errors"] == []
        and pinged["sendTestWebhook"]["delivery"]["eventType"] == "PING"
    )
    assert await a_round(hooks) == 1
    got = await receiver.wait_for(2)
    assert verified(made["secret"], got[-1])["type"] == "ping"
    # Enabled again: the reason is cleared.
    enabled = await hooks.data(
        UPDATE, {"i": {"id": made["endpoint"]["id"], "enabled": True}}, court="mad", token=token
    )
    assert enabled["updateWebhookEndpoint"]["endpoint"]["status"] == "ENABLED"
    assert enabled["updateWebhookEndpoint"]["endpoint"]["disabledReason"] is None


async def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    old = made["secret"]
    clock.set_now(dt.datetime.now(dt.UTC))
    rotated = (await hooks.data(ROTATE, {"id": made["endpoint"]["id"]}, court="mad", token=token))[
        "rotateWebhookSecret"
    ]
    new = rotated["secret"]
    assert new != old and rotated["endpoint"]["secretRotatedAt"]
    await hooks.data(TEST, {"id": made["endpoint"]["id"]}, court="mad", token=token)
    assert await a_round(hooks) == 1
    [request] = await receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    # Webhook.verify checks the timestamp against the real clock: the attempt was signed now.
    verified(old, request)
    verified(new, request)
    clock.advance(dt.timedelta(hours=25))
    token = await clerk(hooks)  # a day on: a new sign-in
    await hooks.data(TEST, {"id": made["endpoint"]["id"]}, court="mad", token=token)
    assert await a_round(hooks) == 1
    later = (await receiver.wait_for(2))[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    # Signed by the new secret alone, at the service's clock (a day ahead of the real one here).
    assert later.headers["webhook-signature"] == signature(
        [new], later.headers["webhook-id"], clock.now(), later.body.decode()
    )


async def test_urls_the_service_may_not_call_are_refused(hook_settings: Settings) -> None:
    strict = dataclasses.replace(hook_settings, webhook_allow_networks="")
    async with running_api(strict) as api:
        token = await clerk(api)
        for url, said in [
            ("http://example.org/hook", "https://"),
            ("https://127.0.0.1/hook", "loopback"),
            ("https://10.1.2.3/hook", "private"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://[::ffff:127.0.0.1]/hook", "IPv4-mapped"),
            ("https://[64:ff9b::a00:1]/hook", "64:ff9b"),
            ("https://100.64.0.1/hook", "shared"),
            ("https://224.0.0.1/hook", "multicast"),
            ("https://240.0.0.1/hook", "reserved"),
            ("https://[::a00:1]/hook", "IPv4-compatible"),
            ("https://[2002:a00:1::1]/hook", "6to4"),
            ("https://[fe80::1]/hook", "link-local"),
            ("https://[fd00::1]/hook", "unique local"),
            ("https://user:pw@example.org/hook", "user name"),
            ("ftp://example.org/hook", "https://"),
        ]:
            made = await create(api, token, url)
            assert made["endpoint"] is None and made["secret"] is None, url
            [error] = made["errors"]
            assert error["code"] == "WEBHOOK_URL_NOT_ALLOWED" and error["field"] == "url", (url, error)
            assert said in error["message"], (url, error["message"])
        assert await WebhookEndpoint.all().count() == 0
        # Bad input otherwise: named, nothing made.
        bad = await create(api, token, "https://93.184.216.34/hook", types=["PING"])
        assert bad["errors"][0]["code"] == "INVALID_INPUT" and bad["errors"][0]["field"] == "eventTypes"
        blank = await api.data(
            CREATE,
            {"i": {"url": "https://93.184.216.34/hook", "description": "  ", "eventTypes": ALL_EVENTS}},
            court="mad",
            token=token,
        )
        assert blank["createWebhookEndpoint"]["errors"][0]["field"] == "description"


async def test_who_may_manage_a_courts_endpoints(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    endpoint_id = made["endpoint"]["id"]
    # A filer, and the anonymous: refused.
    applicant = await filer(hooks)
    refused = await hooks.gql(LIST, court="mad", token=applicant)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await create(hooks, applicant, receiver.url))["errors"][0]["code"] == "FORBIDDEN"
    # Another court's clerk: its own (empty) list; this court's endpoint is no endpoint to it.
    mab = await clerk(hooks, "mab")
    assert (await hooks.data(LIST, court="mab", token=mab))["webhookEndpoints"] == []
    gone = await hooks.data(DELETE, {"id": endpoint_id}, court="mab", token=mab)
    assert gone["deleteWebhookEndpoint"]["errors"][0]["code"] == "NOT_FOUND"
    found = await hooks.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": endpoint_id}, court="mab", token=mab
    )
    assert found["node"] is None
    # A service key of the court: with MANAGE_WEBHOOKS it manages them; without, refused.
    keys = {}
    for scope in ("MANAGE_WEBHOOKS", "READ_ROSTER"):
        key = await hooks.data(
            """mutation($s: CourtKeyScope!) { createCourtServiceKey(input: {name: "hooks", scopes: [$s]}) {
            secret errors { code } } }""",
            {"s": scope},
            court="mad",
            token=token,
        )
        keys[scope] = key["createCourtServiceKey"]["secret"]
    listed = await hooks.data(LIST, court="mad", token=keys["MANAGE_WEBHOOKS"])
    assert [e["id"] for e in listed["webhookEndpoints"]] == [endpoint_id]
    no_scope = await hooks.gql(LIST, court="mad", token=keys["READ_ROSTER"])
    assert no_scope["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await create(hooks, keys["READ_ROSTER"], receiver.url))["errors"][0]["code"] == "FORBIDDEN"
    by_key = await create(hooks, keys["MANAGE_WEBHOOKS"], receiver.url, ["PRIVILEGE_REVOKED"])
    assert by_key["errors"] == [] and by_key["secret"].startswith("whsec_")
    # ... at its own court only.
    elsewhere = await hooks.post(LIST, court="mab", token=keys["MANAGE_WEBHOOKS"])
    assert elsewhere.status_code == 403 and "acts only at its court" in elsewhere.text
    # Deleted by the clerk: its deliveries go with it; the audit trail keeps what was done.
    deleted = await hooks.data(DELETE, {"id": endpoint_id}, court="mad", token=token)
    assert deleted["deleteWebhookEndpoint"]["errors"] == []
    actions = await AuditEvent.filter(action__startswith="webhook.").values_list("action", "service_key_id")
    assert ("webhook.create", None) in actions and ("webhook.delete", None) in actions
    assert any(action == "webhook.create" and key is not None for action, key in actions)


async def test_a_worker_that_dies_leaves_the_lease_and_the_delivery_is_sent_again(
    hooks: Api, receiver: Receiver
) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    clock.set_now(dt.datetime.now(dt.UTC))
    await submit(hooks, await filer(hooks))
    claimed = await worker._claim(clock.now())  # a worker claims it, then dies before sending
    assert len(claimed) == 1
    assert await a_round(hooks) == 0  # leased: no other worker takes it
    clock.advance(worker.LEASE + dt.timedelta(seconds=1))
    assert await a_round(hooks) == 1
    [request] = await receiver.wait_for(1)
    delivery = await WebhookDelivery.get(id=claimed[0])
    assert request.headers["webhook-id"] == encode_id("WebhookDelivery", delivery.uid)
    assert made["errors"] == [] and delivery.outcome == "succeeded" and delivery.attempts_made == 1


async def test_concurrent_workers_send_each_delivery_once(hooks: Api, receiver: Receiver) -> None:
    """Two workers' rounds at the same time (on PostgreSQL they claim FOR UPDATE SKIP LOCKED):
    every delivery is attempted once."""
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    for _ in range(12):
        await hooks.data(TEST, {"id": made["endpoint"]["id"]}, court="mad", token=token)
    one, two = sender(hooks), sender(hooks)
    try:
        counts = await asyncio.gather(a_round(hooks, one), a_round(hooks, two))
    finally:
        await one.close()
        await two.close()
    assert sum(counts) == 12
    got = await receiver.wait_for(12)
    assert len(got) == 12 and len({r.headers["webhook-id"] for r in got}) == 12


async def test_redelivery_sends_the_same_event_again(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    await submit(hooks, await filer(hooks))
    assert await a_round(hooks) == 1
    delivery = (await log_of(hooks, token, made["endpoint"]["id"]))["edges"][0]["node"]
    again = await hooks.data(REDELIVER, {"id": delivery["id"]}, court="mad", token=token)
    assert again["redeliverWebhook"] == {
        "delivery": {"id": delivery["id"], "outcome": "PENDING"},
        "errors": [],
    }
    assert await a_round(hooks) == 1
    first, second = await receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["id"]
    assert first.body == second.body
    mab = await clerk(hooks, "mab")
    other = await hooks.data(REDELIVER, {"id": delivery["id"]}, court="mab", token=mab)
    assert other["redeliverWebhook"]["errors"][0]["code"] == "NOT_FOUND"
    assert await a_round(hooks) == 0  # another court's clerk queued nothing
    assert (await log_of(hooks, token, made["endpoint"]["id"]))["edges"][0]["node"]["outcome"] == "SUCCEEDED"


class _NoConnections(httpcore.AsyncNetworkBackend):
    """An inner backend that records what it was asked to dial, and dials nothing."""

    def __init__(self) -> None:
        self.dialled: list[str] = []

    async def connect_tcp(
        self, host: str, port: int, *args: Any, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append(host)
        raise httpcore.ConnectError("the test dials nothing")


async def test_a_host_rebound_to_a_private_address_is_refused_at_the_attempt(hooks: Api) -> None:
    """The URL's host resolved to a public address when the endpoint was made; at the attempt it
    resolves to a private one (DNS rebinding): refused, no connection opened."""
    answers = {"hooks.example.org": ["93.184.216.34"]}

    async def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    court = (await load_registry()).serve("mad")
    assert hooks.settings.secret_key
    made = await endpoints.create(
        court,
        endpoints.Actor(),
        url="https://hooks.example.org/in",
        description="rebinding",
        types=[WebhookEventType.REGISTRATION_SUBMITTED],
        sealer=Sealer(hooks.settings.secret_key),
        reach=Reach((), resolver),
    )
    answers["hooks.example.org"] = ["10.0.0.7"]
    inner = _NoConnections()
    send = sender(hooks, reach=Reach((), resolver), pool=guarded_pool(Reach((), resolver), inner=inner))
    try:
        await submit(hooks, await filer(hooks))
        assert await a_round(hooks, send) == 1
    finally:
        await send.close()
    delivery = await WebhookDelivery.get(endpoint_id=made.endpoint.id)
    assert delivery.outcome == "pending"
    [attempt] = await WebhookAttempt.filter(delivery_id=delivery.id)
    assert attempt.status_code is None and "address not allowed" in (attempt.error or "")
    assert "10.0.0.7" in (attempt.error or "") and inner.dialled == []


async def test_maintenance_prunes_ended_deliveries_after_thirty_days(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    receiver.answers.append(200)
    receiver.default = 500
    clock.set_now(dt.datetime.now(dt.UTC))
    await hooks.data(TEST, {"id": made["endpoint"]["id"]}, court="mad", token=token)
    assert await a_round(hooks) == 1  # succeeded: ended
    await hooks.data(TEST, {"id": made["endpoint"]["id"]}, court="mad", token=token)
    assert await a_round(hooks) == 1  # failed once: pending
    clock.advance(dt.timedelta(days=31))
    report = await maintenance.run(maintenance.Retention(), database_url=hooks.settings.direct_url)
    assert report.deleted["webhook_deliveries"] == 1
    left = await WebhookDelivery.all()
    assert [d.outcome for d in left] == ["pending"]


async def test_the_apps_own_worker_delivers(hook_settings: Settings, receiver: Receiver) -> None:
    """serve's worker (NEXTGEN_GQL_WEBHOOK_INTERVAL_S) sends what a change wrote, at once."""
    settings = dataclasses.replace(hook_settings, webhook_interval_s=30)
    async with running_api(settings) as api:
        token = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
        made = await create(api, token, receiver.url)
        await submit(api, await filer(api))
        [request] = await receiver.wait_for(1, timeout=10)  # woken, not the 30 s round
        assert verified(made["secret"], request)["type"] == "registration.submitted"


async def test_an_endpoint_failing_for_five_days_is_disabled(hooks: Api, receiver: Receiver) -> None:
    token = await clerk(hooks)
    made = await create(hooks, token, receiver.url)
    receiver.default = 502
    clock.set_now(dt.datetime.now(dt.UTC))
    applicant = await filer(hooks)
    registration = await submit(hooks, applicant)
    assert await a_round(hooks) == 1
    row = await WebhookEndpoint.get(court_id="mad")
    assert row.enabled and row.failing_since == clock.now()  # the run of failures starts
    # Four days on, still failing: not yet.
    await WebhookEndpoint.filter(id=row.id).update(failing_since=clock.now() - dt.timedelta(days=4))
    clock.advance(dt.timedelta(seconds=6))
    assert await a_round(hooks) == 1
    assert (await WebhookEndpoint.get(id=row.id)).enabled
    # Five days of failures: the next failure disables it, ends what was pending, mails the clerks.
    await WebhookEndpoint.filter(id=row.id).update(
        failing_since=clock.now() - dt.timedelta(days=5, minutes=1)
    )
    clock.advance(dt.timedelta(minutes=6))
    assert await a_round(hooks) == 1
    row = await WebhookEndpoint.get(id=row.id)
    assert not row.enabled and row.disabled_reason and "every attempt failed since" in row.disabled_reason
    assert "answered 502" in row.disabled_reason
    assert await WebhookDelivery.filter(endpoint_id=row.id, outcome="pending").count() == 0
    assert any("was disabled" in str(m["subject"]) for m in hooks.mails())
    token = await clerk(hooks)
    listed = (await hooks.data(LIST, court="mad", token=token))["webhookEndpoints"][0]
    assert listed["id"] == made["endpoint"]["id"] and listed["status"] == "DISABLED"
    # A success ends a run of failures: failing_since is cleared (checked on a fresh endpoint).
    receiver.default = 200
    other = await create(hooks, token, receiver.url)
    await WebhookEndpoint.filter(url=receiver.url, enabled=True).update(failing_since=clock.now())
    await withdraw(hooks, applicant, registration)
    assert await a_round(hooks) == 1
    fresh = await WebhookEndpoint.filter(enabled=True).first()
    assert fresh is not None and fresh.failing_since is None and other["errors"] == []
