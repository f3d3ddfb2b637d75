"""Per-request DataLoaders: every relation is fetched in one query per level, never per row."""

from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from nextgen_gql.models import (
    CmecfLink,
    CourtServiceKey,
    FilingPrivilege,
    Firm,
    FirmInvitation,
    FirmMembership,
    PacerAccount,
    Registration,
)
from nextgen_gql.services import accounts, firms, keys, linking, mfa, privileges, registrations

__all__ = ["Loaders"]


@dataclass
class Loaders:
    account: DataLoader[int, PacerAccount | None] = field(
        default_factory=lambda: DataLoader(load_fn=accounts.accounts_by_ids)
    )
    privileges: DataLoader[int, list[FilingPrivilege]] = field(
        default_factory=lambda: DataLoader(load_fn=linking.privileges_by_account_ids)
    )
    privilege: DataLoader[int, FilingPrivilege | None] = field(
        default_factory=lambda: DataLoader(load_fn=privileges.privileges_by_ids)
    )
    # Case numbers of a privilege, by privilege id (read per request: a clerk's change shows at once)
    cases: DataLoader[int, list[str]] = field(
        default_factory=lambda: DataLoader(load_fn=privileges.cases_by_privilege_ids)
    )
    links_of_account: DataLoader[int, list[CmecfLink]] = field(
        default_factory=lambda: DataLoader(load_fn=linking.links_by_account_ids)
    )
    link_of_cmecf: DataLoader[int, CmecfLink | None] = field(
        default_factory=lambda: DataLoader(load_fn=linking.links_by_cmecf_ids)
    )
    registrations: DataLoader[int, list[Registration]] = field(
        default_factory=lambda: DataLoader(load_fn=registrations.registrations_by_account_ids)
    )
    registration: DataLoader[int, Registration | None] = field(
        default_factory=lambda: DataLoader(load_fn=registrations.registrations_by_ids)
    )
    invitation: DataLoader[int, FirmInvitation | None] = field(
        default_factory=lambda: DataLoader(load_fn=firms.invitations_by_ids)
    )
    firm: DataLoader[int, Firm | None] = field(default_factory=lambda: DataLoader(load_fn=firms.firms_by_ids))
    membership: DataLoader[int, FirmMembership | None] = field(
        default_factory=lambda: DataLoader(load_fn=firms.memberships_by_account_ids)
    )
    mfa_enabled: DataLoader[int, bool] = field(default_factory=lambda: DataLoader(load_fn=mfa.enabled_of))
    service_key: DataLoader[int, CourtServiceKey | None] = field(
        default_factory=lambda: DataLoader(load_fn=_keys_by_ids)
    )


async def _keys_by_ids(ids: list[int]) -> list[CourtServiceKey | None]:
    found = await keys.keys_by_ids(ids)
    return [found.get(i) for i in ids]
