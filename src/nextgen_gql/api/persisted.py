"""Persisted documents: a client names a GraphQL document by a key instead of sending its text.

Three ways in, one table (``models.PersistedDocument``), shared by every worker and machine:

- **Automatic persisted queries** (Apollo Client's ``PersistedQueryLink``): the client sends
  ``extensions.persistedQuery.sha256Hash``; if the service does not know it, the answer is
  ``PERSISTED_QUERY_NOT_FOUND`` and the client sends the hash again with the text, which
  the service keeps (``remember``) once it has validated it.
- **Persisted ids** (Relay's ``doc_id``, the GraphQL-over-HTTP appendix's ``documentId``):
  the client sends only the id that its build step gave the document.
- **Trusted documents**: an operator registers the documents the front ends ship
  (``nextgen-gql operations add``: ``read_documents`` reads the files, ``check_documents``
  validates them, ``DocumentStore.add_trusted`` writes them in one transaction). With
  ``NEXTGEN_GQL_TRUSTED_DOCUMENTS=only`` the service runs nothing else.

Documents never change under a key (a key is a hash of the text, or a manifest's id that
is refused if it would name another text), so what a process has read it keeps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
)
from graphql.validation import ASTValidationRule
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from nextgen_gql.api.request_errors import parse_document, validate
from nextgen_gql.models import PersistedDocument
from nextgen_gql.observability.metrics import name_operations

__all__ = [
    "SHA256_HEX",
    "Document",
    "DocumentError",
    "DocumentStore",
    "NewDocument",
    "check_documents",
    "documents_from_text",
    "introspection_only",
    "normalize_key",
    "read_bundle",
    "read_documents",
    "sha256_hex",
]

#: A SHA-256 as clients send it: 64 lowercase hex digits.
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
#: What a manifest's id may look like: relay-compiler's md5, a sha256, or a name of the build's own.
_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_key(key: str) -> str:
    """The key as stored: ``sha256:<hex>`` (the GraphQL-over-HTTP appendix) is the bare hex."""
    if key.startswith("sha256:") and SHA256_HEX.fullmatch(key[7:].lower()):
        return key[7:].lower()
    return key


@dataclass(frozen=True)
class Document:
    key: str
    text: str
    trusted: bool


@dataclass(frozen=True)
class NewDocument:
    """A document to register, and where it came from (for messages and ``operations list``)."""

    key: str
    text: str
    source: str
    #: For an operation of a .graphql file, the file's line where it starts: errors name that
    #: line, as the text registered is the operation printed again.
    line: int | None = None


class DocumentError(ValueError):
    """A file or document that cannot be registered; the message names the file and what is wrong."""


# ------------------------------------------------------------------------------- reading files


def _spread_names(selection_set: SelectionSetNode | None) -> Iterable[str]:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        else:
            yield from _spread_names(getattr(selection, "selection_set", None))


def documents_from_text(text: str, source: str) -> list[NewDocument]:
    """One document per operation of a ``.graphql`` text, each with the fragments it uses
    (as relay-compiler and Apollo's manifest generator split them), printed canonically."""
    try:
        parsed = parse(text, no_location=False)
    except GraphQLError as exc:
        where = f":{exc.locations[0].line}:{exc.locations[0].column}" if exc.locations else ""
        raise DocumentError(f"{source}{where}: {exc.message}") from None
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise DocumentError(f"{source}: holds no operation (only fragments or type definitions)")
    if len(operations) > 1 and any(op.name is None for op in operations):
        raise DocumentError(f"{source}: an anonymous operation must be alone in its file")
    out = []
    for operation in operations:
        used: list[FragmentDefinitionNode] = []
        pending = list(_spread_names(operation.selection_set))
        while pending:
            name = pending.pop(0)
            if any(f.name.value == name for f in used):
                continue
            fragment = fragments.get(name)
            if fragment is None:
                op = operation.name.value if operation.name else "the operation"
                raise DocumentError(
                    f"{source}: {op} spreads the fragment {name}, which the file does not define"
                )
            used.append(fragment)
            pending.extend(_spread_names(fragment.selection_set))
        printed = print_ast(DocumentNode(definitions=(operation, *used)))
        name = operation.name.value if operation.name else "(anonymous)"
        line = operation.loc.source.get_location(operation.loc.start).line if operation.loc else None
        out.append(NewDocument(key=sha256_hex(printed), text=printed, source=f"{source} {name}", line=line))
    return out


def _from_manifest(data: object, source: str) -> list[NewDocument]:
    if isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise DocumentError(f'{source}: an Apollo manifest needs an "operations" list')
        pairs = []
        for index, entry in enumerate(operations):
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("id"), str)
                and isinstance(entry.get("body"), str)
            ):
                raise DocumentError(f'{source}: operations[{index}] needs a string "id" and "body"')
            pairs.append((entry["id"], entry["body"], f"{source} operations[{index}]"))
    elif isinstance(data, dict):
        pairs = []
        for key, text in data.items():
            if not isinstance(text, str):
                raise DocumentError(f"{source}: the value of {key!r} is not a document text")
            pairs.append((key, text, f"{source} {key}"))
    else:
        raise DocumentError(
            f"{source}: not a manifest: expected a JSON object of id to document "
            "(relay-compiler, GraphQL Code Generator) or an Apollo persisted query manifest"
        )
    out = []
    for key, text, where in pairs:
        key = normalize_key(key)
        if not _KEY.fullmatch(key):
            raise DocumentError(f"{where}: the id {key!r} is not 1-128 letters, digits or _.:-")
        out.append(NewDocument(key=key, text=text, source=where))
    return out


