"""Operations and steps the live-update tests share."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api

REGISTRATION_EVENTS = """subscription($after: String) { registrationEvents(after: $after) {
  kind at cursor registration { id status role account { username email } } } }"""
MY_EVENTS = """subscription($after: String) { myEvents(after: $after) { kind at cursor court { code }
  registration { id status } invitation { id status firm { name } }
  privilege { id role revokedAt revokedReason } } }"""
COURTS_CHANGED = "subscription { courtsChanged { code name isNextgen } }"
SUBMIT = """mutation($role: FilerRole!) { submitRegistration(input: {role: $role}) {
  registration { id } errors { code message } } }"""
WITHDRAW = "mutation($id: ID!) { withdrawRegistration(id: $id) { registration { status } errors { code } } }"
DECIDE = """mutation($i: DecideRegistrationInput!) { decideRegistration(input: $i) {
  registration { status } privilege { id } errors { code message } } }"""
MARIA = ("mlopez2018", "Harbor-Signal-Evening-5")


async def clerk(api: Api, court: str = "mad") -> str:
    return await api.sign_in(CLERKS[court], CLERK_PASSWORD)


async def filer(api: Api) -> str:
    return await api.sign_in(*FILER)


async def submit(api: Api, token: str, court: str = "mad", role: str = "MEDIA") -> str:
    data = await api.data(SUBMIT, {"role": role}, court=court, token=token)
    assert data["submitRegistration"]["errors"] == [], data
    registration_id: str = data["submitRegistration"]["registration"]["id"]
    return registration_id


async def withdraw(api: Api, token: str, registration_id: str, court: str = "mad") -> None:
    data = await api.data(WITHDRAW, {"id": registration_id}, court=court, token=token)
    assert data["withdrawRegistration"]["errors"] == [], data


async def decide(
    api: Api, token: str, registration_id: str, *, approve: bool = True, court: str = "mad"
) -> dict[str, Any]:
    given: dict[str, Any] = {"id": registration_id, "approve": approve}
    if not approve:
        given["reason"] = "Not a member of the press."
    data = await api.data(DECIDE, {"i": given}, court=court, token=token)
    assert data["decideRegistration"]["errors"] == [], data
    decided: dict[str, Any] = data["decideRegistration"]
    return decided


def reset_token(api: Api, address: str) -> str:
    match = re.search(r"Reset token: (\S+)", api.mails(address)[-1].get_content())
    assert match, "no reset token mailed"
    return match.group(1)


def error_codes(message: dict[str, Any]) -> list[str]:
    """The codes of an ``error`` message's errors (or of a ``next`` payload's)."""
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


async def subscribed(api: Api, count: int = 1) -> None:
    """Wait until the app's hub has ``count`` subscribers (the subscription reached its source)."""
    import asyncio

    hub = api.app.state.hub
    for _ in range(200):
        if hub.subscribers >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{hub.subscribers} subscribers, expected {count}")
