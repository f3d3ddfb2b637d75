"""Query bombs, malformed requests and unexpected failures: refused or masked, never a 5xx page."""

from __future__ import annotations

import logging

import pytest

from nextgen_gql.settings import Settings
from tests.conftest import FILER, STARTUP, Api, running_api


def codes(body: dict[str, object]) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]  # type: ignore[attr-defined, index]


async def test_a_deep_query_is_refused_before_execution(api: Api) -> None:
    inner = "id"
    for _ in range(8):
        inner = f"privileges {{ account {{ {inner} }} }}"
    body = await api.gql(f"{{ me {{ {inner} }} }}")
    assert "data" not in body and codes(body) == ["QUERY_TOO_DEEP"]
    assert "depth" in body["errors"][0]["message"]


async def test_too_many_aliases(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: courts {{ code }}" for i in range(31)) + " }"
    body = await api.gql(query)
    assert "data" not in body and codes(body) == ["TOO_MANY_ALIASES"]
    fine = "{ " + " ".join(f"a{i}: court {{ code }}" for i in range(30)) + " }"
    assert "errors" not in await api.gql(fine)


async def test_too_many_tokens(api: Api) -> None:
    query = "{ " + " ".join("__typename" for _ in range(4000)) + " }"
    body = await api.gql(query)
    assert codes(body) == ["TOO_MANY_TOKENS"]


async def test_a_body_over_the_limit_is_413_and_graphql_shaped(api: Api) -> None:
    huge = "x" * (api.settings.max_body_bytes + 1)
    response = await api.post("query($u: String!) { me { id } }", {"u": huge})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_streamed_body_over_the_limit_is_413(api: Api) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"query": "{ courts { code } }", "variables": {"x": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'"}}'

    response = await api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_page_size_is_capped(api: Api) -> None:
    token = await api.sign_in("madclerk01", "Court-Docket-Review-2026!")
    body = await api.gql("{ cmecfAccounts(first: 1000) { totalCount } }", court="mad", token=token)
    assert codes(body) == ["INVALID_INPUT"] and "between 1 and 100" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2", "application/json"),
        (b"", "application/json"),
        (b"\x80", "application/json"),  # not UTF-8: was a 500 (found by the fuzzer)
        (b"null", "application/json"),  # not an object: was a 500 (found by the fuzzer)
        (b'"{ courts { code } }"', "application/json"),
        (b"12345678901234567890123", "application/json"),
    ],
)
async def test_malformed_json_is_a_clear_400(api: Api, content: bytes, content_type: str) -> None:
    response = await api.client.post("/graphql", content=content, headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_wrong_variable_types_and_syntax_errors_have_codes(api: Api) -> None:
    body = await api.gql("query($n: Int) { cmecfAccounts(first: $n) { totalCount } }", {"n": "ten"})
    assert codes(body) == ["BAD_USER_INPUT"]
    body = await api.gql("{ courts { code ")
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    body = await api.gql("{ nosuchfield }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.mark.parametrize(
    "username",
    ["ünïcödé-üser", "\u202eevil", "名前テスト", "😀" * 50, "x" * 20000, "' OR 1=1 --", "tab\there"],
)
async def test_odd_input_is_just_input(api: Api, username: str) -> None:
    data = await api.data(
        "mutation($u: String!) { signIn(input: {username: $u, password: $u}) { token errors { code } } }",
        {"u": username},
    )
    assert data["signIn"] == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}


