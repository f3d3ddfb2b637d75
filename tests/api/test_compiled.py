"""Differential tests: the compiled path gives the reference executor's answers, byte for byte.

Three nets. Every query the suite sends already runs on both paths (the suite's settings
turn on ``compiled_check``, which refuses a differing answer). Here, in addition: two
separate apps over one database, one compiled and one not, are sent every operation of
the reference SPA and of the benchmark, and hypothesis-graphql's schema-valid queries, as
every role (anonymous, an upgraded filer, a legacy account, a shared account, a firm
administrator and a member, the clerks of each court, mad's service keys, and apps' access
tokens with the ``api`` and ``api.read`` scopes) at the national endpoint and at
each court; their answers must be the same bytes. And the shapes the compiler handles on
its own (aliases, fragments, ``@skip``/``@include`` with variables, errors and nulls)
are checked one by one, with the path each request took.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import OperationDefinitionNode, OperationType, parse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from nextgen_gql.api.compiled import CompiledQueries
from nextgen_gql.app import create_app
from nextgen_gql.models import Session
from nextgen_gql.oidc import clients, tokens
from nextgen_gql.services.auth import token_hash
from nextgen_gql.settings import Settings
from tests import databases
from tests.api.firm_helpers import JAMES_NUMBER, create_firm, invite, register
from tests.conftest import (
    CLERK_PASSWORD,
    CLERKS,
    FILER,
    LEGACY,
    LEGACY_ECF_PASSWORD,
    REPO,
    SHARED,
    STARTUP,
    Api,
    running_api,
)

SDL = (REPO / "schema" / "schema.graphql").read_text()
ENDPOINTS = [None, "mad", "mab", "ca1"]

# The benchmark's scenarios (bench/harness.py): these must be answered by the compiled path.
HOT = {
    "me": """query Landing { me { id username firstName lastName email accountNumber isLegacy
      privileges { court { code name } role source } firm { name clientCodeRequired } } }""",
    "roster": """query Roster { cmecfAccounts(first: 100) { totalCount
      edges { cursor node { id login firstName lastName role linkedAt
        linkedAccount { username firstName lastName email } } }
      pageInfo { hasNextPage endCursor } } }""",
    "courts": "query Courts { courts { code name kind nextgenSince isNextgen acceptedRoles } }",
}


def spa_operations() -> list[tuple[str, str]]:
    """(name, document) of every operation in schema/operations, each alone in its document."""
    found = []
    for path in sorted((REPO / "schema" / "operations").glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        for definition in parse(text).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                found.append((definition.name.value, text))
    return found


SPA_VARIABLES: dict[str, dict[str, Any]] = {
    "FirmStatement": {"quarter": "2026Q4"},
    "ClerkQueue": {"after": None},
    "FirmMembers": {"after": None},
}


@dataclass
class Pair:
    """The same database served twice: compiled, and on the reference executor alone."""

    compiled: httpx.AsyncClient
    reference: httpx.AsyncClient
    queries: CompiledQueries
    tokens: dict[str, str | None]

    async def both(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str,
        court: str | None = None,
        **kw: Any,
    ) -> tuple[httpx.Response, httpx.Response]:
        path = f"/courts/{court}/graphql" if court else "/graphql"
        token = self.tokens[role]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body: dict[str, Any] = {"query": query, "variables": variables or {}, **kw}
        a = await self.compiled.post(path, json=body, headers=headers)
        b = await self.reference.post(path, json=body, headers=headers)
        return a, b

    async def same(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> bytes:
        a, b = await self.both(query, variables, **kw)
        if (a.status_code, a.content) != (b.status_code, b.content) and _one_of_racing_root_errors(a, b):
            # Two non-null root fields both fail: the first error to bubble nulls the answer,
            # and on the reference executor (fields run concurrently) which one that is depends
            # on timing. The compiled path reports the first in document order; the reference
            # may report the other: same status, same code and message, another field.
            b = a
        assert (a.status_code, a.content) == (b.status_code, b.content), (query, variables, kw)
        assert a.headers["content-type"] == b.headers["content-type"]
        return a.content


def _one_of_racing_root_errors(a: httpx.Response, b: httpx.Response) -> bool:
    """Both answers are ``data: null``, and either have one error each, of the same code and
    message, at a root field (only which root field differs), or one has the other's errors,
    a root field's among them, and more (which other errors came first differs)."""
    if a.status_code != b.status_code:
        return False
    x, y = a.json(), b.json()
    if x.get("data") is not None or y.get("data") is not None:
        return False
    ex, ey = x.get("errors") or [], y.get("errors") or []
    if len(ex) == 1 and len(ey) == 1:
        (e1,), (e2,) = ex, ey
        return (
            len(e1.get("path") or []) == 1
            and len(e2.get("path") or []) == 1
            and e1["message"] == e2["message"]
            and e1.get("extensions") == e2.get("extensions")
        )
    # Or: one answer has the other's errors and more. A root field's error nulled the answer;
    # the reference runs the other root fields at the same time, and whether their errors came
    # before the answer was nulled depends on timing (found by hypothesis on CI, 2026-12-05:
    # `me { statement(quarter: "") }` beside another court's roster, as a clerk).
    fewer, more = (ex, ey) if len(ex) < len(ey) else (ey, ex)
    return (
        len(fewer) < len(more)
        and all(error in more for error in fewer)
        and any(len(error.get("path") or []) == 1 for error in fewer)
    )


