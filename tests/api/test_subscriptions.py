"""Subscriptions over WebSocket (graphql-transport-ws), in-process: what each subscriber gets,
and who may subscribe to what (the same visibility rules as queries)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nextgen_gql.services import court_catalog
from nextgen_gql.settings import Settings
from nextgen_gql.tenancy import load_courts
from tests.api.live_helpers import (
    COURTS_CHANGED,
    MARIA,
    MY_EVENTS,
    REGISTRATION_EVENTS,
    clerk,
    decide,
    error_codes,
    filer,
    reset_token,
    submit,
    subscribed,
    withdraw,
)
from tests.conftest import FILER, Api, running_api, write_tenant
from tests.live import gql_socket


async def test_a_clerk_follows_the_courts_registrations_in_commit_order(api: Api) -> None:
    mad_clerk, james = await clerk(api), await filer(api)
    async with gql_socket(api.app, "/courts/mad/graphql") as ws:
        await ws.init({"authorization": f"Bearer {mad_clerk}"})
        await ws.subscribe("q", REGISTRATION_EVENTS)
        await subscribed(api)
        first = await submit(api, james)
        await withdraw(api, james, first)
        second = await submit(api, james)
        await decide(api, mad_clerk, second)
        events = [(await ws.next("q"))["data"]["registrationEvents"] for _ in range(4)]
        await ws.quiet(0.3)
    assert [(e["kind"], e["registration"]["id"]) for e in events] == [
        ("SUBMITTED", first),
        ("WITHDRAWN", first),
        ("SUBMITTED", second),
        ("APPROVED", second),
    ]
    # The clerk sees the applicant's contact details, as in the queue (the same rule).
    assert events[0]["registration"]["account"] == {
        "username": FILER[0],
        "email": "james.morgan@morganlegal.example",
    }
    assert events[3]["registration"]["status"] == "APPROVED"
    assert len({e["cursor"] for e in events}) == 4


@pytest.mark.parametrize(
    ("who", "path", "code"),
    [
        (None, "/courts/mad/graphql", "UNAUTHENTICATED"),
        ("filer", "/courts/mad/graphql", "FORBIDDEN"),
        ("mab", "/courts/mad/graphql", "FORBIDDEN"),
        ("mad", "/graphql", "COURT_REQUIRED"),
    ],
)
async def test_only_the_addressed_courts_clerks_follow_its_registrations(
    api: Api, who: str | None, path: str, code: str
) -> None:
    token = None if who is None else await (filer(api) if who == "filer" else clerk(api, who))
    async with gql_socket(api.app, path) as ws:
        await ws.init({"authorization": f"Bearer {token}"} if token else None)
        await ws.subscribe("q", REGISTRATION_EVENTS)
        refused = await ws.message()
        assert refused["type"] == "error" and refused["id"] == "q", refused
        assert error_codes(refused) == [code]


async def test_another_courts_clerk_hears_nothing_of_mad(api: Api) -> None:
    mab_clerk, james = await clerk(api, "mab"), await filer(api)
    async with gql_socket(api.app, "/courts/mab/graphql") as ws:
        await ws.init({"authorization": f"Bearer {mab_clerk}"})
        await ws.subscribe("q", REGISTRATION_EVENTS)
        await subscribed(api)
        await submit(api, james, court="mad")
        await ws.quiet(0.5)


async def test_my_events_reach_the_account_and_no_one_else(api: Api) -> None:
    mad_clerk, james, maria = await clerk(api), await filer(api), await api.sign_in(*MARIA)
    async with (
        gql_socket(api.app) as mine,
        gql_socket(api.app) as hers,
        gql_socket(api.app) as nobody,
    ):
        await mine.init({"authorization": f"Bearer {james}"})
        await hers.init({"authorization": f"Bearer {maria}"})
        await nobody.init()
        await mine.subscribe("m", MY_EVENTS)
        await hers.subscribe("m", MY_EVENTS)
        await nobody.subscribe("m", MY_EVENTS)
        refused = await nobody.message()
        assert refused["type"] == "error" and error_codes(refused) == ["UNAUTHENTICATED"]
        await subscribed(api, 2)
        registration = await submit(api, james)
        decided = await decide(api, mad_clerk, registration)
        event = (await mine.next("m"))["data"]["myEvents"]
        await hers.quiet(0.5)
    assert event["kind"] == "REGISTRATION_DECIDED"
    assert event["court"] == {"code": "mad"}
    assert event["registration"] == {"id": registration, "status": "APPROVED"}
    assert event["privilege"]["id"] == decided["privilege"]["id"] and event["privilege"]["role"] == "MEDIA"
    assert event["invitation"] is None


async def test_invitations_revocations_and_security_changes_reach_my_events(api: Api) -> None:
    mad_clerk, james, maria = await clerk(api), await filer(api), await api.sign_in(*MARIA)
    await api.data('mutation { createFirm(input: {name: "Lopez LLP"}) { errors { code } } }', token=maria)
    async with gql_socket(api.app) as ws:
        await ws.init({"authorization": f"Bearer {james}"})
        await ws.subscribe("m", MY_EVENTS)
        await subscribed(api)
        invited = await api.data(
            'mutation { inviteFirmMember(input: {accountNumber: "1618033", lastName: "Morgan"}) '
            "{ invitation { id } errors { code } } }",
            token=maria,
        )
        invitation = (await ws.next("m"))["data"]["myEvents"]
        assert invitation["kind"] == "INVITATION_RECEIVED"
        assert invitation["invitation"] == {
            "id": invited["inviteFirmMember"]["invitation"]["id"],
            "status": "PENDING",
            "firm": {"name": "Lopez LLP"},
        }
        decided = await decide(api, mad_clerk, await submit(api, james))
        assert (await ws.next("m"))["data"]["myEvents"]["kind"] == "REGISTRATION_DECIDED"
        await api.data(
            "mutation($i: RevokeFilingPrivilegeInput!) { revokeFilingPrivilege(input: $i) { errors { code } } }",
            {"i": {"id": decided["privilege"]["id"], "reason": "Press credentials expired."}},
            court="mad",
            token=mad_clerk,
        )
        revoked = (await ws.next("m"))["data"]["myEvents"]
        assert revoked["kind"] == "PRIVILEGE_REVOKED"
        assert revoked["privilege"]["revokedReason"] == "Press credentials expired."  # the holder sees why
        other = await api.sign_in(*FILER)  # another sign-in, then its sign-out: a session change
        await api.data("mutation { signOut { ok } }", token=other)
        assert (await ws.next("m"))["data"]["myEvents"]["kind"] == "SECURITY_CHANGED"


async def test_signing_out_ends_the_subscriptions_within_two_seconds(api: Api) -> None:
    james = await filer(api)
    async with gql_socket(api.app) as ws:
        await ws.init({"authorization": f"Bearer {james}"})
        await ws.subscribe("m", MY_EVENTS)
        await subscribed(api)
        await api.data("mutation { signOut { ok } }", token=james)
        started = time.monotonic()
        closed = await ws.closed_with(within=5)
        took = time.monotonic() - started
    assert closed.code == 4401 and "session ended" in closed.reason, closed
    assert took <= 2.0, took


async def test_a_password_reset_ends_the_accounts_subscriptions(api: Api) -> None:
    james = await filer(api)
    async with gql_socket(api.app, "/courts/mad/graphql") as ws:
        await ws.init({"authorization": f"Bearer {james}"})
        await ws.subscribe("c", COURTS_CHANGED)
        await ws.quiet(0.2)
        await api.data('mutation { requestPasswordReset(input: {usernameOrEmail: "jmorgan2019"}) { ok } }')
        token = reset_token(api, "james.morgan@morganlegal.example")
        done = await api.data(
            "mutation($t: String!) { resetPassword(input: {token: $t, newPassword: "
            '"Copper-Lantern-Evening-93"}) { ok errors { code } } }',
            {"t": token},
        )
        assert done["resetPassword"] == {"ok": True, "errors": []}
        started = time.monotonic()
        closed = await ws.closed_with(within=5)
        assert closed.code == 4401 and time.monotonic() - started <= 2.0


async def test_a_clerk_who_loses_the_role_gets_forbidden_and_the_subscription_ends(api: Api) -> None:
    from nextgen_gql.services import courts

    mad_clerk, james = await clerk(api), await filer(api)
    async with gql_socket(api.app, "/courts/mad/graphql") as ws:
        await ws.init({"authorization": f"Bearer {mad_clerk}"})
        await ws.subscribe("q", REGISTRATION_EVENTS)
        await subscribed(api)
        await courts.revoke_clerk(api.app.state.courts.current.serve("mad"), "madclerk01")
        await asyncio.sleep(1.5)  # the connection's facts are read again every second
        await submit(api, james)
        ended = await ws.next("q")
        assert ended["data"] is None and [e["extensions"]["code"] for e in ended["errors"]] == ["FORBIDDEN"]
        complete = await ws.message()
        assert complete == {"id": "q", "type": "complete"}


async def test_courts_changed_tells_anyone_of_a_new_court(settings: Settings, tenants_copy: Path) -> None:
    async with running_api(settings.with_(tenants_dir=tenants_copy)) as api, gql_socket(api.app) as ws:
        await ws.init()
        await ws.subscribe("c", COURTS_CHANGED)
        await asyncio.sleep(0.3)
        write_tenant(
            tenants_copy,
            "nysd",
            'code = "nysd"\nname = "U.S. District Court, S.D.N.Y."\nkind = "district"\n'
            'nextgen_since = 2022-05-02\naccepted_roles = ["attorney"]\n',
        )
        await court_catalog.apply(load_courts(tenants_copy))
        changed = (await ws.next("c"))["data"]["courtsChanged"]
    assert changed == {"code": "nysd", "name": "U.S. District Court, S.D.N.Y.", "isNextgen": True}


async def test_the_socket_is_addressed_like_http(api: Api) -> None:
    from tests.live import Refused

    with pytest.raises(Refused) as refused:
        async with gql_socket(api.app, "/courts/zzz/graphql"):
            pass
    assert refused.value.status == 404 and b"UNKNOWN_COURT" in refused.value.body
    mad_clerk, james = await clerk(api), await filer(api)
    async with gql_socket(api.app, "/graphql", headers={"x-court": "mad"}) as ws:
        await ws.init({"authorization": f"Bearer {mad_clerk}"})
        await ws.subscribe("q", REGISTRATION_EVENTS)
        await subscribed(api)
        await submit(api, james)
        assert (await ws.next("q"))["data"]["registrationEvents"]["kind"] == "SUBMITTED"


async def test_the_subscriptions_of_one_sign_in_share_each_events_answer(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subscribers of one session with the same document get one execution per event; another
    session (even of the same account) gets its own (``api.live.sharing``)."""
    from nextgen_gql.api.request_errors import CodedExecutionContext

    runs: list[int] = []
    original = CodedExecutionContext.execute_operation

    def counting(self: CodedExecutionContext, *args: object, **kwargs: object) -> object:
        if getattr(self.root_value, "live_event", None) is not None:
            runs.append(self.context_value.live.session.id)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CodedExecutionContext, "execute_operation", counting)
    first, second, james = await clerk(api), await clerk(api), await filer(api)
    async with (
        gql_socket(api.app, "/courts/mad/graphql") as one,
        gql_socket(api.app, "/courts/mad/graphql") as other,
    ):
        await one.init({"authorization": f"Bearer {first}"})
        await other.init({"authorization": f"Bearer {second}"})
        for id in ("a", "b"):
            await one.subscribe(id, REGISTRATION_EVENTS)
        await other.subscribe("c", REGISTRATION_EVENTS)
        await subscribed(api, 3)
        await submit(api, james)
        got = {
            m["id"]: m["payload"] for m in [await one.message(), await one.message(), await other.message()]
        }
    assert got["a"] == got["b"] == got["c"] and got["a"]["data"]["registrationEvents"]["kind"] == "SUBMITTED"
    assert len(runs) == 2 and len(set(runs)) == 2, runs


