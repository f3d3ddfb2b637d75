"""National accounts: sign-in, sign-out, registration, the one-time upgrade."""

from __future__ import annotations

import re

import pytest

from tests.conftest import FILER, LEGACY, Api

SIGN_IN = """
mutation($input: SignInInput!) {
  signIn(input: $input) { token account { username isLegacy } errors { code message field } }
}"""
ME = "{ me { username accountNumber isLegacy upgradedAt email firstName } }"
REGISTER = """
mutation($input: RegisterPacerAccountInput!) {
  registerPacerAccount(input: $input) {
    account { id accountNumber username isLegacy upgradedAt createdAt email }
    errors { code message field }
  }
}"""
UPGRADE = """
mutation($input: UpgradePacerAccountInput!) {
  upgradePacerAccount(input: $input) {
    account { username isLegacy upgradedAt email }
    errors { code message field }
  }
}"""
GOOD_PASSWORD = "Velvet-Orchard-Sunrise-7"


async def test_sign_in_returns_a_128_character_token_and_sets_the_cookie(api: Api) -> None:
    response = await api.post(SIGN_IN, {"input": {"username": FILER[0], "password": FILER[1]}})
    payload = response.json()["data"]["signIn"]
    assert payload["errors"] == []
    assert len(payload["token"]) == 128
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"NextGenCSO={payload['token']}")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


async def test_username_matches_in_any_case(api: Api) -> None:
    data = await api.data(SIGN_IN, {"input": {"username": FILER[0].upper(), "password": FILER[1]}})
    assert data["signIn"]["account"]["username"] == FILER[0]


@pytest.mark.parametrize(
    ("username", "password"),
    [(FILER[0], "Wrong-Password-Entirely-1"), ("nobodyhere", FILER[1]), (FILER[0], "")],
)
async def test_wrong_credentials_say_nothing_about_which_half_was_wrong(
    api: Api, username: str, password: str
) -> None:
    data = await api.data(SIGN_IN, {"input": {"username": username, "password": password}})
    payload = data["signIn"]
    assert payload["token"] is None
    assert payload["errors"] == [
        {"code": "INVALID_CREDENTIALS", "message": "The username or password is incorrect.", "field": None}
    ]


async def test_client_code_with_a_comma_is_refused(api: Api) -> None:
    data = await api.data(
        SIGN_IN, {"input": {"username": FILER[0], "password": FILER[1], "clientCode": "a,b"}}
    )
    assert data["signIn"]["errors"][0]["code"] == "INVALID_INPUT"
    assert data["signIn"]["errors"][0]["field"] == "clientCode"


async def test_me_is_null_without_a_token_and_the_account_with_one(api: Api) -> None:
    assert (await api.data(ME))["me"] is None
    assert (await api.post(ME, token="not-a-token")).status_code == 401  # tests/api/test_tokens.py
    token = await api.sign_in(*FILER)
    me = (await api.data(ME, token=token))["me"]
    assert me["username"] == FILER[0] and me["isLegacy"] is False


async def test_the_cookie_authenticates_too(api: Api) -> None:
    await api.post(SIGN_IN, {"input": {"username": FILER[0], "password": FILER[1]}})
    # The client keeps the NextGenCSO cookie and sends it back.
    assert (await api.data(ME))["me"]["username"] == FILER[0]


async def test_one_token_serves_every_court_and_sign_out_kills_it_everywhere(api: Api) -> None:
    token = await api.sign_in(*FILER)
    for court in (None, "ca1", "mad", "mab"):
        assert (await api.data(ME, court=court, token=token))["me"]["username"] == FILER[0]
    out = await api.data("mutation { signOut { ok errors { code } } }", court="mad", token=token)
    assert out["signOut"] == {"ok": True, "errors": []}
    for court in (None, "ca1", "mad", "mab"):
        refused = await api.post(ME, court=court, token=token)
        assert refused.status_code == 401 and "data" not in refused.json()
    again = await api.post("mutation { signOut { ok errors { code } } }", token=token)
    assert again.status_code == 401
    assert [e["extensions"]["code"] for e in again.json()["errors"]] == ["UNAUTHENTICATED"]
    out = await api.data("mutation { signOut { ok errors { code } } }")  # no token at all
    assert out["signOut"] == {"ok": False, "errors": [{"code": "UNAUTHENTICATED"}]}