def read_documents(path: Path) -> list[NewDocument]:
    """The documents of one file: ``.graphql``/``.gql`` (each operation with its fragments) or a
    JSON manifest of relay-compiler, GraphQL Code Generator or Apollo."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{path}: cannot be read: {exc}") from None
    if path.suffix in {".graphql", ".gql"}:
        return documents_from_text(raw, str(path))
    if path.suffix == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
        return _from_manifest(data, str(path))
    raise DocumentError(f"{path}: expected a .graphql, .gql or .json file")


def read_bundle(path: Path) -> list[NewDocument]:
    """The reference SPA's operations (``export-schema`` writes the bundle), to register at start."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return [
        NewDocument(key=normalize_key(entry["id"]), text=entry["document"], source=f"spa {name}")
        for name, entry in sorted(bundle.items())
    ]


def _operation_names(document: DocumentNode) -> str:
    return " ".join(
        d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name
    )


def check_documents(
    documents: Sequence[NewDocument],
    schema: GraphQLSchema,
    rules: tuple[type[ASTValidationRule], ...],
    max_tokens: int,
) -> list[str]:
    """What is wrong with each document, against the schema and the service's rules (empty: none)."""
    problems = []
    seen: dict[str, str] = {}
    for doc in documents:
        if seen.get(doc.key, doc.text) != doc.text:
            problems.append(f"{doc.source}: the id {doc.key} names two different documents")
        seen[doc.key] = doc.text
        try:
            parsed = parse_document(doc.text, max_tokens)
        except GraphQLError as exc:
            problems.append(f"{doc.source}: {exc.message}")
            continue
        if not any(isinstance(d, OperationDefinitionNode) for d in parsed.definitions):
            problems.append(f"{doc.source}: holds no operation")
        for error in validate(schema, parsed, rules):
            if doc.line is not None:
                where = f" (line {doc.line})"
            else:
                where = f" (line {error.locations[0].line})" if error.locations else ""
            problems.append(f"{doc.source}{where}: {error.message}")
    return problems


