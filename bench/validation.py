"""How long a hostile document takes to be validated or refused, before anything runs.

    .venv/bin/python bench/validation.py [--rounds 5] [--target-ms 50]

Every document here is within the token limit (``NEXTGEN_GQL_MAX_TOKENS``, default 3,000)
and goes through what a request's document goes through before execution: the parse
(``request_errors.parse_document``, uncached) and validation by the service's rules on the
service's schema with the default settings (``request_errors.validate``, uncached), so
every round pays as an attacker who changes one character each time would. Shapes:

- the fragment bomb ``query{...Fn} fragment F0 on Query{courts{code}} fragment Fk on
  Query{...F(k-1) ...F(k-1)}`` at every n up to the token limit;
- one selection repeated (``me{firm{admins{id}}}``, ``me{id}``) as often as fits;
- repeats at the limit on every leaf (``me{id id ... email email ...}``), the most
  pairs graphql-core's ``OverlappingFieldsCanBeMergedRule`` may still compare;
- many fragments spread side by side, each spreading one more (spreads at the limit);
- wide aliases (``a0: courts{code} ...``) as many as fit, and deep nesting
  (``me{privileges{account{...}}}``) as deep as the parser takes.

It prints a Markdown table: the document, its bytes, what it answered (the codes), the
median and slowest CPU milliseconds of the thread over the rounds, and the median wall
milliseconds (on a busy machine wall time measures the neighbours; CPU time is what the
document costs the worker). The exit status is 1 when a document's median CPU time is over
the target (50 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

from graphql import GraphQLError, Source
from graphql.language import Lexer, TokenKind

from nextgen_gql.api.request_errors import _parse, validate
from nextgen_gql.api.schema import build_schema
from nextgen_gql.settings import Settings

SETTINGS = Settings()
SCHEMA = build_schema(SETTINGS)


def bomb(n: int) -> str:
    fragments = " ".join(f"fragment F{k} on Query{{...F{k - 1} ...F{k - 1}}}" for k in range(1, n + 1))
    return f"query{{...F{n}}} fragment F0 on Query{{courts{{code}}}} {fragments}"


def repeated(selection: str, copies: int) -> str:
    return "{" + " ".join([selection] * copies) + "}"


def leaf_repeats(copies: int, fields: int) -> str:
    names = ["id", "email", "firstName", "lastName", "username", "__typename"][:fields]
    return "{me{" + " ".join(" ".join([name] * copies) for name in names) + "}}"


def side_by_side(count: int) -> str:
    spreads = " ".join(f"...S{k}" for k in range(count))
    fragments = " ".join(f"fragment S{k} on Query{{...Base}}" for k in range(count))
    return f"query{{{spreads}}} {fragments} fragment Base on Query{{courts{{code}}}}"


def aliases(count: int) -> str:
    return "{" + " ".join(f"a{i}: courts{{code}}" for i in range(count)) + "}"


def deep(levels: int) -> str:
    return "{me{" + "privileges{account{" * levels + "id" + "}}" * levels + "}}"


def tokens(text: str) -> int:
    lexer = Lexer(Source(text))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def documents() -> Iterator[tuple[str, str]]:
    limit = SETTINGS.max_tokens
    n = 1
    while tokens(bomb(n)) <= limit:
        yield f"fragment bomb F{n}", bomb(n)
        n += 1 if n < 30 else 25
    for selection in ("me{firm{admins{id}}}", "me{id}"):
        copies = 10
        while tokens(repeated(selection, copies)) <= limit:
            yield f"{copies} x {selection}", repeated(selection, copies)
            copies *= 2
        while tokens(repeated(selection, copies)) > limit:
            copies -= 1
        yield f"{copies} x {selection}", repeated(selection, copies)
    at_limit = SETTINGS.max_field_repeats
    yield f"{at_limit} x each of 6 leaves", leaf_repeats(at_limit, 6)
    yield f"{at_limit + 1} x each of 6 leaves", leaf_repeats(at_limit + 1, 6)
    side = 1
    while tokens(side_by_side(side * 2)) <= limit:
        side *= 2
    for count in sorted({at_limit, at_limit + 1, SETTINGS.max_fragment_spreads // 2 - 1, side}):
        if tokens(side_by_side(count)) <= limit:
            yield f"{count} fragments side by side", side_by_side(count)
    for count in (SETTINGS.max_aliases, SETTINGS.max_aliases + 1):
        yield f"{count} aliases", aliases(count)
    count = SETTINGS.max_aliases
    while tokens(aliases(count * 2)) <= limit:
        count *= 2
    yield f"{count} aliases", aliases(count)
    for levels in (SETTINGS.max_depth // 2 - 1, SETTINGS.max_depth // 2, 40, 100, 300):
        if tokens(deep(levels)) <= limit:
            yield f"nesting {2 * levels + 1} levels", deep(levels)


def once(text: str) -> tuple[float, float, list[str]]:
    """Wall and CPU milliseconds to parse and validate ``text``, and the codes answered."""
    started, cpu = time.perf_counter(), time.thread_time()
    parsed = _parse.__wrapped__(text, SETTINGS.max_tokens)  # type: ignore[attr-defined]
    if isinstance(parsed, GraphQLError):
        errors = [parsed]
    else:
        errors = validate.__wrapped__(SCHEMA._schema, parsed, SCHEMA.service_rules)  # type: ignore[attr-defined]
    took, took_cpu = (time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000
    return took, took_cpu, sorted({str((e.extensions or {}).get("code")) for e in errors})


def main(rounds: int, target_ms: float) -> int:
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"bench/validation.py, {rounds} rounds, {os.cpu_count()} cores; uptime: {load}\n")
    print("| document | bytes | answer | CPU ms, median | CPU ms, slowest | wall ms, median |")
    print("|---|---:|---|---:|---:|---:|")
    worst = 0.0
    for name, text in documents():
        walls, cpus, codes = [], [], []
        for _ in range(rounds):
            wall, cpu, codes = once(text)
            walls.append(wall)
            cpus.append(cpu)
        answer = ", ".join(codes) if codes else "valid"
        worst = max(worst, statistics.median(cpus))
        print(
            f"| {name} | {len(text):,} | {answer} | {statistics.median(cpus):.1f} | {max(cpus):.1f} "
            f"| {statistics.median(walls):.1f} |"
        )
    print(f"\nslowest median CPU time: {worst:.1f} ms (target {target_ms:g} ms)")
    return 0 if worst <= target_ms else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--target-ms", type=float, default=50.0)
    arguments = parser.parse_args()
    sys.exit(main(arguments.rounds, arguments.target_ms))
