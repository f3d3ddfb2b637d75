"""``nextgen-gql backup`` (issue 31, item 5): a consistent copy made while writes run, checked and
counted; a service started on the copy finds every write acknowledged before the backup began;
refusals exit 2 and write nothing. On SQLite, and on PostgreSQL with NEXTGEN_GQL_TEST_POSTGRES
(restored with pg_restore into a fresh database of the suite's cluster)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nextgen_gql.cli import main
from nextgen_gql.services.backup.postgres import Connection, pg_dump_command
from nextgen_gql.settings import Settings
from tests import databases
from tests.api.firm_helpers import JAMES_NUMBER
from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, running_api

RECORD = """mutation($i: RecordUsageInput!) { recordUsage(input: $i) {
  charge { idempotencyKey } errors { code message } } }"""
MY_CHARGES = """query($q: String!) { me { statement(quarter: $q) { charges { idempotencyKey } } } }"""
WRITERS = 4


def backup_cli(database_url: str, output: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "nextgen_gql",
        "--database-url",
        database_url,
        "backup",
        "--output",
        str(output),
        *extra,
    ]


def printed_counts(stdout: str) -> dict[str, int]:
    """The rows per table the command printed (the lines before its summary)."""
    counts = {}
    for line in stdout.splitlines():
        if line.startswith("backup:"):
            break
        name, rows = line.split()
        counts[name] = int(rows)
    return counts


def restore(backup: Path, folder: Path) -> str:
    """A database holding the backup: the copy itself (SQLite), or a fresh database it was
    restored into with pg_restore (PostgreSQL)."""
    if databases.POSTGRES is None:
        return f"sqlite://{backup}"
    url = databases.new_database_url(folder)
    subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={url}", str(backup)], check=True, capture_output=True
    )
    return url


def count(url: str, table: str) -> int:
    return int(databases.query(url, f'SELECT count(*) FROM "{table}"')[0][0])


def quarter(now: dt.datetime) -> str:
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


async def test_a_backup_taken_while_usage_is_recorded_holds_every_charge_acknowledged_before_it(
    settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "backups" / "nextgen.backup"
    output.parent.mkdir()
    acknowledged: list[str] = []
    answered = asyncio.Condition()
    stop = asyncio.Event()
    async with running_api(settings) as api:
        clerk = await api.sign_in(CLERKS["ca1"], CLERK_PASSWORD)

        async def writer(n: int) -> None:
            i = 0
            while not stop.is_set():
                key = f"backup-{n}-{i}"
                i += 1
                item = {"accountNumber": JAMES_NUMBER, "kind": "DOCUMENT", "pages": 3, "idempotencyKey": key}
                data = await api.data(RECORD, {"i": item}, court="ca1", token=clerk)
                assert data["recordUsage"]["errors"] == [], data
                async with answered:
                    acknowledged.append(key)
                    answered.notify_all()

        async def acknowledged_at_least(n: int) -> None:
            async with answered:
                await answered.wait_for(lambda: len(acknowledged) >= n)

        writers = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
        try:
            await asyncio.wait_for(acknowledged_at_least(20), 120)
            before = set(acknowledged)
            process = await asyncio.create_subprocess_exec(
                *backup_cli(settings.database_url, output),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await process.communicate()
            during = len(acknowledged) - len(before)
            await asyncio.wait_for(acknowledged_at_least(len(acknowledged) + 10), 120)
        finally:
            stop.set()
            await asyncio.gather(*writers)
    assert process.returncode == 0, stderr.decode()
    assert during > 0, "no write was acknowledged while the backup ran"
    report = stdout.decode()
    assert "PRAGMA integrity_check: ok" in report or "pg_restore --list" in report, report
    counts = printed_counts(report)
    assert {"charges", "pacer_accounts", "audit_events", "cmecf_accounts"} <= set(counts)
    assert not [name for name in counts if name.endswith("_search") or name.startswith("sqlite_")]
    assert len(before) <= counts["charges"] < count(settings.database_url, "charges")
    assert [p.name for p in output.parent.iterdir()] == [output.name]  # nothing beside it
    assert stat.S_IMODE(output.stat().st_mode) == 0o600

    restored = await asyncio.to_thread(restore, output, tmp_path)
    try:
        # The counts printed are the copy's, table for table, though writes ran all along.
        assert {table: count(restored, table) for table in counts} == counts
        async with running_api(settings.with_(database_url=restored)) as api:
            james = await api.sign_in(*FILER)
            data = await api.data(MY_CHARGES, {"q": quarter(dt.datetime.now(dt.UTC))}, token=james)
        kept = {c["idempotencyKey"] for c in data["me"]["statement"]["charges"]}
        assert before <= kept, sorted(before - kept)
        assert {k for k in kept if k.startswith("backup-")} <= set(acknowledged)  # every write was answered
    finally:
        if restored != f"sqlite://{output}":
            await asyncio.to_thread(databases.drop_database, restored)


@pytest.fixture
def backup(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``nextgen-gql backup ...`` in-process, on the demo database."""
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", settings.database_url)

    def invoke(*args: str) -> int:
        return main(["backup", *args])

    return invoke


