"""Charging a request's points (``services.budgets``) to its caller, a stage of the request path.

Who pays: a court's service key (checked), the account of a live session, or else the
caller's address. An account is charged only once its session has been read and found live
in this request: a bearer token that was signed out, revoked or expired charges nobody's
account (it is refused 401, and a refusal of credentials charges the address), so a stolen
or dead token can never spend its owner's points.

When: before anything runs, by the operation's node count (``api.cost``); on the compiled
path once the viewer is read (no statement of its own), else before the reference executor.
A document refused before execution (it does not parse, breaks a rule of the specification
or a limit of ``api.limits``, or costs too much) costs ``REFUSAL_COST`` points too:
validation is work, and a refusal that cost nothing could be repeated for free with one
character changed each time (the validation cache is keyed by the text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nextgen_gql.api.context import InvalidToken
from nextgen_gql.api.graphql_http import RequestRefused
from nextgen_gql.api.request_errors import RequestErrorCode
from nextgen_gql.api.types.rate_limit import RateLimit
from nextgen_gql.services.budgets import Budgets, address_caller, cost_of, next_hour

if TYPE_CHECKING:
    from nextgen_gql.api.context import Context

__all__ = ["REFUSAL_COST", "Charging"]

#: Points a document refused before execution costs its caller (what the cheapest operation costs).
REFUSAL_COST = cost_of(0)


def _refused(limit: int, used: int, cost: int, retry: int, what: str) -> RequestRefused:
    return RequestRefused(
        429,
        f"This caller has spent its {limit} points for the hour ({used} used; {what} costs {cost}): "
        f"retry after {retry} seconds.",
        RequestErrorCode.RATE_LIMITED,
        {"retry-after": str(retry)},
    )


class Charging:
    """Charges requests to their callers' budgets (``Budgets``)."""

    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets

    async def caller(self, context: Context) -> str:
        """Who spends the points: the service key, the account of the live session, or the
        address. A bearer token naming no live session is refused here (``InvalidToken``);
        a stale cookie is forgotten and the address pays."""
        if context.service_key is not None:
            return f"key:{context.service_key.prefix}"
        if context.token is not None:
            session = await context.session()
            if session is None:
                context.session_missing()  # a bearer token: refused (401); a cookie: forgotten
                return address_caller(context.source_address)
            return f"account:{session.account_id}"
        return address_caller(context.source_address)

    async def before_execution(self, context: Context, nodes: int) -> None:
        """Charge the operation before it runs; for a signed-in caller, once the session is
        read (``Context.before_run``, which the compiled path calls after reading the viewer;
        ``before_reference`` otherwise)."""
        if not self.budgets.enabled:
            self.charge(context, "", nodes)
        elif context.token is None or context.service_key is not None:
            caller = await self.caller(context)
            await self.budgets.recall(caller)
            self.charge(context, caller, nodes)
        else:
            context.before_run = lambda account: self.charge_account(context, account, nodes)

    async def before_reference(self, context: Context, nodes: int) -> None:
        """Before the reference executor runs (credentials checked): charge the request unless
        the compiled path did already."""
        if context.rate_limit is None:
            session = await context.session() if context.token is not None else None
            await self.charge_account(context, session.account_id if session else None, nodes)

    async def charge_account(self, context: Context, account: int | None, nodes: int) -> None:
        """Charge the account of the request's live session, or (none) the address."""
        if context.rate_limit is not None:
            return  # charged already (the compiled path fell back to the reference executor)
        caller = f"account:{account}" if account is not None else address_caller(context.source_address)
        await self.budgets.recall(caller)
        if context.rate_limit is None:
            self.charge(context, caller, nodes)

    def charge(self, context: Context, caller: str, nodes: int, *, dry: bool = False) -> None:
        """Before anything runs: charge the operation's cost to its caller (``RATE_LIMITED``,
        429, past the hour's budget) and keep what ``Query.rateLimit`` tells; a dry run
        (``rateLimit(dryRun: true)``) spends nothing and is never refused."""
        cost = cost_of(nodes)
        if not self.budgets.enabled:
            context.rate_limit = RateLimit(
                cost=cost, node_count=nodes, limit=0, used=0, remaining=0, reset_at=next_hour()
            )
            return
        spent = self.budgets.charge(caller, cost, dry_run=dry)
        if not spent.allowed and not dry:
            raise _refused(spent.limit, spent.used, cost, spent.retry_after(), "this operation")
        context.rate_limit = RateLimit(
            cost=cost,
            node_count=nodes,
            limit=spent.limit,
            used=spent.used,
            remaining=spent.remaining,
            reset_at=spent.reset_at,
        )

    async def charge_refusal(self, context: Context) -> None:
        """A document refused before execution: ``REFUSAL_COST`` points to its caller (the
        address when the credentials do not hold). Over the budget: ``RATE_LIMITED`` (429)."""
        if not self.budgets.enabled:
            return
        try:
            if context.credentials.refused is not None:
                raise InvalidToken(context.credentials.refused)
            if await context.authenticate_key() is not None:
                raise InvalidToken("a service key sent to another court")
            caller = await self.caller(context)
        except InvalidToken:
            caller = address_caller(context.source_address)
        await self.budgets.recall(caller)
        self.spend(caller, REFUSAL_COST, "a refused document")

    def charge_address(self, context: Context) -> None:
        """A request whose credentials failed (answered 401): ``REFUSAL_COST`` points to its
        address, never to an account. Over the budget: ``RATE_LIMITED`` (429)."""
        if self.budgets.enabled:
            self.spend(
                address_caller(context.source_address), REFUSAL_COST, "a request with credentials that failed"
            )

    def charge_live(self, account: int | None, address: str, nodes: int, what: str) -> None:
        """A live connection's operation (a subscription's start, a refused document): to the
        connection's account, else its address. Over the budget: ``RATE_LIMITED`` (429)."""
        if not self.budgets.enabled:
            return
        caller = f"account:{account}" if account is not None else address_caller(address)
        self.spend(caller, cost_of(nodes), what)

    def spend(self, caller: str, cost: int, what: str) -> None:
        spent = self.budgets.charge(caller, cost)
        if not spent.allowed:
            raise _refused(spent.limit, spent.used, cost, spent.retry_after(), what)
