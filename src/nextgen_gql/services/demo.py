"""The documented demo data (README, "Demo accounts"), loaded through the importers and the
registration services, as a court would: rosters, clerks, and a few filers the clerks
approved (a pro se party with a case, a media account, a pro hac vice attorney)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from nextgen_gql.enums import FilerRole
from nextgen_gql.models import PacerAccount
from nextgen_gql.services.courts import grant_clerk
from nextgen_gql.services.imports import import_cmecf_accounts, import_pacer_accounts
from nextgen_gql.services.mail import Mailer
from nextgen_gql.services.registrations import decide_registration, submit_registration
from nextgen_gql.tenancy import CourtRegistry

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
    return True