async def build_world(api: Api) -> dict[str, str | None]:
    """Every role, and data for each to see: a firm with an admin and a member, a link, a
    registration in each kind of court."""
    maria, _ = await register(api, "marialopez", "Maria", "Lopez")
    await create_firm(api, maria)
    james = await api.sign_in(*FILER, redactionAcknowledged=True)
    invitation = (await invite(api, maria, JAMES_NUMBER, "Morgan"))["invitation"]["id"]
    await api.data(
        "mutation($id: ID!) { acceptFirmInvitation(id: $id) { errors { code } } }",
        {"id": invitation},
        token=james,
    )
    await api.data(
        """mutation($p: String!) { linkCmecfAccount(input: {login: "jmorgan", password: $p, confirm: true}) {
          errors { code } } }""",
        {"p": LEGACY_ECF_PASSWORD},
        court="mad",
        token=james,
    )
    await api.data(
        "mutation { submitRegistration(input: {role: CREDITOR}) { errors { code } } }",
        court="mab",
        token=james,
    )
    clerks = {f"{court} clerk": await api.sign_in(user, CLERK_PASSWORD) for court, user in CLERKS.items()}
    # A registration with every field filled, decided: the queue's rows show them all.
    submitted = await api.data(
        """mutation { submitRegistration(input: {role: ATTORNEY, proHacVice: true, caseNumber: "1:26-cv-10001",
          barNumber: "7788990", barState: "NY"}) { registration { id } errors { code } } }""",
        court="mad",
        token=maria,
    )
    await api.data(
        """mutation($id: ID!) { decideRegistration(input: {id: $id, approve: false, reason: "No certificate."}) {
          errors { code } } }""",
        {"id": submitted["submitRegistration"]["registration"]["id"]},
        court="mad",
        token=clerks["mad clerk"],
    )
    keys = {}
    for scope in ("RECORD_USAGE", "READ_ROSTER", "READ_REGISTRATIONS"):  # mad's service keys, a scope each
        made = await api.data(
            """mutation($s: CourtKeyScope!) { createCourtServiceKey(input: {name: "differential", scopes: [$s]}) {
              secret errors { code } } }""",
            {"s": scope},
            court="mad",
            token=clerks["mad clerk"],
        )
        keys[f"mad {scope} key"] = made["createCourtServiceKey"]["secret"]
    # Something for the keys to have done, and the clerks to see in the trail.
    await api.data(
        f"""mutation {{ recordUsage(input: {{accountNumber: "{JAMES_NUMBER}", kind: SEARCH, pages: 2,
          idempotencyKey: "differential-1"}}) {{ errors {{ code }} }} }}""",
        court="mad",
        token=keys["mad RECORD_USAGE key"],
    )
    # Apps acting for people (oidc.access): a court's own system for the filer and for mad's
    # clerk (api), a national app reading for the filer (api.read).
    apps = {
        "filer's mad api token": await app_token(james, "openid api", "mad"),
        "mad clerk's api token": await app_token(clerks["mad clerk"], "openid api api.read", "mad"),
        "filer's api.read token": await app_token(james, "openid api.read", None),
    }
    return {
        "anonymous": None,
        "filer": james,
        "legacy": await api.sign_in(*LEGACY),
        "shared": await api.sign_in(*SHARED),
        "firm admin": maria,
        **clerks,
        **keys,
        **apps,
    }