def test_an_existing_file_is_kept_without_force_and_replaced_with_it(
    backup: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "nextgen.backup"
    output.write_bytes(b"last night's backup")
    assert backup("--output", str(output)) == 2
    err = capsys.readouterr().err
    assert f"{output} exists; add --force to replace it" in err and "nothing written" in err
    assert output.read_bytes() == b"last night's backup"
    assert [p.name for p in folder.iterdir()] == ["nextgen.backup"]

    assert backup("--output", str(output), "--force") == 0
    assert "backup:" in capsys.readouterr().out
    assert output.read_bytes() != b"last night's backup"
    assert [p.name for p in folder.iterdir()] == ["nextgen.backup"]


@pytest.mark.parametrize("where", ["missing folder", "under a file", "a folder"])
def test_an_unwritable_output_is_refused_and_nothing_written(
    backup: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a folder")
    output = {
        "missing folder": folder / "no-such-folder" / "nextgen.backup",
        "under a file": folder / "notes.txt" / "nextgen.backup",
        "a folder": folder,
    }[where]
    assert backup("--output", str(output), "--force") == 2
    err = capsys.readouterr().err
    assert "--output" in err and str(output) in err and "nothing written" in err, err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through a read-only folder's mode")
def test_a_read_only_folder_is_refused(
    backup: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    assert backup("--output", str(folder / "nextgen.backup")) == 2
    assert "Permission denied" in capsys.readouterr().err
    assert list(folder.iterdir()) == []


def test_missing_postgresql_client_programs_are_refused_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Refused before any connection: on the SQLite leg a URL of a server that is not there will do.
    url = f"{databases.POSTGRES}/postgres" if databases.POSTGRES else "postgres://nobody@127.0.0.1:9/none"
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", url)
    output = tmp_path / "out" / "nextgen.dump"
    output.parent.mkdir()
    empty = tmp_path / "bin-empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert main(["backup", "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert "pg_dump and pg_restore not found on the PATH" in err and "nothing written" in err, err
    assert list(output.parent.iterdir()) == []

    pg_dump = shutil.which("pg_dump", path=os.defpath + ":/usr/bin:/usr/local/bin")
    if pg_dump is not None:  # pg_dump alone: pg_restore, which checks the dump, is named
        only_dump = tmp_path / "bin-dump"
        only_dump.mkdir()
        (only_dump / "pg_dump").symlink_to(pg_dump)
        monkeypatch.setenv("PATH", str(only_dump))
        assert main(["backup", "--output", str(output)]) == 2
        err = capsys.readouterr().err
        assert "pg_restore not found on the PATH" in err and "pg_dump and" not in err, err
        assert list(output.parent.iterdir()) == []


def test_the_password_reaches_pg_dump_through_its_environment_only() -> None:
    conn = Connection.of(
        "postgres://nextgen:s%40cr%3At%20pw@db.internal:6432/nextgen?sslmode=require&maxsize=10"
    )
    assert (conn.host, conn.port, conn.user, conn.password, conn.dbname) == (
        "db.internal",
        6432,
        "nextgen",
        "s@cr:t pw",
        "nextgen",
    )
    argv, env = pg_dump_command(
        "pg_dump", conn, "00000003-0000001B-1", Path("/tmp/x.dump"), {"PATH": "/usr/bin"}
    )
    assert argv == [
        "pg_dump",
        "--format=custom",
        "--snapshot=00000003-0000001B-1",
        "--file=/tmp/x.dump",
        "--no-password",
        "--host=db.internal",
        "--port=6432",
        "--username=nextgen",
        "--dbname=nextgen",
    ]
    assert not [a for a in argv if "s@cr" in a or "cr%3A" in a]
    assert env == {"PATH": "/usr/bin", "PGPASSWORD": "s@cr:t pw", "PGSSLMODE": "require"}
    # A database name that looks like options stays a name.
    odd = Connection.of("postgres://u@h/host%3Devil")
    argv, _ = pg_dump_command("pg_dump", odd, "s", Path("/tmp/x"), {})
    assert argv[-1] == "--dbname=dbname='host=evil'"


@pytest.mark.skipif(databases.POSTGRES is None, reason="PostgreSQL: pg_dump's failure")
def test_a_failing_pg_dump_leaves_nothing(
    backup: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pg_dump that writes half a file and fails: exit 1 with its message, no file, no leftover."""
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "pg_dump"
    fake.write_text(
        '#!/bin/sh\nfor a in "$@"; do case $a in --file=*) echo partial > "${a#--file=}";; esac; done\n'
        "echo 'pg_dump: error: server closed the connection unexpectedly' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    real_restore = shutil.which("pg_restore")
    assert real_restore is not None
    (tools / "pg_restore").symlink_to(real_restore)
    monkeypatch.setenv("PATH", str(tools))
    output = tmp_path / "out" / "nextgen.dump"
    output.parent.mkdir()
    assert backup("--output", str(output)) == 1
    err = capsys.readouterr().err
    assert "pg_dump failed (exit 1): pg_dump: error: server closed the connection unexpectedly" in err, err
    assert f"nothing was written to {output}" in err
    assert list(output.parent.iterdir()) == []


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs PostgreSQL's client programs")
def test_a_database_that_cannot_be_reached_fails_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", "postgres://nextgen:secret@127.0.0.1:9/nextgen")
    output = tmp_path / "out" / "nextgen.dump"
    output.parent.mkdir()
    assert main(["backup", "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert (
        "backup failed: cannot connect to the database" in err and f"nothing was written to {output}" in err
    )
    assert "secret" not in err
    assert list(output.parent.iterdir()) == []


@pytest.mark.skipif(databases.POSTGRES is not None, reason="SQLite: the database file itself")
def test_the_database_and_its_key_are_never_the_output(
    backup: Any, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    database = Path(settings.database_url.removeprefix("sqlite://"))
    key_file = Path(f"{database}.secret-key")
    key_file.write_text("k" * 48 + "\n")
    before = database.read_bytes()
    assert backup("--output", str(database), "--force") == 2
    assert "is the database itself" in capsys.readouterr().err
    assert database.read_bytes() == before
    assert backup("--output", str(key_file), "--force") == 2
    assert "is the database's secret key" in capsys.readouterr().err
    assert key_file.read_text() == "k" * 48 + "\n"


@pytest.mark.skipif(databases.POSTGRES is not None, reason="SQLite: the key kept beside the file")
def test_a_sqlite_backup_names_the_secret_key_it_does_not_hold(
    backup: Any, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = Path(settings.database_url.removeprefix("sqlite://") + ".secret-key")
    key_file.write_text("k" * 48 + "\n")
    output = tmp_path / "nextgen.backup"
    assert backup("--output", str(output)) == 0
    out = capsys.readouterr().out
    assert f"the database's secret key is in {key_file}, not in the backup" in out


@pytest.mark.skipif(databases.POSTGRES is not None, reason="SQLite: a database that is not there")
def test_a_missing_sqlite_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEXTGEN_GQL_DATABASE_URL", f"sqlite://{tmp_path / 'none.sqlite3'}")
    assert main(["backup", "--output", str(tmp_path / "b")]) == 2
    assert f"no SQLite database at {tmp_path / 'none.sqlite3'}" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite3").exists() and not (tmp_path / "b").exists()
