"""Every state change is audited; tokens are stored only as hashes."""

from __future__ import annotations

import hashlib

from nextgen_gql.models import AuditEvent, PacerAccount, Session
from tests.conftest import FILER, LEGACY, LEGACY_ECF_PASSWORD, Api


async def test_each_state_change_writes_an_event_with_actor_subject_and_court(api: Api) -> None:
    await AuditEvent.all().delete()
    token = await api.sign_in(*LEGACY)
    await api.data(
        'mutation { upgradePacerAccount(input: {email: "l@perezlaw.example", newUsername: "lauraperez",'
        ' newPassword: "Blue-Harbor-Lantern-42"}) { errors { code } } }',
        token=token,
    )
    await api.data(
        'mutation($p: String!) { linkCmecfAccount(input: {login: "lperez", password: $p, confirm: true})'
        " { errors { code } } }",
        {"p": LEGACY_ECF_PASSWORD},
        court="mad",
        token=token,
    )
    await api.data("mutation { signOut { ok } }", token=token)
    laura = await PacerAccount.get(username_key="lauraperez")
    events = [(e.action, e.actor_id, e.subject_id, e.court_id) for e in await AuditEvent.all().order_by("id")]
    assert events == [
        ("account.sign_in", laura.id, laura.id, None),
        ("account.upgrade", laura.id, laura.id, None),
        ("account.email_verification_sent", laura.id, laura.id, None),
        ("cmecf.link", laura.id, laura.id, "mad"),
        ("account.sign_out", laura.id, laura.id, None),
    ]


async def test_refusals_write_no_event(api: Api) -> None:
    token = await api.sign_in(*FILER)
    before = await AuditEvent.all().count()
    await api.data(
        'mutation { linkCmecfAccount(input: {login: "jmorgan", password: "nope", confirm: true})'
        " { errors { code } } }",
        court="mad",
        token=token,
    )
    assert await AuditEvent.all().count() == before


async def test_the_token_is_stored_only_as_its_sha256(api: Api) -> None:
    token = await api.sign_in(*FILER)
    session = await Session.filter(revoked_at=None).order_by("-id").first()
    assert session is not None
    assert session.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(await Session.all().values())