async def app_token(session_token: str, scope: str, court: str | None) -> str:
    """An access token issued in the session of ``session_token`` to a new client (of ``court``:
    its own system; None: a national app), as the token endpoint issues them."""
    client = await clients.add_client(
        name=f"differential {scope}", court_code=court, redirect_uris=["https://app.example/cb"]
    )
    session = await Session.get(token_hash=token_hash(session_token))
    issued = await tokens.issue_tokens(
        client=client.client, account_id=session.account_id, session_id=session.id, scope=scope, refresh=False
    )
    return issued.access_token


@contextlib.asynccontextmanager
async def serving_pair(settings: Settings) -> AsyncIterator[Pair]:
    async with running_api(settings.with_(compiled_check=False)) as api:
        tokens = await build_world(api)
    compiled_app = create_app(settings.with_(compiled=True, compiled_check=False))
    # The reference app runs without a lifespan of its own: Tortoise keeps one database context
    # per process, which the compiled app's lifespan opens; both apps then read the same data.
    reference_app = create_app(settings.with_(compiled=False, compiled_check=False))
    reference = httpx.ASGITransport(app=reference_app)
    async with (
        LifespanManager(compiled_app, startup_timeout=STARTUP, shutdown_timeout=STARTUP) as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=a.app), base_url="http://testserver") as ca,
        httpx.AsyncClient(transport=reference, base_url="http://testserver") as cb,
    ):
        yield Pair(ca, cb, compiled_app.state.compiled, tokens)


@pytest.fixture
async def pair(settings: Settings) -> AsyncIterator[Pair]:
    async with serving_pair(settings) as running:
        yield running


async def test_the_hot_operations_are_compiled_and_equal_for_every_role(pair: Pair) -> None:
    for role in pair.tokens:
        for court in ENDPOINTS:
            for query in HOT.values():
                before = pair.queries.fell_back
                await pair.same(query, role=role, court=court)
                compiled = pair.queries.fell_back == before
                # The roster is its clerks' only; everyone else's answer is the reference's error.
                if "cmecfAccounts" not in query or role == f"{court} clerk":
                    assert compiled, (role, court, query)


async def test_every_spa_operation_is_equal_for_every_role(pair: Pair) -> None:
    answered = pair.queries.answered
    for name, document in spa_operations():
        operation = next(
            d
            for d in parse(document).definitions
            if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
        )
        if operation.operation is not OperationType.QUERY:
            continue  # mutations write: they run on the reference executor only
        for role in pair.tokens:
            for court in ENDPOINTS:
                await pair.same(document, SPA_VARIABLES.get(name), role=role, court=court, operationName=name)
    assert pair.queries.answered > answered


