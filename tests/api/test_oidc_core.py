"""The OpenID Connect provider's core: discovery, the JWKS and key rotation, clients, and the
grants a person sees and ends (``appGrants``, ``revokeAppGrant``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from joserfc.errors import JoseError

from nextgen_gql.models import AppGrantRecord, AuditEvent, OidcSigningKey, PacerAccount
from nextgen_gql.oidc import clients, grants, signing
from nextgen_gql.services import clock
from nextgen_gql.settings import Settings
from tests.conftest import FILER, SHARED, Api, running_api

ISSUER = "http://127.0.0.1:8000"

GRANTS = "{ me { appGrants { id scopes grantedAt lastUsedAt client { clientId name firstParty court { code } } } } }"
REVOKE = (
    "mutation($id: ID!) { revokeAppGrant(id: $id) { grant { id scopes } errors { code field message } } }"
)


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[Api]:
    async with running_api(settings.with_(public_url=ISSUER)) as running:
        yield running


async def test_without_the_public_url_the_routes_say_which_setting_enables_them(api: Api) -> None:
    for path in (
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/oauth/jwks",
    ):
        answer = await api.client.get(path)
        assert answer.status_code == 404, path
        assert "NEXTGEN_GQL_PUBLIC_URL" in answer.json()["error_description"]


async def test_discovery_names_the_exact_issuer_and_only_safe_choices(provider: Api) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        meta = (await provider.client.get(path)).json()
        assert meta["issuer"] == ISSUER
        assert meta["jwks_uri"] == f"{ISSUER}/oauth/jwks"
        assert meta["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
        assert meta["response_types_supported"] == ["code"]
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
        assert "none" not in meta["id_token_signing_alg_values_supported"]
        assert meta["authorization_response_iss_parameter_supported"] is True
        assert {"api", "api.read", "pacer", "cmecf"} <= set(meta["scopes_supported"])


async def test_the_jwks_publishes_public_halves_with_a_kid_and_they_verify_what_the_service_signs(
    provider: Api,
) -> None:
    answer = await provider.client.get("/oauth/jwks")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/jwk-set+json")
    published = answer.json()
    (key,) = published["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), "a private part is published"
    token = await signing.sign(provider.app.state.view.sealer, {"iss": ISSUER, "sub": "x"})
    assert signing.verify(token, published)["sub"] == "x"
    # the private half is sealed at rest: its row holds no plain JWK
    row = await OidcSigningKey.get(kid=key["kid"])
    assert '"d"' not in row.sealed_private


async def test_a_rotated_key_is_published_at_once_signs_after_the_delay_and_the_old_one_leaves_later(
    provider: Api,
) -> None:
    sealer = provider.app.state.view.sealer
    start = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
    clock.set_now(start)
    first = (await provider.client.get("/oauth/jwks")).json()["keys"][0]["kid"]
    old_token = await signing.sign(sealer, {"sub": "before"})
    new = await signing.rotate(sealer, 3600)
    kids = [k["kid"] for k in (await provider.client.get("/oauth/jwks")).json()["keys"]]
    assert kids == [first, new.kid]  # published at once
    assert (await signing.signing_key(sealer)).kid == first  # not signing yet

    clock.set_now(start + dt.timedelta(seconds=3600))
    assert (await signing.signing_key(sealer)).kid == new.kid
    published = (await provider.client.get("/oauth/jwks")).json()
    assert [k["kid"] for k in published["keys"]] == [first, new.kid]
    assert signing.verify(old_token, published)["sub"] == "before"  # still verifiable

    clock.set_now(start + dt.timedelta(seconds=3600) + signing.LONGEST_TOKEN)
    published = (await provider.client.get("/oauth/jwks")).json()
    assert [k["kid"] for k in published["keys"]] == [new.kid]
    with pytest.raises(JoseError):
        signing.verify(old_token, published)
    states = {s.key.kid: s.state for s in await signing.key_states()}
    assert states == {first: "dropped", new.kid: "signing"}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"redirect_uris": []}, "redirect-uri"),
        ({"redirect_uris": ["http://app.example/cb"]}, "redirect-uri"),
        ({"redirect_uris": ["https://app.example/cb#x"]}, "redirect-uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "redirect-uri"),
        ({"name": " "}, "name"),
        ({"auth_method": "client_secret_jwt"}, "auth-method"),
        ({"auth_method": "none"}, "auth-method"),
        ({"public": True, "auth_method": "client_secret_basic"}, "auth-method"),
        ({"auth_method": "private_key_jwt"}, "jwks-uri"),
        ({"jwks_uri": "https://app.example/jwks"}, "jwks-uri"),
        ({"court_code": "zzz"}, "court"),
        ({"backchannel_logout_uri": "ftp://app.example/bc"}, "backchannel-logout-uri"),
    ],
)
async def test_a_bad_registration_names_the_option_and_registers_nothing(
    provider: Api, options: dict[str, object], field: str
) -> None:
    values: dict[str, object] = {"name": "App", "redirect_uris": ["https://app.example/cb"], **options}
    with pytest.raises(clients.ClientError) as refused:
        await clients.add_client(**values)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert await clients.list_clients() == []


async def test_a_client_secret_is_shown_once_and_only_its_hash_is_kept(provider: Api) -> None:
    made = await clients.add_client(
        name="CM/ECF", court_code="mad", redirect_uris=["https://ecf.mad.example/cb"]
    )
    assert made.secret is not None and made.secret.startswith("ngc_")
    assert made.secret not in str(await clients.list_clients())
    found = await clients.find_client(made.client.client_id)
    assert found is not None
    assert clients.check_secret(found, made.secret)
    assert not clients.check_secret(found, made.secret + "x")
    public = await clients.add_client(name="Phone", public=True, redirect_uris=["gov.uscourts.app:/cb"])
    assert public.secret is None and public.client.auth_method == "none"
    assert not clients.check_secret(public.client, "")


async def test_a_person_sees_and_ends_only_their_own_grants(provider: Api) -> None:
    app = (await clients.add_client(name="Docket Pro", redirect_uris=["https://docket.example/cb"])).client
    court_system = (
        await clients.add_client(
            name="CM/ECF mad", court_code="mad", redirect_uris=["https://ecf.mad.example/cb"]
        )
    ).client
    filer = await PacerAccount.get(username_key=FILER[0])
    other = await PacerAccount.get(username_key=SHARED[0])
    assert await grants.needs_consent(filer.id, app, ["openid", "profile"])
    assert not await grants.needs_consent(filer.id, court_system, ["openid", "api"])  # first party
    first = await grants.grant(filer.id, app, ["openid", "profile"])
    assert not await grants.needs_consent(filer.id, app, ["openid"])
    assert await grants.needs_consent(filer.id, app, ["openid", "email"])  # more than granted
    widened = await grants.grant(filer.id, app, ["openid", "email"])
    assert widened.id == first.id and grants.scopes_of(widened) == ["email", "openid", "profile"]
    await grants.grant(filer.id, court_system, ["openid", "api"])
    theirs = await grants.grant(other.id, app, ["openid"])

    token = await provider.sign_in(*FILER)
    listed = (await provider.data(GRANTS, token=token))["me"]["appGrants"]
    assert [(g["client"]["name"], g["client"]["firstParty"], g["scopes"]) for g in listed] == [
        ("CM/ECF mad", True, ["api", "openid"]),
        ("Docket Pro", False, ["email", "openid", "profile"]),
    ]
    assert listed[0]["client"]["court"] == {"code": "mad"}
    assert listed[1]["client"]["court"] is None

    # another person's grant is not found, and stays
    from nextgen_gql.api.ids import encode_id

    refused = (await provider.data(REVOKE, {"id": encode_id("AppGrant", theirs.id)}, token=token))[
        "revokeAppGrant"
    ]
    assert refused["grant"] is None and refused["errors"][0]["code"] == "NOT_FOUND"
    assert (await AppGrantRecord.get(id=theirs.id)).revoked_at is None
    node = await provider.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": encode_id("AppGrant", theirs.id)}, token=token
    )
    assert node["node"] is None

    ended = (await provider.data(REVOKE, {"id": listed[1]["id"]}, token=token))["revokeAppGrant"]
    assert ended["errors"] == [] and ended["grant"]["id"] == listed[1]["id"]
    again = (await provider.data(REVOKE, {"id": listed[1]["id"]}, token=token))["revokeAppGrant"]
    assert again["errors"][0]["code"] == "NOT_FOUND"
    remaining = (await provider.data(GRANTS, token=token))["me"]["appGrants"]
    assert [g["client"]["name"] for g in remaining] == ["CM/ECF mad"]
    assert await grants.needs_consent(filer.id, app, ["openid"])  # consent asked again
    audited = await AuditEvent.filter(action__startswith="oidc.grant", subject_id=filer.id).values_list(
        "action", flat=True
    )
    assert list(audited) == ["oidc.grant", "oidc.grant", "oidc.grant", "oidc.grant.revoke"]


async def test_signed_out_nobody_revokes_a_grant(provider: Api) -> None:
    body = await provider.gql(REVOKE, {"id": "QXBwR3JhbnQ6MQ=="})
    errors = body.get("errors") or body["data"]["revokeAppGrant"]["errors"]
    assert "UNAUTHENTICATED" in str(errors)


async def test_removing_a_client_ends_its_grants_at_once(provider: Api) -> None:
    app = (await clients.add_client(name="Docket Pro", redirect_uris=["https://docket.example/cb"])).client
    filer = await PacerAccount.get(username_key=FILER[0])
    await grants.grant(filer.id, app, ["openid"])
    await clients.remove_client(app.client_id)
    assert await clients.find_client(app.client_id) is None
    assert await grants.account_grants(filer.id) == []
    with pytest.raises(clients.ClientError):
        await clients.remove_client(app.client_id)
