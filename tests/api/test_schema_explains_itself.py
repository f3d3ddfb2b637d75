"""A schema that explains itself (issue 20, item 7): by introspection over HTTP, as GraphiQL's
docs pane reads it, every type, field, argument, input field and enum value has a
description; ``RequestErrorCode`` lists every code a GraphQL error may carry, each
described; the service's error-making places take one of its values (read from the
source), and each value the service emits today is provoked here and seen in an answer."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, get_introspection_query

from nextgen_gql.api.request_errors import REQUEST_ERROR_CODES, RequestErrorCode
from nextgen_gql.errors import ErrorCode
from nextgen_gql.settings import Settings
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, REPO, Api, running_api

SRC = REPO / "src" / "nextgen_gql"


async def introspect(api: Api) -> dict[str, Any]:
    data = await api.data(get_introspection_query(descriptions=True, input_value_deprecation=True))
    schema: dict[str, Any] = data["__schema"]
    return schema


async def test_every_type_field_argument_input_field_and_enum_value_is_described(api: Api) -> None:
    schema = await introspect(api)
    missing = []
    for t in schema["types"]:
        if t["name"].startswith("__"):
            continue
        if not (t["description"] or "").strip():
            missing.append(t["name"])
        for f in t["fields"] or []:
            if not (f["description"] or "").strip():
                missing.append(f"{t['name']}.{f['name']}")
            missing += [
                f"{t['name']}.{f['name']}({a['name']}:)"
                for a in f["args"]
                if not (a["description"] or "").strip()
            ]
        missing += [
            f"{t['name']}.{f['name']}" for f in t["inputFields"] or [] if not (f["description"] or "").strip()
        ]
        missing += [
            f"{t['name']}.{v['name']}" for v in t["enumValues"] or [] if not (v["description"] or "").strip()
        ]
    assert missing == [], "describe these for GraphiQL's docs pane"


async def test_request_error_code_is_in_the_schema_each_value_described(api: Api) -> None:
    schema = await introspect(api)
    enum = next(t for t in schema["types"] if t["name"] == "RequestErrorCode")
    values = {v["name"]: v["description"] for v in enum["enumValues"]}
    assert list(values) == [code.value for code in RequestErrorCode]
    assert all(values[name] == REQUEST_ERROR_CODES[name] for name in values)
    contract_text = REPO.parent / "shared" / "contract.graphql"
    text = (
        contract_text.read_text()
        if contract_text.exists()
        else (REPO / "schema" / "contract.graphql").read_text()
    )
    contract = build_schema(text).type_map["RequestErrorCode"]
    assert set(contract.values) <= set(values)  # type: ignore[attr-defined]
    # The domain codes a query may raise as a GraphQL error (graphql_error) are values too.
    for code in (
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "INVALID_INPUT",
        "COURT_REQUIRED",
        "CASE_NUMBER_INVALID",
    ):
        assert ErrorCode[code].value in values


# ---------------------------------------------------------------- where errors are made

#: The calls that make a GraphQL error's code, and which argument is the code.
MAKERS = {"with_code": 1, "coded": 1, "RequestRefused": 2, "error_response": 2, "refuse": 3}


def emitted_in_source() -> tuple[set[str], list[str]]:
    """Every code the source passes where errors are made, and every place that passes
    anything but a ``RequestErrorCode`` member (or a variable holding one, in the maker itself)."""
    found: set[str] = set()
    loose: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "RequestErrorCode"
            ):
                found.add(node.attr)
            if isinstance(node, ast.Dict):  # extensions={"code": "..."} made by hand
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "code"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        loose.append(f"{path.relative_to(REPO)}:{node.lineno}: {{'code': {value.value!r}}}")
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in MAKERS or len(node.args) <= MAKERS[name]:
                continue
            argument = node.args[MAKERS[name]]
            for leaf in ast.walk(argument):
                if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                    loose.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}(..., {leaf.value!r})")
    return found - {"value", "name"}, loose


def test_every_place_that_makes_an_error_takes_a_request_error_code() -> None:
    found, loose = emitted_in_source()
    assert loose == [], "pass a RequestErrorCode member, never a string"
    assert found <= {code.name for code in RequestErrorCode}
    assert found >= {"PAYLOAD_TOO_LARGE", "INTERNAL_ERROR", "UNKNOWN_COURT", "BAD_REQUEST", "UNAUTHENTICATED"}


def test_graphql_error_takes_only_codes_the_schema_lists() -> None:
    """A DomainError raised on a query becomes a GraphQL error only with a RequestErrorCode."""
    from nextgen_gql.api.errors import graphql_error
    from nextgen_gql.errors import DomainError

    assert graphql_error(DomainError(ErrorCode.FORBIDDEN, "no")).extensions == {"code": "FORBIDDEN"}
    with pytest.raises(KeyError):
        graphql_error(DomainError(ErrorCode.LAST_ADMIN, "a mutation's code, not a request's"))


async def test_an_error_coded_outside_the_enum_never_leaves(settings: Settings) -> None:
    """The view's last word: a code that is no RequestErrorCode is masked as INTERNAL_ERROR."""
    from graphql import GraphQLError

    from nextgen_gql.api.view import error_code

    assert error_code(GraphQLError("x", extensions={"code": "SOMETHING_ELSE"})) is None
    assert error_code(GraphQLError("x", extensions={"code": "FORBIDDEN"})) is RequestErrorCode.FORBIDDEN


