"""Query cost before execution (``api.cost``, ``NEXTGEN_GQL_MAX_NODES``), over HTTP."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    OperationDefinitionNode,
    get_named_type,
    is_leaf_type,
    parse,
)

from nextgen_gql.api.cost import cost_function, list_bound
from nextgen_gql.api.persisted import read_bundle
from nextgen_gql.api.schema import schema
from nextgen_gql.settings import Settings
from nextgen_gql.web import OPERATIONS_BUNDLE
from tests.conftest import CLERK_PASSWORD, CLERKS, REPO, Api, running_api

ROSTER = "query($n: Int) { cmecfAccounts(first: $n) { edges { node { login } } } }"


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def clerk(api: Api) -> str:
    return await api.sign_in(CLERKS["mad"], CLERK_PASSWORD)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "reference"])
async def test_an_operation_just_under_the_limit_runs_and_just_over_does_not(
    settings: Settings, compiled: bool
) -> None:
    async with running_api(settings.with_(max_nodes=5, compiled=compiled, compiled_check=compiled)) as api:
        token = await clerk(api)  # signIn's errors count 5 (an estimate): just at the limit
        under = await api.gql(ROSTER, {"n": 5}, court="mad", token=token)
        assert "errors" not in under and len(under["data"]["cmecfAccounts"]["edges"]) == 5
        over = (await api.post(ROSTER, {"n": 6}, court="mad", token=token)).json()
        assert "data" not in over and codes(over) == ["QUERY_TOO_COSTLY"]
        message = over["errors"][0]["message"]
        assert "up to 6 nodes" in message and "limit of 5" in message
        # The default page (50) without first.
        default = (
            await api.post("{ cmecfAccounts { edges { node { id } } } }", court="mad", token=token)
        ).json()
        assert codes(default) == ["QUERY_TOO_COSTLY"] and "up to 50 nodes" in default["errors"][0]["message"]


async def test_courts_are_counted_as_served_now(settings: Settings) -> None:
    async with running_api(settings) as api:
        courts = len((await api.data("{ courts { code } }"))["courts"])
    query = "{ a: courts { code } b: courts { name } }"
    async with running_api(settings.with_(max_nodes=2 * courts)) as api:
        assert len((await api.data(query))["a"]) == courts
    async with running_api(settings.with_(max_nodes=2 * courts - 1)) as api:
        body = (await api.post(query)).json()
        assert (
            codes(body) == ["QUERY_TOO_COSTLY"]
            and f"up to {2 * courts} nodes" in body["errors"][0]["message"]
        )
        # Fragments asking for the same field do not count it twice.
        merged = (
            "{ ...A ...B } fragment A on Query { courts { code } } fragment B on Query { courts { name } }"
        )
        assert len((await api.data(merged))["courts"]) == courts


async def test_bad_page_sizes_are_input_errors_not_500s(settings: Settings) -> None:
    async with running_api(settings) as api:
        token = await clerk(api)
        for n in (-5, 0, 101):
            body = await api.gql(ROSTER, {"n": n}, court="mad", token=token)
            assert codes(body) == ["INVALID_INPUT"], body
        huge = (await api.post(ROSTER, {"n": 10**12}, court="mad", token=token)).json()
        assert codes(huge) == ["BAD_USER_INPUT"]
        literal = (
            await api.post(
                "{ cmecfAccounts(first: 99999999999) { edges { cursor } } }", court="mad", token=token
            )
        ).json()
        assert codes(literal) == ["GRAPHQL_VALIDATION_FAILED"]
        text = (await api.post(ROSTER, {"n": "lots"}, court="mad", token=token)).json()
        assert codes(text) == ["BAD_USER_INPUT"]


async def test_a_subscription_is_costed_too(settings: Settings) -> None:
    async with running_api(settings.with_(max_nodes=1)) as api:
        response = await api.client.post(
            "/graphql",
            json={"query": "subscription { myEvents { invitation { firm { admins { id } } } } }"},
            headers={"accept": "text/event-stream"},
        )
        assert "QUERY_TOO_COSTLY" in response.text and "up to 10 nodes" in response.text


def _examples() -> list[tuple[str, int]]:
    text = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    table = text.split("<!-- cost examples: operation | node count -->", 1)[1].split(
        "<!-- end of cost examples -->"
    )[0]
    rows = re.findall(r"^\| `(.+)` \| (\d+) \|$", table, re.MULTILINE)
    assert len(rows) >= 6
    return [(query, int(n)) for query, n in rows]


async def test_the_worked_examples_in_security_md(settings: Settings) -> None:
    """Each example is sent with a limit of 1: refused with its count in the message (or, at
    0 or 1 node, run)."""
    async with running_api(settings.with_(max_nodes=1)) as api:
        for query, expected in _examples():
            body = (await api.post(query)).json()
            if expected <= 1:
                assert "QUERY_TOO_COSTLY" not in codes(body), (query, body)
                continue
            assert codes(body) == ["QUERY_TOO_COSTLY"], (query, body)
            found = re.search(r"up to (\d+) nodes", body["errors"][0]["message"])
            assert found is not None and int(found.group(1)) == expected, (query, body)


class _Worst(dict[str, Any]):
    """Variables at their most costly: every one 100 (the clamp of first and last)."""

    def get(self, key: str, default: Any = None) -> Any:
        return 100


def test_every_shipped_operation_is_under_the_default_limit() -> None:
    documents = [(p.name, p.read_text()) for p in sorted((REPO / "schema" / "operations").glob("*.graphql"))]
    documents += [(d.source, d.text) for d in read_bundle(OPERATIONS_BUNDLE)]
    assert len(documents) > 10
    limit = Settings().max_nodes
    for name, text in documents:
        document = parse(text)
        for operation in document.definitions:
            if isinstance(operation, OperationDefinitionNode):
                count = cost_function(schema._schema, document, operation).evaluate(_Worst(), 200)
                assert count <= limit, (name, operation.name, count)


def test_every_list_of_objects_has_a_bound() -> None:
    """A new list field fails here until it is given a bound in api.cost.LIST_BOUNDS (a
    connection's edges take first/last instead)."""
    missing = []
    for type_ in schema._schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        for name, field in type_.fields.items():
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if not isinstance(inner, GraphQLList) or is_leaf_type(get_named_type(inner)):
                continue
            if type_.name.endswith("Connection") and name == "edges":
                continue
            if list_bound(type_.name, name) is None:
                missing.append(f"{type_.name}.{name}")
    assert missing == []


def test_the_docs_name_the_setting() -> None:
    reference = (REPO / "docs" / "reference.md").read_text(encoding="utf-8")
    assert "`NEXTGEN_GQL_MAX_NODES` | `5000`" in reference
    assert Path(REPO / "docs" / "security.md").read_text(encoding="utf-8").count("QUERY_TOO_COSTLY") >= 2


@pytest.mark.parametrize(
    ("weeks", "variables", "expected"),
    [
        ("", {}, 26),
        ("(weeks: 10)", {}, 10),
        ("(weeks: $w)", {"w": 400}, 400),
        ("(weeks: $w)", {"w": 9999}, 520),
    ],
)
def test_a_list_bounded_by_an_argument_reads_it(weeks: str, variables: dict[str, Any], expected: int) -> None:
    """LinkingProgress.weekly holds `weeks` items (26 when absent, never more than 520); its
    byRole one per filer role."""
    declared = "($w: Int)" if "$w" in weeks else ""
    text = f"query{declared} {{ court {{ linkingProgress {{ byRole {{ role }} weekly{weeks} {{ weekStart }} }} }} }}"
    document = parse(text)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    roles = len(schema._schema.type_map["FilerRole"].values)  # type: ignore[attr-defined]
    assert cost_function(schema._schema, document, operation).evaluate(variables, 3) == expected + roles


def _bomb(levels: int, nested: bool) -> str:
    """F1..Fn, each spreading the one before twice: at one level, or under two aliased lists."""
    if nested:
        parts = ["fragment F1 on Firm { admins { id } }"]
        parts += [
            f"fragment F{n} on Firm {{ a: admins {{ firm {{ ...F{n - 1} }} }} b: admins {{ firm {{ ...F{n - 1} }} }} }}"
            for n in range(2, levels + 1)
        ]
        return f"query {{ me {{ firm {{ ...F{levels} }} }} }} " + " ".join(parts)
    parts = ["fragment F1 on Query { courts { code } me { id } }"]
    parts += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(2, levels + 1)]
    return f"query {{ ...F{levels} }} " + " ".join(parts)


