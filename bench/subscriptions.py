"""Benchmark: 1,000 open subscriptions on one worker, on PostgreSQL with 2 workers.

    .venv/bin/python bench/subscriptions.py [--postgres-url URL] [--subscriptions 1000] [--events 40]

Serves the demo from two worker processes on one PostgreSQL database (two `nextgen-gql
serve`, on two ports, so that one of them holds every subscription and its memory can be
read; a fresh worker A for each leg), opens the subscriptions on worker A with Python `websockets` clients speaking
graphql-transport-ws (mad's clerk, `registrationEvents` at /courts/mad/graphql), then has
worker B commit changes (a registration submitted, then withdrawn, over HTTP) one at a
time, the next once every subscriber heard the last. It reports:

- memory per subscription: worker A's resident memory with the subscriptions open, less
  before, divided by their number; once with one subscription per WebSocket (each a browser
  tab, with its compression and buffers) and once with 100 per WebSocket. Every WebSocket
  signs in with a session of its own (rows written straight into the database: no argon2
  for a thousand sign-ins), so no two sockets share an answer (``api.live.sharing``); the
  100 subscriptions of one socket do;
- the time from a committed change to the last subscriber receiving it (p50/p99 over the
  changes), and over every delivery: the event's time (``at``, written in the transaction just
  before it commits) to the moment a client read it. Clients, servers and PostgreSQL share
  the machine, so the figures include the clients' own reading.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from harness import database, free_port, serving  # noqa: E402

BIN = Path(sys.executable).parent
CLERK = ("madclerk01", "Court-Docket-Review-2026!")
FILER = ("jmorgan2019", "Granite-Falcon-Morning-88")
SUBSCRIPTION = "subscription { registrationEvents { kind at cursor registration { id status } } }"


def gql(base: str, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None,
        court: str | None = None) -> dict[str, Any]:  # fmt: skip
    headers = {"authorization": f"Bearer {token}"} if token else {}
    path = f"/courts/{court}/graphql" if court else "/graphql"
    body = httpx.post(
        base + path, json={"query": query, "variables": variables or {}}, headers=headers, timeout=60
    ).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def sign_in(base: str, user: tuple[str, str]) -> str:
    data = gql(base, "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
               {"u": user[0], "p": user[1]})  # fmt: skip
    token: str = data["signIn"]["token"]
    return token


async def sessions(url: str, username: str, count: int) -> list[str]:
    """``count`` live sessions of ``username``, written straight into the database."""
    import asyncpg

    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        account = await conn.fetchval("SELECT id FROM pacer_accounts WHERE username_key = $1", username)
        tokens = [secrets.token_urlsafe(96) for _ in range(count)]
        at = dt.datetime.now(dt.UTC)
        await conn.executemany(
            "INSERT INTO sessions (token_hash, account_id, created_at, expires_at, redaction_acknowledged)"
            " VALUES ($1, $2, $3, $4, false)",
            [
                (hashlib.sha256(t.encode()).hexdigest(), account, at, at + dt.timedelta(days=1))
                for t in tokens
            ],
        )
    finally:
        await conn.close()
    return tokens


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Subscriber:
    """One WebSocket with ``count`` subscriptions; records when each event arrived."""

    def __init__(self, url: str, token: str, count: int) -> None:
        self.url, self.token, self.count = url, token, count
        self.arrivals: dict[str, list[float]] = {}  # cursor -> arrival times
        self.at: dict[str, float] = {}  # cursor -> the event's commit-side time
        self.heard: set[str] = set()  # subscriptions that heard something
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, subprotocols=["graphql-transport-ws"], max_queue=None)  # type: ignore[list-item]
        await self.ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}})
        )
        ack = json.loads(await self.ws.recv())
        assert ack["type"] == "connection_ack", ack
        for i in range(self.count):
            await self.ws.send(
                json.dumps({"type": "subscribe", "id": str(i), "payload": {"query": SUBSCRIPTION}})
            )
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            now = time.time()
            message = json.loads(raw)
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                event = message["payload"]["data"]["registrationEvents"]
                self.heard.add(message["id"])
                self.arrivals.setdefault(event["cursor"], []).append(now)
                self.at[event["cursor"]] = dt.datetime.fromisoformat(event["at"]).timestamp()
            elif message["type"] in ("error", "complete"):
                raise RuntimeError(f"subscription ended: {message}")

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
        if self.ws:
            await self.ws.close()


async def open_all(subscribers: list[Subscriber]) -> None:
    for start in range(0, len(subscribers), 50):
        await asyncio.gather(*(s.open() for s in subscribers[start : start + 50]))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run_leg(
    a: str, b: str, pid: int, tokens: list[str], filer: str, total: int, per_socket: int, changes: int,
    state: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    url = a.replace("http://", "ws://") + "/courts/mad/graphql"
    gc.collect()
    await asyncio.sleep(1)
    before = rss_mb(pid)
    subscribers = [Subscriber(url, tokens[i], per_socket) for i in range(total // per_socket)]
    await open_all(subscribers)
    await asyncio.sleep(3)  # every subscription reaches the hub

    def change(i: int, state: dict[str, str]) -> None:
        if "open" in state:
            gql(b, "mutation($id: ID!) { withdrawRegistration(id: $id) { errors { code } } }", {"id": state.pop("open")},
                token=filer, court="mad")  # fmt: skip
        else:
            made = gql(b, "mutation { submitRegistration(input: {role: MEDIA}) { registration { id } errors { code } } }",
                       token=filer, court="mad")  # fmt: skip
            state["open"] = made["submitRegistration"]["registration"]["id"]

    # Warm-up changes until every subscription heard one (each reaches the hub at its pace).
    for _ in range(30):
        await asyncio.to_thread(change, -1, state)
        await asyncio.sleep(2)
        if sum(len(s.heard) for s in subscribers) == total:
            break
    else:
        raise RuntimeError(
            f"{sum(len(s.heard) for s in subscribers)} of {total} subscriptions heard the warm-up"
        )
    await asyncio.sleep(1)
    gc.collect()
    after = rss_mb(pid)
    for s in subscribers:
        s.arrivals.clear()
        s.at.clear()
    for i in range(changes):  # one at a time: each is measured alone
        seen = sum(len(s.arrivals) for s in subscribers)
        await asyncio.to_thread(change, i, state)
        deadline = time.monotonic() + 60
        while sum(len(s.arrivals) for s in subscribers) < seen + len(subscribers):
            if time.monotonic() > deadline or any(s.task and s.task.done() for s in subscribers):
                ended = [s.task.exception() for s in subscribers if s.task and s.task.done()]
                raise RuntimeError(f"change {i} not heard by every socket; ended: {ended[:3]}")
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)
    last: list[float] = []
    every: list[float] = []
    cursors = set().union(*(s.arrivals for s in subscribers))
    for cursor in cursors:
        at = next(s.at[cursor] for s in subscribers if cursor in s.at)
        times = [t for s in subscribers for t in s.arrivals.get(cursor, [])]
        assert len(times) == total, f"{len(times)} of {total} subscriptions got event {cursor}"
        every += [t - at for t in times]
        last.append(max(times) - at)
    for s in subscribers:
        await s.close()
    return {
        "last_ms": sorted(round(t * 1000) for t in last),
        "subscriptions": total,
        "per_socket": per_socket,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "kb_per_subscription": (after - before) * 1024 / total,
        "changes": len(cursors),
        "last_p50_ms": percentile(last, 50) * 1000,
        "last_p99_ms": percentile(last, 99) * 1000,
        "every_p50_ms": percentile(every, 50) * 1000,
        "every_p99_ms": percentile(every, 99) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--postgres-url", help="a server to make the database on (default: a cluster of its own)"
    )
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--events", type=int, default=40, help="changes committed per leg")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nextgen-subscriptions-"))
    with database("postgres", work, args.postgres_url) as url:
        env = {
            **os.environ,
            "NEXTGEN_GQL_DATABASE_URL": url,
            "NEXTGEN_GQL_TENANTS_DIR": str(REPO / "tenants"),
            "NEXTGEN_GQL_MAIL_DIR": str(work / "mail"),
            "NEXTGEN_GQL_SUBSCRIPTIONS_PER_CONNECTION": "100",
            "NEXTGEN_GQL_SUBSCRIPTIONS_PER_ACCOUNT": str(args.subscriptions * 2),
            # PostgreSQL requires one (authenticator secrets are sealed with it); the bench's own,
            # the same for both workers.
            "NEXTGEN_GQL_SECRET_KEY": os.environ.get(
                "NEXTGEN_GQL_SECRET_KEY", "bench-subscriptions-secret-key-0123456789"
            ),
            # A thousand sign-ins and subscriptions from one address are the benchmark, not abuse.
            "NEXTGEN_GQL_RATE_LIMIT_POINTS": str(10**9),
            "NEXTGEN_GQL_MAX_WEBSOCKETS_PER_ADDRESS": str(args.subscriptions + 10),
        }
        port_b = free_port()
        argv = [str(BIN / "nextgen-gql"), "serve", "--demo", "--port"]
        legs = []
        with serving([*argv, str(port_b)], env, port_b, work / "b.log"):
            b = f"http://127.0.0.1:{port_b}"
            filer = sign_in(b, FILER)
            tokens = asyncio.run(sessions(url, CLERK[0], args.subscriptions))
            state: dict[str, str] = {}
            for per_socket in (1, 100):
                # A fresh worker A for each leg: memory a process took is not given back.
                port_a = free_port()
                with serving([*argv, str(port_a)], env, port_a, work / f"a{per_socket}.log") as proc_a:
                    a = f"http://127.0.0.1:{port_a}"
                    leg = asyncio.run(
                        run_leg(
                            a,
                            b,
                            proc_a.pid,
                            tokens,
                            filer,
                            args.subscriptions,
                            per_socket,
                            args.events,
                            state,
                        )
                    )
                legs.append(leg)
                print(json.dumps(leg), flush=True)
    print()
    print(
        "| subscriptions on worker A | per WebSocket | memory per subscription | change to last subscriber p50 / p99 | every delivery p50 / p99 |"
    )
    print("|---|---|---|---|---|")
    for leg in legs:
        print(
            f"| {leg['subscriptions']:,} | {leg['per_socket']} | {leg['kb_per_subscription']:.1f} KiB "
            f"({leg['rss_before_mb']:.0f} -> {leg['rss_after_mb']:.0f} MiB) | {leg['last_p50_ms']:.0f} / "
            f"{leg['last_p99_ms']:.0f} ms | {leg['every_p50_ms']:.0f} / {leg['every_p99_ms']:.0f} ms |"
        )


if __name__ == "__main__":
    main()
