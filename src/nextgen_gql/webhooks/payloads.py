"""What each event's delivery says (``data``): thin (docs/integrators.md, "Webhooks: hearing of the
court's events").

Ids are the GraphQL API's global ids (a receiver reads more with ``node(id:)`` and a key of its
court), the court's code is added by ``deliveries.announce``; a privilege's role, cases and
holder's PACER account number are given because a court's keys cannot read privileges. Never a
password, token, secret or code.

Each event's data is built only when an endpoint of the court asks for its type
(``deliveries.announce`` calls the builder then): a change nobody listens to reads nothing more.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from nextgen_gql.api.ids import encode_id
from nextgen_gql.enums import WebhookEventType
from nextgen_gql.models import CmecfAccount, FilingPrivilege, PacerAccount, PrivilegeCase, Registration
from nextgen_gql.webhooks import deliveries

__all__ = ["account_linked", "privilege_event", "registration_event"]


async def _account_number(conn: BaseDBAsyncClient, account_id: int) -> str | None:
    found = await PacerAccount.filter(id=account_id).using_db(conn).values_list("account_number", flat=True)
    return str(found[0]) if found else None


async def registration_event(
    conn: BaseDBAsyncClient, event_type: WebhookEventType, registration: Registration, **extra: Any
) -> None:
    """A registration submitted, withdrawn or decided (``extra``: ``status``, ``privilegeId``)."""

    async def data() -> dict[str, Any]:
        return {
            "registrationId": encode_id("Registration", registration.id),
            "role": registration.role.name,
            "pacerAccountNumber": await _account_number(conn, registration.account_id),
            **extra,
        }

    await deliveries.announce(conn, registration.court_id, event_type, data)


async def privilege_event(
    conn: BaseDBAsyncClient, event_type: WebhookEventType, privilege: FilingPrivilege
) -> None:
    """A privilege granted, its cases changed, or revoked: its role, cases and holder."""

    async def data() -> dict[str, Any]:
        cases = (
            await PrivilegeCase.filter(privilege_id=privilege.id)
            .using_db(conn)
            .values_list("case_number", flat=True)
        )
        return {
            "privilegeId": encode_id("FilingPrivilege", privilege.id),
            "role": privilege.role.name,
            "proHacVice": privilege.pro_hac_vice,
            "cases": sorted(str(c) for c in cases),
            "pacerAccountNumber": await _account_number(conn, privilege.account_id),
        }

    await deliveries.announce(conn, privilege.court_id, event_type, data)


async def account_linked(
    conn: BaseDBAsyncClient, court_code: str, legacy: CmecfAccount, account_id: int, privilege_id: int | None
) -> None:
    """A legacy CM/ECF account of the court linked to a PACER account."""

    async def data() -> dict[str, Any]:
        return {
            "cmecfAccountId": encode_id("CmecfAccount", legacy.id),
            "login": legacy.login,
            "pacerAccountNumber": await _account_number(conn, account_id),
            "privilegeId": encode_id("FilingPrivilege", privilege_id) if privilege_id else None,
        }

    await deliveries.announce(conn, court_code, WebhookEventType.ACCOUNT_LINKED, data)
