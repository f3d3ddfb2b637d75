"""``node(id:)`` resolves any object, under the same access rules as everywhere else."""

from __future__ import annotations

from tests.conftest import CLERK_PASSWORD, CLERKS, FILER, LEGACY_ECF_PASSWORD, SHARED, Api

NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on PacerAccount { username } ... on Court { code } ... on CmecfAccount { login }
  ... on FilingPrivilege { role } } }"""
LINK = """mutation($i: LinkCmecfAccountInput!) { linkCmecfAccount(input: $i) {
  cmecfAccount { id } privilege { id account { id } } errors { code } } }"""


async def test_courts_are_public(api: Api) -> None:
    court_id = (await api.data("{ courts { id code } }"))["courts"][0]["id"]
    node = (await api.data(NODE, {"id": court_id}))["node"]
    assert node == {"id": court_id, "__typename": "Court", "code": "ca1"}


async def test_nodes_follow_visibility(api: Api) -> None:
    james = await api.sign_in(*FILER)
    linked = (
        await api.data(
            LINK,
            {"i": {"login": "jmorgan", "password": LEGACY_ECF_PASSWORD, "confirm": True}},
            court="mad",
            token=james,
        )
    )["linkCmecfAccount"]
    ids = {
        "account": linked["privilege"]["account"]["id"],
        "legacy": linked["cmecfAccount"]["id"],
        "privilege": linked["privilege"]["id"],
    }
    viewers = {
        "self": james,
        "mad clerk": await api.sign_in(CLERKS["mad"], CLERK_PASSWORD),
        "mab clerk": await api.sign_in(CLERKS["mab"], CLERK_PASSWORD),
        "stranger": await api.sign_in(*SHARED),
        "anonymous": None,
    }
    expected_visible = {"self", "mad clerk"}
    for who, token in viewers.items():
        for what, node_id in ids.items():
            node = (await api.data(NODE, {"id": node_id}, token=token))["node"]
            if who in expected_visible:
                assert node is not None and node["id"] == node_id, (who, what)
            else:
                assert node is None, (who, what)


async def test_garbage_ids_resolve_to_null(api: Api) -> None:
    for bad in ["", "%%%", "UGFjZXJBY2NvdW50OmFiYw", "Tm9wZTox", "Q291cnQ6enp6"]:
        assert (await api.data(NODE, {"id": bad}))["node"] is None
