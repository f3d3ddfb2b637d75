"""The compiled path's field table: how each supported field gets its value.

A field is a column read (``attr``), a small function of one object (``one``), or a
batched function of every object that reaches the field in a level (``batch``: one
query for a page's rows, never one per row). The objects are light: named tuples from
``services.rows`` (or models, which carry the same attribute names), court values from
the registry, and small wrappers where the reference type keeps more than a row (what
the viewer may see of an account; a legacy account's prefetched link and owner).

Every rule is the domain's own: who sees an account is ``visibility.decide_access``
(through the reference ``Context.account_access``), whether it may file is
``linking.can_file``, who is a clerk is the ``clerks`` table. What each function does
beyond a column read mirrors the reference type's resolver in ``api/types``, and the
differential tests hold the two against each other. A field missing here is not
compiled: the whole operation runs on the reference executor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from nextgen_gql.api import lists
from nextgen_gql.api.compiled.completion import Fallback, Typed
from nextgen_gql.api.ids import decode_id, encode_id, row_id
from nextgen_gql.api.pagination import (
    decode_id_cursor,
    decode_login_cursor,
    encode_cursor,
    order_cursors,
    relay_window,
)
from nextgen_gql.enums import CourtKeyScope
from nextgen_gql.services import audit, firms, linking, nodes, privileges, registrations, roster, rows
from nextgen_gql.services import courts as court_service
from nextgen_gql.services.ordering import page_of
from nextgen_gql.services.pagination import page_size
from nextgen_gql.services.permissions import permissions_of
from nextgen_gql.services.visibility import (
    FULL_ACCESS,
    AccountAccess,
    sees_contact_of_tied,
    sees_revocation_detail,
)
from nextgen_gql.tenancy import UnknownCourt

if TYPE_CHECKING:
    from nextgen_gql.api.compiled.runtime import Runtime

__all__ = ["RESOLVERS", "VIEWER_FACTS", "Resolver"]


@dataclass(frozen=True)
class Resolver:
    #: An attribute path (``"row.login"``): a column read, inlined into the built code.
    attr: str | None = None
    fn: Callable[..., Any] = lambda *_: None
    batch: bool = False
    #: A batch resolver called with a fourth argument, what the operation selects beneath
    #: the field (the ``(type, field)`` pairs of its plan): to read no more than that.
    selection: bool = False


def attr(path: str) -> Resolver:
    if not all(part.isidentifier() for part in path.split(".")):
        raise ValueError(f"not an attribute path: {path!r}")
    return Resolver(attr=path)


def one(fn: Callable[[Runtime, Any, dict[str, Any]], Any]) -> Resolver:
    return Resolver(fn=fn)


def batch(fn: Callable[[Runtime, list[Any], dict[str, Any]], Awaitable[list[Any]]]) -> Resolver:
    return Resolver(fn=fn, batch=True)


# ---------------------------------------------------------------------------- sources

#: A relation the parent did not read: read it when asked (the rows' own sentinel, so that a
#: roster entry's unread linker passes through as it is).
_UNKNOWN: Any = rows.NOT_READ


class Account:
    """A PACER account as the reference ``PacerAccount.of`` holds it: the row, and what the
    viewer may see of it when the parent knows (else decided on first need)."""

    __slots__ = ("access", "contact", "row")

    def __init__(self, row: Any, access: AccountAccess | None = None, contact: bool | None = None) -> None:
        self.row = row
        self.access = access
        self.contact = access.sees_contact if access is not None else contact


class Legacy:
    """A legacy CM/ECF account, with its link and the accounts of the link when the parent
    read them (as the reference ``CmecfAccount.of``)."""

    __slots__ = ("link", "linker", "owner", "owner_contact", "row")

    def __init__(
        self,
        row: Any,
        link: Any = _UNKNOWN,
        owner: Any = _UNKNOWN,
        linker: Any = _UNKNOWN,
        owner_contact: bool | None = None,
    ) -> None:
        self.row = row
        self.link = link
        self.owner = owner
        self.linker = linker
        self.owner_contact = owner_contact


class Edge(NamedTuple):
    cursor: str
    node: Any


class PageInfo(NamedTuple):
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class Connection(NamedTuple):
    edges: list[Edge]
    page_info: PageInfo
    total_count: int


def _connection(edges: list[Edge], has_next: bool, has_previous: bool, total: int) -> Connection:
    info = PageInfo(
        has_next,
        has_previous,
        edges[0].cursor if edges else None,
        edges[-1].cursor if edges else None,
    )
    return Connection(edges, info, total)


# ---------------------------------------------------------------------------- shared reads


async def _accesses(runtime: Runtime, sources: Sequence[Account]) -> list[AccountAccess]:
    """What the viewer may see of each account: known, or decided as the reference does."""
    unknown = [s.row.id for s in sources if s.access is None]
    decided = await runtime.accesses(unknown) if unknown else {}
    return [s.access if s.access is not None else decided[s.row.id] for s in sources]


async def _accounts(ids: Sequence[int | None]) -> list[Account | None]:
    found = await rows.accounts_by_ids(i for i in ids if i is not None)
    return [Account(found[i]) if i is not None and i in found else None for i in ids]


# ---------------------------------------------------------------------------- Query


async def _me(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    viewer = await runtime.viewer()
    if viewer is None:
        return [None]
    runtime.access[viewer.id] = FULL_ACCESS
    return [Account(viewer, FULL_ACCESS)]


async def _require_clerk(runtime: Runtime) -> Any:
    """``courts.check_clerk`` on the facts the session statement read; its refusal (a
    DomainError) hands the request to the reference executor, which reports it."""
    viewer = await runtime.viewer()
    return court_service.check_clerk(
        runtime.context.court,
        viewer.id if viewer else None,
        await runtime.clerk_courts(),
        runtime.context.service_key,
    )


async def _require_reader(runtime: Runtime, scope: CourtKeyScope) -> Any:
    """``courts.check_reader``: the court's clerks, or its service keys with ``scope``."""
    viewer = await runtime.viewer()
    return court_service.check_reader(
        runtime.context.court,
        viewer.id if viewer else None,
        await runtime.clerk_courts(),
        runtime.context.service_key,
        scope,
    )


