"""Builders shared by the firm and billing tests: accounts and a firm made through the API."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import FILER, Api

PASSWORD = "Harbor-Signal-Evening-5"
JAMES_NUMBER = "1618033"


async def register(api: Api, username: str, first: str, last: str) -> tuple[str, dict[str, Any]]:
    """A new upgraded account, signed in: (token, {id, accountNumber})."""
    data = await api.data(
        """mutation($i: RegisterPacerAccountInput!) { registerPacerAccount(input: $i) {
          account { id accountNumber } errors { code } } }""",
        {
            "i": {
                "username": username,
                "password": PASSWORD,
                "firstName": first,
                "lastName": last,
                "email": f"{username}@example.org",
            }
        },
    )
    assert data["registerPacerAccount"]["errors"] == [], data
    await verify_address(api, f"{username}@example.org")
    return await api.sign_in(username, PASSWORD), data["registerPacerAccount"]["account"]


async def verify_address(api: Api, address: str) -> None:
    """Confirm an address with the verification token last mailed to it (its owner reads the mail)."""
    found = re.search(r"Email verification token: (\S+)", api.mails(address)[-1].get_content())
    assert found, address
    data = await api.data(
        "mutation($t: String!) { verifyEmail(input: {token: $t}) { account { emailVerified } errors { code } } }",
        {"t": found.group(1)},
    )
    assert data["verifyEmail"] == {"account": {"emailVerified": True}, "errors": []}, data


async def create_firm(api: Api, token: str, name: str = "Lopez & Morgan LLP") -> dict[str, Any]:
    data = await api.data(
        """mutation($n: String!) { createFirm(input: {name: $n}) {
          firm { id accountNumber name clientCodeRequired admins { username } } errors { code message } } }""",
        {"n": name},
        token=token,
    )
    assert data["createFirm"]["errors"] == [], data
    firm: dict[str, Any] = data["createFirm"]["firm"]
    return firm


async def invite(api: Api, token: str | None, number: str, last: str) -> dict[str, Any]:
    data = await api.data(
        """mutation($n: String!, $l: String!) { inviteFirmMember(input: {accountNumber: $n, lastName: $l}) {
          invitation { id status account { username } firm { name } } errors { code message field } } }""",
        {"n": number, "l": last},
        token=token,
    )
    payload: dict[str, Any] = data["inviteFirmMember"]
    return payload


async def answer(api: Api, token: str | None, invitation_id: str, accept: bool = True) -> dict[str, Any]:
    if accept:
        query = """mutation($id: ID!) { acceptFirmInvitation(id: $id) { firm { name } errors { code message } } }"""
        key = "acceptFirmInvitation"
    else:
        query = """mutation($id: ID!) { declineFirmInvitation(id: $id) { invitation { status } errors { code } } }"""
        key = "declineFirmInvitation"
    data = await api.data(query, {"id": invitation_id}, token=token)
    payload: dict[str, Any] = data[key]
    return payload


async def firm_with_james(api: Api) -> tuple[str, str, dict[str, Any]]:
    """Maria Lopez's firm, with James Morgan as a member: (maria, james, firm)."""
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    firm = await create_firm(api, maria)
    invited = await invite(api, maria, JAMES_NUMBER, "morgan")
    assert invited["errors"] == [], invited
    james = await api.sign_in(*FILER)
    assert (await answer(api, james, invited["invitation"]["id"]))["errors"] == []
    return maria, james, firm
