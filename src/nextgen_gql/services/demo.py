"""The documented demo data (README, "Demo accounts"), loaded through the importers and the
registration services, as a court would: rosters, clerks, and a few filers the clerks
approved (a pro se party with a case, a media account, a pro hac vice attorney).

So that a clerk's "Move to NextGen" page has a history to show, mad's roster also holds
:data:`MOVE_ROSTER` generated legacy accounts, most of them linked (through
``linking.write_link``, the link's own path) by generated upgraded filers at moments spread
over the weeks since the court's NextGen date, and :data:`MOVE_APPROVALS` registrations
approved the same way. Those moments are set on the services' clock (``clock.set_now``)
while each is written, so every date and every kept count (the weekly lists the triggers
keep) is what it would be had it happened then. Generated from a fixed seed: the same on
every start.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from nextgen_gql.enums import FilerRole
from nextgen_gql.models import CmecfAccount, PacerAccount
from nextgen_gql.services import clock
from nextgen_gql.services.courts import grant_clerk
from nextgen_gql.services.imports import (
    CMECF_COLUMNS,
    PACER_COLUMNS,
    import_cmecf_accounts,
    import_pacer_accounts,
)
from nextgen_gql.services.linking import write_link
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.passwords import hash_password
from nextgen_gql.services.registrations import decide_registration, submit_registration
from nextgen_gql.tenancy import Court, CourtRegistry

__all__ = ["load_demo"]

DEMO_CLERKS = {"mad": "madclerk01", "mab": "mabclerk01", "ca1": "ca1clerk01"}
#: Filers whose e-file registrations the court's clerk approved: (username, court, registration).
DEMO_APPROVALS: list[tuple[str, str, dict[str, Any]]] = [
    ("nreyes2021", "mad", {"role": FilerRole.PRO_SE, "case_number": "1:25-cv-10311"}),
    ("dwalsh2022", "mad", {"role": FilerRole.MEDIA}),
    (
        "rpatel2022",
        "mad",
        {
            "role": FilerRole.ATTORNEY,
            "pro_hac_vice": True,
            "case_number": "1:25-cv-10234",
            "bar_number": "4455667",
            "bar_state": "NY",
        },
    ),
]


async def load_demo(courts: CourtRegistry, mailer: Mailer) -> bool:
    """Fill an empty database with the demo accounts, rosters and approvals; False if not empty."""
    if await PacerAccount.exists():
        return False
    folder = resources.files("nextgen_gql") / "demo"
    with resources.as_file(folder) as path:
        await import_pacer_accounts(Path(path) / "pacer_accounts.csv")
        for code, username in DEMO_CLERKS.items():
            if code in courts:
                court = courts.get(code)
                await import_cmecf_accounts(court, Path(path) / f"cmecf_{code}.csv")
                await grant_clerk(court, username)
    for username, code, fields in DEMO_APPROVALS:
        if code not in courts:
            continue
        court = courts.get(code)
        filer = await PacerAccount.get(username_key=username)
        registration = await submit_registration(filer, court, **fields)
        await decide_registration(
            await PacerAccount.get(username_key=DEMO_CLERKS[code]),
            court,
            registration.id,
            approve=True,
            reason=None,
            link_cmecf_login=None,
            mailer=mailer,
        )
    if "mad" in courts:
        await _move_history(courts.get("mad"), mailer)
    return True


#: The court whose move to NextGen the demo tells, its generated legacy accounts, and how
#: many generated filers it approved over the same weeks.
MOVE_COURT = "mad"
MOVE_ROSTER = 160
MOVE_APPROVALS = 12
#: The generated legacy logins (mv0001...) and the generated filers' usernames (ngfiler0001...).
MOVE_LOGIN_PREFIX = "mv"
MOVE_FILER_PREFIX = "ngfiler"
#: Role of each generated legacy account (by share) and the share of each role that linked.
_MOVE_ROLES = [("attorney", 0.7, 0.75), ("pro_se", 0.2, 0.35), ("media", 0.1, 0.6)]
_FIRST = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Jordan", "Kendall"]
_LAST = [
    "Abbott",
    "Brennan",
    "Carver",
    "Donnelly",
    "Ellison",
    "Fairbanks",
    "Galloway",
    "Hollis",
    "Ingram",
    "Keating",
    "Lockhart",
    "Merriman",
    "Northcott",
    "Oakes",
    "Pemberton",
    "Quimby",
]


def _moments(rng: random.Random, start: dt.datetime, end: dt.datetime, n: int) -> list[dt.datetime]:
    """``n`` moments between ``start`` and ``end``, oldest first, more of them early (the
    first months after a court's NextGen date, when most filers move)."""
    span = (end - start).total_seconds()
    return sorted(start + dt.timedelta(seconds=span * rng.random() ** 1.8) for _ in range(n))


async def _move_history(court: Court, mailer: Mailer) -> None:
    rng = random.Random(23)
    if court.nextgen_since is None:
        return
    end = clock.now() - dt.timedelta(hours=1)
    start = dt.datetime.combine(court.nextgen_since, dt.time(9), tzinfo=dt.UTC)
    if start >= end:
        return
    secret = await hash_password("legacy-ecf-pass-demo")  # one hash for every generated row
    people: list[tuple[str, str, str, str]] = []  # (login, first, last, role)
    linking: list[int] = []  # indexes of people who link
    for i in range(MOVE_ROSTER):
        pick, role, linked_share = rng.random(), _MOVE_ROLES[-1][0], _MOVE_ROLES[-1][2]
        for name, share, linked in _MOVE_ROLES:
            if pick < share:
                role, linked_share = name, linked
                break
            pick -= share
        people.append((f"{MOVE_LOGIN_PREFIX}{i + 1:04}", rng.choice(_FIRST), rng.choice(_LAST), role))
        if rng.random() < linked_share:
            linking.append(i)
    filers = len(linking) + MOVE_APPROVALS
    with tempfile.TemporaryDirectory() as folder:
        roster, accounts = Path(folder) / "roster.csv", Path(folder) / "accounts.csv"
        with roster.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow([*CMECF_COLUMNS, "cases", "password_hash"])
            for login, first, last, role in people:
                email = "" if rng.random() < 0.12 else f"{login}@filers.example"
                cases = "1:24-cv-1" + login[2:] if role == "pro_se" else ""
                out.writerow([login, first, last, email, role, cases, secret])
        with accounts.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow([*PACER_COLUMNS, "password_hash"])
            for n in range(filers):
                first, last = (
                    people[linking[n]][1:3] if n < len(linking) else (rng.choice(_FIRST), "Newfiler")
                )
                out.writerow(
                    [
                        f"{5200001 + n}",
                        f"{MOVE_FILER_PREFIX}{n + 1:04}",
                        first,
                        last,
                        f"{MOVE_FILER_PREFIX}{n + 1:04}@filers.example",
                        "2019-02-04",
                        "false",
                        secret,
                    ]
                )
        await import_cmecf_accounts(court, roster)
        await import_pacer_accounts(accounts)
    links = _moments(rng, start, end, len(linking))
    approvals = _moments(rng, start, end, MOVE_APPROVALS)
    clerk = await PacerAccount.get(username_key=DEMO_CLERKS[MOVE_COURT])
    try:
        for n, (i, at) in enumerate(zip(linking, links, strict=True)):
            clock.set_now(at)
            filer = await PacerAccount.get(username_key=f"{MOVE_FILER_PREFIX}{n + 1:04}")
            legacy = await CmecfAccount.get(court_id=court.code, login_key=people[i][0])
            async with in_transaction() as conn:
                await write_link(conn, filer, filer, court, legacy)
        for n, at in enumerate(approvals, start=len(linking)):
            filer = await PacerAccount.get(username_key=f"{MOVE_FILER_PREFIX}{n + 1:04}")
            clock.set_now(at - dt.timedelta(days=2))
            wanted: dict[str, Any] = (
                {"role": FilerRole.ATTORNEY, "bar_number": f"{660000 + n}", "bar_state": "MA"}
                if n % 3
                else {"role": FilerRole.MEDIA}
            )
            registration = await submit_registration(filer, court, **wanted)
            clock.set_now(at)
            await decide_registration(
                clerk, court, registration.id, approve=True, reason=None, link_cmecf_login=None, mailer=mailer
            )
    finally:
        clock.reset()
