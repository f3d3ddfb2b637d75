"""The visibility matrix: every field of the schema has a rule, and each rule is walked
against every role (the account itself, its firm's admin, a fellow member, a clerk of a
court it is tied to, a clerk of a foreign court, a stranger, nobody)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLObjectType, build_schema

from tests.api.firm_helpers import JAMES_NUMBER, create_firm, invite, register
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, LEGACY_ECF_PASSWORD, REPO, Api

# Every field of every object type, with the rule that governs who sees it. A new field
# fails `test_every_field_has_a_rule` until it is given one here (and tested below).
PUBLIC = "public: anyone who can reach the object"
SELF_ADMIN_CLERK = "contact: the account, its firm's admins, clerks of its courts"
PER_COURT = "per court: the account and its firm's admins all; a clerk, their courts"
SELF_ADMIN = "the account and its firm's admins"
SELF_ONLY = "the account itself"
CLERK_QUERY = "the addressed court's clerks"
WEBHOOKS = "the addressed court's clerks and its MANAGE_WEBHOOKS keys"
PRIVILEGE = "whoever sees the privilege: its holder, the holder's firm admins, the court's clerks"
REVOCATION_DETAIL = "the holder and the court's clerks (others who see the privilege: null)"
ADMIN_ONLY = "the firm's admins"
MEMBERS = "the firm's members"
#: tests/api/test_rate_limits.py: each caller reads its own cost and budget only.
CALLER = "the caller: this operation's cost and its own budget"
RULES: dict[str, str] = {
    "Query.rateLimit": CALLER,
    **{f"RateLimit.{f}": CALLER for f in ["cost", "nodeCount", "limit", "used", "remaining", "resetAt"]},
    **{
        f"PacerAccount.{f}": PUBLIC
        for f in [
            "id",
            "username",
            "firstName",
            "lastName",
            "createdAt",
            "isLegacy",
            "upgradedAt",
            "isShared",
        ]
    },
    "PacerAccount.accountNumber": SELF_ADMIN_CLERK,
    "PacerAccount.email": SELF_ADMIN_CLERK,
    "PacerAccount.emailVerified": SELF_ADMIN_CLERK,
    "PacerAccount.cmecfAccounts": PER_COURT,
    "PacerAccount.privileges": PER_COURT,
    "PacerAccount.canFile": PER_COURT,
    "PacerAccount.registrations": PER_COURT,
    "PacerAccount.firm": SELF_ADMIN,
    "PacerAccount.auditEvents": SELF_ONLY,
    "PacerAccount.statement": SELF_ONLY,
    "PacerAccount.clerkOf": SELF_ONLY,
    "PacerAccount.invitations": SELF_ONLY,
    "PacerAccount.mfa": SELF_ONLY,
    "PacerAccount.sessions": SELF_ONLY,
    "PacerAccount.appGrants": SELF_ONLY,  # [] to every other role (test_app_grants_are_the_accounts_own)
    "PacerAccount.mfaEnabled": SELF_ADMIN,
    "Query.cmecfAccounts": CLERK_QUERY,
    "Query.registrations": CLERK_QUERY,
    "Query.auditEvents": CLERK_QUERY,
    "Query.privileges": CLERK_QUERY,
    "Query.courtServiceKeys": CLERK_QUERY,
    "Query.webhookEndpoints": WEBHOOKS,
    **{
        f"FilingPrivilege.{f}": PRIVILEGE
        for f in [
            "id",
            "court",
            "account",
            "role",
            "source",
            "grantedAt",
            "permissions",
            "cases",
            "proHacVice",
            "revokedAt",
        ]
    },
    "FilingPrivilege.revokedBy": REVOCATION_DETAIL,
    "FilingPrivilege.revokedReason": REVOCATION_DETAIL,
    "Query.me": SELF_ONLY,
    **{f"Query.{f}": PUBLIC for f in ["node", "court", "courts"]},
    "Firm.members": ADMIN_ONLY,
    "Firm.invitations": ADMIN_ONLY,
    "Firm.statement": ADMIN_ONLY,
    **{f"Firm.{f}": MEMBERS for f in ["id", "accountNumber", "name", "clientCodeRequired", "admins"]},
    # Live updates (tests/api/test_subscriptions.py): the same rules as the queries, per event.
    "Subscription.registrationEvents": CLERK_QUERY,
    "Subscription.myEvents": SELF_ONLY,
    "Subscription.courtsChanged": PUBLIC,
}
# Types reached only through a field ruled above (or through node(id:), tested below) inherit its rule.
INHERITING = {
    # through webhookEndpoints, node(id:) and the webhook mutations (tests/api/test_webhooks.py)
    "WebhookEndpoint",
    "WebhookDelivery",
    "WebhookDeliveryEdge",
    "WebhookDeliveryConnection",
    "WebhookAttempt",
    "WebhookEndpointPayload",
    "WebhookDeliveryPayload",
    "CourtServiceKey",  # through courtServiceKeys (clerks), node(id:) (clerks), AuditEvent.serviceKey (clerks)
    "Court",
    "HelpDesk",
    "CmecfAccount",
    "CmecfAccountEdge",
    "CmecfAccountConnection",
    "FilingPrivilegeEdge",
    "FilingPrivilegeConnection",
    "Registration",
    "RegistrationEdge",
    "RegistrationConnection",
    "AuditEvent",
    "AuditEventEdge",
    "AuditEventConnection",
    "FirmInvitation",
    "PacerAccountEdge",
    "PacerAccountConnection",
    "Charge",
    "ChargeEdge",
    "ChargeConnection",
    "Statement",
    "PageInfo",
    "UserError",
    "Mutation",
    "RegistrationEvent",
    "AccountEvent",
    # The account's own security (PacerAccount.mfa, .sessions, the security mutations, and
    # node(id:) of an Authenticator or Session: the owner only, tests/api/test_mfa.py).
    "MfaStatus",
    "Authenticator",
    "AuthenticatorEnrollment",
    "MfaChallenge",
    "Session",
    # The move to NextGen: Court.linkingProgress and Court.reminderJob are the court's clerks'
    # only (null to every other role, tests/api/test_move_to_nextgen.py); the job also through
    # sendLinkingReminders' payload (the addressed court's clerks).
    "LinkingProgress",
    "RoleProgress",
    "WeekProgress",
    "RoleWeekProgress",
    "ReminderJob",
    "LinkingRemindersPayload",
    # The OpenID provider: an account's grants through PacerAccount.appGrants (its own only),
    # node(id:) of an AppGrant (its owner only) and revokeAppGrant's payload
    # (tests/api/test_oidc_core.py).
    "AppGrant",
    "OidcClient",
    "AppGrantPayload",
} | {
    name
    for name in [
        "SignInPayload",
        "SignOutPayload",
        "PacerAccountPayload",
        "LinkCmecfAccountPayload",
        "AcceptedPayload",
        "RegistrationPayload",
        "FirmPayload",
        "FirmInvitationPayload",
        "ChargePayload",
        "FilingPrivilegePayload",
        "CourtServiceKeyPayload",
        "AuthenticatorEnrollmentPayload",
        "AuthenticatorPayload",
        "BackupCodesPayload",
    ]
}


def test_every_field_has_a_rule() -> None:
    schema = build_schema((REPO / "schema" / "schema.graphql").read_text())
    unruled = []
    for name, gtype in schema.type_map.items():
        if name.startswith("__") or not isinstance(gtype, GraphQLObjectType) or name in INHERITING:
            continue
        unruled += [f"{name}.{field}" for field in gtype.fields if f"{name}.{field}" not in RULES]
    assert unruled == [], "give these fields a visibility rule and a test"


@dataclass
class World:
    tokens: dict[str, str | None]
    ids: dict[str, str]


ROLES = ["self", "admin", "peer", "mad clerk", "mab clerk", "ca1 clerk", "stranger", "anonymous"]
# A service key of mad with each scope: no person, acting at mad only.
KEY_ROLES = {
    "RECORD_USAGE key": "RECORD_USAGE",
    "READ_ROSTER key": "READ_ROSTER",
    "READ_REGISTRATIONS key": "READ_REGISTRATIONS",
    "MANAGE_WEBHOOKS key": "MANAGE_WEBHOOKS",
}


@pytest.fixture
async def world(api: Api) -> World:
    """James: a member of Maria's firm, linked at mad, asking mab for a privilege."""
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    james = await api.sign_in(*FILER)
    invitation = (await invite(api, maria, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    await api.data(
        "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }",
        {"id": invitation},
        token=james,
    )
    peer, peer_account = await register(api, "peerfiler", "Pia", "Peer")
    invited = (await invite(api, maria, peer_account["accountNumber"], "Peer"))["invitation"]["id"]
    await api.data(
        "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }",
        {"id": invited},
        token=peer,
    )
    linked = await api.data(
        """mutation($p: String!) { linkCmecfAccount(input: {login: "jmorgan", password: $p, confirm: true}) {
          cmecfAccount { id } privilege { id } errors { code } } }""",
        {"p": LEGACY_ECF_PASSWORD},
        court="mad",
        token=james,
    )
    registered = await api.data(
        "mutation { submitRegistration(input: {role: CREDITOR}) { registration { id } errors { code } } }",
        court="mab",
        token=james,
    )
    stranger, _ = await register(api, "strangerx", "Stan", "Ger")
    mad_clerk = await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    keys: dict[str, str | None] = {}
    for role, scope in KEY_ROLES.items():
        made = await api.data(
            """mutation($s: CourtKeyScope!) { createCourtServiceKey(input: {name: "matrix", scopes: [$s]}) {
              secret errors { code } } }""",
            {"s": scope},
            court="mad",
            token=mad_clerk,
        )
        keys[role] = made["createCourtServiceKey"]["secret"]
    me = await api.data(
        "{ me { id firm { id } auditEvents(first: 1) { edges { node { id } } } } }", token=james
    )
    tokens: dict[str, str | None] = {
        "self": await api.sign_in(FILER[0], FILER[1], redactionAcknowledged=True),
        "admin": maria,
        "peer": peer,
        "mad clerk": await api.sign_in(CLERKS["mad"], CLERK_PASSWORD),
        "mab clerk": await api.sign_in(CLERKS["mab"], CLERK_PASSWORD),
        "ca1 clerk": await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD),
        "stranger": stranger,
        "anonymous": None,
        **keys,
    }
    return World(
        tokens=tokens,
        ids={
            "account": me["me"]["id"],
            "firm": me["me"]["firm"]["id"],
            "event": me["me"]["auditEvents"]["edges"][0]["node"]["id"],
            "legacy": linked["linkCmecfAccount"]["cmecfAccount"]["id"],
            "privilege": linked["linkCmecfAccount"]["privilege"]["id"],
            "registration": registered["submitRegistration"]["registration"]["id"],
            "invitation": invitation,
        },
    )


NODE = "query($id: ID!) { node(id: $id) { id } }"
# Who sees each object through node(id:).
NODE_VISIBLE = {
    "account": {"self", "admin", "mad clerk", "mab clerk"},
    "legacy": {"self", "admin", "mad clerk"},
    "privilege": {"self", "admin", "mad clerk"},
    "registration": {"self", "admin", "mab clerk"},
    "firm": {"self", "admin", "peer"},
    "invitation": {"self", "admin"},
    "event": {"self", "mab clerk"},  # his newest event: the registration he sent mab
}


@pytest.mark.parametrize("what", list(NODE_VISIBLE))
async def test_node_visibility(api: Api, world: World, what: str) -> None:
    for role in ROLES:
        node = (await api.data(NODE, {"id": world.ids[what]}, token=world.tokens[role]))["node"]
        assert (node is not None) == (role in NODE_VISIBLE[what]), (what, role)
    for role in KEY_ROLES:  # no person: nothing by node(id:) at its court; nothing at all elsewhere
        assert (await api.data(NODE, {"id": world.ids[what]}, court="mad", token=world.tokens[role]))[
            "node"
        ] is None
        for court in (None, "mab"):
            refused = await api.post(NODE, {"id": world.ids[what]}, court=court, token=world.tokens[role])
            assert refused.status_code == 403 and "data" not in refused.json(), (role, court)


ACCOUNT_FIELDS = """query($id: ID!) { node(id: $id) { ... on PacerAccount {
  username accountNumber email emailVerified
  privileges { court { code } } cmecfAccounts { court { code } } registrations { court { code } }
  firm { name } } } }"""


async def fields_as(api: Api, world: World, role: str) -> dict[str, Any] | None:
    body = await api.gql(ACCOUNT_FIELDS, {"id": world.ids["account"]}, token=world.tokens[role])
    assert "errors" not in body, body
    node: dict[str, Any] | None = body["data"]["node"]
    return node


async def test_account_fields_per_role(api: Api, world: World) -> None:
    full = {
        "username": FILER[0],
        "accountNumber": JAMES_NUMBER,
        "email": "james.morgan@morganlegal.example",
        "emailVerified": True,
        "privileges": [{"court": {"code": "mad"}}],
        "cmecfAccounts": [{"court": {"code": "mad"}}],
        "registrations": [{"court": {"code": "mab"}}],
        "firm": {"name": "Lopez & Morgan LLP"},
    }
    assert await fields_as(api, world, "self") == full
    assert await fields_as(api, world, "admin") == full
    assert await fields_as(api, world, "mad clerk") == {
        **full,
        "registrations": [],
        "firm": None,
    }
    assert await fields_as(api, world, "mab clerk") == {
        **full,
        "privileges": [],
        "cmecfAccounts": [],
        "firm": None,
    }
    for role in ["peer", "ca1 clerk", "stranger", "anonymous"]:
        assert await fields_as(api, world, role) is None, role


@pytest.mark.parametrize(
    ("field", "allowed"),
    [
        ('canFile(court: "mad")', {"self", "admin", "mad clerk"}),
        ('canFile(court: "mab")', {"self", "admin", "mab clerk"}),
        ('canFile(court: "mad", caseNumber: "1:24-cv-10001")', {"self", "admin", "mad clerk"}),
        ("auditEvents(first: 5) { totalCount }", {"self"}),
        ('statement(quarter: "2026Q1") { chargesCents }', {"self"}),
    ],
)
async def test_guarded_account_fields(api: Api, world: World, field: str, allowed: set[str]) -> None:
    query = f"query($id: ID!) {{ node(id: $id) {{ ... on PacerAccount {{ {field} }} }} }}"
    for role in ["self", "admin", "mad clerk", "mab clerk"]:  # the roles that reach the account at all
        body = await api.gql(query, {"id": world.ids["account"]}, token=world.tokens[role])
        if role in allowed:
            assert "errors" not in body, (field, role, body)
        else:
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (field, role)


async def test_an_accounts_invitations_are_its_own(api: Api, world: World) -> None:
    """Null (no error) to everyone who may see the account but the account itself."""
    query = "query($id: ID!) { node(id: $id) { ... on PacerAccount { invitations { id } } } }"
    for role in ["self", "admin", "mad clerk", "mab clerk"]:
        body = await api.gql(query, {"id": world.ids["account"]}, token=world.tokens[role])
        assert "errors" not in body, (role, body)
        assert body["data"]["node"]["invitations"] == ([] if role == "self" else None), role
    for role in ROLES:
        me = (await api.data("{ me { invitations { id } } }", token=world.tokens[role]))["me"]
        assert me is None if role == "anonymous" else isinstance(me["invitations"], list), role


async def test_security_fields_per_role(api: Api, world: World) -> None:
    """mfa and sessions: the account itself; mfaEnabled: it and its firm's admins; null to others."""
    query = """query($id: ID!) { node(id: $id) { ... on PacerAccount {
      mfa { enabled } mfaEnabled sessions { current } } } }"""
    for role in ["self", "admin", "mad clerk", "mab clerk"]:  # the roles that reach the account at all
        node = (await api.data(query, {"id": world.ids["account"]}, token=world.tokens[role]))["node"]
        assert (node["mfa"] is not None) == (role == "self"), role
        assert (node["sessions"] is not None) == (role == "self"), role
        assert (node["mfaEnabled"] is not None) == (role in {"self", "admin"}), role
        if role == "self":
            assert {"current": True} in node["sessions"]


@pytest.mark.parametrize(
    "field", ["members { totalCount }", "invitations { status }", 'statement(quarter: "2026Q1") { kind }']
)
async def test_firm_admin_fields(api: Api, world: World, field: str) -> None:
    query = f"query($id: ID!) {{ node(id: $id) {{ ... on Firm {{ name {field} }} }} }}"
    admin = await api.gql(query, {"id": world.ids["firm"]}, token=world.tokens["admin"])
    assert "errors" not in admin
    for role in ["self", "peer"]:  # members who are not admins
        body = await api.gql(query, {"id": world.ids["firm"]}, token=world.tokens[role])
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], role


