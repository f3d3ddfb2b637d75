"""What observing one request costs, in microseconds: the metrics and the request log line.

    .venv/bin/python bench/observability.py [--requests 20000]

Runs prometheus-client in multiprocess mode (as ``serve`` does) and writes the log lines as
``serve`` does (JSON, one line a request) to a file, then times ``count_request`` and
``log_request`` on the record of a `me` request, and the whole middleware around a trivial
app with the observers on and off.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import os
import statistics
import tempfile
import time
from pathlib import Path


def per_call(fn: object, n: int) -> float:
    call = fn  # type: ignore[assignment]
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            call()  # type: ignore[operator]
        runs.append((time.perf_counter() - started) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nextgen-observability-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(work)  # before prometheus-client is imported

    from nextgen_gql.observability import logs, metrics
    from nextgen_gql.observability.requests import ObserveRequests, RequestRecord
    from nextgen_gql.settings import Settings

    config = logs.logging_config(Settings())
    config["handlers"]["stderr"] = {
        "class": "logging.FileHandler",
        "filename": str(work / "requests.log"),
        "formatter": "json",
        "filters": ["withhold_parameters"],
    }
    logging.config.dictConfig(config)

    record = RequestRecord(
        "3f1c2d4e5a6b7c8d", "POST", "/graphql", "graphql", "127.0.0.1", time.perf_counter()
    )
    record.status, record.duration, record.addressed = 200, 0.000412, True
    record.operation, record.operation_type, record.execution, record.account_id = (
        "Landing",
        "query",
        "compiled",
        1,
    )
    n = args.requests
    print(f"microseconds a request, median of 5 x {n:,}:")
    print(f"  metrics (count_request)       {per_call(lambda: metrics.count_request(record), n):6.2f}")
    print(f"  request log line (log_request) {per_call(lambda: logs.log_request(record), n):6.2f}")

    async def app(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"{}"})  # type: ignore[operator]

    async def noop(message: object) -> None:
        return None

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": [], "client": ("127.0.0.1", 1)}

    def through(middleware: ObserveRequests) -> float:
        async def many() -> float:
            started = time.perf_counter()
            for _ in range(n):
                await middleware(dict(scope), receive, noop)
            return (time.perf_counter() - started) / n * 1e6

        return statistics.median(asyncio.run(many()) for _ in range(5))

    bare = through(ObserveRequests(app))
    full = through(ObserveRequests(app, observers=[metrics.count_request, logs.log_request]))
    print(f"  the middleware, observers off  {bare:6.2f}")
    print(f"  the middleware, observers on   {full:6.2f}  (+{full - bare:.2f})")


if __name__ == "__main__":
    main()
