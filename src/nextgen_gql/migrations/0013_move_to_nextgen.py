"""The move to NextGen (issue 23): the court's progress kept with the rows, reminder jobs.

Kept counts (``list_counts``, migration 0011) grow, under the same triggers, to what a
court's ``linkingProgress`` reads:

- per role: ``roster.role.<role>`` (legacy accounts), ``roster.role.<role>.linked``,
  ``roster.role.<role>.no_email_unlinked`` (unlinked and without an email);
- per week (Monday, UTC, as ``YYYY-MM-DD``): ``week.<monday>.linked`` (links made that week),
  ``week.<monday>.approved`` (registrations approved) and ``week.<monday>.reminded``
  (linking reminders recorded). A series of weeks is one range of the primary key.

The triggers of 0011 on ``cmecf_accounts`` and ``registrations`` are replaced by ones that
keep the old lists and the new ones (row triggers on SQLite, statement triggers with
transition tables on PostgreSQL, as before); ``linking_reminders`` gets its own.

New tables: ``reminder_jobs`` (one queued or running job per court, by a partial unique
index) and ``linking_reminders`` (one row per reminder: recorded in the transaction that
queues its mail, ``mailed_at`` set when it is handed to the mailer). ``cmecf_accounts``
gets ``reminded_at`` (the last reminder: the 7-day rule and the export's column).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

#: (table, [(count name as an SQL expression over the row ``{r}``, condition over ``{r}`` or None)])
#: ``{week:col}`` is the Monday (UTC) of the row's ``col`` as ``YYYY-MM-DD`` text. (The helpers
#: below take another such mapping in ``counted``: migration 0015 builds its triggers with them.)
COUNTED: dict[str, list[tuple[str, str | None]]] = {
    "cmecf_accounts": [
        ("'roster'", None),
        ("'roster.linked'", "{r}.linked_at IS NOT NULL"),
        ("'roster.role.' || {r}.role", None),
        ("'roster.role.' || {r}.role || '.linked'", "{r}.linked_at IS NOT NULL"),
        ("'roster.role.' || {r}.role || '.no_email_unlinked'", "{r}.linked_at IS NULL AND {r}.email = ''"),
        ("'week.' || {week:linked_at} || '.linked'", "{r}.linked_at IS NOT NULL"),
    ],
    "registrations": [
        ("'registrations'", None),
        ("'registrations.' || {r}.status", None),
        ("'week.' || {week:decided_at} || '.approved'", "{r}.status = 'approved' AND {r}.decided_at IS NOT NULL"),
    ],
    "linking_reminders": [("'week.' || {week:sent_at} || '.reminded'", None)],
}

#: The columns whose change moves a row between counts (SQLite's UPDATE OF).
UPDATED = {
    "cmecf_accounts": "court_id, linked_at, role, email",
    "registrations": "court_id, status, decided_at",
}


def _expr(text: str, row: str, postgres: bool) -> str:
    for column in ("linked_at", "decided_at", "sent_at"):
        week = (
            f"to_char(date_trunc('week', {row}.{column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
            if postgres
            else f"date({row}.{column}, '-6 days', 'weekday 1')"
        )
        text = text.replace("{week:" + column + "}", week)
    return text.replace("{r}", row)


def _contributions(
    table: str, alias: str, sign: int, postgres: bool, counted: dict[str, list[tuple[str, str | None]]] | None = None
) -> str:
    return " UNION ALL ".join(
        f"SELECT {alias}.court_id AS court_id, {_expr(name, alias, postgres)} AS k, {sign} AS d FROM {alias}"
        + f" WHERE {alias}.court_id IS NOT NULL{f' AND ({_expr(cond, alias, postgres)})' if cond else ''}"
        for name, cond in (counted or COUNTED)[table]
    )


def _sqlite_triggers(table: str, counted: dict[str, list[tuple[str, str | None]]] | None = None) -> list[str]:
    def add(row: str, sign: int) -> list[str]:
        out = []
        for name, cond in (counted or COUNTED)[table]:
            where = f"{row}.court_id IS NOT NULL" + (f" AND ({_expr(cond, row, False)})" if cond else "")
            out.append(
                f"INSERT INTO list_counts (court_id, list, n) SELECT {row}.court_id, {_expr(name, row, False)},"
                f" {sign} WHERE {where} ON CONFLICT (court_id, list) DO UPDATE SET n = n + ({sign});"
            )
        return out

    found = [
        f"CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN {' '.join(add('NEW', 1))} END",
        f"CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN {' '.join(add('OLD', -1))} END",
    ]
    if table in UPDATED:
        found.append(
            f"CREATE TRIGGER {table}_count_update AFTER UPDATE OF {UPDATED[table]} ON {table}"
            f" BEGIN {' '.join(add('OLD', -1) + add('NEW', 1))} END"
        )
    return found


def _postgres_triggers(table: str, counted: dict[str, list[tuple[str, str | None]]] | None = None) -> list[str]:
    bodies = {
        "INSERT": _contributions(table, "new_rows", 1, True, counted),
        "DELETE": _contributions(table, "old_rows", -1, True, counted),
        "UPDATE": f"{_contributions(table, 'old_rows', -1, True, counted)} UNION ALL"
        f" {_contributions(table, 'new_rows', 1, True, counted)}",
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


def _drop_triggers(table: str, postgres: bool) -> list[str]:
    if not postgres:
        return [f"DROP TRIGGER IF EXISTS {table}_count_{event}" for event in ("insert", "delete", "update")]
    return [
        statement
        for event in ("insert", "delete", "update")
        for statement in (
            f"DROP TRIGGER IF EXISTS {table}_count_{event} ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_count_{event}()",
        )
    ]


async def move_to_nextgen(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"
    serial = "SERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    moment = "TIMESTAMPTZ" if postgres else "TIMESTAMP"
    for statement in [
        f"ALTER TABLE cmecf_accounts ADD COLUMN reminded_at {moment} NULL",
        f"CREATE TABLE reminder_jobs (id {serial}, court_id VARCHAR(16) NOT NULL REFERENCES courts (code),"
        " state VARCHAR(8) NOT NULL, roles TEXT NOT NULL, total INT NOT NULL, sent INT NOT NULL DEFAULT 0,"
        f" started_at {moment} NOT NULL, finished_at {moment} NULL,"
        " started_by_id INT NULL REFERENCES pacer_accounts (id) ON DELETE SET NULL,"
        f" runner VARCHAR(40) NULL, lease_until {moment} NULL, after_key VARCHAR(255) NULL, after_id INT NULL,"
        " attempts INT NOT NULL DEFAULT 0)",
        # One queued or running job per court: a second insert fails, whatever the race.
        "CREATE UNIQUE INDEX reminder_jobs_one_active ON reminder_jobs (court_id)"
        " WHERE state IN ('queued', 'running')",
        "CREATE INDEX reminder_jobs_court ON reminder_jobs (court_id, id)",
        f"CREATE TABLE linking_reminders (id {serial}, court_id VARCHAR(16) NOT NULL,"
        " cmecf_account_id INT NOT NULL REFERENCES cmecf_accounts (id) ON DELETE CASCADE,"
        " job_id INT NOT NULL REFERENCES reminder_jobs (id) ON DELETE CASCADE,"
        f" sent_at {moment} NOT NULL, mailed_at {moment} NULL)",
        "CREATE INDEX linking_reminders_court_sent ON linking_reminders (court_id, sent_at)",
        "CREATE INDEX linking_reminders_unmailed ON linking_reminders (job_id, id) WHERE mailed_at IS NULL",
    ]:
        await client.execute_query(statement)
    for table in COUNTED:
        for statement in _drop_triggers(table, postgres):
            await client.execute_query(statement)
    # The lists these tables count, counted again from the rows (0011's and the new ones).
    await client.execute_query(
        "DELETE FROM list_counts WHERE list LIKE 'roster%' OR list LIKE 'registrations%' OR list LIKE 'week.%'"
    )
    for table in COUNTED:
        await client.execute_query(
            "INSERT INTO list_counts (court_id, list, n)"
            f" SELECT court_id, k, SUM(d) FROM ({_contributions(table, table, 1, postgres)}) AS c"
            " GROUP BY court_id, k"
        )
        for statement in _postgres_triggers(table) if postgres else _sqlite_triggers(table):
            await client.execute_query(statement)


class Migration(migrations.Migration):
    dependencies = [("models", "0012_rate_spending")]

    initial = False

    operations = [ops.RunPython(move_to_nextgen, ops.RunPython.noop)]
