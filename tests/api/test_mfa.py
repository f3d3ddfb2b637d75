"""Authenticator apps, backup codes and sign-in with a second factor, over GraphQL (issue 15)."""

from __future__ import annotations

import datetime as dt

import pyotp

from nextgen_gql.models import AuditEvent, Authenticator, BackupCode, MfaChallenge, PacerAccount
from nextgen_gql.services import clock
from tests.api.mfa_helpers import (
    MFA,
    code,
    confirm,
    enrol,
    next_step,
    security_code,
    sign_in,
    sign_in_with_code,
    start,
    stop_clock,
    verify,
)
from tests.conftest import FILER, Api

JAMES_EMAIL = "james.morgan@morganlegal.example"
REMOVE = """mutation($i: RemoveAuthenticatorInput!) { removeAuthenticator(input: $i) { ok errors { code field } } }"""
REGENERATE = """mutation($i: RegenerateBackupCodesInput!) { regenerateBackupCodes(input: $i) {
  codes errors { code field } } }"""


async def actions(username: str) -> list[str]:
    account = await PacerAccount.get(username_key=username)
    return [e.action for e in await AuditEvent.filter(subject_id=account.id).order_by("id")]


async def test_enrolling_an_app_then_signing_in_with_it(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    before = await api.data(MFA, token=token)
    assert before["me"]["mfa"] == {
        "enabled": False,
        "required": False,
        "skipsLeft": None,
        "backupCodesLeft": 0,
        "authenticators": [],
    }
    enrollment = await start(api, token, "Work phone")
    assert enrollment["otpauthUri"].startswith("otpauth://totp/PACER%20NextGen:jmorgan2019?secret=")
    assert f"secret={enrollment['secret']}" in enrollment["otpauthUri"]
    assert enrollment["qrCodeSvg"].startswith("<svg") and "</svg>" in enrollment["qrCodeSvg"]
    mail = api.mails(JAMES_EMAIL)[-1].get_content()
    assert "Security code:" in mail and enrollment["secret"] not in mail
    security = security_code(api, JAMES_EMAIL)

    # A wrong security code, then a wrong app code: each its error, and nothing enrolled.
    wrong = await confirm(
        api, token, enrollment["id"], f"{(int(security) + 1) % 10**8:08d}", code(enrollment["secret"])
    )
    assert [(e["code"], e["field"]) for e in wrong["errors"]] == [("INVALID_SECURITY_CODE", "securityCode")]
    bad_totp = "000000" if code(enrollment["secret"]) != "000000" else "111111"
    wrong = await confirm(api, token, enrollment["id"], security, bad_totp)
    assert [(e["code"], e["field"]) for e in wrong["errors"]] == [("INVALID_MFA_CODE", "totpCode")]
    assert (await api.data(MFA, token=token))["me"]["mfa"]["enabled"] is False

    done = await confirm(api, token, enrollment["id"], security, code(enrollment["secret"]))
    assert done["errors"] == [] and done["authenticator"]["name"] == "Work phone"
    backup = done["backupCodes"]
    assert len(backup) == 10 and len(set(backup)) == 10
    # Confirming again: the enrolment is done.
    again = await confirm(api, token, enrollment["id"], security, code(enrollment["secret"]))
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]
    after = (await api.data(MFA, token=token))["me"]["mfa"]
    assert after["enabled"] is True and after["backupCodesLeft"] == 10
    assert [a["name"] for a in after["authenticators"]] == ["Work phone"]

    # Nothing is kept in clear.
    row = await Authenticator.get(account__username_key="jmorgan2019")
    assert enrollment["secret"] not in row.secret_sealed and row.security_code_hash is None
    hashes = set(await BackupCode.filter(account_id=row.account_id).values_list("code_hash", flat=True))
    assert not {c.replace("-", "") for c in backup} & hashes and len(hashes) == 10

    # The password alone now gives a challenge, no token and no account.
    first = await sign_in(api, *FILER)
    assert first["token"] is None and first["account"] is None and first["errors"] == []
    assert first["mfaChallenge"]["methods"] == ["TOTP", "BACKUP_CODE"]
    expires = dt.datetime.fromisoformat(first["mfaChallenge"]["expiresAt"])
    assert expires == clock.now() + dt.timedelta(minutes=5)
    challenge = first["mfaChallenge"]["token"]
    # The code used to confirm (same step) is not accepted again: no replay.
    replay = await verify(api, challenge, code(enrollment["secret"]))
    assert [(e["code"], e["field"]) for e in replay["errors"]] == [("INVALID_MFA_CODE", "code")]
    next_step()
    ok = await verify(api, challenge, code(enrollment["secret"]))
    assert ok["errors"] == [] and ok["account"]["username"] == "jmorgan2019"
    assert (await api.data("{ me { username } }", token=ok["token"]))["me"]["username"] == "jmorgan2019"
    # The challenge is single use, and the code too.
    used = await verify(api, challenge, code(enrollment["secret"]))
    assert [e["code"] for e in used["errors"]] == ["MFA_CHALLENGE_EXPIRED"] and used["token"] is None
    fresh = (await sign_in(api, *FILER))["mfaChallenge"]["token"]
    reused = await verify(api, fresh, code(enrollment["secret"]))
    assert [e["code"] for e in reused["errors"]] == ["INVALID_MFA_CODE"]
    # One step of drift either way is accepted; two are not.
    early = pyotp.TOTP(enrollment["secret"]).at(clock.now() + dt.timedelta(seconds=60))
    assert [e["code"] for e in (await verify(api, fresh, early))["errors"]] == ["INVALID_MFA_CODE"]
    ahead = pyotp.TOTP(enrollment["secret"]).at(clock.now() + dt.timedelta(seconds=30))
    assert (await verify(api, fresh, ahead))["errors"] == []
    assert "mfa.enroll" in await actions("jmorgan2019")