async def test_an_unexpected_exception_is_masked_logged_and_traceable(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from nextgen_gql.services import roster, rows

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError('SELECT secret FROM "cmecf_accounts" at /srv/nextgen/services/roster.py')

    # The roster's read on both paths: the compiled one hands the failure to the reference
    # executor, which masks it.
    monkeypatch.setattr(roster, "list_cmecf_accounts", broken)
    monkeypatch.setattr(rows, "cmecf_page", broken)
    token = await api.sign_in("madclerk01", "Court-Docket-Review-2026!")
    with caplog.at_level(logging.ERROR, logger="nextgen_gql.errors"):
        response = await api.post("{ cmecfAccounts { totalCount } }", court="mad", token=token)
    assert response.status_code == 200
    error = response.json()["errors"][0]
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": request_id}
    assert (
        "secret" not in response.text
        and "roster.py" not in response.text
        and "Traceback" not in response.text
    )
    assert request_id in caplog.text and "SELECT secret" in caplog.text


async def test_introspection_can_be_turned_off(settings: Settings) -> None:
    async with running_api(settings) as api:
        assert "errors" not in await api.gql("{ __schema { queryType { name } } }")
    async with running_api(settings.with_(introspection=False)) as api:
        body = await api.gql("{ __schema { queryType { name } } }")
        assert "data" not in body and set(codes(body)) == {"INTROSPECTION_DISABLED"}
        assert "errors" not in await api.gql("{ courts { code } }")


async def test_security_headers_on_every_response(api: Api) -> None:
    responses = [
        await api.post("{ courts { code } }"),
        await api.post("{ court { code } }", court="nope"),
        await api.client.get("/healthz"),
        await api.client.get("/graphql", headers={"accept": "text/html"}),
        await api.client.get("/nowhere"),
        await api.post('mutation { signIn(input: {username: "a", password: "b"}) { token } }', token="bad"),
    ]
    for response in responses:
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", response.url
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert len(headers["x-request-id"]) == 16
        if not headers.get("content-type", "").startswith("text/html"):
            assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert responses[0].headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in responses[0].headers  # plain http here


async def test_hsts_and_secure_cookie_over_https(settings: Settings) -> None:
    import httpx
    from asgi_lifespan import LifespanManager

    from nextgen_gql.app import create_app

    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=STARTUP, shutdown_timeout=STARTUP) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://ecf.mad.uscourts.gov") as client:
            response = await client.post(
                "/graphql",
                json={
                    "query": f'mutation {{ signIn(input: {{username: "{FILER[0]}", password: "{FILER[1]}"}}) {{ token }} }}'
                },
            )
    assert "max-age=" in response.headers["strict-transport-security"]
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_the_nul_character_is_refused_at_the_door(api: Api) -> None:
    """PostgreSQL refuses NUL in text (a 500 once, found by the PostgreSQL leg of the suite)."""
    response = await api.post(
        "mutation($u: String!) { signIn(input: {username: $u, password: $u}) { token } }", {"u": "a\x00b"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    inline = await api.client.post("/graphql", json={"query": '{ node(id: "a\u0000b") { id } }'})
    assert inline.status_code == 400
    get = await api.client.get("/graphql", params={"query": '{ node(id: "a\x00") { id } }'})
    assert get.status_code == 400


async def test_operation_selection_and_variables_have_their_codes(api: Api) -> None:
    two = "query A { courts { code } } query B { court { code } }"
    for body, status, code in [
        ({"query": two}, 200, "GRAPHQL_VALIDATION_FAILED"),  # several operations and no name
        ({"query": two, "operationName": "C"}, 200, "GRAPHQL_VALIDATION_FAILED"),  # no such operation
        (
            {"query": "query($n: Int!) { cmecfAccounts(first: $n) { totalCount } }", "variables": {"n": "x"}},
            200,
            "BAD_USER_INPUT",
        ),
        # a required variable missing
        ({"query": "query($n: Int!) { cmecfAccounts(first: $n) { totalCount } }"}, 200, "BAD_USER_INPUT"),
    ]:
        response = await api.client.post("/graphql", json=body)
        assert response.status_code == status, response.text
        assert codes(response.json()) == [code], (body, response.text)


def test_request_error_codes_come_from_where_the_errors_are_raised() -> None:
    """Not from their words: the same message from elsewhere carries no code."""
    from graphql import GraphQLError, build_schema, parse

    from nextgen_gql.api.request_errors import parse_document, service_rules, validate
    from nextgen_gql.api.view import error_code

    with pytest.raises(GraphQLError) as raised:
        parse_document("{ a b c d }", max_tokens=3)
    assert raised.value.extensions == {"code": "TOO_MANY_TOKENS"}
    with pytest.raises(GraphQLError) as raised:
        parse_document("{ a ", max_tokens=30)
    assert raised.value.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    schema = build_schema("type Query { a: Query b: Int }")
    rules = service_rules(max_depth=2, max_aliases=1, introspection=False)
    errors = validate(schema, parse("{ x: b y: b a { a { a { b } } } __schema { types { name } } c }"), rules)
    # Over the service's limits (``api.limits``): refused by the first broken alone, the other rules not run.
    assert [e.extensions["code"] for e in errors if e.extensions] == ["QUERY_TOO_DEEP"]
    errors = validate(schema, parse("{ x: b y: b a { a { b } } __schema { types { name } } c }"), rules)
    assert [e.extensions["code"] for e in errors if e.extensions] == ["TOO_MANY_ALIASES"]
    errors = validate(schema, parse("{ x: b a { a { b } } __schema { types { name } } c }"), rules)
    assert {e.extensions["code"] for e in errors if e.extensions} == {
        "INTROSPECTION_DISABLED",
        "GRAPHQL_VALIDATION_FAILED",
    }
    assert error_code(
        GraphQLError("Syntax Error: Document contains more than 3 tokens. Parsing aborted.")
    ) == ("GRAPHQL_VALIDATION_FAILED")