@pytest.mark.parametrize("court", ["mad", "mab", "ca1"])
@pytest.mark.parametrize(
    "query",
    [
        "{ cmecfAccounts { totalCount } }",
        "{ registrations { totalCount } }",
        "{ auditEvents { totalCount } }",
        "{ privileges { totalCount } }",
        "{ privileges(needsCases: true) { totalCount } }",
        "{ courtServiceKeys { prefix } }",
        "{ webhookEndpoints { id url } }",
    ],
)
async def test_clerk_queries_per_role_and_court(api: Api, world: World, court: str, query: str) -> None:
    for role in ROLES:
        body = await api.gql(query, court=court, token=world.tokens[role])
        if role == f"{court} clerk":
            assert "errors" not in body, (role, court)
        else:
            expected = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
            assert [e["extensions"]["code"] for e in body["errors"]] == [expected], (role, court)
    # mad's keys: what their scope reads, at mad; a field error elsewhere at mad; refused at other courts.
    readable = {
        "READ_ROSTER key": "cmecfAccounts",
        "READ_REGISTRATIONS key": "registrations",
        "MANAGE_WEBHOOKS key": "webhookEndpoints",
    }
    for role in KEY_ROLES:
        response = await api.post(query, court=court, token=world.tokens[role])
        if court != "mad":
            assert response.status_code == 403, (role, court)
            assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["FORBIDDEN"]
            continue
        body = response.json()
        if readable.get(role) == query.split("(")[0].split("{")[1].strip():
            assert "errors" not in body, (role, query, body)
        else:
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (role, query)


