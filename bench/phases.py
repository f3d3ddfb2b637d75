"""Where a compiled request's time goes, phase by phase, in-process.

    .venv/bin/python bench/phases.py [--requests 500] [--roster 100]

Builds a demo database with ``--roster`` linked legacy accounts at ``mad``, then sends the
harness's scenarios straight through the ASGI app (no network) and splits each request's
wall time into phases by timing the functions that do them:

- auth: the session statement (the viewer, with what the plan needs of it);
- plan lookup: finding the document's compiled entry and its plan;
- data: every other read (the statement, the wait for the database, rows into tuples);
- building: running the plan's level functions, less the statements inside them;
- encoding: JSON in and out (orjson);
- HTTP, view and court: the rest (Starlette, the security headers, the gate that checks
  the body and addresses the court, the view, the context).

Medians per request over ``--requests`` requests after a warm-up. The app runs with its
lifespan under ``asgi_lifespan.LifespanManager``, as a server runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from asgi_lifespan import LifespanManager

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.api.test_batching import linked_roster  # noqa: E402

from nextgen_gql.api import compiled as compiled_package  # noqa: E402
from nextgen_gql.api import view as view_module  # noqa: E402
from nextgen_gql.api.compiled import runtime as runtime_module  # noqa: E402
from nextgen_gql.app import create_app  # noqa: E402
from nextgen_gql.services import rows  # noqa: E402
from nextgen_gql.settings import Settings  # noqa: E402

SCENARIOS = {
    "me": (
        "/graphql",
        "filer",
        """{ me { id username firstName lastName email accountNumber isLegacy
          privileges { court { code name } role source } firm { name clientCodeRequired } } }""",
    ),
    "clerk 100-row page": (
        "/courts/mad/graphql",
        "clerk",
        """{ cmecfAccounts(first: 100) { totalCount
          edges { cursor node { id login firstName lastName role linkedAt
            linkedAccount { username firstName lastName email } } }
          pageInfo { hasNextPage endCursor } } }""",
    ),
    "courts (3 tenants)": (
        "/graphql",
        None,
        "{ courts { code name kind nextgenSince isNextgen acceptedRoles } }",
    ),
}
PHASES = ["HTTP, view and court", "auth", "plan lookup", "data", "building", "encoding"]


class Clock:
    """Time spent in the wrapped functions during one request, by phase."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def add(self, phase: str, seconds: float) -> None:
        self.spent[phase] = self.spent.get(phase, 0.0) + seconds

    def wrap_async(self, phase: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.add(phase, time.perf_counter() - start)

        return timed

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(phase, time.perf_counter() - start)

        return timed


def instrument(clock: Clock) -> None:
    """Wrap the functions of each phase: the row reads (with turning rows into tuples), the
    session statement, the plan look-up, the plan's run, and JSON."""
    for name in rows.__all__:
        fn = getattr(rows, name)
        if asyncio.iscoroutinefunction(fn) and name not in ("open_reader", "close_reader"):
            setattr(rows, name, clock.wrap_async("auth" if name == "viewer_for_token" else "data", fn))
    queries = compiled_package.CompiledQueries
    queries.entry = clock.wrap("plan lookup", queries.entry)  # type: ignore[method-assign]
    queries.plan = clock.wrap("plan lookup", queries.plan)  # type: ignore[method-assign]
    execute_plan = runtime_module.execute_plan
    compiled_package.execute_plan = clock.wrap_async("building", execute_plan)  # type: ignore[attr-defined]

    class TimedJson:
        JSONDecodeError = orjson.JSONDecodeError

        @staticmethod
        def loads(data: Any) -> Any:
            return clock.wrap("encoding", orjson.loads)(data)

        @staticmethod
        def dumps(data: Any) -> bytes:
            result: bytes = clock.wrap("encoding", orjson.dumps)(data)
            return result

    view_module.orjson = TimedJson  # type: ignore[assignment]


async def call(
    app: Any, path: str, query: str, token: str | None, variables: dict[str, Any] | None = None
) -> bytes:
    body = orjson.dumps({"query": query, "variables": variables or {}})
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    headers.append((b"content-length", str(len(body)).encode()))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


async def sign_in(app: Any, username: str, password: str) -> str:
    mutation = "mutation($i: SignInInput!) { signIn(input: $i) { token } }"
    variables = {"i": {"username": username, "password": password, "redactionAcknowledged": True}}
    token: str = orjson.loads(await call(app, "/graphql", mutation, None, variables))["data"]["signIn"][
        "token"
    ]
    return token


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="nextgen-phases-"))
    try:
        settings = Settings(
            database_url=f"sqlite://{work / 'db.sqlite3'}",
            tenants_dir=REPO / "tenants",
            mail_dir=work / "mail",
            demo=True,
        )
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            await linked_roster(args.roster)
            tokens = {
                None: None,
                "filer": await sign_in(manager.app, "jmorgan2019", "Granite-Falcon-Morning-88"),
                "clerk": await sign_in(manager.app, "madclerk01", "Court-Docket-Review-2026!"),
            }
            clock = Clock()
            instrument(clock)
            print("| scenario | total us | " + " | ".join(PHASES) + " |")
            print("|---|---|" + "---|" * len(PHASES))
            for name, (path, who, query) in SCENARIOS.items():
                answer = await call(manager.app, path, query, tokens[who])
                assert b'"errors"' not in answer, answer[:300]
                for _ in range(50):
                    await call(manager.app, path, query, tokens[who])
                samples: dict[str, list[float]] = {p: [] for p in ["total", *PHASES]}
                for _ in range(args.requests):
                    clock.spent = {}
                    start = time.perf_counter()
                    await call(manager.app, path, query, tokens[who])
                    total = time.perf_counter() - start
                    spent = dict(clock.spent)
                    inner = spent.get("building", 0.0) - spent.get("data", 0.0) - spent.get("auth", 0.0)
                    spent["building"] = max(inner, 0.0)
                    spent["HTTP, view and court"] = total - sum(spent.get(p, 0.0) for p in PHASES[1:])
                    samples["total"].append(total)
                    for phase in PHASES:
                        samples[phase].append(spent.get(phase, 0.0))
                medians = {p: statistics.median(v) * 1e6 for p, v in samples.items()}
                cells = " | ".join(f"{medians[p]:,.0f}" for p in PHASES)
                print(f"| {name} | {medians['total']:,.0f} | {cells} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--roster", type=int, default=100, help="linked legacy accounts at mad")
    asyncio.run(main(parser.parse_args()))
