"""The raw baseline: Starlette + orjson, the same SQL for the same JSON, no GraphQL; and the
bare baselines: the least a handler can do for the same data.

Served by `bench/harness.py` beside the peer and the real app. It answers the harness's
scenarios only, recognised by a marker in the query text, and does exactly the reads the
real app needs (sessions by token hash, the clerk check, the page, and one query per
relation). The database is `BENCH_DATABASE_URL`: `sqlite:///path` (one aiosqlite
connection) or `postgres://...` (an asyncpg pool of 1 to 10 connections, as the real app's);
the court files are read from `BENCH_TENANTS`.

The bare baselines (issue 36's yardstick) answer GET: `/bare/page/{code}` is one
`SELECT ... ORDER BY ... LIMIT 100` of the page's columns, no authentication, the rows as a JSON
list; `/bare/me` is one `SELECT` of an account by its session token's hash (the bearer token).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nextgen_gql.tenancy import CourtRegistry, load_courts

URL = os.environ["BENCH_DATABASE_URL"]
POSTGRES = URL.startswith(("postgres://", "postgresql://"))
COURTS = CourtRegistry(load_courts(Path(os.environ["BENCH_TENANTS"])))

Row = Any  # sqlite3.Row or asyncpg.Record: both read by column name
rows: Callable[..., Awaitable[list[Row]]]


def sql(text: str) -> str:
    """SQL written with `?` placeholders, as the database wants them (`$1, $2, ...` on PostgreSQL)."""
    if not POSTGRES:
        return text
    counter = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(counter)}", text)


VIEWER = sql(
    "SELECT a.* FROM sessions s JOIN pacer_accounts a ON a.id = s.account_id"
    " WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > "
    + ("now()" if POSTGRES else "datetime('now')")
)
PRIVILEGES = sql(
    "SELECT court_id, role, source FROM filing_privileges WHERE account_id = ? ORDER BY court_id, id"
)
FIRM = sql(
    "SELECT f.name, f.client_code_required FROM firm_memberships m JOIN firms f ON f.id = m.firm_id"
    " WHERE m.account_id = ?"
)
CLERK = sql("SELECT 1 FROM clerks WHERE account_id = ? AND court_id = ? LIMIT 1")
COUNT = sql("SELECT count(*) FROM cmecf_accounts WHERE court_id = ?")
PAGE = sql("SELECT * FROM cmecf_accounts WHERE court_id = ? ORDER BY login_key, id LIMIT 101")
LINKS = "SELECT * FROM cmecf_links WHERE cmecf_account_id {}"
OWNERS = "SELECT * FROM pacer_accounts WHERE id {}"


def any_of(template: str, ids: Sequence[int]) -> tuple[str, tuple[Any, ...]]:
    """`column IN (...)` for a list of ids: `= ANY($1)` with one array on PostgreSQL."""
    if POSTGRES:
        return template.format("= ANY($1::int[])"), (list(ids),)
    return template.format(f"IN ({','.join('?' * len(ids))})"), tuple(ids)


def iso(value: str | dt.datetime) -> str:
    """A stored date-time as the API writes it: ISO 8601 (SQLite holds it as text, in UTC)."""
    return value.replace(" ", "T") if isinstance(value, str) else value.isoformat()


def gid(kind: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def cursor(*key: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


async def viewer(request: Request) -> Row | None:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    found = await rows(VIEWER, hashlib.sha256(token.encode()).hexdigest())
    return found[0] if found else None


async def me(request: Request) -> dict[str, Any]:
    account = await viewer(request)
    if account is None:
        return {"data": {"me": None}}
    privileges = await rows(PRIVILEGES, account["id"])
    firm = await rows(FIRM, account["id"])
    return {
        "data": {
            "me": {
                "id": gid("PacerAccount", account["id"]),
                "username": account["username"],
                "firstName": account["first_name"],
                "lastName": account["last_name"],
                "email": account["email"],
                "accountNumber": account["account_number"],
                "isLegacy": False,
                "privileges": [
                    {
                        "court": {"code": p["court_id"], "name": COURTS.get(p["court_id"]).name},
                        "role": p["role"].upper(),
                        "source": p["source"].upper(),
                    }
                    for p in privileges
                ],
                "firm": {"name": firm[0]["name"], "clientCodeRequired": bool(firm[0]["client_code_required"])}
                if firm
                else None,
            }
        }
    }


async def roster(request: Request) -> dict[str, Any]:
    account = await viewer(request)
    court = request.path_params["code"]
    assert account is not None
    assert await rows(CLERK, account["id"], court)
    total = (await rows(COUNT, court))[0][0]
    page = await rows(PAGE, court)
    has_next, page = len(page) > 100, page[:100]
    query, params = any_of(LINKS, [r["id"] for r in page])
    links = {r["cmecf_account_id"]: r for r in await rows(query, *params)}
    query, params = any_of(OWNERS, list({r["account_id"] for r in links.values()}))
    owners = {r["id"]: r for r in await rows(query, *params)}
    edges = []
    for r in page:
        link = links.get(r["id"])
        owner = owners.get(link["account_id"]) if link else None
        edges.append(
            {
                "cursor": cursor(r["login_key"], r["id"]),
                "node": {
                    "id": gid("CmecfAccount", r["id"]),
                    "login": r["login"],
                    "firstName": r["first_name"],
                    "lastName": r["last_name"],
                    "role": r["role"].upper(),
                    "linkedAt": iso(link["linked_at"]) if link else None,
                    "linkedAccount": {
                        "username": owner["username"],
                        "firstName": owner["first_name"],
                        "lastName": owner["last_name"],
                        "email": owner["email"],
                    }
                    if owner
                    else None,
                },
            }
        )
    return {
        "data": {
            "cmecfAccounts": {
                "totalCount": total,
                "edges": edges,
                "pageInfo": {"hasNextPage": has_next, "endCursor": edges[-1]["cursor"] if edges else None},
            }
        }
    }


async def courts(request: Request) -> dict[str, Any]:
    return {
        "data": {
            "courts": [
                {
                    "code": c.code,
                    "name": c.name,
                    "kind": c.kind.name,
                    "nextgenSince": c.nextgen_since.isoformat() if c.nextgen_since else None,
                    "isNextgen": c.is_nextgen(),
                    "acceptedRoles": [r.name for r in c.accepted_roles],
                }
                for c in COURTS
            ]
        }
    }


SCENARIOS = {"#me": me, "#roster": roster, "#courts": courts}

BARE_PAGE = sql(
    "SELECT id, login, first_name, last_name, role, login_key FROM cmecf_accounts WHERE court_id = ?"
    " ORDER BY login_key, id LIMIT 100"
)
BARE_ME = sql(
    "SELECT a.id, a.username, a.first_name, a.last_name, a.email, a.account_number FROM sessions s"
    " JOIN pacer_accounts a ON a.id = s.account_id WHERE s.token_hash = ?"
)


async def bare_page(request: Request) -> Response:
    found = await rows(BARE_PAGE, request.path_params["code"])
    return Response(orjson.dumps([dict(r) for r in found]), media_type="application/json")


async def bare_me(request: Request) -> Response:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    found = await rows(BARE_ME, hashlib.sha256(token.encode()).hexdigest())
    return Response(orjson.dumps([dict(r) for r in found]), media_type="application/json")


async def graphql(request: Request) -> Response:
    body = orjson.loads(await request.body())
    query: str = body["query"]
    for marker, handler in SCENARIOS.items():
        if marker in query:
            return Response(orjson.dumps(await handler(request)), media_type="application/json")
    return Response(
        b'{"errors":[{"message":"unknown scenario"}]}', status_code=400, media_type="application/json"
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global rows
    if POSTGRES:
        import asyncpg

        async def no_reset(connection: asyncpg.Connection) -> None:
            """As the real app's pool: no reset query's round trip at every release (these
            handlers leave no session state), so that the baselines stay the least one can do."""

        pool = await asyncpg.create_pool(
            "postgresql://" + URL.split("://", 1)[1], min_size=1, max_size=10, reset=no_reset
        )

        async def pg_rows(query: str, *params: Any) -> list[Row]:
            return list(await pool.fetch(query, *params))

        rows = pg_rows
        yield
        await pool.close()
        return
    import aiosqlite

    conn = await aiosqlite.connect(URL.removeprefix("sqlite://"))
    conn.row_factory = sqlite3.Row

    async def sqlite_rows(query: str, *params: Any) -> list[Row]:
        async with conn.execute(query, params) as cur:
            return list(await cur.fetchall())

    rows = sqlite_rows
    yield
    await conn.close()


app = Starlette(
    routes=[
        Route("/graphql", graphql, methods=["POST"]),
        Route("/courts/{code}/graphql", graphql, methods=["POST"]),
        Route("/bare/page/{code}", bare_page, methods=["GET"]),
        Route("/bare/me", bare_me, methods=["GET"]),
    ],
    lifespan=lifespan,
)