# ---------------------------------------------------------------- each code, seen in an answer

#: Values of the contract that this version does not emit yet (other issues serve them).
NOT_EMITTED_YET: set[str] = set()


async def provoke(api: Api, tokens: dict[str, str]) -> dict[str, httpx.Response]:
    """One request for each code the service emits today."""
    post = api.client.post
    clerk, filer = tokens["clerk"], tokens["filer"]
    return {
        "UNAUTHENTICATED": await api.post("{ cmecfAccounts { totalCount } }", court="mad"),
        "FORBIDDEN": await api.post("{ cmecfAccounts { totalCount } }", court="mad", token=filer),
        "NOT_FOUND": await api.post('{ me { canFile(court: "zz9") } }', token=filer),
        "INVALID_INPUT": await api.post(
            "{ cmecfAccounts(first: 500) { totalCount } }", court="mad", token=clerk
        ),
        "COURT_REQUIRED": await api.post("{ cmecfAccounts { totalCount } }", token=clerk),
        "UNKNOWN_COURT": await api.post("{ court { code } }", court="zzz"),
        "CASE_NUMBER_INVALID": await api.post(
            '{ me { canFile(court: "mad", caseNumber: "nope") } }', token=filer
        ),
        "BAD_REQUEST": await post("/graphql", content=b"[]", headers={"content-type": "application/json"}),
        "BAD_USER_INPUT": await api.post("query($c: String!) { me { canFile(court: $c) } }", {"c": 5}),
        "METHOD_NOT_ALLOWED": await api.client.put("/graphql", json={"query": "{ __typename }"}),
        "PAYLOAD_TOO_LARGE": await post("/graphql", json={"query": "{ __typename }" + " " * 70_000}),
        "GRAPHQL_PARSE_FAILED": await api.post("{ me {"),
        "GRAPHQL_VALIDATION_FAILED": await api.post("{ nothingHere }"),
        "QUERY_TOO_DEEP": await api.post("{ me { " + "firm { admins { " * 8 + "id" + " } }" * 8 + " } }"),
        "TOO_MANY_ALIASES": await api.post("{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"),
        "TOO_MANY_TOKENS": await api.post("{ " + "__typename " * 3100 + "}"),
        "TOO_MANY_FRAGMENT_SPREADS": await api.post(
            "{ ...F9 } fragment F0 on Query { courts { code } } "
            + " ".join(f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, 10))
        ),
        "TOO_MANY_REPEATED_FIELDS": await api.post("{ " + "me { id } " * 40 + "}"),
        "QUERY_TOO_COSTLY": await api.post(
            "{ me { firm { "
            + " ".join(
                f"m{i}: members(first: 100) {{ edges {{ node {{ sessions {{ id }} }} }} }}" for i in range(3)
            )
            + " } } }"
        ),
        "PERSISTED_QUERY_NOT_FOUND": await post("/graphql", json={"documentId": "sha256:" + "0" * 64}),
        "INTERNAL_ERROR": await internal_error(api),
        "COMPILED_MISMATCH": await compiled_mismatch(api, filer),
        "MFA_ENROLLMENT_REQUIRED": await restricted(api),
    }


