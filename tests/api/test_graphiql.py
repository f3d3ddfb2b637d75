"""GraphiQL, served from the package: nothing loaded from outside, a strict policy."""

from __future__ import annotations

import re

import pytest

from nextgen_gql.settings import Settings
from nextgen_gql.web import STATIC_DIR
from tests.conftest import Api, running_api


@pytest.mark.parametrize("path", ["/graphql", "/courts/mad/graphql"])
async def test_the_page_loads_only_the_services_own_files(api: Api, path: str) -> None:
    page = await api.client.get(path, headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy
        and "connect-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), "an asset from outside the service"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(assets) == 6
    for asset in assets:
        response = await api.client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].split(";")[0] in {"text/javascript", "text/css"}
    assert f'data-endpoint="{path}"' in page.text
    assert "<token>" not in page.text.split('id="default-query">')[1].split("</script>")[0]


DEMO_SECRETS = [
    "lp1234",
    "Boston2011!",
    "Granite-Falcon-Morning-88",
    "Court-Docket-Review-2026!",
    "madclerk01",
]


@pytest.mark.parametrize("path", ["/graphql", "/courts/mad/graphql"])
async def test_the_first_tab_names_the_demo_accounts_only_on_a_demo_service(
    settings: Settings, path: str
) -> None:
    async with running_api(settings) as plain:
        page = (await plain.client.get(path, headers={"accept": "text/html"})).text
        assert [s for s in DEMO_SECRETS if s in page] == []
        assert "Sign in with your PACER account" in page and "mutation SignIn" in page
    async with running_api(settings.with_(demo=True)) as demo:
        page = (await demo.client.get(path, headers={"accept": "text/html"})).text
        assert all(s in page for s in DEMO_SECRETS), "the first tab shows how to begin with the demo"


def test_the_bundled_assets_carry_their_licenses_and_versions() -> None:
    licenses = {p.name for p in (STATIC_DIR / "licenses").iterdir()}
    assert {"react.LICENSE", "react-dom.LICENSE", "graphiql.LICENSE"} <= licenses
    versions = (STATIC_DIR / "graphiql" / "VERSIONS").read_text().split()
    assert "react@18.2.0" in versions and "graphiql@3.8.3" in versions
    for line in (STATIC_DIR / "graphiql" / "VERSIONS").read_text().splitlines():
        assert line.split()[1].startswith("sha512-")
    # The SPA's chart (scripts/build-uplot): pinned, its license beside it.
    assert "uplot.LICENSE" in licenses
    assert (STATIC_DIR / "uplot" / "VERSIONS").read_text().split()[0] == "uplot@1.6.32"
    assert (STATIC_DIR / "uplot" / "uPlot.iife.min.js").stat().st_size > 10_000


async def test_graphiql_can_be_turned_off(settings: Settings) -> None:
    """NEXTGEN_GQL_GRAPHIQL=false: the API only."""
    async with running_api(settings.with_(graphiql=False)) as off:
        page = await off.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code != 200 or "graphiql" not in page.text.lower()


async def test_the_spa_is_served_with_a_strict_policy(api: Api) -> None:
    page = await api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    for asset in [*re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text), "/static/app/operations.json"]:
        assert (await api.client.get(asset)).status_code == 200, asset
    script = (STATIC_DIR / "app" / "app.js").read_text()
    assert "innerHTML" not in script, "the SPA builds its DOM from text, never markup"


async def test_clerk_of_lists_the_viewers_courts_only(api: Api) -> None:
    token = await api.sign_in("madclerk01", "Court-Docket-Review-2026!")
    assert (await api.data("{ me { clerkOf { code } } }", token=token))["me"]["clerkOf"] == [{"code": "mad"}]
    filer = await api.sign_in("jmorgan2019", "Granite-Falcon-Morning-88")
    assert (await api.data("{ me { clerkOf { code } } }", token=filer))["me"]["clerkOf"] == []