MUTATIONS: dict[str, tuple[str, str | None, dict[str, str]]] = {
    # name: (operation, court, {role: first error code}); roles not listed succeed or are not tried.
    "decideRegistration": (
        'mutation($id: ID!) { decideRegistration(input: {id: $id, approve: false, reason: "r"}) { errors { code } } }',
        "mab",
        {
            "self": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "peer": "FORBIDDEN",
            "mad clerk": "FORBIDDEN",
            "ca1 clerk": "FORBIDDEN",
            "stranger": "FORBIDDEN",
            "anonymous": "UNAUTHENTICATED",
        },
    ),
    "withdrawRegistration": (
        "mutation($id: ID!) { withdrawRegistration(id: $id) { errors { code } } }",
        "mab",
        {
            "admin": "NOT_FOUND",
            "peer": "NOT_FOUND",
            "mab clerk": "NOT_FOUND",
            "stranger": "NOT_FOUND",
            "anonymous": "UNAUTHENTICATED",
        },
    ),
    "recordUsage": (
        f'mutation {{ recordUsage(input: {{accountNumber: "{JAMES_NUMBER}", kind: SEARCH, pages: 1}}) {{ errors {{ code }} }} }}',
        "mad",
        {
            "self": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "peer": "FORBIDDEN",
            "mab clerk": "FORBIDDEN",
            "ca1 clerk": "FORBIDDEN",
            "stranger": "FORBIDDEN",
            "anonymous": "UNAUTHENTICATED",
        },
    ),
    "setClientCodeRequired": (
        "mutation { setClientCodeRequired(required: true) { errors { code } } }",
        None,
        {
            "self": "FORBIDDEN",
            "peer": "FORBIDDEN",
            "mad clerk": "FORBIDDEN",
            "stranger": "FORBIDDEN",
            "anonymous": "UNAUTHENTICATED",
        },
    ),
    "inviteFirmMember": (
        'mutation { inviteFirmMember(input: {accountNumber: "4669201", lastName: "Whitfield"}) { errors { code } } }',
        None,
        {
            "self": "FORBIDDEN",
            "peer": "FORBIDDEN",
            "mab clerk": "FORBIDDEN",
            "stranger": "FORBIDDEN",
            "anonymous": "UNAUTHENTICATED",
        },
    ),
    "declineFirmInvitation": (
        "mutation($id: ID!) { declineFirmInvitation(id: $id) { errors { code } } }",
        None,
        {
            "admin": "FORBIDDEN",
            "peer": "NOT_FOUND",
            "mad clerk": "NOT_FOUND",
            "stranger": "NOT_FOUND",
            "anonymous": "UNAUTHENTICATED",
        },
    ),
    "removeFirmMember": (
        "mutation($id: ID!) { removeFirmMember(accountId: $id) { errors { code } } }",
        None,
        {
            "peer": "FORBIDDEN",
            "mad clerk": "NOT_A_MEMBER",
            "stranger": "NOT_A_MEMBER",
            "anonymous": "UNAUTHENTICATED",
        },
    ),
}
for _name, _op in [
    ("addPrivilegeCase", 'addPrivilegeCase(input: {privilegeId: $id, caseNumber: "1:24-cv-10001"})'),
    ("removePrivilegeCase", 'removePrivilegeCase(input: {privilegeId: $id, caseNumber: "1:24-cv-10001"})'),
    ("revokeFilingPrivilege", 'revokeFilingPrivilege(input: {id: $id, reason: "r"})'),
]:
    # James's privilege at mad: only mad's clerks manage it (he himself may not).
    MUTATIONS[_name] = (
        f"mutation($id: ID!) {{ {_op} {{ errors {{ code }} }} }}",
        "mad",
        {
            "self": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "peer": "FORBIDDEN",
            "mab clerk": "FORBIDDEN",
            "ca1 clerk": "FORBIDDEN",
            "stranger": "FORBIDDEN",
            "anonymous": "UNAUTHENTICATED",
        },
    )
