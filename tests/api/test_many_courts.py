"""Two hundred courts and more: start-up, listing, and addressing by path, header and host."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nextgen_gql.settings import Settings
from tests import databases
from tests.conftest import TENANTS, running_api

STATES = [
    "al",
    "ak",
    "az",
    "ar",
    "ca",
    "co",
    "ct",
    "de",
    "fl",
    "ga",
    "hi",
    "id",
    "il",
    "in",
    "ia",
    "ks",
    "ky",
    "la",
    "me",
    "md",
    "mi",
    "mn",
    "ms",
    "mo",
    "mt",
    "ne",
    "nv",
    "nh",
    "nj",
    "nm",
    "ny",
    "nc",
    "nd",
    "oh",
    "ok",
    "or",
    "pa",
    "ri",
    "sc",
    "sd",
    "tn",
    "tx",
    "ut",
    "vt",
    "va",
    "wa",
    "wv",
    "wi",
    "wy",
]


def generate_courts(folder: Path, wanted: int = 200) -> list[str]:
    """Court files named as PACER names them: state + optional district letter + d or b."""
    codes: list[str] = []
    for state in STATES:
        for district in ["", "n", "s", "e", "w"]:
            for ending, kind, roles in [
                ("d", "district", '["attorney", "pro_se", "media"]'),
                ("b", "bankruptcy", '["attorney", "creditor", "trustee"]'),
            ]:
                code = f"{state}{district}{ending}"
                if len(codes) >= wanted or (folder / f"{code}.toml").exists():
                    continue
                (folder / f"{code}.toml").write_text(
                    f'code = "{code}"\nname = "Court {code.upper()}"\nkind = "{kind}"\n'
                    f"nextgen_since = 2022-01-{1 + len(codes) % 28:02d}\naccepted_roles = {roles}\n"
                    f'hosts = ["ecf.{code}.uscourts.gov"]\n'
                )
                codes.append(code)
    return codes


@pytest.fixture
def many(tmp_path: Path, fresh_database_url: str) -> tuple[Settings, list[str]]:
    folder = tmp_path / "tenants"
    shutil.copytree(TENANTS, folder)
    codes = generate_courts(folder)
    assert len(codes) == 200
    settings = Settings(
        database_url=fresh_database_url,
        tenants_dir=folder,
        mail_dir=tmp_path / "mail",
        secret_key=databases.SECRET_KEY,
    )
    return settings, codes


async def test_two_hundred_courts_load_and_each_answers_three_ways(many: tuple[Settings, list[str]]) -> None:
    settings, codes = many
    async with running_api(settings) as api:
        listed = (await api.data("{ courts { code } }"))["courts"]
        assert len(listed) == 203 and {"ca1", "mad", "mab"} <= {c["code"] for c in listed}
        query = "{ court { code } }"
        for code in [*codes[::7], codes[-1], "mad"]:
            assert (await api.data(query, court=code))["court"] == {"code": code}
            assert (await api.data(query, headers={"X-Court": code}))["court"] == {"code": code}
            assert (await api.data(query, headers={"Host": f"ecf.{code}.uscourts.gov"}))["court"] == {
                "code": code
            }
        missing = await api.post(query, court="zzzz")
        assert missing.status_code == 404
    # A second start with the same 200 files finds the court rows in place.
    async with running_api(settings) as api:
        assert len((await api.data("{ courts { code } }"))["courts"]) == 203