async def test_roster_pages_searches_and_cursors_are_equal(pair: Pair) -> None:
    page = """query($first: Int, $after: String, $search: String, $linked: Boolean) {
      cmecfAccounts(first: $first, after: $after, search: $search, linked: $linked) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id login role court { code } linkedAt linkedAccount { username email accountNumber }
          linkedBy { username email } } } } }"""
    # The page reads what is selected beneath it (the linker's join, the count): every mix.
    for partial in (
        "{ cmecfAccounts(first: 3) { edges { node { login linkedBy { username } } } } }",
        "{ cmecfAccounts(first: 3) { pageInfo { hasNextPage endCursor } edges { cursor node { linkedAt } } } }",
        "{ cmecfAccounts { totalCount } }",
        """{ cmecfAccounts(first: 3) { ... on CmecfAccountConnection { totalCount } edges { node { ...L } } } }
        fragment L on CmecfAccount { linkedBy { email } linkedAccount { email } }""",
        "{ a: cmecfAccounts(first: 2) { totalCount } b: cmecfAccounts(first: 2) { edges { node { linkedBy { id } } } } }",
    ):
        for court in ("mad", "ca1"):
            await pair.same(partial, None, role=f"{court} clerk", court=court)
    for court in ("mad", "mab", "ca1"):
        after = None
        while True:
            answer = await pair.same(page, {"first": 2, "after": after}, role=f"{court} clerk", court=court)
            info = httpx.Response(200, content=answer).json()["data"]["cmecfAccounts"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        for variables in (
            {"search": "mor"},
            {"linked": True},
            {"linked": False, "first": 1},
            {"first": 0},
            {"after": "junk"},
        ):
            await pair.same(page, variables, role=f"{court} clerk", court=court)


LISTS: list[tuple[str, list[dict[str, Any]]]] = [
    # orders, both directions, backward pages, the registrations' search, the trail's filters
    (
        """query($o: CmecfAccountOrder, $l: Int, $f: Int) { cmecfAccounts(orderBy: $o, last: $l, first: $f) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { login lastName linkedAt linkedAccount { username email } } } } }""",
        [
            {},
            {"o": {"field": "LAST_NAME", "direction": "DESC"}, "l": 2},
            {"o": {"field": "LINKED_AT", "direction": "ASC"}, "f": 3},
            {"o": {"field": "LINKED_AT", "direction": "DESC"}, "l": 4},
            {"o": {"field": "LOGIN", "direction": "DESC"}},
            {"l": 0},
        ],
    ),
    (
        """query($o: RegistrationOrder, $l: Int, $s: String) { registrations(orderBy: $o, last: $l, search: $s) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { id role account { username email } } } } }""",
        [
            {},
            {"o": {"field": "LAST_NAME", "direction": "DESC"}, "l": 2},
            {"o": {"field": "SUBMITTED_AT", "direction": "ASC"}, "s": "morgan"},
        ],
    ),
    (
        """query($l: Int, $a: String, $since: DateTime) { auditEvents(last: $l, action: $a, since: $since) {
          totalCount pageInfo { hasNextPage hasPreviousPage } edges { cursor node { action actor { username } } } } }""",
        [{}, {"l": 3, "a": "billing.charge", "since": "2020-01-01T00:00:00+00:00"}],
    ),
    ("{ me { username invitations { id status firm { name } invitedBy { username } decidedAt } } }", [{}]),
    # every field of each list's rows, which the compiled path reads as plain rows (``services.rows``)
    (
        """query($o: CmecfAccountOrder, $s: String, $f: Int, $a: String) {
          cmecfAccounts(orderBy: $o, search: $s, first: $f, after: $a) { totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { id login firstName lastName role court { code } linkedAt
            linkedAccount { id username email accountNumber emailVerified isLegacy createdAt upgradedAt isShared }
            linkedBy { username email } } } } }""",
        [
            {"o": {"field": "LAST_NAME", "direction": "ASC"}, "f": 3},
            {"o": {"field": "LINKED_AT", "direction": "DESC"}, "f": 2, "a": "junk"},
            {"s": "mor", "o": {"field": "LINKED_AT", "direction": "ASC"}},
            {"s": "lp"},
        ],
    ),
    (
        """query($st: RegistrationStatus, $o: RegistrationOrder, $f: Int) {
          registrations(status: $st, orderBy: $o, first: $f) { totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { id court { code } account { username email accountNumber } role proHacVice
            caseNumber barNumber barState status submittedAt decidedAt decidedBy { username email } reason } } } }""",
        [
            {},
            {"st": "APPROVED"},
            {"st": "PENDING", "f": 1},
            {"o": {"field": "LAST_NAME", "direction": "ASC"}},
        ],
    ),
    (
        """query($f: Int, $a: String) { auditEvents(first: $f, after: $a) { totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { id at action detail actor { username email } subject { username }
            court { code } } } } }""",
        [{}, {"f": 2}],
    ),
    (
        """query($f: Int, $a: String) { me { firm { members(first: $f, after: $a) { totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { id username firstName email accountNumber isLegacy } } } } } }""",
        [{}, {"f": 1}, {"f": 1, "a": "junk"}],
    ),
    (
        """query($f: Int) { me { auditEvents(first: $f) { totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { id at action detail actor { username } subject { username email }
            court { code } } } } } }""",
        [{}, {"f": 2}],
    ),
]


async def test_lists_orders_filters_and_keys_are_equal_for_every_role(pair: Pair) -> None:
    for query, variable_sets in LISTS:
        for variables in variable_sets:
            for role in pair.tokens:
                for court in ENDPOINTS:
                    await pair.same(query, variables, role=role, court=court)


SHAPES = [
    # aliases, the same field twice, __typename at every level
    ("{ a: me { u: username __typename } b: me { username } __typename }", None),
    # fragments, nested, and an inline fragment with and without a type condition
    (
        """query { me { ...Who privileges { ...P } } }
        fragment Who on PacerAccount { id username ... on PacerAccount { firstName } ... { lastName } }
        fragment P on FilingPrivilege { role court { code ...C } }
        fragment C on Court { name isNextgen helpDesk { phone email url } }""",
        None,
    ),
    # fields merged under one key from several places
    ("{ me { firm { name } firm { accountNumber admins { username } } } }", None),
    # @skip and @include with variables, each way
    *[
        (
            """query($s: Boolean!, $i: Boolean!) { me { username @skip(if: $s) email @include(if: $i)
            privileges @include(if: $i) { role } } courts @skip(if: $i) { code } }""",
            {"s": s, "i": i},
        )
        for s in (True, False)
        for i in (True, False)
    ],
    # arguments from variables, defaults, and wrong variables (a request error)
    ("query($c: String!) { me { canFile(court: $c) } }", {"c": "mad"}),
    ("query($c: String!) { me { canFile(court: $c) } }", {"c": "nope"}),
    ("query($c: String!) { me { canFile(court: $c) } }", {"c": 5}),
    ("query($c: String!) { me { canFile(court: $c) } }", {}),
    # errors and null propagation: an unknown court in a non-null field; a clerk-only list
    ('{ me { username canFile(court: "zz9") } courts { code } }', None),
    ("{ cmecfAccounts(first: 1) { totalCount } }", None),
    ("{ registrations(first: 500) { totalCount } }", None),
    # several operations, chosen by name
    ("query A { me { username } } query B { courts { code } }", None),
]


@pytest.mark.parametrize("query,variables", SHAPES)
async def test_shapes_are_equal_for_every_role(
    pair: Pair, query: str, variables: dict[str, Any] | None
) -> None:
    extra = {"operationName": "B"} if "query A" in query else {}
    for role in pair.tokens:
        for court in ENDPOINTS:
            await pair.same(query, variables, role=role, court=court, **extra)


async def test_requests_the_compiler_does_not_take_are_the_references(pair: Pair) -> None:
    before = (pair.queries.answered, pair.queries.fell_back)
    await pair.same(
        "mutation { signOut { ok } }", role="anonymous"
    )  # never offered: the reference writes, once
    assert (pair.queries.answered, pair.queries.fell_back) == before
    for query in [
        "{ __schema { queryType { name } } }",  # introspection
        '{ me { username statement(quarter: "2026Q1") { quarter } } }',  # a field not in the table
    ]:
        before = pair.queries.fell_back
        await pair.same(query, role="anonymous")
        assert pair.queries.fell_back == before + 1, query


class _Runner:
    """A pair driven from synchronous hypothesis tests through one event loop."""

    def __init__(self, settings: Settings) -> None:
        self.runner = asyncio.Runner()
        self.context = serving_pair(settings)
        self.pair = self.runner.run(self.context.__aenter__())

    def same(self, query: str, role: str, court: str | None) -> None:
        self.runner.run(self.pair.same(query, role=role, court=court))

    def close(self) -> None:
        self.runner.run(self.context.__aexit__(None, None, None))
        self.runner.close()


@pytest.fixture
def runner(settings: Settings) -> Iterator[_Runner]:
    running = _Runner(settings)
    yield running
    running.close()


def test_generated_queries_are_equal_for_every_role(runner: _Runner) -> None:
    roles = list(runner.pair.tokens)

    @hsettings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        query=from_schema(SDL, fields=["me", "court", "courts", "cmecfAccounts", "registrations"]),
        role=st.sampled_from(roles),
        court=st.sampled_from(ENDPOINTS),
    )
    def check(query: str, role: str, court: str | None) -> None:
        runner.same(query, role, court)

    check()
    # The generator must reach the compiled path, not only the fallback.
    assert runner.pair.queries.answered > 50, (runner.pair.queries.answered, runner.pair.queries.fell_back)