MUTATIONS["createWebhookEndpoint"] = (
    'mutation { createWebhookEndpoint(input: {url: "https://93.184.216.34/hook", description: "matrix",'
    " eventTypes: [PRIVILEGE_REVOKED]}) { errors { code } } }",
    "mad",
    {
        "self": "FORBIDDEN",
        "admin": "FORBIDDEN",
        "peer": "FORBIDDEN",
        "mab clerk": "FORBIDDEN",
        "ca1 clerk": "FORBIDDEN",
        "stranger": "FORBIDDEN",
        "anonymous": "UNAUTHENTICATED",
    },
)
#: (mutation, key role) pairs that succeed: each key calls what its scope allows, at mad.
KEY_ALLOWED = {("recordUsage", "RECORD_USAGE key"), ("createWebhookEndpoint", "MANAGE_WEBHOOKS key")}
TARGETS = {
    "decideRegistration": "registration",
    "withdrawRegistration": "registration",
    "declineFirmInvitation": "invitation",
    "removeFirmMember": "account",
    "addPrivilegeCase": "privilege",
    "removePrivilegeCase": "privilege",
    "revokeFilingPrivilege": "privilege",
}


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_guarded_mutations_refuse_every_other_role(api: Api, world: World, name: str) -> None:
    operation, court, refusals = MUTATIONS[name]
    variables = {"id": world.ids[TARGETS[name]]} if name in TARGETS else {}
    for role, code in refusals.items():
        data = await api.data(operation, variables, court=court, token=world.tokens[role])
        assert [e["code"] for e in data[name]["errors"]][:1] == [code], (name, role)
    # A key of mad calls recordUsage with RECORD_USAGE at mad, and nothing else anywhere.
    for role in KEY_ROLES:
        response = await api.post(operation, variables, court=court, token=world.tokens[role])
        if court != "mad":
            assert response.status_code == 403, (name, role)
            continue
        errors = [e["code"] for e in response.json()["data"][name]["errors"]]
        assert errors == ([] if (name, role) in KEY_ALLOWED else ["FORBIDDEN"]), (
            name,
            role,
        )