@pytest.mark.parametrize("nested", [False, True], ids=["one-level", "nested"])
def test_a_fragment_bomb_is_costed_in_a_bounded_number_of_steps(nested: bool) -> None:
    from nextgen_gql.api.cost import _Builder

    document = parse(_bomb(20, nested))
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    root = schema._schema.query_type
    builder = _Builder(schema._schema, document, operation)
    tree = builder.selection(root, [operation.selection_set])
    # Without a per-fragment memo this walks 2**20 selection sets; with it, a few per fragment.
    assert builder.visits <= 10 * 20, builder.visits
    count = tree.evaluate({}, 200)
    if nested:
        # me: one object, firm: one object; each level: two aliased admin lists of 10, each
        # admin's firm holding the level below; the last level a list of 10 admins.
        expected = 10
        for _ in range(19):
            expected = 2 * (10 + 10 * expected)
        assert count == expected
    else:
        assert count == 200  # the courts, once: the spreads merge into the same fields


async def test_a_fragment_bomb_is_refused_as_too_costly_not_a_hang(settings: Settings) -> None:
    async with running_api(settings) as api:
        body = (await api.post(_bomb(5, nested=True))).json()  # 5 levels: within the depth limit
        assert "data" not in body and codes(body) == ["QUERY_TOO_COSTLY"]
        # 20 levels reach a million spreads: refused by their count (``api.limits``), 5 run.
        bomb = (await api.post(_bomb(20, nested=False))).json()
        assert "data" not in bomb and codes(bomb) == ["TOO_MANY_FRAGMENT_SPREADS"]
        fine = (await api.post(_bomb(5, nested=False))).json()
        assert "errors" not in fine and fine["data"]["me"] is None and len(fine["data"]["courts"]) > 0
