"""National scale (issue 21), part 1: counts kept with the rows they count, and search on
the databases' own trigram indexes.

``list_counts`` holds, per court, the size of each list a clerk pages through: the roster
(``roster``) and its linked part (``roster.linked``), the registrations (``registrations``)
and each status (``registrations.pending``, ...), the court's audit events (``audit``).
Triggers keep them in the transaction of every write that changes them (an import, a link, a
decision, a retention delete), so an unfiltered ``totalCount`` reads one row, exact, whatever
wrote the rows: row triggers on SQLite, statement triggers with transition tables on
PostgreSQL (a bulk import adds to each court's count once per statement, not once per row).

Search: the roster gets ``search_text`` (login, names and email, case-folded), as the
registrations have had since 0010; SQLite searches both through FTS5 tables with the
``trigram`` tokenizer (``{table}_search``, external content kept by triggers), PostgreSQL
through ``pg_trgm`` GIN indexes. Those, and the partial indexes of the roster's ``linked``
filter, are built by ``0011b_indexes``: ``CONCURRENTLY`` on PostgreSQL, where the tables
may already be large (a concurrent build cannot run in a transaction).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

#: The tables a clerk searches, each with a case-folded copy of its searched text (``search_text``).
SEARCHED = ("cmecf_accounts", "registrations")

#: (table, [(count name as an SQL expression over the row, condition or None)])
COUNTED = {
    "cmecf_accounts": [("'roster'", None), ("'roster.linked'", "linked_at IS NOT NULL")],
    "registrations": [("'registrations'", None), ("'registrations.' || status", None)],
    "audit_events": [("'audit'", "court_id IS NOT NULL")],
    "filing_privileges": [("'privileges'", None)],
}



def _contributions(table: str, alias: str, sign: int) -> str:
    """The (court, count, +1/-1) of each row of ``alias`` (PostgreSQL: a transition table)."""
    return " UNION ALL ".join(
        f"SELECT court_id, {name} AS k, {sign} AS d FROM {alias}"
        + f" WHERE court_id IS NOT NULL{f' AND ({cond})' if cond else ''}"
        for name, cond in COUNTED[table]
    )


def _sqlite_triggers(table: str) -> list[str]:
    def add(row: str, sign: int) -> list[str]:
        out = []
        for name, cond in COUNTED[table]:
            name = name.replace("status", f"{row}.status")
            where = f"{row}.court_id IS NOT NULL" + (
                f" AND ({cond.replace('linked_at', f'{row}.linked_at').replace('court_id', f'{row}.court_id')})"
                if cond
                else ""
            )
            out.append(
                f"INSERT INTO list_counts (court_id, list, n) SELECT {row}.court_id, {name}, {sign}"
                f" WHERE {where} ON CONFLICT (court_id, list) DO UPDATE SET n = n + ({sign});"
            )
        return out

    columns = {"cmecf_accounts": "court_id, linked_at", "registrations": "court_id, status"}
    found = [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN {' '.join(add('NEW', 1))} END",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN {' '.join(add('OLD', -1))} END",
    ]
    if table in columns:
        found.append(
            f"CREATE TRIGGER {table}_count_update AFTER UPDATE OF {columns[table]} ON {table}"
            f" BEGIN {' '.join(add('OLD', -1) + add('NEW', 1))} END"
        )
    return found


def _postgres_triggers(table: str) -> list[str]:
    bodies = {
        "INSERT": _contributions(table, "new_rows", 1),
        "DELETE": _contributions(table, "old_rows", -1),
        "UPDATE": f"{_contributions(table, 'old_rows', -1)} UNION ALL {_contributions(table, 'new_rows', 1)}",
    }
    found = []
    for event, rows in bodies.items():
        function = f"{table}_count_{event.lower()}"
        referencing = {
            "INSERT": "NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        found += [
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " INSERT INTO list_counts (court_id, list, n)"
            f" SELECT court_id, k, SUM(d) FROM ({rows}) AS c GROUP BY court_id, k HAVING SUM(d) <> 0"
            " ORDER BY court_id, k"
            " ON CONFLICT (court_id, list) DO UPDATE SET n = list_counts.n + EXCLUDED.n;"
            " RETURN NULL; END $$",
            f"CREATE TRIGGER {function} AFTER {event} ON {table} REFERENCING {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return found


async def search_indexes(apps, schema_editor) -> None:
    """The roster's ``search_text`` filled (as ``ordering.search_copy`` writes it: login,
    names and email, case-folded by Python, the same on both databases); then SQLite's FTS5
    trigram tables over both searched tables, kept by triggers, or PostgreSQL's ``pg_trgm``
    (its GIN indexes are built concurrently by ``0011b``)."""
    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"

    def sql(text: str) -> str:
        if not postgres:
            return text
        parts = text.split("?")
        return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))

    if postgres:
        await client.execute_script('ALTER TABLE "cmecf_accounts" ALTER COLUMN "search_text" TYPE TEXT COLLATE "C"')
        await client.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _, found = await client.execute_query("SELECT id, login, first_name, last_name, email FROM cmecf_accounts")
    for r in found:
        text = " ".join(p for p in (r["login"], r["first_name"], r["last_name"], r["email"]) if p).casefold()
        await client.execute_query(sql("UPDATE cmecf_accounts SET search_text = ? WHERE id = ?"), [text, r["id"]])
    if postgres:
        return
    for table in SEARCHED:
        index = f"{table}_search"
        for statement in [
            f"CREATE VIRTUAL TABLE {index} USING fts5(search_text, content='{table}', content_rowid='id',"
            " tokenize='trigram')",
            f"INSERT INTO {index} ({index}) VALUES ('rebuild')",
            f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN"
            f" INSERT INTO {index} (rowid, search_text) VALUES (NEW.id, NEW.search_text); END",
            f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN"
            f" INSERT INTO {index} ({index}, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text); END",
            f"CREATE TRIGGER {index}_update AFTER UPDATE OF search_text ON {table} BEGIN"
            f" INSERT INTO {index} ({index}, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);"
            f" INSERT INTO {index} (rowid, search_text) VALUES (NEW.id, NEW.search_text); END",
        ]:
            await client.execute_query(statement)


async def kept_counts(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"
    await client.execute_query(
        "CREATE TABLE list_counts (court_id VARCHAR(16) NOT NULL, list VARCHAR(40) NOT NULL,"
        " n BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (court_id, list))"
    )
    for table in COUNTED:
        # The counts of the rows already there, then the triggers that keep them.
        await client.execute_query(
            "INSERT INTO list_counts (court_id, list, n)"
            f" SELECT court_id, k, SUM(d) FROM ({_contributions(table, table, 1)}) AS c GROUP BY court_id, k"
        )
        for statement in _postgres_triggers(table) if postgres else _sqlite_triggers(table):
            await client.execute_query(statement)


class Migration(migrations.Migration):
    dependencies = [("models", "0010_firms_keys_and_orders")]

    initial = False

    operations = [
        ops.RunPython(kept_counts, ops.RunPython.noop),
        ops.AddField(
            model_name="CmecfAccount",
            name="search_text",
            field=fields.TextField(default="", db_default="", unique=False),
        ),
        ops.RunPython(search_indexes, ops.RunPython.noop),
    ]