PRIVILEGE_FIELDS = """query($id: ID!) { node(id: $id) { ... on FilingPrivilege {
  court { code } account { username } role source permissions cases proHacVice revokedAt
  revokedReason revokedBy { username } } } }"""


async def test_privilege_fields_per_role_and_the_revocation_detail(api: Api, world: World) -> None:
    revoked = await api.data(
        """mutation($id: ID!) { revokeFilingPrivilege(input: {id: $id, reason: "Disbarred."}) {
          privilege { revokedAt } errors { code } } }""",
        {"id": world.ids["privilege"]},
        court="mad",
        token=world.tokens["mad clerk"],
    )
    assert revoked["revokeFilingPrivilege"]["errors"] == []
    at = revoked["revokeFilingPrivilege"]["privilege"]["revokedAt"]
    full = {
        "court": {"code": "mad"},
        "account": {"username": FILER[0]},
        "role": "ATTORNEY",
        "source": "LINKED_LEGACY_ACCOUNT",
        "permissions": [],
        "cases": [],
        "proHacVice": False,
        "revokedAt": at,
        "revokedReason": "Disbarred.",
        "revokedBy": {"username": CLERKS["mad"]},
    }
    for role in ROLES:
        body = await api.gql(PRIVILEGE_FIELDS, {"id": world.ids["privilege"]}, token=world.tokens[role])
        assert "errors" not in body, (role, body)
        node = body["data"]["node"]
        if role in ("self", "mad clerk"):
            assert node == full, role
        elif role == "admin":  # sees that it was revoked, not why or by whom
            assert node == {**full, "revokedReason": None, "revokedBy": None}, role
        else:
            assert node is None, role


async def test_app_grants_are_the_accounts_own(api: Api, world: World) -> None:
    from nextgen_gql.models import PacerAccount
    from nextgen_gql.oidc import clients, grants

    app = await clients.add_client(name="Docket Pro", redirect_uris=["https://docket.example/cb"])
    account = await PacerAccount.get(username_key=FILER[0].lower())
    await grants.grant(account.id, app.client, ["openid", "profile"])
    query = "query($id: ID!) { node(id: $id) { ... on PacerAccount { appGrants { client { name } } } } }"
    for role in ["self", "admin", "mad clerk", "mab clerk"]:  # the roles that reach the account at all
        node = (await api.data(query, {"id": world.ids["account"]}, token=world.tokens[role]))["node"]
        assert node["appGrants"] == ([{"client": {"name": "Docket Pro"}}] if role == "self" else []), role
