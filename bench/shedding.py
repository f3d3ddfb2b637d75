"""Load shedding under overload: `nextgen-gql serve --workers 2` on PostgreSQL, 256 connections.

    .venv/bin/python bench/shedding.py --postgres postgres://postgres@127.0.0.1:55424 \
        [--connections 256] [--seconds 20] [--workers 2] [--env NEXTGEN_GQL_MAX_IN_FLIGHT=20 ...]

A database of its own (``shed_bench``, dropped and made again) with the demo data; the real
server with budgets on but not binding (``NEXTGEN_GQL_RATE_LIMIT_POINTS=1000000000``: every
request is costed and charged); a signed-in filer's `me` (bench/harness.py's query).

The client is asyncio over raw HTTP/1.1 keep-alive sockets (uvloop), far cheaper per request
than an HTTP library, since it shares the server's cores. Each connection is a closed loop: it
sends its next request as soon as it has an answer, a 503 included (it does not wait out
Retry-After: the worst case; ``--retry-after`` makes them wait it out). A request unanswered after 10 s is a client timeout (its
connection is closed and opened again).

Phases, all printed:

1. idle: 4 connections for 5 s (throughput, p50/p99);
2. load: ``--connections`` connections for ``--seconds`` s: p50/p99/max of every answer (200s
   and 503s alike), counts by status, client timeouts, other 5xx;
3. recovery: from the end of the load, 4 connections again, in 0.5 s windows: the first window
   at 80% of the idle throughput or better tells when idle speed was back (and, stricter, the
   first from which every window for 3 s is; on a machine shared with other work that one
   also measures the neighbours).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import orjson
import uvloop

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from harness import SCENARIOS  # noqa: E402

CLIENT_TIMEOUT = 10.0
SECRET = "shedding-bench-secret-key-0123456789abcdef"
USER, PASSWORD = "jmorgan2019", "Granite-Falcon-Morning-88"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    timeouts: int = 0
    errors: int = 0  # connections reset or refused
    cut: int = 0  # unanswered when the run ended (abandoned by the client)
    stopped: bool = False
    #: Clients wait out Retry-After (1 s) after a 503; else they send again at once.
    retry_after: bool = False
    done_at: list[float] = field(default_factory=list)


def _request(port: int, body: bytes, token: str) -> bytes:
    return (
        f"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"accept: application/json\r\nauthorization: Bearer {token}\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


async def _loop(port: int, request: bytes, tally: Tally) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    asking = False
    while not tally.stopped:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            start = time.monotonic()
            writer.write(request)
            asking = True
            status = await asyncio.wait_for(_answer(reader), CLIENT_TIMEOUT)
            asking = False
            end = time.monotonic()
            tally.latencies.append(end - start)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            tally.done_at.append(end)
            if status == 503 and tally.retry_after:
                await asyncio.sleep(1.0)  # the answer's Retry-After: 1
        except TimeoutError:
            tally.timeouts += 1
            asking = False
            if writer is not None:
                writer.close()
            reader = writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            tally.errors += 1
            asking = False
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            if asking:
                tally.cut += 1  # the run ended with this request unanswered: the client leaves
            if writer is not None:
                writer.close()
            raise


async def _run(
    port: int, request: bytes, connections: int, seconds: float, retry_after: bool = False
) -> Tally:
    """``connections`` closed loops for ``seconds``; then every client leaves at once (the
    requests still unanswered are abandoned, their sockets closed)."""
    tally = Tally(retry_after=retry_after)
    tasks = [asyncio.create_task(_loop(port, request, tally)) for _ in range(connections)]
    await asyncio.sleep(seconds)
    tally.stopped = True
    pending = set(tasks)
    while pending:  # cancelled until they end (a cancel racing an answer can be lost in wait_for)
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.2)
    return tally


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _summary(name: str, tally: Tally, seconds: float) -> str:
    n = len(tally.latencies)
    return (
        f"{name}: {n / seconds:.0f} answers/s, p50 {_pct(tally.latencies, 50) * 1000:.1f} ms, "
        f"p99 {_pct(tally.latencies, 99) * 1000:.1f} ms, max {max(tally.latencies, default=0) * 1000:.1f} ms; "
        f"by status {dict(sorted(tally.statuses.items()))}; client timeouts {tally.timeouts}; "
        f"connection errors {tally.errors}; unanswered at the end {tally.cut}"
    )


async def _database(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url.rstrip("/") + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_url.rstrip("/") + "/" + name


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def main(args: argparse.Namespace) -> None:
    url = await _database(args.postgres, "shed_bench")
    work = Path(tempfile.mkdtemp(prefix="shedding-"))
    port = _free_port()
    env = {
        **os.environ,
        "NEXTGEN_GQL_DATABASE_URL": url,
        "NEXTGEN_GQL_SECRET_KEY": SECRET,
        "NEXTGEN_GQL_TENANTS_DIR": str(REPO / "tenants"),
        "NEXTGEN_GQL_MAIL_DIR": str(work / "mail"),
        "NEXTGEN_GQL_REQUEST_LOG": "false",
        "NEXTGEN_GQL_LOG_LEVEL": "warning",
        "NEXTGEN_GQL_RATE_LIMIT_POINTS": str(10**9),
    }
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    exe = shutil.which("nextgen-gql", path=str(Path(sys.executable).parent)) or "nextgen-gql"
    log = (work / "server.log").open("ab")
    server = subprocess.Popen(  # noqa: ASYNC220 (started once, before any load)
        [exe, "serve", "--demo", "--port", str(port), "--workers", str(args.workers)],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 300
            while True:
                if server.poll() is not None:
                    raise SystemExit("server exited:\n" + (work / "server.log").read_text())
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                await asyncio.sleep(0.3)
            await asyncio.sleep(2)  # both workers up
            signed = await client.post(
                "/graphql",
                json={
                    "query": f'mutation {{ signIn(input: {{username: "{USER}", password: "{PASSWORD}", '
                    "redactionAcknowledged: true}) { token } }"
                },
            )
            token = signed.json()["data"]["signIn"]["token"]
            _, _, query = SCENARIOS["me"]
            body = orjson.dumps({"query": query})
            check = await client.post(
                "/graphql",
                content=body,
                headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            )
            assert check.status_code == 200 and "errors" not in check.json(), check.text
        request = _request(port, body, token)
        print(f"load average before: {os.getloadavg()}", flush=True)
        await _run(port, request, 4, 2)  # warm up
        idle = await _run(port, request, 4, 5)
        idle_rate = len(idle.latencies) / 5
        print(_summary("idle (4 connections, 5 s)", idle, 5), flush=True)
        load = await _run(port, request, args.connections, args.seconds, args.retry_after)
        load_end = time.monotonic()
        print(_summary(f"load ({args.connections} connections, {args.seconds:.0f} s)", load, args.seconds))
        other_5xx = sum(n for s, n in load.statuses.items() if s >= 500 and s != 503)
        ok = [lat for lat in load.latencies]  # every answer: 200s and 503s alike
        print(
            f"  answers p50 {_pct(ok, 50) * 1000:.1f} ms, p99 {_pct(ok, 99) * 1000:.1f} ms; "
            f"503: {load.statuses.get(503, 0)}; other 5xx: {other_5xx}; client timeouts: {load.timeouts}",
            flush=True,
        )
        recovery = await _run(port, request, 4, args.recovery)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            metrics = (await client.get("/metrics")).text
        shed = [line for line in metrics.splitlines() if line.startswith("nextgen_gql_requests_shed_total")]
        print("shed by reason (whole run): " + ("; ".join(shed) or "none recorded"))
        windows: list[float] = []
        step = 0.5
        for i in range(int(args.recovery / step)):
            lo, hi = load_end + i * step, load_end + (i + 1) * step
            windows.append(sum(1 for t in recovery.done_at if lo <= t < hi) / step)
        need = 0.8 * idle_rate
        back = next((i * step for i, w in enumerate(windows) if w >= need), None)
        held = next(
            (i * step for i in range(len(windows)) if all(w >= need for w in windows[i : i + 6])), None
        )
        shown = ", ".join(f"{w:.0f}" for w in windows[:20])
        print(_summary(f"recovery (4 connections, {args.recovery:.0f} s)", recovery, args.recovery))
        print(f"recovery: answers/s per 0.5 s window after the load: {shown}")
        print(
            f"idle speed (>= 80% of {idle_rate:.0f}/s) first back in the window starting at: "
            + (f"{back:.1f} s" if back is not None else f"not within {args.recovery:.0f} s")
            + "; held for 3 s from: "
            + (f"{held:.1f} s" if held is not None else f"not within {args.recovery:.0f} s"),
            flush=True,
        )
        print(
            f"recovery median latency {statistics.median(recovery.latencies) * 1000:.1f} ms"
            if recovery.latencies
            else ""
        )
        print(f"load average after: {os.getloadavg()}")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        print(f"server log: {work / 'server.log'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", required=True, help="a PostgreSQL server URL (a database is made on it)"
    )
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--recovery", type=float, default=10.0)
    parser.add_argument(
        "--retry-after", action="store_true", help="clients wait 1 s (Retry-After) after a 503"
    )
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the server")
    uvloop.run(main(parser.parse_args()))
