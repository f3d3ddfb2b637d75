"""Issue 35, item 1, with the real client: Free Law Project's juriscraper (PyPI, pinned in the
test dependencies) signs in through PACER's authentication API as it does at PACER, and its
token works as a bearer at a court's GraphQL endpoint; a wrong password raises its
PacerLoginException. (juriscraper sends no otpCode: the second factor is tested over plain
HTTP in tests/api/test_pacer_auth_api.py.)"""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.conftest import FILER, Api

# juriscraper logs to a file under /var/log unless that folder is missing (it says so, once).
logging.getLogger("juriscraper").setLevel(logging.ERROR)
from juriscraper.pacer.http import PacerLoginException, PacerSession  # noqa: E402


def session(api: Api, username: str, password: str) -> PacerSession:
    # In-process: juriscraper's httpx client over the app itself (it is an httpx.AsyncClient).
    return PacerSession(
        username=username, password=password, transport=httpx.ASGITransport(app=api.app), http2=False
    )


async def test_juriscraper_signs_in_and_its_token_works_at_a_court(api: Api) -> None:
    pacer = session(api, *FILER)
    try:
        await pacer.login(url="http://testserver/services/cso-auth")
        token = pacer.cookies.get("NextGenCSO")
        assert token and pacer.cookies.get("PacerSession") == token
    finally:
        await pacer.aclose()
    data = await api.data("{ me { username } }", court="mad", token=token)
    assert data["me"] == {"username": "jmorgan2019"}


async def test_juriscraper_with_a_wrong_password_raises_its_login_exception(api: Api) -> None:
    pacer = session(api, FILER[0], "not-the-password")
    try:
        with pytest.raises(PacerLoginException, match="Invalid username/password"):
            await pacer.login(url="http://testserver/services/cso-auth")
    finally:
        await pacer.aclose()
