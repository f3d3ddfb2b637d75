"""GraphQL over HTTP as its specification says: media types, methods, parameters, status codes.

The audit suite of the specification's authors (npm graphql-http) runs against the real
server in tests/test_clients.py; these are the same rules, checked in-process and named.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import FILER, Api

GQL = "application/graphql-response+json"
TYPENAME = {"query": "{ __typename }"}


async def post(
    api: Api, body: object, *, accept: str | None = None, path: str = "/graphql", **headers: str
) -> httpx.Response:
    sent = {"content-type": "application/json", **headers}
    if accept is not None:
        sent["accept"] = accept
    return await api.client.post(path, content=json.dumps(body).encode(), headers=sent)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


@pytest.mark.parametrize("path", ["/graphql", "/courts/mad/graphql"])
@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (GQL, GQL),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
        (f"application/json, {GQL}", GQL),
        (f"{GQL};q=0.5, application/json", "application/json"),
    ],
)
async def test_the_answer_is_in_the_media_type_the_client_accepts(
    api: Api, path: str, accept: str | None, media_type: str
) -> None:
    response = await post(api, TYPENAME, accept=accept, path=path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_media_type_that_cannot_be_served_is_406(api: Api) -> None:
    response = await post(api, TYPENAME, accept="application/xml")
    assert response.status_code == 406
    assert codes(response) == ["BAD_REQUEST"] and "application/xml" in response.json()["errors"][0]["message"]
    assert "data" not in response.json()


@pytest.mark.parametrize(
    ("accept", "status"), [(GQL, 400), ("application/json", 200)], ids=["graphql-response+json", "json"]
)
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}}, "BAD_USER_INPUT"),
        ({"query": "query A { __typename } query B { __typename }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "{ __typename }", "operationName": "Nope"}, "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=["parse", "validation", "variables", "no-operation-name", "unknown-operation"],
)
async def test_a_request_error_has_no_data_and_the_status_of_its_media_type(
    api: Api, accept: str, status: int, body: dict[str, Any], code: str
) -> None:
    response = await post(api, body, accept=accept)
    assert response.status_code == status, response.text
    assert "data" not in response.json()
    assert codes(response) == [code]


async def test_a_field_error_is_200_with_data_under_either_media_type(api: Api) -> None:
    query = "{ cmecfAccounts(first: 1) { totalCount } }"  # a court's list, on the national endpoint
    for accept in (GQL, "application/json"):
        response = await post(api, {"query": query}, accept=accept)
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None and body["errors"][0]["path"] == ["cmecfAccounts"]
        assert body["errors"][0]["extensions"]["code"] == "COURT_REQUIRED"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"query": {"obj": "ect"}}, "query"),
        ({"query": 0}, "query"),
        ({"query": False}, "query"),
        ({"query": ["array"]}, "query"),
        ({"query": "{ __typename }", "operationName": {"obj": "ect"}}, "operationName"),
        ({"query": "{ __typename }", "operationName": 0}, "operationName"),
        ({"query": "{ __typename }", "variables": "string"}, "variables"),
        ({"query": "{ __typename }", "variables": ["array"]}, "variables"),
        ({"query": "{ __typename }", "extensions": "string"}, "extensions"),
        ({"query": "{ __typename }", "extensions": 0}, "extensions"),
        ({"qeury": "{ __typename }"}, "query"),
        ([{"query": "{ __typename }"}], "Batched"),
        ("just a string", "JSON object"),
    ],
)
async def test_malformed_parameters_are_400_naming_the_parameter(api: Api, body: object, names: str) -> None:
    for accept in (GQL, "application/json"):
        response = await post(api, body, accept=accept)
        assert response.status_code == 400, response.text
        assert codes(response) == ["BAD_REQUEST"]
        assert names in response.json()["errors"][0]["message"]
        assert "data" not in response.json()


@pytest.mark.parametrize("parameter", ["variables", "operationName", "extensions"])
async def test_null_parameters_are_allowed(api: Api, parameter: str) -> None:
    response = await post(api, {**TYPENAME, parameter: None}, accept=GQL)
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


async def test_bodies_that_are_not_json_are_400_and_types_that_are_not_json_are_415(api: Api) -> None:
    broken = await api.client.post(
        "/graphql", content=b'{ "not a JSON', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and codes(broken) == ["BAD_REQUEST"]
    assert "not valid JSON" in broken.json()["errors"][0]["message"]
    empty = await api.client.post("/graphql", content=b"", headers={"content-type": "application/json"})
    assert empty.status_code == 400 and "empty" in empty.json()["errors"][0]["message"]
    none = await api.client.post("/graphql", content=json.dumps(TYPENAME).encode())
    assert none.status_code == 415 and codes(none) == ["BAD_REQUEST"]
    for content_type in ("text/plain", "application/graphql", "application/x-www-form-urlencoded"):
        other = await api.client.post(
            "/graphql", content=b"{ __typename }", headers={"content-type": content_type}
        )
        assert other.status_code == 415, content_type
        assert other.headers["accept-post"] == "application/json"
    latin = await api.client.post(
        "/graphql",
        content=json.dumps(TYPENAME).encode(),
        headers={"content-type": "application/json; charset=latin-1"},
    )
    assert latin.status_code == 415 and "charset" in latin.json()["errors"][0]["message"]
    utf8 = await api.client.post(
        "/graphql",
        content=json.dumps({"query": '{ __type(name: "Run🏃Swim🏊") { name } }'}).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert utf8.status_code == 200 and utf8.json() == {"data": {"__type": None}}


async def test_get_runs_queries_with_parameters_in_the_url(api: Api) -> None:
    response = await api.client.get(
        "/courts/mad/graphql",
        params={
            "query": "query Q($n: Boolean!) { court { code name @skip(if: $n) } }",
            "variables": '{"n": true}',
        },
        headers={"accept": GQL},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"court": {"code": "mad"}}}
    assert response.headers["content-type"].startswith(GQL)


async def test_get_refuses_mutations_with_405_and_runs_nothing(api: Api) -> None:
    mutation = 'mutation { requestPasswordReset(input: {usernameOrEmail: "jmorgan2019"}) { ok } }'
    for accept in (GQL, "application/json"):
        response = await api.client.get("/graphql", params={"query": mutation}, headers={"accept": accept})
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert codes(response) == ["METHOD_NOT_ALLOWED"] and "data" not in response.json()
    assert api.mails() == []  # nothing ran: no reset was mailed
    posted = await post(api, {"query": mutation})
    assert posted.status_code == 200 and len(api.mails()) == 1


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"query": "{ __typename }", "variables": "{not json"}, "variables"),
        ({"query": "{ __typename }", "variables": "[1]"}, "variables"),
        ({"query": "{ __typename }", "extensions": "7"}, "extensions"),
    ],
)
async def test_get_parameters_that_are_not_json_objects_are_400(
    api: Api, params: dict[str, str], names: str
) -> None:
    response = await api.client.get("/graphql", params=params, headers={"accept": GQL})
    assert response.status_code == 400 and codes(response) == ["BAD_REQUEST"]
    assert names in response.json()["errors"][0]["message"]


async def test_get_with_a_parameter_twice_is_400(api: Api) -> None:
    response = await api.client.get("/graphql?query=%7B__typename%7D&query=%7B__typename%7D")
    assert response.status_code == 400 and "more than once" in response.json()["errors"][0]["message"]


async def test_other_methods_are_405_with_allow(api: Api) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await api.client.request(method, "/graphql", json=TYPENAME)
        assert response.status_code == 405, method
        assert response.headers["allow"] == "GET, POST"
        assert codes(response) == ["METHOD_NOT_ALLOWED"]


async def test_refusals_before_the_view_follow_the_accepted_media_type(api: Api) -> None:
    unknown = await post(api, TYPENAME, accept=GQL, path="/courts/zzz/graphql")
    assert unknown.status_code == 404 and codes(unknown) == ["UNKNOWN_COURT"]
    assert unknown.headers["content-type"].startswith(GQL) and "data" not in unknown.json()


async def test_a_browser_navigating_to_the_endpoint_gets_graphiql(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # A GET that carries a query is a GraphQL request, whatever the browser accepts.
    query = await api.client.get("/graphql", params=TYPENAME, headers={"accept": "text/html,*/*;q=0.8"})
    assert query.json() == {"data": {"__typename": "Query"}}


async def test_signed_in_answers_are_never_stored(api: Api) -> None:
    token = await api.sign_in(*FILER)
    response = await api.client.get(
        "/graphql", params={"query": "{ me { username } }"}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.json() == {"data": {"me": {"username": "jmorgan2019"}}}
    assert response.headers["cache-control"] == "private, no-store" and "etag" not in response.headers
    posted = await api.post("{ me { username } }", token=token)
    assert posted.headers["cache-control"] == "private, no-store"


async def test_public_get_answers_carry_an_etag_and_may_be_cached(api: Api) -> None:
    query = {"query": "{ courts { code name isNextgen } }"}
    first = await api.client.get("/graphql", params=query)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    assert "X-Court" in first.headers["vary"]
    again = await api.client.get("/graphql", params=query, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # Each court's answer is its own.
    mad = await api.client.get("/courts/mad/graphql", params={"query": "{ court { code } }"})
    mab = await api.client.get("/courts/mab/graphql", params={"query": "{ court { code } }"})
    assert mad.headers["etag"] != mab.headers["etag"]
    # Anything else, or the same over POST, is not stored.
    private = await api.client.get("/graphql", params={"query": "{ me { username } }"})
    assert private.headers["cache-control"] == "no-store" and "etag" not in private.headers
    posted = await api.client.post("/graphql", json=query)
    assert posted.headers["cache-control"] == "no-store" and "etag" not in posted.headers


async def test_each_representation_has_its_own_etag(api: Api) -> None:
    query = {"query": "{ courts { code } }"}
    json_answer = await api.client.get("/graphql", params=query, headers={"accept": "application/json"})
    gql_answer = await api.client.get("/graphql", params=query, headers={"accept": GQL})
    assert json_answer.content == gql_answer.content
    assert json_answer.headers["etag"] != gql_answer.headers["etag"]
    assert "Accept" in gql_answer.headers["vary"]
