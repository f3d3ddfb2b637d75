"""Benchmark: start-up and per-request cost with 3 courts and with 203 courts.

    .venv/bin/python bench/tenants_startup.py

Times, in-process, reading and validating the court files, the app's lifespan on a fresh
SQLite file (migrations and court rows), a second start on the same file, and 2,000
`{ court { code } }` requests addressed by Host (through the ASGI app, no network).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.api.test_many_courts import generate_courts  # noqa: E402

from nextgen_gql.app import create_app  # noqa: E402
from nextgen_gql.settings import Settings  # noqa: E402
from nextgen_gql.tenancy import load_courts  # noqa: E402


async def measure(folder: Path, work: Path, host: str) -> dict[str, float]:
    started = time.perf_counter()
    load_courts(folder)
    files = time.perf_counter() - started
    settings = Settings(
        database_url=f"sqlite://{work / 'db.sqlite3'}", tenants_dir=folder, mail_dir=work / "mail"
    )
    out = {"read and validate files": files}
    for label in ("first start (migrate, court rows)", "second start"):
        started = time.perf_counter()
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            out[label] = time.perf_counter() - started
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                started = time.perf_counter()
                for _ in range(2000):
                    response = await client.post(
                        "/graphql", json={"query": "{ court { code } }"}, headers={"Host": host}
                    )
                    assert response.json()["data"]["court"] is not None
                out[f"{label}: 2,000 requests by Host"] = time.perf_counter() - started
    return out


def main() -> None:
    for count in (3, 203):
        work = Path(tempfile.mkdtemp(prefix="nextgen-bench-"))
        try:
            folder = work / "tenants"
            shutil.copytree(REPO / "tenants", folder)
            host = "ecf.mad.uscourts.gov"
            if count > 3:
                codes = generate_courts(folder, count - 3)
                host = f"ecf.{codes[-1]}.uscourts.gov"
            results = asyncio.run(measure(folder, work, host))
            print(f"{count} courts:")
            for label, seconds in results.items():
                print(f"  {label:<45} {seconds * 1000:8.1f} ms")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
