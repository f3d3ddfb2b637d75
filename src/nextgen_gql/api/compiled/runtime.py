"""Running a plan: level by level, every field of a level for all its objects at once.

A selection set is run for the whole list of objects that reach it (a page's 100 rows
together), field by field: a column read or a small function per object, or one batched
call per field for the level (one query for a page's links, not one per row). Response
dicts are made in field order as the level runs, and each child level fills the dicts
its parent placed, so keys come out in the order the reference executor gives them.

The compiled path answers only when everything goes right. Any error (a refusal from
the domain, a null where the schema says non-null, an unexpected exception) raises
``Fallback`` out of the whole operation, and the caller runs the reference executor,
which gives the errors, their paths and the null propagation exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from graphql import Undefined
from graphql.execution.values import VariableValues

from nextgen_gql import replica
from nextgen_gql.api.compiled.completion import Fallback, Typed
from nextgen_gql.api.compiled.planner import ObjectPlan
from nextgen_gql.observability.requests import note_account
from nextgen_gql.services import rows
from nextgen_gql.services.visibility import NO_ACCESS, AccountAccess, decide_access

if TYPE_CHECKING:
    from nextgen_gql.api.context import Context

__all__ = ["Fallback", "Runtime", "Typed", "execute_plan"]


class Runtime:
    """One request's state: the context, the variables, and reads shared by its fields."""

    __slots__ = (
        "_clerk_courts",
        "_memberships",
        "_privileges",
        "_viewer",
        "access",
        "context",
        "facts",
        "restricted",
        "today",
        "variables",
    )

    def __init__(
        self, context: Context, variables: VariableValues, facts: frozenset[str] = frozenset()
    ) -> None:
        self.context = context
        self.variables = variables
        #: What to read of the viewer with its session (``ObjectPlan.viewer_facts``).
        self.facts = facts
        self.today = dt.datetime.now(dt.UTC).date()
        self._viewer: Any = Undefined
        #: The session is restricted to MFA enrolment (known once the viewer is read).
        self.restricted = False
        self._clerk_courts: frozenset[str] | None = None
        self._privileges: dict[int, list[rows.PrivilegeRow]] = {}
        self._memberships: dict[int, rows.MembershipRow | None] = {}
        #: What the viewer may see of each account (by id), decided on first need.
        self.access: dict[int, AccountAccess] = {}

    async def viewer(self) -> rows.AccountRow | None:
        """The signed-in account; the facts the plan needs of it come in the same statement.

        That statement reads the database. With a read replica it also settles where the
        request's data reads go (``replica.decide``, on the session's write position), and when
        they are likely to go to the replica and the plan shows the account's own columns
        (``me``), those are not read with the session but after it, as a data read."""
        if self._viewer is Undefined:
            facts = self.facts
            app = self.context.app  # an app's access token acts in its session (oidc.access)
            found = await rows.viewer_for_token(
                self.context.token,
                session_id=app.session.id if app is not None else None,
                membership="membership" in facts,
                privileges="privileges" in facts,
                clerk_courts="clerk_courts" in facts,
                account="account" not in facts or not replica.expects_replica(),
            )
            await replica.decide(found.write_lsn if found is not None else None)
            account = found.account if found is not None else None
            if found is not None and account is None:
                account = (await rows.accounts_by_ids([found.account_id])).get(found.account_id)
                if account is None:  # not on the replica yet: the database has it
                    with replica.database_reads():
                        account = (await rows.accounts_by_ids([found.account_id]))[found.account_id]
            self._viewer = account
            if found is not None and account is not None:
                note_account(account.id)
                self.restricted = found.restricted
                if found.privileges is not None:
                    self._privileges[found.account_id] = found.privileges
                if "membership" in facts:
                    self._memberships[found.account_id] = found.membership
                if found.clerk_courts is not None:
                    self._clerk_courts = found.clerk_courts
        viewer: rows.AccountRow | None = self._viewer
        return viewer

    async def memberships(self, account_ids: Iterable[int]) -> dict[int, rows.MembershipRow | None]:
        """Firm memberships by account (None: in no firm), read once per request."""
        missing = [i for i in account_ids if i not in self._memberships]
        if missing:
            found = await rows.memberships_of(missing)
            self._memberships.update({i: found.get(i) for i in missing})
        return self._memberships

    def known_clerk_courts(self) -> frozenset[str] | None:
        """The courts the viewer is a clerk of, if already read (with the session, or since);
        None otherwise: nothing is read."""
        return self._clerk_courts

    async def clerk_courts(self) -> frozenset[str]:
        if self._clerk_courts is None:
            viewer = await self.viewer()
            self._clerk_courts = await rows.clerk_courts(viewer.id) if viewer else frozenset()
        return self._clerk_courts

    async def privileges(self, account_ids: Iterable[int]) -> dict[int, list[rows.PrivilegeRow]]:
        """Filing privileges by account, read once per request for all the ids asked."""
        missing = [i for i in account_ids if i not in self._privileges]
        if missing:
            self._privileges.update(await rows.privileges_of(missing))
        return self._privileges

    async def accesses(self, account_ids: Iterable[int]) -> dict[int, AccountAccess]:
        """What the viewer may see of these accounts: ``visibility.decide_access`` on facts read
        for all of them at once (the viewer's firm and clerkships, the accounts' firms and
        courts), for the ids not decided yet. The accounts' firms matter only to a viewer who
        administers one: for anyone else they are not read."""
        missing = list(dict.fromkeys(i for i in account_ids if i not in self.access))
        if not missing:
            return self.access
        viewer = await self.viewer()
        if viewer is None:
            self.access.update(dict.fromkeys(missing, NO_ACCESS))
            return self.access
        own = (await self.memberships([viewer.id]))[viewer.id]  # known with the session, or read
        admin_of = own.firm_id if own is not None and own.is_admin else None
        memberships = await self.memberships(missing) if admin_of is not None else {}
        clerk_of = await self.clerk_courts()
        courts = await rows.courts_of_accounts(missing, clerk_of) if clerk_of else {}
        for account_id in missing:
            membership = memberships.get(account_id)
            self.access[account_id] = decide_access(
                viewer_id=viewer.id,
                account_id=account_id,
                viewer_admin_firm_id=admin_of,
                account_firm_id=membership.firm_id if membership is not None else None,
                viewer_clerk_courts=clerk_of,
                account_courts=courts.get(account_id, set()),
            )
        return self.access


