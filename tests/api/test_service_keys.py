"""Court service keys (issue 20, item 3; docs/integrators.md, "Court systems: service keys"): a court's clerks (or the
command line) make a named key with scopes, its secret ``ngk_<id>_<secret>`` shown once
and stored as SHA-256 only; the key acts at its court within its scopes and for no person,
its actions are audited with it, ``lastUsedAt`` is written at most once a minute, and a
revoked key stops at once. Elsewhere, or beyond its scopes, it gets FORBIDDEN."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.cli import main
from nextgen_gql.models import AuditEvent, Charge, CourtServiceKey, FirmMembership, Registration
from nextgen_gql.services.clock import now
from tests.api.firm_helpers import JAMES_NUMBER
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, TENANTS, Api

CREATE = """mutation($i: CreateCourtServiceKeyInput!) { createCourtServiceKey(input: $i) {
  key { id name scopes prefix createdAt createdBy { username } lastUsedAt revokedAt court { code } }
  secret errors { code message field } } }"""
REVOKE = "mutation($id: ID!) { revokeCourtServiceKey(id: $id) { ok errors { code field } } }"
LIST = "{ courtServiceKeys { id name scopes prefix lastUsedAt revokedAt createdBy { username } } }"
USAGE = f"""mutation($k: String) {{ recordUsage(input: {{accountNumber: "{JAMES_NUMBER}", kind: DOCUMENT, pages: 5,
  idempotencyKey: $k}}) {{ charge {{ amountCents idempotencyKey }} errors {{ code message }} }} }}"""
ROSTER = "{ cmecfAccounts(first: 3) { totalCount edges { node { login } } } }"
QUEUE = "{ registrations(first: 3) { totalCount edges { node { role account { username } } } } }"
SECRET = re.compile(r"^ngk_([a-z0-9]{8})_([A-Za-z0-9]{40})$")


async def make_key(api: Api, clerk: str, court: str, name: str, *scopes: str) -> tuple[str, dict[str, Any]]:
    data = await api.data(CREATE, {"i": {"name": name, "scopes": list(scopes)}}, court=court, token=clerk)
    payload = data["createCourtServiceKey"]
    assert payload["errors"] == [], payload
    return payload["secret"], payload["key"]


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.fixture
async def clerk(api: Api) -> str:
    return await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)


async def test_a_clerk_makes_a_key_whose_secret_is_shown_once_and_stored_hashed(api: Api, clerk: str) -> None:
    secret, key = await make_key(api, clerk, "mad", "CM/ECF billing feed", "RECORD_USAGE", "READ_ROSTER")
    found = SECRET.match(secret)
    assert found, secret
    assert key["prefix"] == f"ngk_{found.group(1)}" == secret[:12]
    assert key["scopes"] == ["RECORD_USAGE", "READ_ROSTER"] and key["court"] == {"code": "mad"}
    assert key["createdBy"] == {"username": CLERKS["mad"]} and key["lastUsedAt"] is None
    row = await CourtServiceKey.get(prefix=key["prefix"])
    assert row.secret_hash == hashlib.sha256(found.group(2).encode()).hexdigest()
    assert found.group(2) not in repr(row.__dict__)  # the secret itself is kept nowhere
    listed = (await api.data(LIST, court="mad", token=clerk))["courtServiceKeys"]
    assert [k["prefix"] for k in listed] == [key["prefix"]] and "secret" not in listed[0]
    assert await AuditEvent.filter(action="service_key.create", court_id="mad").count() == 1
    # Another court's clerk does not see mad's keys.
    mab = await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)
    assert (await api.data(LIST, court="mab", token=mab))["courtServiceKeys"] == []


async def test_making_a_key_refuses_bad_input_and_strangers_and_changes_nothing(api: Api, clerk: str) -> None:
    filer = await api.sign_in(*FILER, redactionAcknowledged=True)
    mab_clerk = await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)
    cases = [
        ({"name": "", "scopes": ["READ_ROSTER"]}, "mad", clerk, ("INVALID_INPUT", "name")),
        ({"name": "   ", "scopes": ["READ_ROSTER"]}, "mad", clerk, ("INVALID_INPUT", "name")),
        ({"name": "x" * 101, "scopes": ["READ_ROSTER"]}, "mad", clerk, ("INVALID_INPUT", "name")),
        ({"name": "feed", "scopes": []}, "mad", clerk, ("INVALID_INPUT", "scopes")),
        ({"name": "feed", "scopes": ["READ_ROSTER"]}, "mad", filer, ("FORBIDDEN", None)),
        ({"name": "feed", "scopes": ["READ_ROSTER"]}, "mad", mab_clerk, ("FORBIDDEN", None)),
        ({"name": "feed", "scopes": ["READ_ROSTER"]}, "mad", None, ("UNAUTHENTICATED", None)),
        ({"name": "feed", "scopes": ["READ_ROSTER"]}, None, clerk, ("COURT_REQUIRED", None)),
    ]
    for value, court, token, expected in cases:
        payload = (await api.data(CREATE, {"i": value}, court=court, token=token))["createCourtServiceKey"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [expected], (value, court)
        assert payload["secret"] is None and payload["key"] is None
    # An unknown scope is no value of CourtKeyScope: the request fails validation.
    body = await api.gql(
        CREATE, {"i": {"name": "feed", "scopes": ["WRITE_EVERYTHING"]}}, court="mad", token=clerk
    )
    assert codes(body) == ["BAD_USER_INPUT"] and "data" not in body
    body = await api.gql(
        'mutation { createCourtServiceKey(input: {name: "x", scopes: [WRITE_EVERYTHING]}) { secret } }',
        court="mad",
        token=clerk,
    )
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await CourtServiceKey.all().count() == 0
    assert await AuditEvent.filter(action="service_key.create").count() == 0


async def test_each_scope_does_what_it_allows_at_its_court_and_nothing_else(api: Api, clerk: str) -> None:
    usage, _ = await make_key(api, clerk, "mad", "billing", "RECORD_USAGE")
    roster, _ = await make_key(api, clerk, "mad", "roster sync", "READ_ROSTER")
    queue, _ = await make_key(api, clerk, "mad", "registrations feed", "READ_REGISTRATIONS")
    as_clerk = {q: await api.data(q, court="mad", token=clerk) for q in (ROSTER, QUEUE)}
    allowed = {usage: {"usage"}, roster: {ROSTER}, queue: {QUEUE}}
    for key, what in allowed.items():
        for query in (ROSTER, QUEUE):
            body = await api.gql(query, court="mad", token=key)
            if query in what:
                assert body == {"data": as_clerk[query]}, (key[:12], query)
            else:
                assert codes(body) == ["FORBIDDEN"] and body["data"] is None, (key[:12], query)
        recorded = (await api.data(USAGE, {"k": None}, court="mad", token=key))["recordUsage"]
        if "usage" in what:
            assert recorded["errors"] == [] and recorded["charge"]["amountCents"] == 50
        else:
            assert [e["code"] for e in recorded["errors"]] == ["FORBIDDEN"] and recorded["charge"] is None
        # No person: me is null, without an error; clerk-only lists and keys are FORBIDDEN.
        assert await api.gql("{ me { username } court { code } }", court="mad", token=key) == {
            "data": {"me": None, "court": {"code": "mad"}}
        }
        for query in ["{ auditEvents { totalCount } }", "{ privileges { totalCount } }", LIST]:
            assert codes(await api.gql(query, court="mad", token=key)) == ["FORBIDDEN"], query
        # Any other mutation is FORBIDDEN, whatever it is.
        for mutation, name in [
            (
                'mutation { signIn(input: {username: "jmorgan2019", password: "x"}) { errors { code } } }',
                "signIn",
            ),
            ('mutation { createFirm(input: {name: "Key LLP"}) { errors { code } } }', "createFirm"),
            (
                'mutation { createCourtServiceKey(input: {name: "n", scopes: [READ_ROSTER]}) { errors { code } } }',
                "createCourtServiceKey",
            ),
            (
                'mutation { retrieveCmecfLogin(input: {email: "a@b.example"}) { errors { code } } }',
                "retrieveCmecfLogin",
            ),
        ]:
            refused = (await api.data(mutation, court="mad", token=key))[name]
            assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"], (key[:12], name)
        # Elsewhere: another court, the national endpoint: FORBIDDEN before anything runs.
        for court in ("mab", "ca1", None):
            for query in ("{ courts { code } }", USAGE):
                response = await api.post(query, court=court, token=key)
                assert response.status_code == 403, (court, response.text)
                assert codes(response.json()) == ["FORBIDDEN"] and "data" not in response.json()
    assert await Charge.filter(court_id="mab").count() == 0
    assert await FirmMembership.all().count() == 0


async def test_what_a_key_does_is_audited_with_the_key(api: Api, clerk: str) -> None:
    secret, key = await make_key(api, clerk, "mad", "billing", "RECORD_USAGE")
    assert (await api.data(USAGE, {"k": "item-1"}, court="mad", token=secret))["recordUsage"]["errors"] == []
    charge = await Charge.get(idempotency_key="item-1")
    assert charge.recorded_by_id is None and charge.service_key_id is not None
    event = await AuditEvent.get(action="billing.charge")
    assert event.actor_id is None and event.service_key_id == charge.service_key_id
    trail = await api.data(
        '{ auditEvents(action: "billing.charge") { edges { node { actor { username } serviceKey { prefix name } } } } }',
        court="mad",
        token=clerk,
    )
    assert trail["auditEvents"]["edges"] == [
        {"node": {"actor": None, "serviceKey": {"prefix": key["prefix"], "name": "billing"}}}
    ]
    # The account charged sees the event in its own trail, not the court's key.
    james = await api.sign_in(*FILER, redactionAcknowledged=True)
    own = await api.data(
        "{ me { auditEvents(first: 5) { edges { node { action serviceKey { prefix } } } } } }", token=james
    )
    charges = [
        e["node"] for e in own["me"]["auditEvents"]["edges"] if e["node"]["action"] == "billing.charge"
    ]
    assert charges == [{"action": "billing.charge", "serviceKey": None}]


async def test_last_used_is_written_at_most_once_a_minute(api: Api, clerk: str) -> None:
    secret, key = await make_key(api, clerk, "mad", "roster sync", "READ_ROSTER")
    await api.data(ROSTER, court="mad", token=secret)
    first = (await CourtServiceKey.get(prefix=key["prefix"])).last_used_at
    assert first is not None and abs((now() - first).total_seconds()) < 60
    for _ in range(3):
        await api.data(ROSTER, court="mad", token=secret)
    assert (await CourtServiceKey.get(prefix=key["prefix"])).last_used_at == first  # no write
    earlier = now() - dt.timedelta(minutes=2)
    await CourtServiceKey.filter(prefix=key["prefix"]).update(last_used_at=earlier)
    await api.data(ROSTER, court="mad", token=secret)
    later = (await CourtServiceKey.get(prefix=key["prefix"])).last_used_at
    assert later is not None and later > earlier + dt.timedelta(minutes=1)
    listed = (await api.data(LIST, court="mad", token=clerk))["courtServiceKeys"][0]
    assert listed["lastUsedAt"] is not None


async def test_a_revoked_key_stops_at_once_and_bad_keys_are_refused(api: Api, clerk: str) -> None:
    secret, key = await make_key(api, clerk, "mad", "billing", "RECORD_USAGE", "READ_ROSTER")
    assert (await api.data(ROSTER, court="mad", token=secret))["cmecfAccounts"]["totalCount"] > 0
    mab = await api.sign_in(CLERKS["mab"], CLERK_PASSWORD)
    other = (await api.data(REVOKE, {"id": key["id"]}, court="mab", token=mab))["revokeCourtServiceKey"]
    assert other == {"ok": False, "errors": [{"code": "NOT_FOUND", "field": "id"}]}  # mab's clerk, mab's keys
    filer = await api.sign_in(*FILER, redactionAcknowledged=True)
    assert (await api.data(REVOKE, {"id": key["id"]}, court="mad", token=filer))["revokeCourtServiceKey"][
        "errors"
    ] == [{"code": "FORBIDDEN", "field": None}]
    assert (await api.data(REVOKE, {"id": key["id"]}, court="mad", token=secret))["revokeCourtServiceKey"][
        "errors"
    ] == [{"code": "FORBIDDEN", "field": None}]
    assert (await CourtServiceKey.get(prefix=key["prefix"])).revoked_at is None
    done = (await api.data(REVOKE, {"id": key["id"]}, court="mad", token=clerk))["revokeCourtServiceKey"]
    assert done == {"ok": True, "errors": []}
    for query in (ROSTER, USAGE, "{ courts { code } }"):
        response = await api.post(query, court="mad", token=secret)
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith(
            'Bearer error="invalid_token"'
        )
        assert codes(response.json()) == ["UNAUTHENTICATED"]
    again = (await api.data(REVOKE, {"id": key["id"]}, court="mad", token=clerk))["revokeCourtServiceKey"]
    assert again == {"ok": False, "errors": [{"code": "INVALID_INPUT", "field": "id"}]}
    listed = (await api.data(LIST, court="mad", token=clerk))["courtServiceKeys"]
    assert listed[0]["revokedAt"] is not None
    assert await AuditEvent.filter(action="service_key.revoke").count() == 1
    # Keys that never were: malformed, unknown, a right prefix with a wrong secret.
    for bad in ["ngk_", "ngk_short_x", secret[:13] + "A" * 40, "ngk_zzzzzzzz_" + "B" * 40, secret + "x"]:
        response = await api.post(ROSTER, court="mad", token=bad)
        assert response.status_code == 401, bad


async def test_a_key_reads_no_node(api: Api, clerk: str) -> None:
    secret, _ = await make_key(api, clerk, "mad", "registrations feed", "READ_REGISTRATIONS")
    registration = await Registration.filter(court_id="mad").first()
    assert registration is not None
    from nextgen_gql.api.ids import encode_id

    found = await api.data(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": encode_id("Registration", registration.id)},
        court="mad",
        token=secret,
    )
    assert found == {"node": None}


def test_the_keys_command(
    fresh_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("NEXTGEN_GQL_TENANTS_DIR", str(TENANTS))
    assert (
        main(
            [
                "keys",
                "create",
                "mad",
                "--name",
                "CM/ECF billing",
                "--scope",
                "RECORD_USAGE",
                "--scope",
                "read_roster",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    secrets_printed = [line for line in out.splitlines() if SECRET.match(line)]
    assert len(secrets_printed) == 1 and "RECORD_USAGE, READ_ROSTER" in out
    prefix = secrets_printed[0][:12]
    assert main(["keys", "list", "mad"]) == 0
    listed = capsys.readouterr().out
    assert prefix in listed and secrets_printed[0] not in listed and "never" in listed and "live" in listed
    assert main(["keys", "create", "mad", "--name", "x", "--scope", "EVERYTHING"]) == 2
    assert "unknown scope" in capsys.readouterr().err
    assert main(["keys", "create", "mad", "--name", "x"]) == 2
    assert "at least one scope" in capsys.readouterr().err
    assert main(["keys", "create", "zzz", "--name", "x", "--scope", "READ_ROSTER"]) == 2
    assert main(["keys", "revoke", "mab", prefix]) == 2  # another court's key
    assert main(["keys", "revoke", "mad", prefix]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "revoke", "mad", prefix]) == 2
    assert main(["keys", "list", "mad"]) == 0
    assert "revoked" in capsys.readouterr().out