async def test_a_session_restricted_to_enrolment_subscribes_to_nothing(api: Api) -> None:
    """A clerk must have MFA; after three sign-ins without it, the next session may only enrol."""
    tokens = [await clerk(api) for _ in range(4)]
    async with gql_socket(api.app) as ws:
        await ws.init({"authorization": f"Bearer {tokens[-1]}"})
        await ws.subscribe("c", COURTS_CHANGED)
        refused = await ws.message()
        assert refused["type"] == "error" and error_codes(refused) == ["MFA_ENROLLMENT_REQUIRED"]


async def test_a_password_change_is_a_security_change(api: Api) -> None:
    james = await filer(api)
    async with gql_socket(api.app) as ws:
        await ws.init({"authorization": f"Bearer {james}"})
        await ws.subscribe("m", MY_EVENTS)
        await subscribed(api)
        changed = await api.data(
            'mutation { changePassword(input: {currentPassword: "Granite-Falcon-Morning-88", '
            'newPassword: "Copper-Lantern-Evening-93"}) { ok errors { code } } }',
            token=james,
        )
        assert changed["changePassword"] == {"ok": True, "errors": []}
        assert (await ws.next("m"))["data"]["myEvents"]["kind"] == "SECURITY_CHANGED"


async def test_subscriptions_and_fan_out_are_told_to_the_observers(api: Api) -> None:
    from nextgen_gql.services import events

    told: list[tuple[str, object]] = []
    stop = events.listen(lambda e: told.append((e.name, e.fields.get("count"))))
    try:
        mad_clerk, james = await clerk(api), await filer(api)
        async with gql_socket(api.app, "/courts/mad/graphql") as ws:
            await ws.init({"authorization": f"Bearer {mad_clerk}"})
            await ws.subscribe("q", REGISTRATION_EVENTS)
            await subscribed(api)
            await submit(api, james)
            await ws.next("q")
            await ws.send({"type": "complete", "id": "q"})
            await asyncio.sleep(0.2)
    finally:
        stop()
    names = [name for name, _ in told]
    assert names.count("subscription.opened") == 1 and names.count("subscription.closed") == 1
    assert ("events.fanned_out", 1) in told