_ROOT = object()


async def execute_plan(plan: ObjectPlan, runtime: Runtime) -> dict[str, Any]:
    """The operation's ``data``; ``Fallback`` when the reference executor must answer."""
    data: dict[str, Any] = {}
    await level_function(plan)([_ROOT], [data], runtime)
    return data


LevelFunction = Callable[[list[Any], list[dict[str, Any]], Runtime], Awaitable[None]]


def level_function(plan: ObjectPlan) -> LevelFunction:
    """The function that runs one selection set for all its objects, built once per plan."""
    if plan.run is None:
        plan.run = _build(plan)
    run: LevelFunction = plan.run
    return run


async def run_variants(
    variants: dict[str, ObjectPlan], values: list[Typed], outs: list[dict[str, Any]], runtime: Runtime
) -> None:
    """The objects of an interface field, each type's on that type's plan."""
    by_type: dict[str, tuple[list[Any], list[dict[str, Any]]]] = {}
    for value, out in zip(values, outs, strict=True):
        sources, type_outs = by_type.setdefault(value.type_name, ([], []))
        sources.append(value.source)
        type_outs.append(out)
    for type_name, (sources, type_outs) in by_type.items():
        await level_function(variants[type_name])(sources, type_outs, runtime)


def _build(plan: ObjectPlan) -> LevelFunction:
    """Python source for the level, made from the plan and compiled (as graphql-jit does in
    JavaScript): batched fields first, one await each; then one loop over the objects that
    sets every key in field order, column reads inlined; then the child levels.

    Only the attribute paths of the field table and generated names reach the source; the
    document's names (aliases) and every value are passed in as constants.
    """
    names: dict[str, Any] = {"level_function": level_function, "run_variants": run_variants}
    head: list[str] = []
    body: list[str] = []
    tail: list[str] = []
    for n, field in enumerate(plan.fields):
        names[f"K{n}"] = field.key
        if field.resolver is None:  # __typename
            names[f"T{n}"] = field.typename
            body.append(f"out[K{n}] = T{n}")
            continue
        resolver = field.resolver
        names[f"A{n}"] = field.static_args
        names[f"ARGS{n}"] = field.args_for
        args = f"A{n}" if field.args_for is None else f"ARGS{n}(runtime.variables)"
        if resolver.attr is not None:
            value = f"source.{resolver.attr}"
        elif resolver.batch:
            names[f"F{n}"] = resolver.fn
            if resolver.selection:
                names[f"SEL{n}"] = field.selects
                head.append(f"B{n} = await F{n}(runtime, sources, {args}, SEL{n})")
            else:
                head.append(f"B{n} = await F{n}(runtime, sources, {args})")
            value = f"B{n}[i]"
        else:
            names[f"F{n}"] = resolver.fn
            value = f"F{n}(runtime, source, {args})"
        names[f"C{n}"] = field.complete
        exact = field.exact if len(field.wrappers) <= 1 else None
        if field.variants is not None:
            names[f"P{n}"] = field.variants
            head.append(f"S{n} = []; O{n} = []")
            body.append(f"out[K{n}] = C{n}({value}, S{n}, O{n})")
            tail.append(f"if S{n}: await run_variants(P{n}, S{n}, O{n}, runtime)")
        elif field.child is not None:
            names[f"P{n}"] = field.child
            head.append(f"S{n} = []; O{n} = []")
            body.append(f"out[K{n}] = C{n}({value}, S{n}, O{n})")
            tail.append(f"if S{n}: await level_function(P{n})(S{n}, O{n}, runtime)")
        elif exact is not None:
            # A leaf that already is what serializing gives (a str for a String): stored as is.
            names[f"E{n}"] = exact
            check = (
                "v.__class__ is not E{n}" if field.wrappers else "v is not None and v.__class__ is not E{n}"
            )
            body.append(f"v = {value}")
            body.append(f"out[K{n}] = C{n}(v, None, None) if {check.format(n=n)} else v")
        else:
            body.append(f"out[K{n}] = C{n}({value}, None, None)")
    lines = ["async def run(sources, outs, runtime):"]
    lines += [f"    {line}" for line in head]
    lines.append("    for i, source in enumerate(sources):")
    lines.append("        out = outs[i]")
    lines += [f"        {line}" for line in body]
    lines += [f"    {line}" for line in tail]
    code = compile("\n".join(lines), f"<compiled plan: {plan.type_name}>", "exec")
    exec(code, names)
    run: LevelFunction = names["run"]
    return run
