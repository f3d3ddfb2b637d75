"""Addressing a request to a court: by path, X-Court header or Host."""

from __future__ import annotations

import pytest

from tests.conftest import Api

COURT = "{ court { code name kind nextgenSince isNextgen acceptedRoles helpDesk { phone url } } }"


async def test_national_endpoint_has_no_court(api: Api) -> None:
    assert (await api.data(COURT))["court"] is None


@pytest.mark.parametrize(
    ("code", "kind", "since", "roles"),
    [
        ("ca1", "APPELLATE", "2017-08-21", ["ATTORNEY", "PRO_SE"]),
        ("mad", "DISTRICT", "2021-09-20", ["ATTORNEY", "PRO_SE", "MEDIA"]),
        ("mab", "BANKRUPTCY", "2021-09-20", ["ATTORNEY", "CREDITOR", "TRUSTEE", "FILING_AGENT"]),
    ],
)
async def test_each_shipped_court_by_path_header_and_host(
    api: Api, code: str, kind: str, since: str, roles: list[str]
) -> None:
    by_path = (await api.data(COURT, court=code))["court"]
    by_header = (await api.data(COURT, headers={"X-Court": code.upper()}))["court"]
    by_host = (await api.data(COURT, headers={"Host": f"ecf.{code}.uscourts.gov"}))["court"]
    by_host_port = (await api.data(COURT, headers={"Host": f"ECF.{code.upper()}.uscourts.gov:8443"}))["court"]
    assert by_path == by_header == by_host == by_host_port
    assert by_path["code"] == code and by_path["kind"] == kind
    assert by_path["nextgenSince"] == since and by_path["isNextgen"] is True
    assert by_path["acceptedRoles"] == roles
    assert by_path["helpDesk"]["url"].startswith("https://www.")


async def test_courts_lists_every_court(api: Api) -> None:
    courts = (await api.data("{ courts { id code } }"))["courts"]
    assert [c["code"] for c in courts] == ["ca1", "mab", "mad"]
    assert len({c["id"] for c in courts}) == 3


@pytest.mark.parametrize("how", ["path", "header"])
async def test_unknown_court_is_a_404_with_a_graphql_shaped_body(api: Api, how: str) -> None:
    if how == "path":
        response = await api.post(COURT, court="zzz")
    else:
        response = await api.post(COURT, headers={"X-Court": "zzz"})
    assert response.status_code == 404
    body = response.json()
    assert "data" not in body  # a request error: nothing ran
    assert body["errors"][0]["extensions"]["code"] == "UNKNOWN_COURT"
    assert "zzz" in body["errors"][0]["message"]


async def test_an_unknown_host_is_the_national_endpoint(api: Api) -> None:
    assert (await api.data(COURT, headers={"Host": "pacer.example"}))["court"] is None


async def test_path_and_header_that_disagree_are_refused(api: Api) -> None:
    response = await api.post(COURT, court="mad", headers={"X-Court": "mab"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_healthz(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_mutations_are_refused_over_get(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": "mutation { signOut { ok } }"})
    assert response.status_code in (400, 405)
    assert "mutation" in response.text.lower()


async def test_reused_tenant_answers_still_follow_the_addressed_court(api: Api) -> None:
    """Answers made only of court data are reused, keyed by the addressed court."""
    for _ in range(2):
        assert (await api.data(COURT, court="mad"))["court"]["code"] == "mad"
        assert (await api.data(COURT, court="mab"))["court"]["code"] == "mab"
        assert (await api.data(COURT))["court"] is None
    mixed = "{ court { code } me { username } }"  # not tenant-only: the viewer matters
    token = await api.sign_in("jmorgan2019", "Granite-Falcon-Morning-88")
    assert (await api.data(mixed, court="mad", token=token))["me"] == {"username": "jmorgan2019"}
    assert (await api.data(mixed, court="mad"))["me"] is None