def _window(form: Any, args: dict[str, Any]) -> Any:
    return relay_window(
        form,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


async def _roster(
    runtime: Runtime, sources: list[Any], args: dict[str, Any], selects: frozenset[tuple[str, str]]
) -> list[Any]:
    court = await _require_reader(runtime, CourtKeyScope.READ_ROSTER)
    search, linked = args.get("search"), args.get("linked")
    order, descending = lists.roster_order(args.get("orderBy"))
    backward = args.get("last") is not None or args.get("before") is not None
    edges = []
    if search is None and linked is None and order == "login" and not descending and not backward:
        # The page, its links and accounts and the count, in one statement.
        after = decode_login_cursor(args.get("after"))
        size = page_size(args.get("first"))
        entries, counted = await rows.cmecf_page(
            court.code,
            size=size,
            after=after,
            linker=("CmecfAccount", "linkedBy") in selects,
            count=("CmecfAccountConnection", "totalCount") in selects,
        )
        total = counted if counted is not None else -1  # not selected: never shown
        has_next, has_previous = len(entries) > size, after is not None
        for r, link, owner, linker in entries[:size]:
            node = Legacy(r, link, owner, linker, owner_contact=True)
            edges.append(Edge(encode_cursor(r.login_key, r.id), node))
    else:  # the reference's window (its order, search and filter), its rows read as rows
        form = lists.roster_cursor_form(order, descending)
        window = await roster.cmecf_window(
            court, win=_window(form, args), search=search, linked=linked, order=order, descending=descending
        )
        read = await rows.roster_entries(window.ids, linker=("CmecfAccount", "linkedBy") in selects)
        found = page_of(read, window, lambda entry: entry.account.id)
        total, has_next, has_previous = found.total_count, found.has_next, found.has_previous
        for (r, link, owner, linker), cursor in zip(found.rows, order_cursors(form, found), strict=True):
            edges.append(Edge(cursor, Legacy(r, link, owner, linker, owner_contact=True)))
    return [_connection(edges, has_next, has_previous, total)]


async def _registration_queue(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    court = await _require_reader(runtime, CourtKeyScope.READ_REGISTRATIONS)
    order, descending = lists.registration_order(args.get("orderBy"))
    form = lists.registration_cursor_form(order, descending)
    window = await registrations.registration_window(
        court,
        status=args.get("status"),
        win=_window(form, args),
        search=args.get("search"),
        order=order,
        descending=descending,
    )
    page = page_of(await rows.registration_rows(window.ids), window)
    edges = [Edge(cursor, r) for r, cursor in zip(page.rows, order_cursors(form, page), strict=True)]
    return [_connection(edges, page.has_next, page.has_previous, page.total_count)]


async def _node(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    """As ``Query.node``: the object if it exists and the viewer may see it (``nodes.visible_node``)."""
    decoded = decode_id(args["id"])
    if decoded is None:
        return [None]
    type_name, key = decoded
    courts = runtime.context.courts
    if type_name == "Court":
        return [Typed("Court", courts.get(key)) if key in courts else None]
    key_id = row_id(key)
    if type_name not in _NODE_SOURCES or key_id is None:
        return [None]
    viewer: Any = await runtime.viewer()  # the rule reads the viewer's id only
    found = await nodes.visible_node(viewer, type_name, key_id, courts)
    return [Typed(type_name, _NODE_SOURCES[type_name](found)) if found is not None else None]


_NODE_SOURCES: dict[str, Callable[[Any], Any]] = {
    "PacerAccount": Account,
    "CmecfAccount": Legacy,
    "FilingPrivilege": lambda model: model,
    "Registration": lambda model: model,
    "AuditEvent": lambda model: model,
    "Firm": lambda model: model,
    "FirmInvitation": lambda model: model,
    # No field of a ReminderJob is compiled (an operation selecting one runs on the reference
    # executor); found here so that a node selected through another type's fragment is {} on
    # both executors.
    "ReminderJob": lambda job: job,
}


async def _court_audit(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    court = await _require_clerk(runtime)
    window = await audit.court_event_window(
        court,
        win=_window(lists.AUDIT_CURSORS, args),
        action=args.get("action"),
        actor_id=lists.actor_id(args.get("actor")),
        since=args.get("since"),
        until=args.get("until"),
    )
    page = page_of(await rows.audit_rows(window.ids, within=window.also), window)
    edges = [Edge(encode_cursor(e.id), e) for e in page.rows]
    return [_connection(edges, page.has_next, page.has_previous, page.total_count)]


# ---------------------------------------------------------------------------- PacerAccount


def _contact(column: str, hidden: Any = "") -> Resolver:
    async def resolve(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
        undecided = [s for s in sources if s.contact is None]
        accesses = dict(zip((id(s) for s in undecided), await _accesses(runtime, undecided), strict=True))
        values = []
        for s in sources:
            sees = s.contact if s.contact is not None else accesses[id(s)].sees_contact
            values.append(getattr(s.row, column) if sees else hidden)
        return values

    return batch(resolve)


async def _privileges(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    accesses = await _accesses(runtime, sources)
    found = await runtime.privileges(s.row.id for s in sources)
    return [
        [p for p in found[s.row.id] if access.sees_court(p.court_id)]
        for s, access in zip(sources, accesses, strict=True)
    ]


async def _can_file(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    try:
        target = runtime.context.courts.serve(args["court"])
    except UnknownCourt:
        raise Fallback("an unknown court: the reference gives the error") from None
    accesses = await _accesses(runtime, sources)
    if not all(access.sees_court(target.code) for access in accesses):
        raise Fallback("a FORBIDDEN error: the reference gives it")
    found: dict[int, list[Any]] = await runtime.privileges(
        s.row.id for s in sources
    )  # rows: the models' names
    case_number = args.get("caseNumber")
    cases = None
    if case_number is not None:
        ids = [p.id for s in sources for p in found[s.row.id] if p.court_id == target.code]
        cases = dict(zip(ids, await privileges.cases_by_privilege_ids(ids), strict=True))
    # A malformed case number is a DomainError: the reference gives its CASE_NUMBER_INVALID.
    return [linking.can_file(s.row, target, found[s.row.id], case_number, cases=cases) for s in sources]


async def _linked_accounts(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    accesses = await _accesses(runtime, sources)
    found = await linking.links_by_account_ids([s.row.id for s in sources])
    return [
        [Legacy(link.cmecf_account, link=link) for link in links if access.sees_court(link.court_id)]
        for links, access in zip(found, accesses, strict=True)
    ]


async def _registrations(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    accesses = await _accesses(runtime, sources)
    found = await registrations.registrations_by_account_ids([s.row.id for s in sources])
    return [
        [r for r in regs if access.sees_court(r.court_id)]
        for regs, access in zip(found, accesses, strict=True)
    ]


async def _firm(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    found = await runtime.memberships(s.row.id for s in sources)
    accesses = await _accesses(runtime, [s for s in sources if found[s.row.id] is not None])
    full = iter(accesses)
    values = []
    for s in sources:
        membership = found[s.row.id]
        values.append(membership.firm if membership is not None and next(full).full else None)
    return values


async def _clerk_of(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    viewer = await runtime.viewer()
    codes = await runtime.clerk_courts() if viewer is not None else frozenset()
    mine = [c for c in runtime.context.courts if c.code in codes]
    return [list(mine) if viewer is not None and s.row.id == viewer.id else [] for s in sources]


async def _own_invitations(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    """As ``PacerAccount.invitations``: the viewer's own pending invitations; null for anyone else."""
    viewer = await runtime.viewer()
    own = [s.row.id for s in sources if viewer is not None and s.row.id == viewer.id]
    found = dict(zip(own, await firms.invitations_for_accounts(own), strict=True)) if own else {}
    return [found.get(s.row.id) for s in sources]


async def _own_audit(runtime: Runtime, sources: list[Account], args: dict[str, Any]) -> list[Any]:
    viewer = await runtime.viewer()
    if viewer is None or any(s.row.id != viewer.id for s in sources):
        raise Fallback("another account's audit trail: the reference gives the error")
    after = decode_id_cursor(args.get("after"))
    values = []
    for s in sources:
        window = await audit.account_event_window(s.row.id, first=args.get("first"), after=after)
        edges = [Edge(encode_cursor(e.id), e) for e in await rows.audit_rows(window.rows)]
        values.append(_connection(edges, window.has_next, window.has_previous, window.total_count))
    return values


# ---------------------------------------------------------------------------- CmecfAccount


async def _links(runtime: Runtime, sources: list[Legacy]) -> None:
    unknown = [s for s in sources if s.link is _UNKNOWN]
    if unknown:
        found = await rows.links_of_cmecf_ids(s.row.id for s in unknown)
        for s in unknown:
            s.link = found.get(s.row.id)


async def _linked_at(runtime: Runtime, sources: list[Legacy], args: dict[str, Any]) -> list[Any]:
    await _links(runtime, sources)
    return [s.link.linked_at if s.link else None for s in sources]


def _person(which: str, known: str) -> Resolver:
    async def resolve(runtime: Runtime, sources: list[Legacy], args: dict[str, Any]) -> list[Any]:
        await _links(runtime, sources)
        values: list[Any] = [None] * len(sources)
        unread = []
        for i, s in enumerate(sources):
            person = getattr(s, known)
            if person is _UNKNOWN:
                unread.append(i)
            elif person is not None:
                values[i] = Account(person, contact=s.owner_contact if known == "owner" else None)
        if unread:
            people = await _accounts([getattr(sources[i].link, which, None) for i in unread])
            for i, person in zip(unread, people, strict=True):
                values[i] = person
        return values

    return batch(resolve)


# ---------------------------------------------------------------------------- relations by id


def _account_of(column: str, joined: str | None = None, tied: bool = False) -> Resolver:
    """The account whose id is the source's ``column``. ``joined``: the attribute of a plain row
    (``services.rows``) that carries that account, read with it (a model has none: read by id).
    ``tied``: the account is tied to the source's court (an applicant to the court of their
    registration), so that court's clerks see its contact details (``visibility.sees_contact_of_tied``),
    decided when the viewer's clerkships are known, instead of from facts read for it."""

    async def resolve(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
        if joined is None:
            return await _accounts([getattr(s, column) for s in sources])
        clerk_of = runtime.known_clerk_courts() if tied else None
        values: list[Any] = [None] * len(sources)
        unread: list[int] = []
        for i, s in enumerate(sources):
            row = getattr(s, joined, None)
            if row is None:
                if getattr(s, column) is not None:
                    unread.append(i)
                continue
            sees = clerk_of is not None and sees_contact_of_tied(
                viewer_clerk_courts=clerk_of, court_code=s.court_id
            )
            values[i] = Account(row, contact=True if sees else None)
        if unread:
            read = await _accounts([getattr(sources[i], column) for i in unread])
            for i, account in zip(unread, read, strict=True):
                values[i] = account
        return values

    return batch(resolve)


async def _require_firm_admin(runtime: Runtime, sources: list[Any]) -> None:
    """``firms.check_admin_of`` for each firm; its refusal hands the request to the reference."""
    viewer = await runtime.viewer()
    own = (await runtime.memberships([viewer.id]))[viewer.id] if viewer is not None else None
    for firm in sources:
        firms.check_admin_of(firm, own.firm_id if own is not None and own.is_admin else None)


async def _firm_members(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    await _require_firm_admin(runtime, sources)
    after = decode_id_cursor(args.get("after"))
    values = []
    for firm in sources:
        window = await firms.member_window(firm, first=args.get("first"), after=after)
        found = await rows.accounts_by_ids(window.rows)
        edges = [Edge(encode_cursor(i), Account(found[i])) for i in window.rows if i in found]
        values.append(_connection(edges, window.has_next, window.has_previous, window.total_count))
    return values


async def _firm_invitations(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    await _require_firm_admin(runtime, sources)
    return [await firms.pending_invitations(firm.id) for firm in sources]


async def _firm_admins(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    found = await rows.firm_admins(s.id for s in sources)
    return [[Account(row) for row in found.get(s.id, [])] for s in sources]


def _court_of(runtime: Runtime, source: Any, args: dict[str, Any]) -> Any:
    return runtime.context.courts.get(source.court_id)


def _event_court(runtime: Runtime, event: Any, args: dict[str, Any]) -> Any:
    return runtime.context.courts.find(event.court_id) if event.court_id else None


def _permissions(runtime: Runtime, privilege: Any, args: dict[str, Any]) -> Any:
    return permissions_of(privilege)


async def _cases(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    return await privileges.cases_by_privilege_ids([p.id for p in sources])


async def _revocation_detail(runtime: Runtime, sources: list[Any]) -> list[bool]:
    """Who sees who revoked a privilege and why: ``sees_revocation_detail``."""
    viewer = await runtime.viewer()
    clerk_of = await runtime.clerk_courts() if viewer is not None else frozenset()
    return [
        sees_revocation_detail(
            viewer_id=viewer.id if viewer else None,
            holder_id=p.account_id,
            court_code=p.court_id,
            viewer_clerk_courts=clerk_of,
        )
        for p in sources
    ]


async def _revoked_by(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    revoked = [p for p in sources if p.revoked_at is not None]
    sees = dict(zip((id(p) for p in revoked), await _revocation_detail(runtime, revoked), strict=True))
    return await _accounts([p.revoked_by_id if id(p) in sees and sees[id(p)] else None for p in sources])


async def _revoked_reason(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    revoked = [p for p in sources if p.revoked_at is not None]
    sees = dict(zip((id(p) for p in revoked), await _revocation_detail(runtime, revoked), strict=True))
    return [p.revoked_reason if sees.get(id(p)) else None for p in sources]


async def _firms_of(runtime: Runtime, sources: list[Any], args: dict[str, Any]) -> list[Any]:
    found = {firm.id: firm for firm in await firms.firms_by_ids([s.firm_id for s in sources]) if firm}
    return [found.get(s.firm_id) for s in sources]


def _legacy_court(runtime: Runtime, source: Legacy, args: dict[str, Any]) -> Any:
    return runtime.context.courts.get(source.row.court_id)


def _addressed_court(runtime: Runtime, source: Any, args: dict[str, Any]) -> Any:
    return runtime.context.court


def _every_court(runtime: Runtime, source: Any, args: dict[str, Any]) -> Any:
    return list(runtime.context.courts)


def _is_nextgen(runtime: Runtime, court: Any, args: dict[str, Any]) -> Any:
    return court.is_nextgen(runtime.today)


def _id(type_name: str, column: str = "id") -> Resolver:
    return one(lambda runtime, source, args: encode_id(type_name, getattr(source, column)))


def _row(column: str) -> Resolver:
    return attr(f"row.{column}")


RESOLVERS: dict[tuple[str, str], Resolver] = {
    ("Query", "me"): batch(_me),
    ("Query", "court"): one(_addressed_court),
    ("Query", "courts"): one(_every_court),
    ("Query", "cmecfAccounts"): Resolver(fn=_roster, batch=True, selection=True),
    ("Query", "registrations"): batch(_registration_queue),
    ("Query", "auditEvents"): batch(_court_audit),
    ("Query", "node"): batch(_node),
    # Court and its help desk: values of the court files
    ("Court", "id"): _id("Court", "code"),
    ("Court", "code"): attr("code"),
    ("Court", "name"): attr("name"),
    ("Court", "kind"): attr("kind"),
    ("Court", "nextgenSince"): attr("nextgen_since"),
    ("Court", "isNextgen"): one(_is_nextgen),
    ("Court", "acceptedRoles"): attr("accepted_roles"),
    ("Court", "helpDesk"): attr("help_desk"),
    ("HelpDesk", "phone"): attr("phone"),
    ("HelpDesk", "email"): attr("email"),
    ("HelpDesk", "url"): attr("url"),
    # PacerAccount
    ("PacerAccount", "id"): one(lambda runtime, s, args: encode_id("PacerAccount", s.row.id)),
    ("PacerAccount", "username"): _row("username"),
    ("PacerAccount", "firstName"): _row("first_name"),
    ("PacerAccount", "lastName"): _row("last_name"),
    ("PacerAccount", "createdAt"): _row("created_at"),
    ("PacerAccount", "isLegacy"): _row("is_legacy"),
    ("PacerAccount", "upgradedAt"): _row("upgraded_at"),
    ("PacerAccount", "isShared"): _row("is_shared"),
    ("PacerAccount", "accountNumber"): _contact("account_number"),
    ("PacerAccount", "email"): _contact("email"),
    ("PacerAccount", "emailVerified"): _contact("email_verified", False),
    ("PacerAccount", "privileges"): batch(_privileges),
    ("PacerAccount", "canFile"): batch(_can_file),
    ("PacerAccount", "cmecfAccounts"): batch(_linked_accounts),
    ("PacerAccount", "registrations"): batch(_registrations),
    ("PacerAccount", "firm"): batch(_firm),
    ("PacerAccount", "clerkOf"): batch(_clerk_of),
    ("PacerAccount", "auditEvents"): batch(_own_audit),
    ("PacerAccount", "invitations"): batch(_own_invitations),
    # CmecfAccount
    ("CmecfAccount", "id"): one(lambda runtime, s, args: encode_id("CmecfAccount", s.row.id)),
    ("CmecfAccount", "login"): _row("login"),
    ("CmecfAccount", "firstName"): _row("first_name"),
    ("CmecfAccount", "lastName"): _row("last_name"),
    ("CmecfAccount", "role"): _row("role"),
    ("CmecfAccount", "court"): one(_legacy_court),
    ("CmecfAccount", "linkedAt"): batch(_linked_at),
    ("CmecfAccount", "linkedAccount"): _person("account_id", "owner"),
    ("CmecfAccount", "linkedBy"): _person("linked_by_id", "linker"),
    # FilingPrivilege (a row or a model)
    ("FilingPrivilege", "id"): _id("FilingPrivilege"),
    ("FilingPrivilege", "role"): attr("role"),
    ("FilingPrivilege", "source"): attr("source"),
    ("FilingPrivilege", "grantedAt"): attr("granted_at"),
    ("FilingPrivilege", "court"): one(_court_of),
    ("FilingPrivilege", "account"): _account_of("account_id"),
    ("FilingPrivilege", "permissions"): one(_permissions),
    ("FilingPrivilege", "proHacVice"): attr("pro_hac_vice"),
    ("FilingPrivilege", "revokedAt"): attr("revoked_at"),
    ("FilingPrivilege", "cases"): batch(_cases),
    ("FilingPrivilege", "revokedBy"): batch(_revoked_by),
    ("FilingPrivilege", "revokedReason"): batch(_revoked_reason),
    # Firm (a row or a model)
    ("Firm", "id"): _id("Firm"),
    ("Firm", "accountNumber"): attr("account_number"),
    ("Firm", "name"): attr("name"),
    ("Firm", "clientCodeRequired"): attr("client_code_required"),
    ("Firm", "admins"): batch(_firm_admins),
    ("Firm", "members"): batch(_firm_members),
    ("Firm", "invitations"): batch(_firm_invitations),
    # Registration (a model, or a row: rows.RegistrationRow)
    ("Registration", "id"): _id("Registration"),
    ("Registration", "court"): one(_court_of),
    ("Registration", "account"): _account_of("account_id", "account_row", tied=True),
    ("Registration", "role"): attr("role"),
    ("Registration", "proHacVice"): attr("pro_hac_vice"),
    ("Registration", "caseNumber"): attr("case_number"),
    ("Registration", "barNumber"): attr("bar_number"),
    ("Registration", "barState"): attr("bar_state"),
    ("Registration", "status"): attr("status"),
    ("Registration", "submittedAt"): attr("submitted_at"),
    ("Registration", "decidedAt"): attr("decided_at"),
    ("Registration", "decidedBy"): _account_of("decided_by_id"),
    ("Registration", "reason"): attr("reason"),
    # AuditEvent (a model, or a row: rows.AuditRow) and FirmInvitation (a model)
    ("AuditEvent", "id"): _id("AuditEvent"),
    ("AuditEvent", "at"): attr("at"),
    ("AuditEvent", "action"): attr("action"),
    ("AuditEvent", "actor"): _account_of("actor_id", "actor_row"),
    ("AuditEvent", "subject"): _account_of("subject_id", "subject_row"),
    ("AuditEvent", "court"): one(_event_court),
    ("AuditEvent", "detail"): attr("detail"),
    ("FirmInvitation", "id"): _id("FirmInvitation"),
    ("FirmInvitation", "firm"): batch(_firms_of),
    ("FirmInvitation", "account"): _account_of("account_id"),
    ("FirmInvitation", "status"): attr("status"),
    ("FirmInvitation", "createdAt"): attr("created_at"),
    ("FirmInvitation", "invitedBy"): _account_of("invited_by_id"),
    ("FirmInvitation", "decidedAt"): attr("answered_at"),
}

#: What a field needs to know of the viewer: read with the session, in one statement
#: (``Runtime.viewer``), when the plan has the field.
VIEWER_FACTS: dict[tuple[str, str], frozenset[str]] = {
    # The viewer's own columns are data that ``me`` shows: with a read replica they are read
    # there, after the session (elsewhere they ride with the session, whose statement reads them anyway).
    ("Query", "me"): frozenset({"account"}),
    **dict.fromkeys(
        [("Query", "cmecfAccounts"), ("Query", "registrations"), ("Query", "auditEvents")],
        frozenset({"clerk_courts"}),
    ),
    ("PacerAccount", "clerkOf"): frozenset({"clerk_courts"}),
    ("PacerAccount", "privileges"): frozenset({"privileges"}),
    ("PacerAccount", "canFile"): frozenset({"privileges"}),
    ("PacerAccount", "firm"): frozenset({"membership"}),
    ("FilingPrivilege", "revokedBy"): frozenset({"clerk_courts"}),
    ("FilingPrivilege", "revokedReason"): frozenset({"clerk_courts"}),
    ("Firm", "members"): frozenset({"membership"}),
    ("Firm", "invitations"): frozenset({"membership"}),
}

# Connections, edges and pages: plain attributes of the tuples above
for _connection_type, _edge_type in (
    ("CmecfAccountConnection", "CmecfAccountEdge"),
    ("RegistrationConnection", "RegistrationEdge"),
    ("AuditEventConnection", "AuditEventEdge"),
    ("PacerAccountConnection", "PacerAccountEdge"),
):
    RESOLVERS[(_connection_type, "edges")] = attr("edges")
    RESOLVERS[(_connection_type, "pageInfo")] = attr("page_info")
    RESOLVERS[(_connection_type, "totalCount")] = attr("total_count")
    RESOLVERS[(_edge_type, "cursor")] = attr("cursor")
    RESOLVERS[(_edge_type, "node")] = attr("node")
for _name, _column in (
    ("hasNextPage", "has_next_page"),
    ("hasPreviousPage", "has_previous_page"),
    ("startCursor", "start_cursor"),
    ("endCursor", "end_cursor"),
):
    RESOLVERS[("PageInfo", _name)] = attr(_column)
