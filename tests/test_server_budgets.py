"""Two workers share one caller's budget through PostgreSQL (``services.budgets``), against the
real server (``nextgen-gql serve --workers 2``)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.test_server import serving

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(databases.backend() != "postgres", reason="several workers need PostgreSQL"),
]

QUERY = {"query": "{ rateLimit { used limit } }"}


def spend(base: str) -> httpx.Response:
    # A new connection each time, so that either worker may answer.
    with httpx.Client(timeout=30) as client:
        return client.post(base + "/graphql", json=QUERY, headers={"connection": "close"})


def test_two_workers_share_a_callers_budget(tmp_path: Path, fresh_database_url: str) -> None:
    env = {"NEXTGEN_GQL_RATE_LIMIT_POINTS": "100"}  # an anonymous address: 20 points an hour
    with serving(tmp_path, "--workers", "2", database_url=fresh_database_url, env=env) as base:
        used = []
        for _ in range(2):
            for _ in range(10):
                response = spend(base)
                assert response.status_code == 200, response.text
                used.append(response.json()["data"]["rateLimit"]["used"])
            time.sleep(2.5)  # each worker adds its spending and reads the total about once a second
        # After the pause, whichever worker answers knows the first 10 points of both.
        assert min(used[10:]) > 10, used
        # 20 points were spent across both workers: whichever answers now, the budget is gone.
        refused = [spend(base) for _ in range(8)]
        assert [r.status_code for r in refused] == [429] * 8, [r.text for r in refused]
        assert all(r.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED" for r in refused)
        rows = databases.query(
            fresh_database_url, "SELECT caller, points FROM rate_spending WHERE caller = 'addr:127.0.0.1'"
        )
        assert [tuple(r) for r in rows] == [("addr:127.0.0.1", 20)]