async def test_register_creates_an_upgraded_account_with_a_7_digit_number(api: Api) -> None:
    data = await api.data(
        REGISTER,
        {
            "input": {
                "username": "Maria.Lopez",
                "password": GOOD_PASSWORD,
                "firstName": "Maria",
                "lastName": "Lopez",
                "email": "maria@lopezlaw.example",
            }
        },
    )
    payload = data["registerPacerAccount"]
    assert payload["errors"] == []
    account = payload["account"]
    assert re.fullmatch(r"\d{7}", account["accountNumber"])
    assert account["isLegacy"] is False and account["username"] == "Maria.Lopez"
    # The new account signs in, in any case.
    await api.sign_in("maria.lopez", GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"username": "jmorgan2019"}, "USERNAME_TAKEN", "username"),
        ({"username": "JMORGAN2019"}, "USERNAME_TAKEN", "username"),
        ({"username": "short1"}, "USERNAME_INVALID", "username"),
        ({"username": "has space in"}, "USERNAME_INVALID", "username"),
        ({"password": "Short-1a"}, "PASSWORD_POLICY", "password"),
        ({"password": "x" * 46 + "A-"}, "PASSWORD_POLICY", "password"),
        ({"password": "no-uppercase-letters-here"}, "PASSWORD_POLICY", "password"),
        ({"password": "NO-LOWERCASE-LETTERS-HERE"}, "PASSWORD_POLICY", "password"),
        ({"password": "NoSpecialCharactersHere1"}, "PASSWORD_POLICY", "password"),
        ({"password": "Gonzalez-Family-Trust-9"}, "PASSWORD_POLICY", "password"),
        ({"password": "Reyna-Quiet-Harbor-Light"}, "PASSWORD_POLICY", "password"),
        ({"password": "newfiler99-Quiet-Harbor"}, "PASSWORD_POLICY", "password"),
        ({"password": "Quiet-Harbor-rgonz-Light"}, "PASSWORD_POLICY", "password"),
        ({"email": "not-an-email"}, "INVALID_INPUT", "email"),
        ({"firstName": "  "}, "INVALID_INPUT", "firstName"),
    ],
)
async def test_register_refusals(api: Api, changes: dict[str, str], code: str, field: str) -> None:
    base = {
        "username": "newfiler99",
        "password": GOOD_PASSWORD,
        "firstName": "Reyna",
        "lastName": "Gonzalez",
        "email": "rgonz@example.org",
    }
    data = await api.data(REGISTER, {"input": {**base, **changes}})
    payload = data["registerPacerAccount"]
    assert payload["account"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert payload["errors"][0]["message"]
    # Nothing was created.
    login = await api.data(SIGN_IN, {"input": {"username": "newfiler99", "password": GOOD_PASSWORD}})
    assert login["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_upgrade_replaces_a_short_username_and_a_weak_password_once(api: Api) -> None:
    token = await api.sign_in(*LEGACY)
    before = (await api.data(ME, token=token))["me"]
    assert before["isLegacy"] is True and before["upgradedAt"] is None

    no_name = await api.data(UPGRADE, {"input": {"email": "laura@perezlaw.example"}}, token=token)
    assert [(e["code"], e["field"]) for e in no_name["upgradePacerAccount"]["errors"]] == [
        ("USERNAME_INVALID", "newUsername")
    ]
    no_password = await api.data(
        UPGRADE, {"input": {"email": "laura@perezlaw.example", "newUsername": "lauraperez"}}, token=token
    )
    assert [(e["code"], e["field"]) for e in no_password["upgradePacerAccount"]["errors"]] == [
        ("PASSWORD_POLICY", "newPassword")
    ]
    taken = await api.data(
        UPGRADE,
        {"input": {"email": "laura@perezlaw.example", "newUsername": FILER[0], "newPassword": GOOD_PASSWORD}},
        token=token,
    )
    assert taken["upgradePacerAccount"]["errors"][0]["code"] == "USERNAME_TAKEN"
    name_in_password = await api.data(
        UPGRADE,
        {
            "input": {
                "email": "laura@perezlaw.example",
                "newUsername": "lauraperez",
                "newPassword": "Perez-Quiet-Harbor-9",
            }
        },
        token=token,
    )
    assert name_in_password["upgradePacerAccount"]["errors"][0]["code"] == "PASSWORD_POLICY"
    still = (await api.data(ME, token=token))["me"]
    assert still == before  # every refusal changed nothing

    done = await api.data(
        UPGRADE,
        {
            "input": {
                "email": "laura@perezlaw.example",
                "newUsername": "lauraperez",
                "newPassword": GOOD_PASSWORD,
            }
        },
        token=token,
    )
    payload = done["upgradePacerAccount"]
    assert payload["errors"] == []
    assert payload["account"]["isLegacy"] is False and payload["account"]["upgradedAt"]
    assert payload["account"]["email"] == "laura@perezlaw.example"
    assert (await api.data(ME, token=token))["me"]["accountNumber"] == before["accountNumber"]

    again = await api.data(UPGRADE, {"input": {"email": "laura@perezlaw.example"}}, token=token)
    assert again["upgradePacerAccount"]["errors"][0]["code"] == "ALREADY_UPGRADED"
    # The old credentials are gone; the new ones work.
    old = await api.data(SIGN_IN, {"input": {"username": LEGACY[0], "password": LEGACY[1]}})
    assert old["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    await api.sign_in("LauraPerez", GOOD_PASSWORD)


async def test_upgrade_of_an_upgraded_account_and_without_sign_in(api: Api) -> None:
    anonymous = await api.data(UPGRADE, {"input": {"email": "a@b.example"}})
    assert anonymous["upgradePacerAccount"]["errors"][0]["code"] == "UNAUTHENTICATED"
    token = await api.sign_in(*FILER)
    upgraded = await api.data(UPGRADE, {"input": {"email": "a@b.example"}}, token=token)
    assert upgraded["upgradePacerAccount"]["errors"][0]["code"] == "ALREADY_UPGRADED"


async def test_upgrade_keeps_a_compliant_password(api: Api) -> None:
    """A legacy account whose password already meets the policy need not change it."""
    from nextgen_gql.models import PacerAccount
    from nextgen_gql.services.passwords import hash_password

    await PacerAccount.filter(username_key="lp1234").update(password_hash=await hash_password(GOOD_PASSWORD))
    token = await api.sign_in("lp1234", GOOD_PASSWORD)
    done = await api.data(
        UPGRADE, {"input": {"email": "laura@perezlaw.example", "newUsername": "lauraperez"}}, token=token
    )
    assert done["upgradePacerAccount"]["errors"] == []
    await api.sign_in("lauraperez", GOOD_PASSWORD)
