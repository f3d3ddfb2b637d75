"""No schema through errors when introspection is off: a probe as clairvoyance makes one.

Clairvoyance rebuilds a hidden schema from error messages: "Did you mean 'username'?" after a
misspelled field, argument, input field or enum value, and "argument 'input' ... was not
provided" after a missing one. The probe below sends, for every type of the schema,
misspelled fields, misspelled arguments, fields without their required arguments, input
objects with misspelled fields and misspelled enum values (as literals in the document), and
for every root field its input objects and enums as variables. With introspection off no
answer names a field, argument, input field or enum value the probe did not write itself
(type names may appear); with it on, the same probe finds many (so the test can fail).
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

from nextgen_gql.api.schema import build_schema
from nextgen_gql.settings import Settings
from tests.conftest import Api, running_api


def typo(name: str) -> str:
    """A near miss that graphql-core would answer with the name as a suggestion."""
    return name[:-1] + ("q" if name[-1] != "q" else "z")


def _user_types(schema: GraphQLSchema) -> list[Any]:
    return [t for name, t in schema.type_map.items() if not name.startswith("__")]


def schema_names(schema: GraphQLSchema) -> tuple[set[str], set[str]]:
    """(field, argument, input field and enum value names; type names)."""
    members: set[str] = set()
    types: set[str] = set()
    for t in _user_types(schema):
        types.add(t.name)
        if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
            for fname, field in t.fields.items():
                members.add(fname)
                members.update(field.args)
        elif isinstance(t, GraphQLInputObjectType):
            members.update(t.fields)
        elif isinstance(t, GraphQLEnumType):
            members.update(t.values)
    return members - types, types


def _selection(field: GraphQLField) -> str:
    return "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"


def _bad_literal(arg: GraphQLArgument) -> str:
    named = get_named_type(arg.type)
    if isinstance(named, GraphQLInputObjectType):
        return "{ " + typo(next(iter(named.fields))) + ": 1 }"
    if isinstance(named, GraphQLEnumType):
        return typo(next(iter(named.values)))
    return "1"


def literal_probes(schema: GraphQLSchema) -> list[str]:
    """Documents of unused fragments: every rule still runs on each of them."""
    documents = []
    for t in _user_types(schema):
        if not isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        fields = " ".join(typo(name) for name in t.fields if len(name) > 2)
        documents.append(f"query {{ __typename }} fragment Fields on {t.name} {{ {fields} }}")
        for fname, field in t.fields.items():
            if not field.args:
                continue
            sel = _selection(field)
            fragments = [
                # a misspelled argument; a field without its (required) arguments
                f"fragment A on {t.name} {{ {fname}(zzz{typo(next(iter(field.args)))}: 1){sel} }}",
                f"fragment B on {t.name} {{ {fname}{sel} }}",
            ]
            for i, (aname, arg) in enumerate(field.args.items()):
                fragments.append(
                    f"fragment C{i} on {t.name} {{ {fname}({aname}: {_bad_literal(arg)}){sel} }}"
                )
            documents.append("query { __typename } " + " ".join(fragments))
    return documents


def _bad_value(arg: GraphQLArgument) -> object:
    named = get_named_type(arg.type)
    if isinstance(named, GraphQLInputObjectType):
        return {typo(name): 1 for name in named.fields}
    if isinstance(named, GraphQLEnumType):
        return typo(next(iter(named.values)))
    return None


def variable_probes(schema: GraphQLSchema) -> list[tuple[str, dict[str, object]]]:
    """Every root field with input objects or enums among its arguments, all its arguments
    as variables: the bad ones misspelled, the others null (each an error of its own)."""
    probes = []
    for keyword, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for fname, field in root.fields.items():
            bad = {a: _bad_value(arg) for a, arg in field.args.items()}
            if all(v is None for v in bad.values()):
                continue
            declared = ", ".join(f"$v{i}: {arg.type}" for i, arg in enumerate(field.args.values()))
            passed = ", ".join(f"{a}: $v{i}" for i, a in enumerate(field.args))
            query = f"{keyword}({declared}) {{ {fname}({passed}){_selection(field)} }}"
            probes.append((query, {f"v{i}": v for i, v in enumerate(bad.values())}))
    return probes


async def probe(api: Api, schema: GraphQLSchema) -> tuple[set[str], int]:
    """The schema member names the answers tell that the probe did not write, and how many
    errors the probe got."""
    members, _ = schema_names(schema)
    leaked: set[str] = set()
    errors = 0
    requests = [(q, {}) for q in literal_probes(schema)] + variable_probes(schema)
    for query, variables in requests:
        response = await api.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code in (200, 400), response.text
        body = response.json()
        assert "data" not in body or body["data"] is None, (query, body)
        written = set(re.findall(r"\w+", query + " " + repr(variables)))
        for error in body["errors"]:
            assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"), error
            errors += 1
            for quoted in re.findall(r"'([^']*)'", error["message"]):
                leaked.update(name for name in re.findall(r"\w+", quoted) if name in members - written)
            if "Did you mean" in error["message"]:
                leaked.add("(a suggestion)")
    return leaked, errors


async def test_a_clairvoyance_probe_finds_no_names_with_introspection_off(settings: Settings) -> None:
    schema = build_schema(settings)._schema
    async with running_api(settings.with_(introspection=False)) as api:
        leaked, errors = await probe(api, schema)
    assert errors > 300  # the probe ran: every misspelling was answered with an error
    assert leaked == set()


async def test_the_same_probe_reads_the_schema_with_introspection_on(api: Api) -> None:
    schema = build_schema(api.settings)._schema
    leaked, _ = await probe(api, schema)
    assert "(a suggestion)" in leaked
    assert {"username", "password", "accountNumber"} <= leaked


async def test_with_introspection_off_errors_still_say_what_the_client_wrote(settings: Settings) -> None:
    async with running_api(settings.with_(introspection=False)) as api:
        body = (await api.post("{ courts { cde } }")).json()
        assert body["errors"][0]["message"] == "Cannot query field 'cde' on type 'Court'."
        missing = (await api.post("mutation { signIn { token } }")).json()["errors"]
        assert [e["message"] for e in missing] == [
            "A required argument or input field is missing "
            "(the schema's details are not told while introspection is off)."
        ]
        assert missing[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