async def overloaded(settings: Settings) -> httpx.Response:
    """One request held in flight with a limit of one: the next is shed."""
    import asyncio
    from unittest import mock

    release, entered = asyncio.Event(), asyncio.Event()

    async def slow(*args: Any, **kwargs: Any) -> None:
        entered.set()
        await release.wait()

    async with running_api(settings.with_(max_in_flight=1)) as api:
        with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=slow):
            held = asyncio.create_task(api.post('query { node(id: "UGFjZXJBY2NvdW50OjE") { id } }'))
            await asyncio.wait_for(entered.wait(), 10)
            shed = await api.post("{ courts { code } }")
            release.set()
            await held
    return shed


async def database_unavailable(settings: Settings) -> httpx.Response:
    """A signed-in query while every statement fails as a lost connection does."""
    from unittest import mock

    from tortoise import connections

    from tests.api.test_outages import lost

    async with running_api(settings) as api:
        token = await api.sign_in(*FILER, redactionAcknowledged=True)
        client = connections.get("default")
        with mock.patch.multiple(client, execute_query=lost, execute_query_dict=lost):
            return await api.post("{ me { username } }", token=token)


async def restricted(api: Api) -> httpx.Response:
    """A clerk (MFA is required of court staff) past the three sign-ins without an app."""
    for _ in range(3):
        await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)
    return await api.post("{ courts { code } }", token=await api.sign_in(CLERKS["mad"], CLERK_PASSWORD))


async def internal_error(api: Api) -> httpx.Response:
    from unittest import mock

    with mock.patch("nextgen_gql.services.nodes.visible_node", side_effect=RuntimeError("boom")):
        return await api.post('query { node(id: "UGFjZXJBY2NvdW50OjE") { id } }', token=None, headers={})


async def compiled_mismatch(api: Api, filer: str) -> httpx.Response:
    from unittest import mock

    from nextgen_gql.api.compiled import CompiledQueries

    async def wrong(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"me": {"username": "somebody else"}}

    with mock.patch.object(CompiledQueries, "execute", wrong):
        return await api.post("{ me { username } }", token=filer)


async def test_each_code_the_service_emits_is_seen_in_an_answer_and_is_a_value(settings: Settings) -> None:
    async with running_api(settings) as api:
        tokens = {
            "clerk": await api.sign_in(CLERKS["mad"], CLERK_PASSWORD),
            "filer": await api.sign_in(*FILER, redactionAcknowledged=True),
        }
        answers = await provoke(api, tokens)
    async with running_api(settings.with_(introspection=False)) as closed:
        answers["INTROSPECTION_DISABLED"] = await closed.post("{ __schema { queryType { name } } }")
    async with running_api(settings.with_(trusted_documents="only")) as strict:
        answers["PERSISTED_QUERY_REQUIRED"] = await strict.post("{ courts { code } }")
    async with running_api(settings.with_(rate_limit_points=5)) as poor:  # an address: 1 point an hour
        await poor.post("{ courts { code } }")
        answers["RATE_LIMITED"] = await poor.post("{ courts { code } }")
    answers["OVERLOADED"] = await overloaded(settings)
    answers["DATABASE_UNAVAILABLE"] = await database_unavailable(settings)
    assert set(answers) | NOT_EMITTED_YET == {code.value for code in RequestErrorCode}
    for code, response in answers.items():
        seen = [e["extensions"]["code"] for e in response.json().get("errors", [])]
        assert code in seen, (code, response.status_code, response.text[:300])
        assert set(seen) <= {c.value for c in RequestErrorCode}
    # Where HTTP says so too.
    assert answers["UNKNOWN_COURT"].status_code == 404
    assert answers["PAYLOAD_TOO_LARGE"].status_code == 413
    assert answers["METHOD_NOT_ALLOWED"].status_code == 405
    assert answers["COMPILED_MISMATCH"].status_code == 500
    assert answers["OVERLOADED"].status_code == 503 and answers["OVERLOADED"].headers["retry-after"] == "1"
    assert answers["RATE_LIMITED"].status_code == 429 and "retry-after" in answers["RATE_LIMITED"].headers


def test_the_exported_sdl_holds_request_error_code() -> None:
    sdl = (REPO / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert "enum RequestErrorCode {" in sdl
    assert (
        Path(REPO / "schema" / "schema.graphql").read_text().count('"""') > 400
    )  # descriptions travel with it
