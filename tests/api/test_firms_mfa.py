"""A firm's administrators see whether each member has MFA on, and nothing of its secrets
(issue 15, item 6)."""

from __future__ import annotations

import json

from tests.api.firm_helpers import firm_with_james
from tests.api.mfa_helpers import enrol, stop_clock
from tests.conftest import Api

MEMBERS = """{ me { firm { members(first: 10) { edges { node { username mfaEnabled mfa { enabled }
  sessions { id } } } } admins { username mfaEnabled } } } }"""


async def test_an_administrator_sees_which_members_have_mfa(api: Api) -> None:
    stop_clock()
    maria, james, _ = await firm_with_james(api)
    app = await enrol(api, james, "james.morgan@morganlegal.example")
    assert app.backup_codes is not None
    body = await api.data(MEMBERS, token=maria)
    members = {e["node"]["username"]: e["node"] for e in body["me"]["firm"]["members"]["edges"]}
    assert members["jmorgan2019"] == {
        "username": "jmorgan2019",
        "mfaEnabled": True,
        "mfa": None,
        "sessions": None,
    }
    assert members["marialopez"]["mfaEnabled"] is False
    assert members["marialopez"]["mfa"] == {"enabled": False}  # herself
    # Nothing of James's app reaches her: no secret, no code.
    text = json.dumps(body)
    assert app.secret not in text and not any(c in text for c in app.backup_codes)
    # A member who is not an administrator sees no one's MFA but their own.
    admins = (await api.data("{ me { mfaEnabled firm { admins { username mfaEnabled } } } }", token=james))[
        "me"
    ]
    assert admins == {
        "mfaEnabled": True,
        "firm": {"admins": [{"username": "marialopez", "mfaEnabled": None}]},
    }


async def test_others_see_null(api: Api) -> None:
    maria, _, _ = await firm_with_james(api)
    clerk = await api.sign_in("madclerk01", "Court-Docket-Review-2026!")
    query = (
        "query($id: ID!) { node(id: $id) { ... on PacerAccount { username mfaEnabled mfa { enabled } } } }"
    )
    own = (await api.data("{ me { id } }", token=maria))["me"]["id"]
    assert (await api.data(query, {"id": own}, token=clerk))["node"] is None
    assert (await api.data(query, {"id": own}, token=maria))["node"]["mfaEnabled"] is False
