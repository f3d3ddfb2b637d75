"""``nextgen-gql export-schema``."""

from __future__ import annotations

import argparse
from pathlib import Path

from nextgen_gql.settings import Settings

__all__ = ["cmd_export_schema"]


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.api.schema import schema

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(schema.as_str() + "\n", encoding="utf-8")
    print(f"Wrote {out}.")
    return 0