def introspection_only(document: DocumentNode) -> bool:
    """Whether every operation selects only ``__schema``, ``__type`` and ``__typename`` at its
    root: what GraphiQL and code generators ask, and no more than introspection tells."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(
        isinstance(s, FieldNode) and s.name.value in {"__schema", "__type", "__typename"}
        for op in operations
        for s in op.selection_set.selections
    )


def _canonical_sha256(text: str, max_tokens: int) -> str | None:
    try:
        return sha256_hex(print_ast(parse_document(text, max_tokens)))
    except GraphQLError:
        return None


# ------------------------------------------------------------------------------------ the store


class DocumentStore:
    """Persisted documents of the database, and what this process has already read of them.

    With ``trusted_only`` only trusted documents are found, and ``remember`` keeps nothing.
    """

    def __init__(self, *, trusted_only: bool, max_tokens: int, max_cached: int = 4096) -> None:
        self.trusted_only = trusted_only
        self.max_tokens = max_tokens
        self.max_cached = max_cached
        self._found: OrderedDict[str, Document] = OrderedDict()
        self._trusted_texts: set[str] = set()  # sha256 of texts known to be trusted
        self._marked: dict[str, dt.date] = {}
        #: Lookups answered from this process's memory, and those that read the database.
        self.hits = 0
        self.misses = 0

    def _keep(self, document: Document) -> None:
        self._found[document.key] = document
        self._found.move_to_end(document.key)
        if len(self._found) > self.max_cached:
            self._found.popitem(last=False)

    async def find(self, key: str) -> Document | None:
        """The document a client names by ``key`` (a persisted id, a SHA-256 or ``sha256:<hex>``)."""
        key = normalize_key(key)
        kept = self._found.get(key)
        if kept is not None and (kept.trusted or not self.trusted_only):
            self.hits += 1
            await self._mark_used(kept.key)
            return kept
        self.misses += 1
        if not _KEY.fullmatch(key):
            return None
        query = PersistedDocument.filter(Q(key=key) | Q(sha256=key))
        if self.trusted_only:
            query = query.filter(trusted=True)
        row = await query.order_by("-trusted", "id").first()
        if row is None:
            return None
        document = Document(key=key, text=row.document, trusted=row.trusted)
        if row.trusted:  # registered since the start, perhaps: counted by name from now on
            name_operations(row.operation_names.split())
        self._keep(document)
        await self._mark_used(row.key)
        return document

    async def _mark_used(self, key: str) -> None:
        today = dt.datetime.now(dt.UTC).date()
        if self._marked.get(key) == today:
            return
        if len(self._marked) > self.max_cached:
            self._marked.clear()
        self._marked[key] = today
        await PersistedDocument.filter(Q(key=key) | Q(sha256=key)).update(used_on=today)

    async def remember(self, text: str, document: DocumentNode) -> None:
        """Keep a client's automatic persisted query (validated by the caller) under its SHA-256."""
        if self.trusted_only:
            return
        key = sha256_hex(text)
        await PersistedDocument.bulk_create(
            [
                PersistedDocument(
                    key=key,
                    sha256=key,
                    canonical_sha256=sha256_hex(print_ast(document)),
                    document=text,
                    operation_names=_operation_names(document)[:400],
                    trusted=False,
                    source="apq",
                    used_on=dt.datetime.now(dt.UTC).date(),
                )
            ],
            ignore_conflicts=True,
        )
        self._keep(Document(key=key, text=text, trusted=False))

    async def is_trusted_text(self, text: str) -> bool:
        """Whether ``text`` is a trusted document, sent as text (byte for byte, or the same
        document printed differently: GraphiQL, a pasted operation)."""
        own = sha256_hex(text)
        if own in self._trusted_texts:
            return True
        canonical = _canonical_sha256(text, self.max_tokens)
        condition = Q(sha256=own) | Q(canonical_sha256=own)
        if canonical is not None:
            condition |= Q(canonical_sha256=canonical)
        found = await PersistedDocument.filter(condition, trusted=True).exists()
        if found:
            if len(self._trusted_texts) > self.max_cached:
                self._trusted_texts.clear()
            self._trusted_texts.add(own)
        return found

    async def add_trusted(self, documents: Sequence[NewDocument]) -> tuple[int, int]:
        """Register documents (checked by ``check_documents``) as trusted, all or none.

        Returns (added, already registered). A key that names another text is refused."""
        added = existing = 0
        async with in_transaction():
            for doc in documents:
                row = await PersistedDocument.filter(key=doc.key).first()
                if row is not None:
                    if row.document != doc.text:
                        raise DocumentError(
                            f"{doc.source}: the id {doc.key} is registered already, for another document"
                        )
                    if not row.trusted:
                        row.trusted = True
                        row.source = doc.source[:200]
                        await row.save(update_fields=["trusted", "source"])
                        added += 1
                    else:
                        existing += 1
                    continue
                parsed = parse(doc.text, no_location=True)
                await PersistedDocument.create(
                    key=doc.key,
                    sha256=sha256_hex(doc.text),
                    canonical_sha256=sha256_hex(print_ast(parsed)),
                    document=doc.text,
                    operation_names=_operation_names(parsed)[:400],
                    trusted=True,
                    source=doc.source[:200],
                )
                added += 1
        return added, existing

    async def ensure_trusted(self, documents: Sequence[NewDocument]) -> None:
        """Register the service's own documents (the reference SPA's) at start: idempotent,
        and safe when several processes start at once."""
        rows = []
        for doc in documents:
            parsed = parse(doc.text, no_location=True)
            rows.append(
                PersistedDocument(
                    key=doc.key,
                    sha256=sha256_hex(doc.text),
                    canonical_sha256=sha256_hex(print_ast(parsed)),
                    document=doc.text,
                    operation_names=_operation_names(parsed)[:400],
                    trusted=True,
                    source=doc.source[:200],
                )
            )
        await PersistedDocument.bulk_create(rows, ignore_conflicts=True)
        await PersistedDocument.filter(key__in=[d.key for d in documents], trusted=False).update(trusted=True)

    async def trusted_operation_names(self) -> list[str]:
        """The operation names of the trusted documents, oldest first: the operations the
        metrics count by name (``observability.metrics.name_operations``)."""
        names: list[str] = []
        for joined in (
            await PersistedDocument.filter(trusted=True)
            .order_by("id")
            .values_list("operation_names", flat=True)
        ):
            names.extend(str(joined).split())
        return names

    async def trusted(self, limit: int | None = None) -> list[PersistedDocument]:
        """Trusted documents, oldest first (``operations list``, and compiling ahead at start)."""
        query = PersistedDocument.filter(trusted=True).order_by("id")
        if limit is not None:
            query = query.limit(limit)
        return await query
