"""In-process time per request, by layer: one app, straight through ASGI, no network.

    .venv/bin/python bench/harness.py --inprocess [--requests 200] [--profile] [--database both]

The harness builds the database and runs this script once per app (raw, peer, real), each
in a process of its own, with the database and court files in the environment
(`NEXTGEN_GQL_*` for the real app, `BENCH_DATABASE_URL` and `BENCH_TENANTS` for the raw
baseline and the peer). Over a database already built it can be run by hand too:

    BENCH_DATABASE_URL=... BENCH_TENANTS=... NEXTGEN_GQL_DATABASE_URL=... \\
        NEXTGEN_GQL_TENANTS_DIR=... .venv/bin/python bench/layers.py --app real --profile

The app's lifespan runs under `asgi_lifespan.LifespanManager`, as a server runs it; each
request is `app(scope, receive, send)` with a minimal HTTP scope. It prints the median
microseconds per request of each of the harness's scenarios and, with `--profile`, a
second, profiled pass (cProfile) per scenario: the profiled time per request of each layer
(the self time of the functions of its modules) and the layer's top entries by cumulative
time. Profiling slows everything down, so shares matter there, not absolute values.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import json
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Message, Scope

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from harness import SCENARIOS, TOKENS  # noqa: E402

#: Layers by where a function is defined (first match wins); C functions by their name.
LAYERS = [
    ("/starlette/", "starlette"),
    ("/strawberry/", "strawberry"),
    ("/graphql/", "graphql"),
    ("/tortoise/", "tortoise/pypika"),
    ("/pypika_tortoise/", "tortoise/pypika"),
    ("/aiosqlite/", "aiosqlite/asyncpg"),
    ("/asyncpg/", "aiosqlite/asyncpg"),
    ("/nextgen_gql/api/", "nextgen_gql.api"),
    ("/nextgen_gql/services/", "nextgen_gql.services"),
    ("/nextgen_gql/", "nextgen_gql (other)"),
    ("/bench/raw_app.py", "bench app"),
    ("/bench/peer_app.py", "bench app"),
    ("/uvloop/", "asyncio/uvloop"),
    ("/asyncio/", "asyncio/uvloop"),
    ("/asgi_lifespan/", "harness"),
    ("/bench/layers.py", "harness"),
]
BUILTIN_LAYERS = [
    ("orjson", "orjson"),
    ("asyncpg", "aiosqlite/asyncpg"),
    ("sqlite3", "aiosqlite/asyncpg"),
    ("uvloop", "asyncio/uvloop"),
    ("_asyncio", "asyncio/uvloop"),
    ("select", "asyncio/uvloop"),
    ("json", "stdlib"),
]


def layer_of(filename: str, function: str) -> str:
    if filename == "~":
        return next((layer for key, layer in BUILTIN_LAYERS if key in function), "builtins")
    path = filename.replace(os.sep, "/")
    return next((layer for key, layer in LAYERS if key in path), "stdlib/other")


def load_app(name: str) -> ASGIApp:
    if name == "real":
        from nextgen_gql.app import create_app

        app: ASGIApp = create_app()
        return app
    module = importlib.import_module(f"{name}_app")
    app = module.app
    return app


def request_parts(path: str, query: str, token: str | None) -> tuple[Scope, bytes]:
    body = json.dumps({"query": query}).encode()
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    return scope, body


async def call(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, bytes]:
    """One request through the app; (status, body)."""
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(dict(scope), receive, send)
    return status, b"".join(chunks)


async def check(app: ASGIApp, name: str, scope: Scope, body: bytes) -> None:
    status, answer = await call(app, scope, body)
    parsed = json.loads(answer)
    if status != 200 or "errors" in parsed or None in (parsed.get("data") or {None: None}).values():
        raise RuntimeError(f"{name}: {status} {answer[:600]!r}")


async def measure(args: argparse.Namespace) -> dict[str, float]:
    app = load_app(args.app)
    medians: dict[str, float] = {}
    async with LifespanManager(app, startup_timeout=120) as manager:
        served: ASGIApp = manager.app
        for name, (path, who, query) in SCENARIOS.items():
            scope, body = request_parts(path, query, TOKENS[who])
            await check(served, name, scope, body)
            for _ in range(args.warmup):
                await call(served, scope, body)
            times = []
            for _ in range(args.requests):
                start = time.perf_counter()
                await call(served, scope, body)
                times.append(time.perf_counter() - start)
            medians[name] = statistics.median(times) * 1e6
            print(
                f"{args.app:>4} · {name}: {medians[name]:,.0f} us/request (median of {args.requests})",
                flush=True,
            )
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.requests):
                    await call(served, scope, body)
                profiler.disable()
                print_layers(pstats.Stats(profiler), args.requests, args.top)
    return medians


def print_layers(stats: pstats.Stats, requests: int, top: int) -> None:
    """Self time per layer and per request, then each layer's top entries by cumulative time."""
    entries: dict[str, list[tuple[float, float, str]]] = {}
    own: dict[str, float] = {}
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, function), (_, _, self_time, cumulative, _) in raw.items():
        layer = layer_of(filename, function)
        own[layer] = own.get(layer, 0.0) + self_time
        where = function if filename == "~" else f"{short(filename)}:{line}({function})"
        entries.setdefault(layer, []).append((cumulative, self_time, where))
    total = sum(own.values())
    print(f"       profiled: {total / requests * 1e6:,.0f} us/request; by layer (self time):")
    for layer, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"       {layer:<22} {seconds / requests * 1e6:>9,.0f} us  {seconds / total:>6.1%}")
        for cumulative, self_time, where in sorted(entries[layer], reverse=True)[:top]:
            print(
                f"           {cumulative / requests * 1e6:>9,.0f} us cum {self_time / requests * 1e6:>8,.0f} us self"
                f"  {where}"
            )


def short(filename: str) -> str:
    path = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", "/src/", "/bench/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return re.sub(r"^.*/lib/python[\d.]+/", "", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--app", choices=["raw", "peer", "real"], required=True)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per scenario first")
    parser.add_argument("--profile", action="store_true", help="then a profiled pass, by layer")
    parser.add_argument("--top", type=int, default=6, help="entries shown per layer")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="as the servers run")
    parser.add_argument("--json", type=Path, help="write the medians (us per scenario) here")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        medians = uvloop.run(measure(args))
    else:
        medians = asyncio.run(measure(args))
    if args.json:
        args.json.write_text(json.dumps(medians))


if __name__ == "__main__":
    main()
