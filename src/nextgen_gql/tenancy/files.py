"""Court files (``tenants/{code}.toml``): reading and validating them.

Validation collects every problem of every file, each naming the file, the field, the
line where it can be found and the reason, so that ``tenants validate`` and start-up say
everything wrong at once.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nextgen_gql.enums import CourtKind, FilerRole
from nextgen_gql.tenancy.courts import Court, HelpDesk

__all__ = [
    "DEFAULT_ROLES",
    "CourtFileError",
    "TenantFileProblem",
    "add_court_file",
    "court_to_toml",
    "load_courts",
    "parse_court_file",
    "parse_court_text",
    "validate_dir",
]

#: The roles a court of each kind accepts unless its file says otherwise.
DEFAULT_ROLES: dict[CourtKind, tuple[FilerRole, ...]] = {
    CourtKind.APPELLATE: (FilerRole.ATTORNEY, FilerRole.PRO_SE),
    CourtKind.DISTRICT: (FilerRole.ATTORNEY, FilerRole.PRO_SE, FilerRole.MEDIA),
    CourtKind.BANKRUPTCY: (FilerRole.ATTORNEY, FilerRole.CREDITOR, FilerRole.TRUSTEE, FilerRole.FILING_AGENT),
}

CODE_RE = re.compile(r"^[a-z][a-z0-9]{1,15}$")
HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_KEYS = {"code", "name", "kind", "nextgen_since", "accepted_roles", "hosts", "help_desk"}
_HELP_DESK_KEYS = {"phone", "email", "url"}


@dataclass(frozen=True)
class TenantFileProblem:
    """One thing wrong with one court file."""

    file: Path
    field: str | None
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.file) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class CourtFileError(Exception):
    """One or more court files are invalid; ``problems`` names each."""

    def __init__(self, problems: list[TenantFileProblem]) -> None:
        self.problems = problems
        super().__init__("invalid court files:\n" + "\n".join(f"  {p}" for p in problems))


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(\[{re.escape(key)}\]|{re.escape(key)}\s*=)", re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def parse_court_file(path: Path) -> tuple[Court | None, list[TenantFileProblem]]:
    """Parse one court file; return the court (or None) and every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [TenantFileProblem(path, None, f"cannot be read: {exc}")]
    return parse_court_text(path, text)


