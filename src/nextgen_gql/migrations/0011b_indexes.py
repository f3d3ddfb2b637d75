"""National scale (issue 21), part 2: the partial indexes of the roster's ``linked`` filter
(``PARTIAL_INDEXES``), one per order and side; on PostgreSQL the ``pg_trgm`` GIN indexes of
the searched text (``TRIGRAM_INDEXES``; SQLite's FTS5 tables come with 0011).

Not atomic: on PostgreSQL each index is built ``CONCURRENTLY`` (the tables may already be
large, and a concurrent build neither blocks writes nor runs inside a transaction); an index
left invalid by an interrupted build is dropped and built again.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

#: (index name, ordered column, condition): in each roster order, the linked and the unlinked rows
PARTIAL_INDEXES = [
    (f"cmecf_accounts_{which}_{key}", key, condition)
    for which, condition in (("linked", "linked_at IS NOT NULL"), ("unlinked", "linked_at IS NULL"))
    for key in ("login_key", "last_name_key")
]
# (The LINKED_AT order has its index since 0010: (court_id, linked_at, id).)


#: (index name, table and columns, condition or None): what the hot statements read, by the
#: plans test (tests/test_plans.py): a person's sessions, the expired ones (maintenance), the
#: audit trail by time, the privileges that still need a case.
HOT_INDEXES = [
    ("sessions_account_created", "sessions (account_id, created_at, id)", None),
    ("sessions_expires", "sessions (expires_at)", None),
    ("sessions_revoked", "sessions (revoked_at)", "revoked_at IS NOT NULL"),
    ("audit_events_court_at", "audit_events (court_id, at)", None),
    (
        "filing_privileges_needs_cases",
        "filing_privileges (court_id, id)",
        "revoked_at IS NULL AND ((role = 'attorney' AND pro_hac_vice) OR (role = 'pro_se' AND NOT pro_hac_vice))",
    ),
]

#: (index name, table): the searched text's trigram index (PostgreSQL)
TRIGRAM_INDEXES = [("cmecf_accounts_search_trgm", "cmecf_accounts"), ("registrations_search_trgm", "registrations")]


async def build(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"
    if postgres:
        for name, table in TRIGRAM_INDEXES:
            await client.execute_script(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            await client.execute_script(
                f"CREATE INDEX CONCURRENTLY {name} ON {table} USING gin (search_text gin_trgm_ops)"
            )
    for name, target, where in HOT_INDEXES:
        condition = f" WHERE {where}" if where else ""
        if postgres:
            await client.execute_script(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            await client.execute_script(f"CREATE INDEX CONCURRENTLY {name} ON {target}{condition}")
        else:
            await client.execute_query(f"CREATE INDEX IF NOT EXISTS {name} ON {target}{condition}")
    for name, key, condition in PARTIAL_INDEXES:
        if postgres:
            await client.execute_script(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            await client.execute_script(
                f"CREATE INDEX CONCURRENTLY {name} ON cmecf_accounts (court_id, {key}, id) WHERE {condition}"
            )
        else:
            await client.execute_query(
                f"CREATE INDEX IF NOT EXISTS {name} ON cmecf_accounts (court_id, {key}, id) WHERE {condition}"
            )


class Migration(migrations.Migration):
    dependencies = [("models", "0011_kept_counts")]

    initial = False
    atomic = False

    operations = [
        ops.RunPython(build, ops.RunPython.noop),
    ]
