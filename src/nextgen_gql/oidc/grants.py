"""What each person let each app do: one grant per account and client, its scopes the union
of what was consented to. A third-party app asks consent once per set of scopes (a request
within the granted scopes asks nothing); a court's own system needs none but holds a grant
all the same, so the person sees it and can end it. Revoking a grant ends it at once.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from nextgen_gql.models.oidc import AppGrantRecord, OidcClientRecord, OidcToken
from nextgen_gql.services.audit import record
from nextgen_gql.services.clock import now

__all__ = [
    "GrantNotFound",
    "account_grants",
    "grant",
    "needs_consent",
    "revoke_client_grants",
    "revoke_grant",
    "scopes_of",
]


class GrantNotFound(LookupError):
    """No live grant of that id belongs to the account (or it was revoked)."""


def scopes_of(row: AppGrantRecord) -> list[str]:
    return row.scopes.split()


async def live_grant(account_id: int, client: OidcClientRecord) -> AppGrantRecord | None:
    return await AppGrantRecord.get_or_none(account_id=account_id, client_id=client.id, revoked_at=None)


async def needs_consent(account_id: int, client: OidcClientRecord, scopes: list[str]) -> bool:
    """Whether the person must be asked: a third-party app asking more than was granted."""
    if client.court_id is not None:
        return False
    held = await live_grant(account_id, client)
    return held is None or not set(scopes) <= set(scopes_of(held))


async def grant(account_id: int, client: OidcClientRecord, scopes: list[str]) -> AppGrantRecord:
    """Record (or widen) the account's grant to the client; audited."""
    held = await live_grant(account_id, client)
    moment = now()
    if held is None:
        row = await AppGrantRecord.create(
            account_id=account_id,
            client_id=client.id,
            scopes=" ".join(sorted(set(scopes))),
            granted_at=moment,
        )
    else:
        wanted = " ".join(sorted(set(scopes) | set(scopes_of(held))))
        if wanted == held.scopes:
            return held
        held.scopes = wanted
        await held.save(update_fields=["scopes"])
        row = held
    await record(
        "oidc.grant",
        actor_id=account_id,
        court_code=client.court_id,
        detail=f"{client.client_id} {row.scopes}",
    )
    return row


async def account_grants(account_id: int) -> list[AppGrantRecord]:
    """The account's live grants, newest first, their clients loaded (removed clients' grants
    are revoked with them)."""
    return (
        await AppGrantRecord.filter(account_id=account_id, revoked_at=None)
        .select_related("client")
        .order_by("-granted_at", "-id")
    )


async def revoke_grant(account_id: int, grant_id: int) -> AppGrantRecord:
    """End one of the account's own grants at once; another account's is not found. The app's
    tokens end with it, and it is told (back-channel logout) of the sessions it had them in."""
    from nextgen_gql.oidc import logouts

    moment = now()
    async with in_transaction() as conn:
        ended = (
            await AppGrantRecord.filter(id=grant_id, account_id=account_id, revoked_at=None)
            .using_db(conn)
            .update(revoked_at=moment)
        )
        if ended != 1:
            raise GrantNotFound(grant_id)
        row = await AppGrantRecord.filter(id=grant_id).using_db(conn).select_related("client").get()
        await (
            OidcToken.filter(account_id=account_id, client_id=row.client_id, revoked_at=None)
            .using_db(conn)
            .update(revoked_at=moment)
        )
        await logouts.note_grant_revoked(conn, account_id, row.client_id)
        await record(
            "oidc.grant.revoke",
            actor_id=account_id,
            court_code=row.client.court_id,
            detail=row.client.client_id,
            using_db=conn,
        )
    return row


async def revoke_client_grants(client: OidcClientRecord) -> int:
    """End every grant to a removed client, and every token it holds."""
    moment = now()
    await OidcToken.filter(client_id=client.id, revoked_at=None).update(revoked_at=moment)
    return await AppGrantRecord.filter(client_id=client.id, revoked_at=None).update(revoked_at=moment)
