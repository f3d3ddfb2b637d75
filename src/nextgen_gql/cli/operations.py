"""``nextgen-gql operations``: the trusted documents front ends ship (``api.persisted``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from nextgen_gql.cli._common import fail, run_with_db
from nextgen_gql.settings import Settings

__all__ = ["cmd_operations"]


def cmd_operations(args: argparse.Namespace, settings: Settings) -> int:
    from nextgen_gql.api.persisted import DocumentError, DocumentStore, check_documents, read_documents
    from nextgen_gql.api.schema import build_schema

    store = DocumentStore(trusted_only=False, max_tokens=settings.max_tokens)
    if args.action == "list":

        async def listing() -> int:
            rows = await store.trusted()
            for row in rows:
                used = row.used_on.isoformat() if row.used_on else "never"
                print(f"{row.key}\t{row.operation_names or '(anonymous)'}\t{row.source}\tused {used}")
            print(f"{len(rows)} trusted documents.")
            return 0

        return run_with_db(settings, listing)

    documents = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            return fail(f"{path}: no such file")
        try:
            documents.extend(read_documents(path))
        except DocumentError as exc:
            return fail(str(exc))
    schema = build_schema(settings)
    problems = check_documents(documents, schema._schema, schema.service_rules, settings.max_tokens)
    if problems:
        for problem in problems:
            fail(problem)
        return fail(f"{len(problems)} problems: nothing registered.")

    async def adding() -> tuple[int, int]:
        return await store.add_trusted(documents)

    try:
        added, existing = run_with_db(settings, adding)
    except DocumentError as exc:
        return fail(f"{exc}: nothing registered.")
    print(f"Registered {added} trusted documents ({existing} registered already).")
    return 0