async def test_a_challenge_expires_after_five_minutes(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    app = await enrol(api, token, JAMES_EMAIL)
    challenge = (await sign_in(api, *FILER))["mfaChallenge"]["token"]
    clock.advance(dt.timedelta(minutes=5, seconds=1))
    late = await verify(api, challenge, code(app.secret))
    assert [e["code"] for e in late["errors"]] == ["MFA_CHALLENGE_EXPIRED"] and late["token"] is None
    assert await MfaChallenge.filter(used_at__isnull=False).count() == 0


async def test_a_backup_code_works_once_and_its_use_is_audited_and_mailed(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    app = await enrol(api, token, JAMES_EMAIL)
    assert app.backup_codes is not None
    spare = app.backup_codes[3]
    challenge = (await sign_in(api, *FILER))["mfaChallenge"]["token"]
    mails = len(api.mails(JAMES_EMAIL))
    # Typed in capitals, without the hyphen: still the code.
    ok = await verify(api, challenge, spare.replace("-", " ").upper(), "BACKUP_CODE")
    assert ok["errors"] == []
    notice = api.mails(JAMES_EMAIL)[mails:]
    assert (
        len(notice) == 1 and "backup code" in notice[0]["Subject"] and "9 are left" in notice[0].get_content()
    )
    assert spare not in notice[0].get_content()
    again = (await sign_in(api, *FILER))["mfaChallenge"]["token"]
    refused = await verify(api, again, spare, "BACKUP_CODE")
    assert [e["code"] for e in refused["errors"]] == ["INVALID_MFA_CODE"]
    assert (await api.data(MFA, token=ok["token"]))["me"]["mfa"]["backupCodesLeft"] == 9
    assert (await actions("jmorgan2019")).count("mfa.backup_code_use") == 1


async def test_at_most_five_apps(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    apps = [await enrol(api, token, JAMES_EMAIL, f"Phone {i}") for i in range(5)]
    assert apps[0].backup_codes and all(a.backup_codes is None for a in apps[1:])
    data = await api.data(
        'mutation { startAuthenticatorEnrollment(input: {name: "Sixth"}) { enrollment { id } errors { code } } }',
        token=token,
    )
    assert data["startAuthenticatorEnrollment"] == {
        "enrollment": None,
        "errors": [{"code": "TOO_MANY_AUTHENTICATORS"}],
    }
    assert len((await api.data(MFA, token=token))["me"]["mfa"]["authenticators"]) == 5


async def test_a_sixth_app_confirmed_at_the_same_time_is_refused(api: Api) -> None:
    """Two enrolments confirmed at once (four apps, then a fifth made meanwhile): the later one
    is refused, and nothing changes."""
    stop_clock()
    token = await api.sign_in(*FILER)
    for i in range(4):
        await enrol(api, token, JAMES_EMAIL, f"Phone {i}")
    pending = await start(api, token, "Late")
    account = await PacerAccount.get(username_key="jmorgan2019")
    existing = await Authenticator.filter(account_id=account.id, confirmed_at__isnull=False).first()
    assert existing is not None
    await Authenticator.create(
        account_id=account.id,
        name="Meanwhile",
        secret_sealed=existing.secret_sealed,
        created_at=clock.now(),
        confirmed_at=clock.now(),
    )
    late = await confirm(api, token, pending["id"], security_code(api, JAMES_EMAIL), code(pending["secret"]))
    assert [e["code"] for e in late["errors"]] == ["TOO_MANY_AUTHENTICATORS"]
    assert await Authenticator.filter(account_id=account.id, confirmed_at__isnull=False).count() == 5


async def test_an_enrolment_cannot_be_confirmed_by_another_account(api: Api) -> None:
    stop_clock()
    james = await api.sign_in(*FILER)
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    pending = await start(api, james, "Phone")
    security = security_code(api, JAMES_EMAIL)
    stolen = await confirm(api, maria, pending["id"], security, code(pending["secret"]))
    assert [(e["code"], e["field"]) for e in stolen["errors"]] == [("NOT_FOUND", "enrollmentId")]
    assert (await api.data(MFA, token=maria))["me"]["mfa"]["enabled"] is False
    # James still confirms it.
    mine = await confirm(api, james, pending["id"], security, code(pending["secret"]))
    assert mine["errors"] == []


async def test_an_enrolment_expires_and_wrong_security_codes_discard_it(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    pending = await start(api, token, "Phone")
    security = security_code(api, JAMES_EMAIL)
    clock.advance(dt.timedelta(minutes=10, seconds=1))
    late = await confirm(api, token, pending["id"], security, code(pending["secret"]))
    assert [e["code"] for e in late["errors"]] == ["INVALID_SECURITY_CODE"]
    pending = await start(api, token, "Phone")
    right = security_code(api, JAMES_EMAIL)
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    for _ in range(5):
        refused = await confirm(api, token, pending["id"], wrong, code(pending["secret"]))
        assert [e["code"] for e in refused["errors"]] == ["INVALID_SECURITY_CODE"]
    # Five wrong codes discard the enrolment: even the right code no longer confirms it.
    gone = await confirm(api, token, pending["id"], right, code(pending["secret"]))
    assert [e["code"] for e in gone["errors"]] == ["NOT_FOUND"]
    assert (await api.data(MFA, token=token))["me"]["mfa"]["enabled"] is False


async def test_enrolment_needs_an_upgraded_account_with_an_email(api: Api) -> None:
    token = await api.sign_in("lp1234", "Boston2011!")
    data = await api.data(
        'mutation { startAuthenticatorEnrollment(input: {name: "Phone"}) { enrollment { id } errors { code } } }',
        token=token,
    )
    assert data["startAuthenticatorEnrollment"]["errors"] == [{"code": "UPGRADE_REQUIRED"}]
    anonymous = await api.data(
        'mutation { startAuthenticatorEnrollment(input: {name: "Phone"}) { enrollment { id } errors { code } } }'
    )
    assert anonymous["startAuthenticatorEnrollment"]["errors"] == [{"code": "UNAUTHENTICATED"}]


async def test_removing_an_app_needs_a_current_code(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    first = await enrol(api, token, JAMES_EMAIL, "Phone")
    second = await enrol(api, token, JAMES_EMAIL, "Tablet")
    stale = pyotp.TOTP(first.secret).at(clock.now() - dt.timedelta(minutes=5))
    refused = await api.data(
        REMOVE, {"i": {"id": second.authenticator_id, "code": stale, "method": "TOTP"}}, token=token
    )
    assert refused["removeAuthenticator"] == {
        "ok": False,
        "errors": [{"code": "INVALID_MFA_CODE", "field": "code"}],
    }
    # Another account's app is not found, whatever the code.
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    other = await api.data(
        REMOVE,
        {"i": {"id": second.authenticator_id, "code": code(second.secret), "method": "TOTP"}},
        token=maria,
    )
    assert other["removeAuthenticator"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    assert len((await api.data(MFA, token=token))["me"]["mfa"]["authenticators"]) == 2
    # A code of the other app removes this one.
    ok = await api.data(
        REMOVE,
        {"i": {"id": second.authenticator_id, "code": code(first.secret), "method": "TOTP"}},
        token=token,
    )
    assert ok["removeAuthenticator"] == {"ok": True, "errors": []}
    next_step()
    # Removing the last one (with a backup code) turns MFA off, and the backup codes with it.
    assert first.backup_codes is not None
    last = await api.data(
        REMOVE,
        {"i": {"id": first.authenticator_id, "code": first.backup_codes[0], "method": "BACKUP_CODE"}},
        token=token,
    )
    assert last["removeAuthenticator"] == {"ok": True, "errors": []}
    state = (await api.data(MFA, token=token))["me"]["mfa"]
    assert state["enabled"] is False and state["backupCodesLeft"] == 0 and state["authenticators"] == []
    assert (await sign_in(api, *FILER))["token"] is not None
    assert (await actions("jmorgan2019")).count("mfa.remove") == 2


async def test_new_backup_codes_replace_them_all(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    app = await enrol(api, token, JAMES_EMAIL)
    assert app.backup_codes is not None
    wrong = await api.data(REGENERATE, {"i": {"code": "abcde-fghjk", "method": "BACKUP_CODE"}}, token=token)
    assert wrong["regenerateBackupCodes"] == {
        "codes": None,
        "errors": [{"code": "INVALID_MFA_CODE", "field": "code"}],
    }
    data = await api.data(REGENERATE, {"i": {"code": code(app.secret), "method": "TOTP"}}, token=token)
    new = data["regenerateBackupCodes"]["codes"]
    assert len(new) == 10 and not set(new) & set(app.backup_codes)
    old = (await sign_in(api, *FILER))["mfaChallenge"]["token"]
    assert [e["code"] for e in (await verify(api, old, app.backup_codes[0], "BACKUP_CODE"))["errors"]] == [
        "INVALID_MFA_CODE"
    ]
    assert (await verify(api, old, new[0], "BACKUP_CODE"))["errors"] == []
    assert "mfa.backup_codes_regenerate" in await actions("jmorgan2019")


async def test_node_finds_only_your_own_apps_and_sessions(api: Api) -> None:
    stop_clock()
    token = await api.sign_in(*FILER)
    app = await enrol(api, token, JAMES_EMAIL, "Phone")
    token = await sign_in_with_code(api, *FILER, app.secret)
    query = (
        "query($id: ID!) { node(id: $id) { id ... on Authenticator { name } ... on Session { current } } }"
    )
    assert (await api.data(query, {"id": app.authenticator_id}, token=token))["node"]["name"] == "Phone"
    sessions = (await api.data("{ me { sessions { id current } } }", token=token))["me"]["sessions"]
    current = next(s for s in sessions if s["current"])
    assert (await api.data(query, {"id": current["id"]}, token=token))["node"]["current"] is True
    maria = await api.sign_in("mlopez2018", "Harbor-Signal-Evening-5")
    assert (await api.data(query, {"id": app.authenticator_id}, token=maria))["node"] is None
    assert (await api.data(query, {"id": current["id"]}, token=maria))["node"] is None
