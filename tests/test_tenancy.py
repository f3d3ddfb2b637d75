"""Court files and the registry: validation messages and constant-time addressing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from nextgen_gql.enums import CourtKind, FilerRole
from nextgen_gql.tenancy import CourtFileError, CourtRegistry, UnknownCourt, load_courts, validate_dir
from tests.conftest import REPO, TENANTS, write_tenant

GOOD = 'code = "{code}"\nname = "A Court"\nkind = "district"\naccepted_roles = ["attorney"]\n'


def test_the_suite_reads_its_courts_from_its_own_fixtures() -> None:
    """An integrator adds courts to the project's tenants/ (docs/integrators.md); the suite's
    courts are its own copy, so the suite stays green whatever tenants/ holds."""
    assert TENANTS.is_relative_to(REPO / "tests") and not TENANTS.samefile(REPO.joinpath("tenants"))
    assert sorted(p.name for p in TENANTS.iterdir()) == ["ca1.toml", "mab.toml", "mad.toml"]
    folder = '"tenants"'
    needles = ["REPO / " + folder, f"Path({folder})"]  # built here, so that this file holds neither
    for path in sorted((REPO / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not [n for n in needles if n in text], path


def test_the_shipped_courts_hold_the_suites_courts_unchanged() -> None:
    shipped = {c.code: c for c in load_courts(REPO.joinpath("tenants"))}  # the project's own
    for court in load_courts(TENANTS):
        assert shipped[court.code] == court


def test_shipped_courts_load_with_their_real_facts() -> None:
    courts = {c.code: c for c in load_courts(TENANTS)}
    assert set(courts) == {"ca1", "mad", "mab"}
    assert courts["ca1"].kind is CourtKind.APPELLATE and courts["ca1"].nextgen_since == dt.date(2017, 8, 21)
    assert courts["mad"].nextgen_since == courts["mab"].nextgen_since == dt.date(2021, 9, 20)
    assert courts["mad"].accepted_roles == (FilerRole.ATTORNEY, FilerRole.PRO_SE, FilerRole.MEDIA)
    assert courts["mab"].accepted_roles == (
        FilerRole.ATTORNEY,
        FilerRole.CREDITOR,
        FilerRole.TRUSTEE,
        FilerRole.FILING_AGENT,
    )
    for code, court in courts.items():
        assert court.hosts == (f"ecf.{code}.uscourts.gov",)
        assert court.help_desk is not None and court.help_desk.phone


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (GOOD.replace('"district"', '"supreme"'), "kind", "must be one of appellate | district | bankruptcy"),
        (GOOD.replace('code = "{code}"', 'code = "other"'), "code", "does not match the file name"),
        (GOOD.replace('code = "{code}"', 'code = "BAD!"'), "code", "lowercase letters and digits"),
        (GOOD.replace('["attorney"]', '["attorney", "wizard"]'), "accepted_roles", "unknown role 'wizard'"),
        (GOOD.replace('["attorney"]', "[]"), "accepted_roles", "non-empty list"),
        (GOOD + "nextgen_since = 2021-13-40\n", None, "TOML syntax error"),
        (GOOD + 'nextgen_since = "next year"\n', "nextgen_since", "must be a date"),
        (GOOD + 'hosts = ["not a host"]\n', "hosts", "not a valid host name"),
        (GOOD + 'acepted_roles = ["media"]\n', "acepted_roles", "unknown field"),
        (GOOD.replace('name = "A Court"\n', ""), "name", "is required"),
        (GOOD + '[help_desk]\nfax = "1"\n', "help_desk.fax", "unknown field"),
        ('code = "xyz"\nname = [\n', None, "TOML syntax error"),
    ],
)
def test_each_bad_file_names_file_field_and_reason(
    tmp_path: Path, text: str, field: str | None, reason: str
) -> None:
    path = write_tenant(tmp_path, "xyz", text.replace("{code}", "xyz"))
    courts, problems = validate_dir(tmp_path)
    assert courts == []
    assert len(problems) >= 1
    problem = problems[0]
    assert problem.file == path and problem.field == field and reason in problem.reason
    assert str(path) in str(problem)
    if "syntax" in reason:
        assert problem.line is not None


def test_syntax_errors_carry_the_line(tmp_path: Path) -> None:
    write_tenant(tmp_path, "xyz", GOOD.replace("{code}", "xyz") + "\n\nhosts = [\n")
    _, problems = validate_dir(tmp_path)
    assert problems[0].line is not None and problems[0].line >= 7


def test_duplicate_hosts_across_files(tmp_path: Path) -> None:
    for code in ("aaa", "bbb"):
        write_tenant(tmp_path, code, GOOD.replace("{code}", code) + 'hosts = ["ecf.shared.example"]\n')
    _, problems = validate_dir(tmp_path)
    assert [(p.file.name, p.field) for p in problems] == [("bbb.toml", "hosts")]
    assert "already used by aaa.toml" in problems[0].reason and problems[0].line == 5


def test_every_problem_of_every_file_is_reported_and_start_up_refuses(tmp_path: Path) -> None:
    write_tenant(tmp_path, "aaa", GOOD.replace("{code}", "aaa").replace('"district"', '"x"'))
    write_tenant(tmp_path, "bbb", GOOD.replace("{code}", "zzz").replace('["attorney"]', '["nope"]'))
    write_tenant(tmp_path, "ccc", GOOD.replace("{code}", "ccc"))
    with pytest.raises(CourtFileError) as caught:
        load_courts(tmp_path)
    fields = sorted((p.file.name, p.field) for p in caught.value.problems)
    assert fields == [("aaa.toml", "kind"), ("bbb.toml", "accepted_roles"), ("bbb.toml", "code")]


def test_registry_resolves_by_path_header_then_host() -> None:
    registry = CourtRegistry(load_courts(TENANTS))
    assert registry.resolve(path_code="mad", header_code=None, host="ecf.mab.uscourts.gov").code == "mad"
    assert registry.resolve(path_code=None, header_code="MAB", host="ecf.mad.uscourts.gov").code == "mab"
    assert registry.resolve(path_code=None, header_code=None, host="ecf.ca1.uscourts.gov:443").code == "ca1"
    assert registry.resolve(path_code=None, header_code=None, host="localhost:8000") is None
    with pytest.raises(UnknownCourt):
        registry.resolve(path_code="nope", header_code=None, host=None)
    with pytest.raises(ValueError, match="X-Court"):
        registry.resolve(path_code="mad", header_code="mab", host=None)
