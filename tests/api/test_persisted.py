"""Persisted documents: Apollo's automatic persisted queries, persisted ids (Relay's doc_id,
documentId), trusted documents and NEXTGEN_GQL_TRUSTED_DOCUMENTS=only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast

from nextgen_gql.api.persisted import DocumentStore, check_documents, read_documents
from nextgen_gql.api.schema import schema
from nextgen_gql.models import PersistedDocument
from nextgen_gql.settings import Settings
from nextgen_gql.web import OPERATIONS_BUNDLE
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, Api, running_api

GQL = "application/graphql-response+json"
QUERY = "query MyCourts { courts { code kind } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(digest: str, query: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, **extra}
    if query is not None:
        body["query"] = query
    return body


async def send(
    api: Api, body: dict[str, Any], *, accept: str = "application/json", **kw: Any
) -> httpx.Response:
    path = kw.pop("path", "/graphql")
    return await api.client.post(path, json=body, headers={"accept": accept, **kw})


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def register(tmp_path: Path, name: str, text: str) -> None:
    """What ``nextgen-gql operations add`` does (tests/test_cli.py runs the command itself)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    documents = read_documents(path)
    assert check_documents(documents, schema._schema, schema.service_rules, 3000) == []
    await DocumentStore(trusted_only=False, max_tokens=3000).add_trusted(documents)


async def test_automatic_persisted_queries_as_apollo_client_sends_them(api: Api) -> None:
    digest = sha(QUERY)
    unknown = await send(api, apq(digest))
    assert unknown.status_code == 200 and codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "data" not in unknown.json()
    strict = await send(api, apq(digest), accept=GQL)
    assert strict.status_code == 400 and codes(strict) == ["PERSISTED_QUERY_NOT_FOUND"]

    with_text = await send(api, apq(digest, QUERY))
    assert with_text.json() == {
        "data": {"courts": [{"code": "ca1", "kind": "APPELLATE"}, *with_text.json()["data"]["courts"][1:]]}
    }
    row = await PersistedDocument.get(key=digest)
    assert (row.document, row.trusted, row.source, row.operation_names) == (QUERY, False, "apq", "MyCourts")

    by_hash = await send(api, apq(digest))
    assert by_hash.json() == with_text.json()
    over_get = await api.client.get(
        "/graphql", params={"extensions": json.dumps(apq(digest)["extensions"])}, headers={"accept": GQL}
    )
    assert over_get.status_code == 200 and over_get.json() == with_text.json()


async def test_persisted_documents_are_shared_by_every_process(settings: Settings) -> None:
    """Another worker (another app over the same database) knows what the first one kept."""
    digest = sha(QUERY)
    async with running_api(settings) as first:
        assert (await send(first, apq(digest, QUERY))).status_code == 200
    async with running_api(settings) as second:
        found = await send(second, apq(digest))
        assert found.status_code == 200 and "errors" not in found.json()


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ({"version": 2, "sha256Hash": sha(QUERY)}, "version"),
        ({"version": 1, "sha256Hash": "abc"}, "sha256Hash"),
        ({"version": 1, "sha256Hash": sha(QUERY).upper()}, "sha256Hash"),
        ("not an object", "persistedQuery"),
    ],
)
async def test_a_malformed_persisted_query_extension_is_400(
    api: Api, extension: object, message: str
) -> None:
    response = await send(api, {"query": QUERY, "extensions": {"persistedQuery": extension}})
    assert response.status_code == 400 and codes(response) == ["BAD_REQUEST"]
    assert message in response.json()["errors"][0]["message"]


async def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_is_kept(api: Api) -> None:
    response = await send(api, apq(sha("{ __typename }"), QUERY))
    assert response.status_code == 400 and "not the SHA-256" in response.json()["errors"][0]["message"]
    assert not await PersistedDocument.filter(document=QUERY).exists()


async def test_an_invalid_document_is_never_kept(api: Api) -> None:
    bad = "{ noSuchField }"
    response = await send(api, apq(sha(bad), bad))
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert not await PersistedDocument.filter(key=sha(bad)).exists()


RELAY_QUERY = "query CourtName($short: Boolean!) { court { code name @skip(if: $short) } }"