async def test_the_caches_are_bounded(pair: Pair) -> None:
    from nextgen_gql.api.compiled import MAX_DOCUMENT_CHARS, MAX_PLANS_PER_DOCUMENT

    names = [f"v{i}" for i in range(6)]  # 64 sets of values
    query = (
        "query("
        + ", ".join(f"${n}: Boolean!" for n in names)
        + ") { me { "
        + " ".join(f"{n}: username @include(if: ${n})" for n in names)
        + " } }"
    )
    for mask in range(2 ** len(names)):
        variables = {n: bool(mask >> i & 1) for i, n in enumerate(names)}
        await pair.same(query, variables, role="filer")
    entry = pair.queries.entry(query, None)
    assert len(entry.plans) == MAX_PLANS_PER_DOCUMENT
    long_query = "{ me { username } }" + " " * MAX_DOCUMENT_CHARS
    before = pair.queries.fell_back
    await pair.same(long_query, role="filer")
    assert pair.queries.fell_back == before + 1


async def test_compiled_reads_see_only_committed_data(settings: Settings) -> None:
    """On SQLite the compiled path reads through a connection of its own: a read while another
    request's transaction is open neither waits for it nor sees its uncommitted rows."""
    from tortoise.transactions import in_transaction

    from nextgen_gql.enums import FilerRole, PrivilegeSource
    from nextgen_gql.models import FilingPrivilege, PacerAccount
    from nextgen_gql.services.clock import now

    async with running_api(settings.with_(compiled_check=False)) as api:
        token = await api.sign_in(*FILER, redactionAcknowledged=True)
        query = "{ me { privileges { court { code } } } }"
        before = (await api.data(query, token=token))["me"]["privileges"]
        james = await PacerAccount.get(username_key=FILER[0])
        async with in_transaction() as conn:
            await FilingPrivilege.create(
                account_id=james.id,
                court_id="ca1",
                role=FilerRole.ATTORNEY,
                source=PrivilegeSource.REGISTRATION,
                granted_at=now(),
                using_db=conn,
            )
            if databases.backend() == "sqlite":
                during = await asyncio.wait_for(api.data(query, token=token), timeout=5)
                assert during["me"]["privileges"] == before
        after = (await api.data(query, token=token))["me"]["privileges"]
        assert {p["court"]["code"] for p in after} == {p["court"]["code"] for p in before} | {"ca1"}
