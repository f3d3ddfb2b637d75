"""The raw baseline: Starlette + aiosqlite + orjson, the same SQL for the same JSON, no GraphQL.

Served by `bench/harness.py` beside the real app. It answers the harness's scenarios only,
recognised by a marker in the query text, and does exactly the reads the real app needs
(sessions by token hash, the clerk check, the page, and one query per relation).
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nextgen_gql.tenancy import CourtRegistry, load_courts

DB = os.environ["BENCH_RAW_DB"]
COURTS = CourtRegistry(load_courts(Path(os.environ["BENCH_RAW_TENANTS"])))
conn: aiosqlite.Connection


def gid(kind: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def cursor(*key: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


async def rows(sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def viewer(request: Request) -> sqlite3.Row | None:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    found = await rows(
        "SELECT a.* FROM sessions s JOIN pacer_accounts a ON a.id = s.account_id"
        " WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > datetime('now')",
        (hashlib.sha256(token.encode()).hexdigest(),),
    )
    return found[0] if found else None


async def me(request: Request) -> dict[str, Any]:
    account = await viewer(request)
    if account is None:
        return {"data": {"me": None}}
    privileges = await rows(
        "SELECT court_id, role, source FROM filing_privileges WHERE account_id = ? ORDER BY court_id, id",
        (account["id"],),
    )
    firm = await rows(
        "SELECT f.name, f.client_code_required FROM firm_memberships m JOIN firms f ON f.id = m.firm_id"
        " WHERE m.account_id = ?",
        (account["id"],),
    )
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
    assert await rows(
        "SELECT 1 FROM clerks WHERE account_id = ? AND court_id = ? LIMIT 1", (account["id"], court)
    )
    total = (await rows("SELECT count(*) FROM cmecf_accounts WHERE court_id = ?", (court,)))[0][0]
    page = await rows(
        "SELECT * FROM cmecf_accounts WHERE court_id = ? ORDER BY login_key, id LIMIT 101", (court,)
    )
    has_next, page = len(page) > 100, page[:100]
    ids = [r["id"] for r in page]
    marks = ",".join("?" * len(ids))
    links = {
        r["cmecf_account_id"]: r
        for r in await rows(f"SELECT * FROM cmecf_links WHERE cmecf_account_id IN ({marks})", tuple(ids))
    }
    owner_ids = list({r["account_id"] for r in links.values()})
    owners = {
        r["id"]: r
        for r in await rows(
            f"SELECT * FROM pacer_accounts WHERE id IN ({','.join('?' * len(owner_ids))})", tuple(owner_ids)
        )
    }
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
                    "linkedAt": link["linked_at"].replace(" ", "T") if link else None,
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
async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
    global conn
    conn = await aiosqlite.connect(DB)
    conn.row_factory = sqlite3.Row
    yield
    await conn.close()


app = Starlette(
    routes=[
        Route("/graphql", graphql, methods=["POST"]),
        Route("/courts/{code}/graphql", graphql, methods=["POST"]),
    ],
    lifespan=lifespan,
)
