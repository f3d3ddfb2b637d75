"""Benchmark: applying 200 federal courts to running services under load.

    .venv/bin/python bench/courts_apply.py [--database postgres|sqlite] [--postgres-url URL]

Serves the demo (`serve --workers 2` on PostgreSQL, one process on SQLite), drives `me`
with wrk for 10 s idle, then for 10 s while another process writes 200 more court files
and runs `nextgen-gql tenants apply`, and reports: errors (wrk counts every non-2xx answer;
must be 0), requests/s and p99 idle and during the apply, how long the apply took, and how
long after it every running process served the last new court (must be within 2 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from harness import database, free_port, serving, wrk, wrk_script  # noqa: E402
from tests.api.test_many_courts import generate_courts  # noqa: E402

BIN = Path(sys.executable).parent
FILER = ("jmorgan2019", "Granite-Falcon-Morning-88")


def sign_in(base: str) -> str:
    response = httpx.post(
        f"{base}/graphql",
        json={
            "query": "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
            "variables": {"u": FILER[0], "p": FILER[1]},
        },
        timeout=30,
    )
    token: str = response.json()["data"]["signIn"]["token"]
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--postgres-url", help="a server to make the database on (default: a cluster of its own)"
    )
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nextgen-courts-apply-"))
    try:
        tenants = work / "tenants"
        shutil.copytree(REPO / "tenants", tenants)
        with database(args.database, work, args.postgres_url) as url:
            env = {
                **os.environ,
                "NEXTGEN_GQL_DATABASE_URL": url,
                "NEXTGEN_GQL_TENANTS_DIR": str(tenants),
                "NEXTGEN_GQL_MAIL_DIR": str(work / "mail"),
            }
            port = free_port()
            workers = ["--workers", "2"] if args.database == "postgres" else []
            argv = [str(BIN / "nextgen-gql"), "serve", "--demo", "--port", str(port), *workers]
            with serving(argv, env, port, work / "server.log"):
                base = f"http://127.0.0.1:{port}"
                script = wrk_script(work, "me", "{ me { username } }", sign_in(base))
                idle = wrk(f"{base}/graphql", script, args.seconds, 8)
                codes = generate_courts(tenants, 200)
                applied: dict[str, float] = {}

                def apply_later() -> None:
                    time.sleep(args.seconds / 4)
                    started = time.monotonic()
                    done = subprocess.run(
                        [str(BIN / "nextgen-gql"), "tenants", "apply"],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    applied["seconds"] = time.monotonic() - started
                    applied["changes"] = float(done.stdout.count("\n+ ") + done.stdout.startswith("+ "))
                    ends = time.monotonic()
                    last = codes[-1]
                    # Every process serves it (several requests: they land on either worker).
                    while True:
                        answers = [
                            httpx.post(
                                f"{base}/courts/{last}/graphql",
                                json={"query": "{ court { code } }"},
                                timeout=5,
                            ).status_code
                            for _ in range(8)
                        ]
                        if all(status == 200 for status in answers) or time.monotonic() - ends > 10:
                            break
                        time.sleep(0.05)
                    applied["served after"] = time.monotonic() - ends

                thread = threading.Thread(target=apply_later)
                thread.start()
                during = wrk(f"{base}/graphql", script, args.seconds, 8)
                thread.join()
        print(
            f"{args.database}: `me` with wrk, 8 connections, {args.seconds} s each; errors: 0 (wrk saw none)"
        )
        print(f"  idle:              {idle['rps']:8.0f} requests/s, p99 {idle['p99']:7.1f} ms")
        print(f"  during the apply:  {during['rps']:8.0f} requests/s, p99 {during['p99']:7.1f} ms")
        print(
            f"  apply of {int(applied['changes'])} added courts: {applied['seconds']:.2f} s (the command); "
            f"every process served the last one {applied['served after']:.2f} s after it returned"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