def parse_court_text(path: Path, text: str) -> tuple[Court | None, list[TenantFileProblem]]:
    """Parse the text of the court file at ``path`` (which need not exist yet)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        if match:
            line: int | None = int(match.group(1))
        else:  # "at end of document"
            line = max(1, len(text.splitlines()))
        return None, [TenantFileProblem(path, None, f"TOML syntax error: {exc}", line)]

    problems: list[TenantFileProblem] = []

    def bad(field: str, reason: str) -> None:
        problems.append(TenantFileProblem(path, field, reason, _line_of(text, field.split(".")[0])))

    for key in sorted(set(data) - _KEYS):
        bad(key, f"unknown field (expected one of: {', '.join(sorted(_KEYS))})")

    code = data.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code):
        bad("code", f"must be lowercase letters and digits, starting with a letter; got {code!r}")
    elif code != path.stem:
        bad("code", f"{code!r} does not match the file name {path.name!r} (expected {code}.toml)")

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("name", "is required and must be a non-empty string")

    kind_raw = data.get("kind")
    kind: CourtKind | None = None
    try:
        kind = CourtKind(kind_raw)
    except ValueError:
        kinds = " | ".join(k.value for k in CourtKind)
        bad("kind", f"must be one of {kinds}; got {kind_raw!r}")

    since_raw = data.get("nextgen_since")
    since: dt.date | None = None
    if isinstance(since_raw, dt.datetime):
        bad("nextgen_since", f"must be a date (YYYY-MM-DD), not a date-time; got {since_raw}")
    elif isinstance(since_raw, dt.date):
        since = since_raw
    elif isinstance(since_raw, str):
        try:
            since = dt.date.fromisoformat(since_raw)
        except ValueError:
            bad("nextgen_since", f"must be a date (YYYY-MM-DD); got {since_raw!r}")
    elif since_raw is not None:
        bad("nextgen_since", f"must be a date (YYYY-MM-DD); got {since_raw!r}")

    roles: list[FilerRole] = []
    roles_raw = data.get("accepted_roles")
    if not isinstance(roles_raw, list) or not roles_raw:
        bad("accepted_roles", "is required: a non-empty list of filer roles")
    else:
        for raw in roles_raw:
            try:
                role = FilerRole.parse(raw) if isinstance(raw, str) else FilerRole.parse(repr(raw))
            except ValueError as exc:
                bad("accepted_roles", str(exc))
                continue
            if role in roles:
                bad("accepted_roles", f"role {raw!r} is listed twice")
            roles.append(role)

    hosts: list[str] = []
    hosts_raw = data.get("hosts", [])
    if not isinstance(hosts_raw, list):
        bad("hosts", "must be a list of host names")
    else:
        for raw in hosts_raw:
            host = raw.strip().lower() if isinstance(raw, str) else ""
            if not HOST_RE.match(host):
                bad("hosts", f"{raw!r} is not a valid host name")
            else:
                hosts.append(host)

    help_desk: HelpDesk | None = None
    desk_raw = data.get("help_desk")
    if desk_raw is not None:
        if not isinstance(desk_raw, dict):
            bad("help_desk", "must be a table with phone, email and url")
        else:
            for key in sorted(set(desk_raw) - _HELP_DESK_KEYS):
                bad(f"help_desk.{key}", "unknown field (expected phone, email or url)")
            values = {k: desk_raw.get(k) for k in _HELP_DESK_KEYS}
            for key, value in values.items():
                if value is not None and not isinstance(value, str):
                    bad(f"help_desk.{key}", f"must be a string; got {value!r}")
            help_desk = HelpDesk(**{k: v for k, v in values.items() if isinstance(v, str)})

    if problems or kind is None or not isinstance(code, str) or not isinstance(name, str):
        return None, problems
    court = Court(
        code=code,
        name=name.strip(),
        kind=kind,
        nextgen_since=since,
        accepted_roles=tuple(roles),
        hosts=tuple(hosts),
        help_desk=help_desk,
    )
    return court, []


def _court_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.toml") if p.is_file())


def validate_dir(directory: Path) -> tuple[list[Court], list[TenantFileProblem]]:
    """Read every court file in ``directory``; return the good courts and all problems."""
    if not directory.is_dir():
        return [], [TenantFileProblem(directory, None, "court folder does not exist")]
    courts: list[Court] = []
    problems: list[TenantFileProblem] = []
    for path in _court_files(directory):
        court, found = parse_court_file(path)
        problems.extend(found)
        if court is not None:
            courts.append(court)
    problems.extend(_cross_file_problems(courts, directory))
    return courts, problems


def _cross_file_problems(courts: Iterable[Court], directory: Path) -> list[TenantFileProblem]:
    problems: list[TenantFileProblem] = []
    owner: dict[str, str] = {}
    for court in courts:
        for host in court.hosts:
            if host in owner:
                path = directory / f"{court.code}.toml"
                problems.append(
                    TenantFileProblem(
                        path,
                        "hosts",
                        f"host {host!r} is already used by {owner[host]}.toml",
                        _line_of(path.read_text(encoding="utf-8"), "hosts"),
                    )
                )
            else:
                owner[host] = court.code
    return problems


def load_courts(directory: Path) -> list[Court]:
    """Every court of ``directory``; raises :class:`CourtFileError` naming every problem."""
    courts, problems = validate_dir(directory)
    if problems:
        raise CourtFileError(problems)
    if not courts:
        raise CourtFileError([TenantFileProblem(directory, None, "no court files (*.toml) found")])
    return courts


def court_to_toml(court: Court) -> str:
    """Render a court as the text of its file (used by ``tenants add``)."""

    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"code = {q(court.code)}", f"name = {q(court.name)}", f"kind = {q(court.kind.value)}"]
    if court.nextgen_since:
        lines.append(f"nextgen_since = {court.nextgen_since.isoformat()}")
    lines.append("accepted_roles = [" + ", ".join(q(r.value) for r in court.accepted_roles) + "]")
    if court.hosts:
        lines.append("hosts = [" + ", ".join(q(h) for h in court.hosts) + "]")
    if court.help_desk:
        lines.append("")
        lines.append("[help_desk]")
        for key in ("phone", "email", "url"):
            value: Any = getattr(court.help_desk, key)
            if value:
                lines.append(f"{key} = {q(value)}")
    return "\n".join(lines) + "\n"


def add_court_file(directory: Path, court: Court) -> Path:
    """Write ``directory/{code}.toml`` for a new court, refusing what would make the folder invalid.

    Raises :class:`CourtFileError` (nothing written) when the code is malformed or taken, or
    a host is already another court's; the new file is validated as start-up would read it.
    """
    path = directory / f"{court.code}.toml"
    problems: list[TenantFileProblem] = []
    if not CODE_RE.match(court.code):
        problems.append(
            TenantFileProblem(
                path,
                "code",
                f"must be lowercase letters and digits, starting with a letter; got {court.code!r}",
            )
        )
    elif path.exists():
        problems.append(
            TenantFileProblem(path, "code", f"{court.code!r} exists already: edit {path} instead")
        )
    existing, _ = validate_dir(directory) if directory.is_dir() else ([], [])
    for other in existing:
        if other.code == court.code:
            continue
        for host in set(other.hosts) & set(court.hosts):
            problems.append(
                TenantFileProblem(path, "hosts", f"host {host!r} is already used by {other.code}.toml")
            )
    if problems:
        raise CourtFileError(problems)
    text = court_to_toml(court)
    parsed, found = parse_court_text(path, text)
    if parsed is None or found:
        raise CourtFileError(found)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{court.code}.toml.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file
    return path
