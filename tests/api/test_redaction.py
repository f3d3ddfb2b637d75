"""Filers acknowledge the redaction rules at sign-in."""

from __future__ import annotations

from nextgen_gql.models import Session
from tests.conftest import FILER, Api

SIGN_IN = """mutation($ack: Boolean) { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88",
  redactionAcknowledged: $ack}) { token errors { code message field } } }"""


async def test_a_filer_must_acknowledge_the_redaction_rules(api: Api) -> None:
    # Before holding any privilege, no acknowledgement is needed.
    assert (await api.data(SIGN_IN, {"ack": None}))["signIn"]["token"]
    token = await api.sign_in(*FILER)
    await api.data(
        'mutation { linkCmecfAccount(input: {login: "jmorgan", password: "legacy-ecf-pass", confirm: true}) { errors { code } } }',
        court="mad",
        token=token,
    )
    sessions = await Session.all().count()
    for ack in (None, False):
        refused = (await api.data(SIGN_IN, {"ack": ack}))["signIn"]
        assert refused["token"] is None
        [error] = refused["errors"]
        assert (error["code"], error["field"]) == ("REDACTION_ACK_REQUIRED", "redactionAcknowledged")
        assert "Social Security or taxpayer-identification numbers; dates of birth" in error["message"]
        assert "names of minor children" in error["message"] and "home addresses" in error["message"]
    assert await Session.all().count() == sessions  # no token was made
    accepted = (await api.data(SIGN_IN, {"ack": True}))["signIn"]
    assert accepted["errors"] == [] and accepted["token"]
    assert (await Session.filter(redaction_acknowledged=True).count()) == 1