@pytest.mark.parametrize("parameter", ["doc_id", "documentId", "id"])
async def test_a_registered_document_runs_by_its_id(api: Api, tmp_path: Path, parameter: str) -> None:
    await register(tmp_path, "relay.json", json.dumps({"5f3d0a0e1b2c4d6e8f90a1b2c3d4e5f6": RELAY_QUERY}))
    response = await send(
        api,
        {parameter: "5f3d0a0e1b2c4d6e8f90a1b2c3d4e5f6", "variables": {"short": False}},
        path="/courts/mad/graphql",
    )
    assert response.json() == {
        "data": {"court": {"code": "mad", "name": "U.S. District Court for the District of Massachusetts"}}
    }
    # The GraphQL-over-HTTP appendix names documents by "sha256:<hex>".
    spec = await send(
        api,
        {"documentId": f"sha256:{sha(RELAY_QUERY)}", "variables": {"short": True}},
        path="/courts/mab/graphql",
    )
    assert spec.json() == {"data": {"court": {"code": "mab"}}}
    missing = await send(api, {parameter: "0" * 32}, accept=GQL)
    assert missing.status_code == 400 and codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
    both = await send(api, {parameter: "5f3d0a0e1b2c4d6e8f90a1b2c3d4e5f6", "query": RELAY_QUERY})
    assert both.status_code == 400 and "not both" in both.json()["errors"][0]["message"]


async def test_the_reference_spa_runs_its_operations_by_id(api: Api) -> None:
    bundle = json.loads(OPERATIONS_BUNDLE.read_text())
    assert all(entry["id"] == f"sha256:{sha(entry['document'])}" for entry in bundle.values())
    token = await api.sign_in(*FILER)
    response = await send(api, {"documentId": bundle["Me"]["id"]}, authorization=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["data"]["me"]["username"] == "jmorgan2019"


@pytest.fixture
def trusted_only(settings: Settings) -> Settings:
    return settings.with_(trusted_documents="only")


async def test_trusted_documents_only(trusted_only: Settings, tmp_path: Path) -> None:
    async with running_api(trusted_only) as api:
        await register(tmp_path, "ops.graphql", f"{QUERY}\n\n{RELAY_QUERY}\n")
        # Not registered: refused before anything about the schema is said.
        for accept in (GQL, "application/json"):
            refused = await send(api, {"query": "{ me { username } }"}, accept=accept)
            assert refused.status_code == 400 and codes(refused) == ["PERSISTED_QUERY_REQUIRED"]
            assert "data" not in refused.json()
        typo = await send(api, {"query": "{ me { usernam } }"})
        assert codes(typo) == ["PERSISTED_QUERY_REQUIRED"] and "Did you mean" not in typo.text
        # Registered: by id, by hash, or as text (also printed another way, as pasted in GraphiQL).
        # (a .graphql file registers each operation printed canonically, under that text's hash)
        printed = sha(print_ast(parse(QUERY)))
        assert (await send(api, {"documentId": f"sha256:{printed}"})).json()["data"]["courts"]
        assert (await send(api, apq(printed))).json()["data"]["courts"]
        assert (await send(api, {"query": QUERY})).json()["data"]["courts"]
        spaced = "query   MyCourts {\n  courts {\n    code\n    kind\n  }\n}\n"
        assert (await send(api, {"query": spaced})).json()["data"]["courts"]
        # Automatic persisted queries keep nothing new.
        other = "query Other { courts { code } }"
        assert codes(await send(api, apq(sha(other)))) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert codes(await send(api, apq(sha(other), other))) == ["PERSISTED_QUERY_REQUIRED"]
        assert not await PersistedDocument.filter(key=sha(other)).exists()
        # GraphiQL keeps working: its page, and introspection (the schema explorer).
        page = await api.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        schema = await send(api, {"query": "query IntrospectionQuery { __schema { queryType { name } } }"})
        assert schema.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        # The reference SPA works: its operations are registered at start.
        bundle = json.loads(OPERATIONS_BUNDLE.read_text())
        signed = await send(
            api,
            {
                "documentId": bundle["SignIn"]["id"],
                "variables": {"input": {"username": CLERKS["mad"], "password": CLERK_PASSWORD}},
            },
        )
        assert signed.json()["data"]["signIn"]["errors"] == []
        me = await send(
            api, {"documentId": bundle["Me"]["id"]}, cookie=signed.headers["set-cookie"].split(";")[0]
        )
        assert me.json()["data"]["me"]["username"] == CLERKS["mad"]


async def test_trusted_documents_only_without_introspection_refuses_introspection(
    trusted_only: Settings,
) -> None:
    async with running_api(trusted_only.with_(introspection=False)) as api:
        response = await send(api, {"query": "{ __schema { queryType { name } } }"})
        assert codes(response) == ["PERSISTED_QUERY_REQUIRED"]


async def test_trusted_documents_are_planned_before_their_first_request(trusted_only: Settings) -> None:
    async with running_api(trusted_only) as api:
        bundle = json.loads(OPERATIONS_BUNDLE.read_text())
        compiled = api.app.state.compiled
        if compiled is None:
            pytest.skip("the compiled path is off")
        planned = {query for query, _ in compiled._entries}
        assert {entry["document"] for entry in bundle.values()} <= planned
