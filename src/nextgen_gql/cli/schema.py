"""``nextgen-gql export-schema``: the SDL, and the reference SPA's operations bundle."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nextgen_gql.settings import Settings

__all__ = ["bundle_operations", "cmd_export_schema"]


def bundle_operations(folder: Path) -> str:
    """The operations of ``folder/*.graphql`` as the JSON the SPA loads:
    ``{name: {"id": "sha256:<hex>", "document": text}}``. The service registers them as
    trusted documents at start; the SPA sends only their ids."""
    from graphql import OperationDefinitionNode, parse, print_ast

    from nextgen_gql.api.persisted import sha256_hex

    documents: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.graphql")):
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                text = print_ast(definition)
                documents[definition.name.value] = {"id": f"sha256:{sha256_hex(text)}", "document": text}
    return json.dumps(documents, indent=1, sort_keys=True) + "\n"


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.api.schema import schema
    from nextgen_gql.web import OPERATIONS_BUNDLE

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(schema.as_str() + "\n", encoding="utf-8")
    print(f"Wrote {out}.")
    operations = out.parent / "operations"
    if operations.is_dir() and args.output == "schema/schema.graphql":
        OPERATIONS_BUNDLE.write_text(bundle_operations(operations), encoding="utf-8")
        print(f"Wrote {OPERATIONS_BUNDLE} from {operations}.")
    return 0
