"""The documented demo data (README, "Demo accounts"), loaded through the importers."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from nextgen_gql.models import PacerAccount
from nextgen_gql.services.courts import grant_clerk
from nextgen_gql.services.imports import import_cmecf_accounts, import_pacer_accounts
from nextgen_gql.tenancy import CourtRegistry

__all__ = ["load_demo"]

DEMO_CLERKS = {"mad": "madclerk01", "mab": "mabclerk01", "ca1": "ca1clerk01"}


async def load_demo(courts: CourtRegistry) -> bool:
    """Fill an empty database with the demo accounts and rosters; False if not empty."""
    if await PacerAccount.exists():
        return False
    folder = resources.files("nextgen_gql") / "demo"
    with resources.as_file(folder) as path:
        await import_pacer_accounts(Path(path) / "pacer_accounts.csv")
        for code, clerk in DEMO_CLERKS.items():
            if code in courts:
                court = courts.get(code)
                await import_cmecf_accounts(court, Path(path) / f"cmecf_{code}.csv")
                await grant_clerk(court, clerk)
    return True
