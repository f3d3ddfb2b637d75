"""The exported SDL is current, and speaks the contract's names for everything it has."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)

from nextgen_gql.api.schema import schema
from tests.conftest import REPO

CONTRACT = REPO.parent / "shared" / "contract.graphql"
EXPORTED = REPO / "schema" / "schema.graphql"


def test_exported_schema_is_current() -> None:
    assert EXPORTED.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema/schema.graphql is stale: run `nextgen-gql export-schema`"
    )


def _contract_text() -> str:
    # The contract lives beside the repository (../shared); a copy is kept in schema/.
    path = CONTRACT if CONTRACT.exists() else REPO / "schema" / "contract.graphql"
    return path.read_text(encoding="utf-8")


def test_contract_copy_is_current() -> None:
    if CONTRACT.exists():
        assert (REPO / "schema" / "contract.graphql").read_text(encoding="utf-8") == CONTRACT.read_text(
            encoding="utf-8"
        )


PENDING = REPO / "schema" / "contract-pending.txt"


def test_the_whole_contract_is_served_name_for_name() -> None:
    """Every type, field, argument and enum value of the contract, with the same types, but
    for the names listed as pending (those of open issues), and that list is exact."""
    contract = build_schema(_contract_text())
    ours = build_schema(EXPORTED.read_text(encoding="utf-8"))
    problems: list[str] = []
    for name, ctype in contract.type_map.items():
        if name.startswith("__"):
            continue
        otype = ours.type_map.get(name)
        if otype is None:
            problems.append(f"{name} is missing")
            continue
        if type(otype) is not type(ctype):
            problems.append(f"{name} is a {type(otype).__name__}, the contract says {type(ctype).__name__}")
            continue
        if isinstance(ctype, GraphQLEnumType):
            assert isinstance(otype, GraphQLEnumType)
            problems += [f"{name}.{v} is missing" for v in ctype.values if v not in otype.values]
        if isinstance(ctype, (GraphQLObjectType, GraphQLInputObjectType, GraphQLInterfaceType)):
            for fname, cfield in ctype.fields.items():
                ofield = otype.fields.get(fname)  # type: ignore[union-attr]
                if ofield is None:
                    problems.append(f"{name}.{fname} is missing")
                    continue
                if str(ofield.type) != str(cfield.type):
                    problems.append(f"{name}.{fname}: {ofield.type} != contract {cfield.type}")
                for arg, carg in getattr(cfield, "args", {}).items():
                    oarg = ofield.args.get(arg)  # type: ignore[union-attr]
                    if oarg is None or str(oarg.type) != str(carg.type):
                        problems.append(f"{name}.{fname}({arg}:) differs from the contract")
        if isinstance(ctype, GraphQLObjectType):
            assert isinstance(otype, GraphQLObjectType)
            want = {i.name for i in ctype.interfaces}
            have = {i.name for i in otype.interfaces}
            if not want <= have:
                problems.append(f"{name} does not implement {want - have}")
    pending = {
        line.strip() for line in PENDING.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    }
    assert [p for p in problems if p not in pending] == [], "the contract's names must be served"
    assert sorted(pending - set(problems)) == [], f"served now: delete these lines of {PENDING.name}"


OPERATIONS = REPO / "schema" / "operations"


def test_the_spa_operations_are_valid_against_the_schema() -> None:
    """A schema change that breaks the reference SPA fails here."""
    from graphql import parse, validate

    ours = build_schema(EXPORTED.read_text(encoding="utf-8"))
    files = sorted(OPERATIONS.glob("*.graphql"))
    assert files
    for path in files:
        errors = validate(ours, parse(path.read_text(encoding="utf-8")))
        assert errors == [], (path.name, [e.message for e in errors])


def test_the_spa_operations_bundle_is_current() -> None:
    from nextgen_gql.cli.schema import bundle_operations
    from nextgen_gql.web import OPERATIONS_BUNDLE

    assert OPERATIONS_BUNDLE.read_text(encoding="utf-8") == bundle_operations(OPERATIONS), (
        "run `nextgen-gql export-schema` to rebundle schema/operations"
    )
