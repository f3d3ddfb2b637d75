"""In a real browser: Debian's Chromium, headless, driven by Playwright, against the real server,
with every request that leaves the machine refused (court networks are often closed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_server import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(tmp_path: Path, fresh_database_url: str) -> Iterator[tuple[object, str, list[str]]]:
    from playwright.sync_api import sync_playwright

    with serving(tmp_path, "--demo", database_url=fresh_database_url) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        outside: list[str] = []

        def offline(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith(base):
                route.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(url)
                route.abort()  # type: ignore[attr-defined]

        page.route("**/*", offline)
        try:
            yield page, base, outside
        finally:
            browser.close()


def run_query(page: object, text: str) -> None:
    """Replace the editor's text (typing would meet its bracket auto-closing) and run it."""
    page.evaluate(  # type: ignore[attr-defined]
        "text => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text)", text
    )
    page.wait_for_timeout(500)  # type: ignore[attr-defined]  # GraphiQL takes up an edit after a short debounce
    page.locator(".graphiql-query-editor .CodeMirror").first.click()  # type: ignore[attr-defined]
    page.keyboard.press("Control+Enter")  # type: ignore[attr-defined]


def test_graphiql_loads_offline_and_runs_a_query(browser_page: tuple[object, str, list[str]]) -> None:
    page, base, outside = browser_page
    page.goto(f"{base}/courts/mad/graphql")  # type: ignore[attr-defined]
    page.wait_for_selector(".graphiql-container .graphiql-execute-button")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]  # the schema is loaded
    run_query(page, "{ court { code name } courts { code } }")
    result = page.locator(".result-window")  # type: ignore[attr-defined]
    result.get_by_text("U.S. District Court for the District of Massachusetts").wait_for(timeout=15000)
    assert outside == [], f"the page tried to reach {outside}"
    if os.environ.get("NEXTGEN_GQL_SCREENSHOTS"):  # refresh docs/screenshots/ on purpose only
        shots = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
        page.screenshot(path=str(shots / "graphiql.png"))  # type: ignore[attr-defined]


def test_signing_in_from_graphiql_uses_the_cookie(browser_page: tuple[object, str, list[str]]) -> None:
    page, base, outside = browser_page
    page.goto(f"{base}/graphql")  # type: ignore[attr-defined]
    page.wait_for_selector(".graphiql-container .graphiql-execute-button")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    for operation, expected in [
        (
            'mutation { signIn(input: {username: "jmorgan2019", password: "Granite-Falcon-Morning-88"}) { errors { code } } }',
            '"errors": []',
        ),
        ("{ me { username } }", '"username": "jmorgan2019"'),
    ]:
        run_query(page, operation)
        page.locator(".result-window").get_by_text(expected).wait_for(timeout=15000)  # type: ignore[attr-defined]
    cookies = page.context.cookies()  # type: ignore[attr-defined]
    session = [c for c in cookies if c["name"] == "NextGenCSO"]
    assert session and session[0]["httpOnly"] is True and session[0]["sameSite"] == "Lax"
    assert outside == []
