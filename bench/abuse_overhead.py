"""What query costing and points per hour cost on `me` (bench/harness.py's query), in-process.

    .venv/bin/python bench/abuse_overhead.py [--requests 1500] [--rounds 5]

One app over a fresh demo database (SQLite, in a temporary folder), its lifespan run as a
server runs it, requests sent straight through ASGI (httpx's transport) with a signed-in
filer's token. The same app is switched, round by round and in alternating order, between:

- off: no node count (``GraphQLView.node_count`` answers 0 at once) and no budgets
  (``NEXTGEN_GQL_RATE_LIMIT_POINTS=0``);
- on: the node count built once per document and evaluated per request, and every request
  charged to the account's budget (a budget of 10^9 points: charged, never binding).

It prints the median microseconds per request of each and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from harness import SCENARIOS  # noqa: E402

from nextgen_gql.api.view import GraphQLView  # noqa: E402
from nextgen_gql.app import create_app  # noqa: E402
from nextgen_gql.settings import Settings  # noqa: E402


async def main(requests: int, rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="abuse-overhead-"))
    settings = Settings(
        database_url=f"sqlite://{work / 'bench.sqlite3'}",
        tenants_dir=REPO / "tenants",
        mail_dir=work / "mail",
        demo=True,
        request_log=False,
        rate_limit_points=10**9,
    )
    app = create_app(settings)
    view: GraphQLView = app.state.view
    counting = view.node_count
    _, _, query = SCENARIOS["me"]
    async with LifespanManager(app, startup_timeout=300) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            signed = await client.post(
                "/graphql",
                json={
                    "query": 'mutation { signIn(input: {username: "jmorgan2019", password: '
                    '"Granite-Falcon-Morning-88", redactionAcknowledged: true}) { token } }'
                },
            )
            token = signed.json()["data"]["signIn"]["token"]
            headers = {"authorization": f"Bearer {token}"}

            def switch(on: bool) -> None:
                view.budgets.points = 10**9 if on else 0
                view.node_count = counting if on else (lambda *args: 0)  # type: ignore[method-assign]

            async def timed() -> float:
                start = time.perf_counter()
                for _ in range(requests):
                    response = await client.post("/graphql", json={"query": query}, headers=headers)
                    assert response.status_code == 200 and "errors" not in response.json(), response.text
                return (time.perf_counter() - start) / requests * 1e6

            for on in (False, True):  # warm both
                switch(on)
                await timed()
            results: dict[bool, list[float]] = {False: [], True: []}
            for round_ in range(rounds):
                for on in (False, True) if round_ % 2 == 0 else (True, False):
                    switch(on)
                    results[on].append(await timed())
                print(f"  round {round_ + 1}: off {results[False][-1]:.0f} us, on {results[True][-1]:.0f} us")
    off, on = statistics.median(results[False]), statistics.median(results[True])
    print(f"\n`me`, in-process, {requests} requests x {rounds} rounds (medians):")
    print(f"| off | {off:.0f} us |\n| on | {on:.0f} us |\n| difference | {100 * (on / off - 1):+.1f}% |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
