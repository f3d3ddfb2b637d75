"""The naive peer: Strawberry + Tortoise as their documentation writes an app, over the same data.

Served by `bench/harness.py` beside the raw baseline and the real app, to show what a
straightforward GraphQL service in Python does on the same database and questions. Its
own small Tortoise models map the existing tables (it never creates or migrates them),
Strawberry types resolve their relations through `strawberry.dataloader.DataLoader`s
made per request in the context, and Strawberry's own ASGI `GraphQL` app is mounted with a
Starlette `Route`; `RegisterTortoise` opens the database in the lifespan. Nothing of
nextgen_gql is used but the court files' reader. It answers the harness's three scenarios
(`me`, a court's `cmecfAccounts` page for its clerk, `courts`) with the real app's JSON.

The database is `BENCH_DATABASE_URL` (a Tortoise URL: `sqlite:///path` or
`postgres://...`), the court files are read from `BENCH_TENANTS`.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from tortoise import fields
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.models import Model

from nextgen_gql.tenancy import CourtRegistry, load_courts

DATABASE_URL = os.environ["BENCH_DATABASE_URL"]
COURTS = CourtRegistry(load_courts(Path(os.environ["BENCH_TENANTS"])))
LEGACY_CUTOFF = dt.datetime(2014, 8, 11, tzinfo=dt.UTC)


# --- The data: Tortoise models over the existing tables -------------------------------------


class Role(str, enum.Enum):
    ATTORNEY = "attorney"
    PRO_SE = "pro_se"
    MEDIA = "media"
    CREDITOR = "creditor"
    FILING_AGENT = "filing_agent"
    TRUSTEE = "trustee"


class Source(str, enum.Enum):
    LINKED_LEGACY_ACCOUNT = "linked_legacy_account"
    REGISTRATION = "registration"


class Kind(str, enum.Enum):
    APPELLATE = "appellate"
    DISTRICT = "district"
    BANKRUPTCY = "bankruptcy"


class PacerAccountModel(Model):
    id = fields.IntField(primary_key=True)
    account_number = fields.CharField(max_length=7)
    username = fields.CharField(max_length=64)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254)
    created_at = fields.DatetimeField()
    upgraded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "pacer_accounts"


class SessionModel(Model):
    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64)
    account: fields.ForeignKeyRelation[PacerAccountModel] = fields.ForeignKeyField(
        "models.PacerAccountModel", related_name="sessions"
    )
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sessions"


class FilingPrivilegeModel(Model):
    id = fields.IntField(primary_key=True)
    court_id = fields.CharField(max_length=16)
    account: fields.ForeignKeyRelation[PacerAccountModel] = fields.ForeignKeyField(
        "models.PacerAccountModel", related_name="privileges"
    )
    account_id: int
    role = fields.CharEnumField(Role, max_length=16)
    source = fields.CharEnumField(Source, max_length=32)

    class Meta:
        table = "filing_privileges"


class FirmModel(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    client_code_required = fields.BooleanField()

    class Meta:
        table = "firms"


class FirmMembershipModel(Model):
    id = fields.IntField(primary_key=True)
    firm: fields.ForeignKeyRelation[FirmModel] = fields.ForeignKeyField(
        "models.FirmModel", related_name="memberships"
    )
    account: fields.OneToOneRelation[PacerAccountModel] = fields.OneToOneField(
        "models.PacerAccountModel", related_name="membership"
    )
    account_id: int

    class Meta:
        table = "firm_memberships"


class ClerkModel(Model):
    id = fields.IntField(primary_key=True)
    court_id = fields.CharField(max_length=16)
    account: fields.ForeignKeyRelation[PacerAccountModel] = fields.ForeignKeyField(
        "models.PacerAccountModel", related_name="clerkships"
    )

    class Meta:
        table = "clerks"


class CmecfAccountModel(Model):
    id = fields.IntField(primary_key=True)
    court_id = fields.CharField(max_length=16)
    login = fields.CharField(max_length=64)
    login_key = fields.CharField(max_length=64)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    role = fields.CharEnumField(Role, max_length=16)

    class Meta:
        table = "cmecf_accounts"


class CmecfLinkModel(Model):
    id = fields.IntField(primary_key=True)
    cmecf_account: fields.OneToOneRelation[CmecfAccountModel] = fields.OneToOneField(
        "models.CmecfAccountModel", related_name="link"
    )
    cmecf_account_id: int
    account: fields.ForeignKeyRelation[PacerAccountModel] = fields.ForeignKeyField(
        "models.PacerAccountModel", related_name="links"
    )
    account_id: int
    linked_at = fields.DatetimeField()

    class Meta:
        table = "cmecf_links"


# --- Batch loads for the DataLoaders -------------------------------------------------------


async def load_accounts(ids: list[int]) -> list[PacerAccountModel | None]:
    found = {a.id: a for a in await PacerAccountModel.filter(id__in=ids)}
    return [found.get(i) for i in ids]


async def load_privileges(account_ids: list[int]) -> list[list[FilingPrivilegeModel]]:
    grouped: dict[int, list[FilingPrivilegeModel]] = {i: [] for i in account_ids}
    for row in await FilingPrivilegeModel.filter(account_id__in=account_ids).order_by("court_id", "id"):
        grouped[row.account_id].append(row)
    return [grouped[i] for i in account_ids]


async def load_firms(account_ids: list[int]) -> list[FirmModel | None]:
    memberships = await FirmMembershipModel.filter(account_id__in=account_ids).select_related("firm")
    found = {m.account_id: m.firm for m in memberships}
    return [found.get(i) for i in account_ids]


async def load_links(cmecf_ids: list[int]) -> list[CmecfLinkModel | None]:
    found = {
        link.cmecf_account_id: link for link in await CmecfLinkModel.filter(cmecf_account_id__in=cmecf_ids)
    }
    return [found.get(i) for i in cmecf_ids]


# --- The GraphQL schema --------------------------------------------------------------------

RoleEnum = strawberry.enum(Role, name="FilerRole")
SourceEnum = strawberry.enum(Source, name="PrivilegeSource")
KindEnum = strawberry.enum(Kind, name="CourtKind")


def global_id(type_name: str, key: object) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("="))


def encode_cursor(*key: object) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":"), ensure_ascii=False).encode())
        .decode()
        .rstrip("=")
    )


@strawberry.type
class Court:
    code: str
    name: str
    kind: KindEnum  # type: ignore[valid-type]
    nextgen_since: dt.date | None
    is_nextgen: bool
    accepted_roles: list[RoleEnum]  # type: ignore[valid-type]

    @classmethod
    def from_code(cls, code: str) -> Court:
        court = COURTS.get(code)
        return cls(
            code=court.code,
            name=court.name,
            kind=Kind(court.kind.value),
            nextgen_since=court.nextgen_since,
            is_nextgen=court.is_nextgen(),
            accepted_roles=[Role(r.value) for r in court.accepted_roles],
        )


@strawberry.type
class FilingPrivilege:
    court_id: strawberry.Private[str]
    role: RoleEnum  # type: ignore[valid-type]
    source: SourceEnum  # type: ignore[valid-type]

    @strawberry.field
    def court(self) -> Court:
        return Court.from_code(self.court_id)


@strawberry.type
class Firm:
    name: str
    client_code_required: bool


@strawberry.type
class PacerAccount:
    pk: strawberry.Private[int]
    id: strawberry.ID
    username: str
    first_name: str
    last_name: str
    email: str
    account_number: str
    is_legacy: bool

    @classmethod
    def from_model(cls, model: PacerAccountModel) -> PacerAccount:
        return cls(
            pk=model.id,
            id=global_id("PacerAccount", model.id),
            username=model.username,
            first_name=model.first_name,
            last_name=model.last_name,
            email=model.email,
            account_number=model.account_number,
            is_legacy=model.created_at < LEGACY_CUTOFF and model.upgraded_at is None,
        )

    @strawberry.field
    async def privileges(self, info: strawberry.Info) -> list[FilingPrivilege]:
        rows = await info.context["privileges"].load(self.pk)
        return [FilingPrivilege(court_id=r.court_id, role=r.role, source=r.source) for r in rows]

    @strawberry.field
    async def firm(self, info: strawberry.Info) -> Firm | None:
        firm = await info.context["firms"].load(self.pk)
        return Firm(name=firm.name, client_code_required=firm.client_code_required) if firm else None


@strawberry.type
class CmecfAccount:
    pk: strawberry.Private[int]
    id: strawberry.ID
    login: str
    first_name: str
    last_name: str
    role: RoleEnum  # type: ignore[valid-type]

    @classmethod
    def from_model(cls, model: CmecfAccountModel) -> CmecfAccount:
        return cls(
            pk=model.id,
            id=global_id("CmecfAccount", model.id),
            login=model.login,
            first_name=model.first_name,
            last_name=model.last_name,
            role=model.role,
        )

    @strawberry.field
    async def linked_at(self, info: strawberry.Info) -> dt.datetime | None:
        link = await info.context["links"].load(self.pk)
        return link.linked_at if link else None

    @strawberry.field
    async def linked_account(self, info: strawberry.Info) -> PacerAccount | None:
        link = await info.context["links"].load(self.pk)
        if link is None:
            return None
        account = await info.context["accounts"].load(link.account_id)
        return PacerAccount.from_model(account) if account else None


@strawberry.type
class CmecfAccountEdge:
    cursor: str
    node: CmecfAccount


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class CmecfAccountConnection:
    total_count: int
    edges: list[CmecfAccountEdge]
    page_info: PageInfo


async def get_viewer(info: strawberry.Info) -> PacerAccountModel | None:
    """The signed-in account (`Authorization: Bearer <token>`), looked up once per request."""
    if "viewer" not in info.context:
        request: Request = info.context["request"]
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        session = (
            await SessionModel.filter(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                revoked_at__isnull=True,
                expires_at__gt=dt.datetime.now(dt.UTC),
            )
            .select_related("account")
            .first()
        )
        info.context["viewer"] = session.account if session else None
    viewer: PacerAccountModel | None = info.context["viewer"]
    return viewer


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: strawberry.Info) -> PacerAccount | None:
        viewer = await get_viewer(info)
        return PacerAccount.from_model(viewer) if viewer else None

    @strawberry.field
    def courts(self) -> list[Court]:
        return [Court.from_code(court.code) for court in COURTS]

    @strawberry.field
    async def cmecf_accounts(self, info: strawberry.Info, first: int = 100) -> CmecfAccountConnection:
        court = info.context["request"].path_params.get("code")
        viewer = await get_viewer(info)
        if (
            court is None
            or viewer is None
            or not await ClerkModel.exists(account_id=viewer.id, court_id=court)
        ):
            raise PermissionError("Only a clerk of this court sees its CM/ECF accounts.")
        total = await CmecfAccountModel.filter(court_id=court).count()
        rows = await CmecfAccountModel.filter(court_id=court).order_by("login_key", "id").limit(first + 1)
        edges = [
            CmecfAccountEdge(cursor=encode_cursor(r.login_key, r.id), node=CmecfAccount.from_model(r))
            for r in rows[:first]
        ]
        return CmecfAccountConnection(
            total_count=total,
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
            ),
        )


schema = strawberry.Schema(query=Query)


class PeerGraphQL(GraphQL):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Any:
        return {
            "request": request,
            "response": response,
            "accounts": DataLoader(load_fn=load_accounts),
            "privileges": DataLoader(load_fn=load_privileges),
            "firms": DataLoader(load_fn=load_firms),
            "links": DataLoader(load_fn=load_links),
        }


def tortoise_config() -> dict[str, Any]:
    url = DATABASE_URL
    if url.startswith(("postgres://", "postgresql://")) and "maxsize=" not in url:
        url += ("&" if "?" in url else "?") + "minsize=1&maxsize=10"  # the real app's pool
    return {
        "connections": {"default": url},
        "apps": {"models": {"models": [__name__], "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with RegisterTortoise(app, config=tortoise_config(), generate_schemas=False):
        yield


graphql_app = PeerGraphQL(schema)
app = Starlette(
    routes=[Route("/graphql", graphql_app), Route("/courts/{code}/graphql", graphql_app)],
    lifespan=lifespan,
)
