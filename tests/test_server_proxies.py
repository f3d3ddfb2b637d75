"""The caller behind a proxy, against the real server (``nextgen-gql serve``) over TCP:
uvicorn's own proxy handling is off, the app's rule (``NEXTGEN_GQL_FORWARDED_ALLOW_IPS``)
alone decides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from nextgen_gql.services import throttle
from tests.test_server import serving

pytestmark = pytest.mark.server

SIGN_IN = """mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) {
  token errors { code } } }"""


def codes(base: str, username: str, forwarded: str) -> list[str]:
    response = httpx.post(
        base + "/graphql",
        json={"query": SIGN_IN, "variables": {"u": username, "p": "Not-The-Password-At-All-1"}},
        headers={"X-Forwarded-For": forwarded},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [e["code"] for e in response.json()["data"]["signIn"]["errors"]]


def test_spoofed_hops_behind_an_appending_proxy_do_not_escape_the_limit(
    tmp_path: Path, fresh_database_url: str
) -> None:
    """This test's client stands for a proxy on the same machine (loopback, trusted by
    default) that appends the address it saw (203.0.113.9) to what its client wrote."""
    limit = throttle.ADDRESS_SIGN_IN.limit
    with serving(tmp_path, database_url=fresh_database_url) as base:
        answers = [codes(base, f"nobody{i}", f"198.51.100.{i}, 203.0.113.9") for i in range(limit + 5)]
        assert answers == [["INVALID_CREDENTIALS"]] * limit + [["RATE_LIMITED"]] * 5
        assert codes(base, "nobody", "192.0.2.1") == ["INVALID_CREDENTIALS"]  # another caller


def test_uvicorns_own_allow_list_is_ignored(tmp_path: Path, fresh_database_url: str) -> None:
    """uvicorn's FORWARDED_ALLOW_IPS=* would believe anyone; the service's non-loopback list
    makes this direct client's X-Forwarded-For count for nothing."""
    limit = throttle.ADDRESS_SIGN_IN.limit
    env = {"FORWARDED_ALLOW_IPS": "*", "NEXTGEN_GQL_FORWARDED_ALLOW_IPS": "10.0.0.5"}
    with serving(tmp_path, database_url=fresh_database_url, env=env) as base:
        answers = [codes(base, f"nobody{i}", f"198.51.100.{i}") for i in range(limit + 3)]
        assert answers == [["INVALID_CREDENTIALS"]] * limit + [["RATE_LIMITED"]] * 3


def test_trust_forwarded_alone_stops_serve_with_a_message(tmp_path: Path) -> None:
    env = {**os.environ, "NEXTGEN_GQL_TRUST_FORWARDED": "true"}
    env.pop("NEXTGEN_GQL_FORWARDED_ALLOW_IPS", None)
    done = subprocess.run(
        [sys.executable, "-m", "nextgen_gql", "serve", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "NEXTGEN_GQL_FORWARDED_ALLOW_IPS" in done.stderr and "TRUST_FORWARDED is retired" in done.stderr
