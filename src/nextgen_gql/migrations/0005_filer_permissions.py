"""Filer permissions by role, by case, revocable (issue 22).

Keeps every privilege (its permissions follow from its role: ``services.permissions``),
makes privileges revocable history (the old UNIQUE(account, court, role) becomes a partial
unique index on live rows, the same raw SQL on SQLite and PostgreSQL), adds the cases of
case-restricted privileges and of legacy accounts, and links a registration to the
privilege its approval granted.

Data: pro hac vice flags and case numbers come from approved registrations, where the
case number parses in the court's kind (the old check was loose: those that do not are
listed). A pro se privilege left without cases is case-restricted with none: it files
nowhere until a clerk adds its case, and ``privileges(needsCases: true)`` lists it. The
migration prints what it did.
"""
from tortoise import migrations
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index



class RemoveUniqueTogether(ops.RemoveConstraint):
    """SQLite keeps a unique_together inside CREATE TABLE, where no DROP reaches it: there the
    table is rebuilt without it (rows kept); PostgreSQL drops the constraint."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT == "sqlite":
            await state_editor._remake_table(new_state.apps.get_model(f"{app_label}.{self.model_name}"))
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


async def permissions_from_registrations(apps, schema_editor: BaseSchemaEditor) -> None:
    from nextgen_gql.enums import CourtKind
    from nextgen_gql.errors import DomainError
    from nextgen_gql.services.case_numbers import parse_case_number

    client = schema_editor.client
    postgres = schema_editor.DIALECT != "sqlite"

    def sql(text: str) -> str:
        if not postgres:
            return text
        parts = text.split("?")
        return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))

    async def rows(text: str, *params: object) -> list[dict]:
        return list((await client.execute_query(sql(text), list(params)))[1])

    kinds = {r["code"]: CourtKind(r["kind"]) for r in await rows("SELECT code, kind FROM courts")}
    privileges = {
        (r["account_id"], r["court_id"], r["role"]): r
        for r in await rows("SELECT id, account_id, court_id, role, source FROM filing_privileges")
    }
    approved = await rows(
        "SELECT id, account_id, court_id, role, pro_hac_vice, case_number FROM registrations"
        " WHERE status = 'approved' ORDER BY id"
    )
    court_wide: set[int] = set()  # attorney privileges with a full (not pro hac vice) approval
    pro_hac_vice: set[int] = set()
    cases: dict[int, list[str]] = {}
    unparsed: list[str] = []
    for r in approved:
        privilege = privileges.get((r["account_id"], r["court_id"], r["role"]))
        if privilege is None:
            continue
        await client.execute_query(
            sql("UPDATE registrations SET privilege_id = ? WHERE id = ?"), [privilege["id"], r["id"]]
        )
        if r["role"] == "attorney":
            (pro_hac_vice if r["pro_hac_vice"] else court_wide).add(privilege["id"])
        if not (r["role"] == "pro_se" or (r["role"] == "attorney" and r["pro_hac_vice"])):
            continue
        try:
            number = parse_case_number(r["case_number"] or "", kinds[r["court_id"]])
        except (DomainError, KeyError):
            unparsed.append(f"registration {r['id']} at {r['court_id']}: {r['case_number']!r}")
            continue
        if number not in cases.setdefault(privilege["id"], []):
            cases[privilege["id"]].append(number)
    flagged = {
        p["id"]
        for p in privileges.values()
        if p["id"] in pro_hac_vice and p["id"] not in court_wide and p["source"] == "registration"
    }
    for privilege_id in sorted(flagged):
        await client.execute_query(
            sql("UPDATE filing_privileges SET pro_hac_vice = ? WHERE id = ?"), [True, privilege_id]
        )
    restricted = {p["id"] for p in privileges.values() if p["role"] == "pro_se"} | flagged
    added = 0
    for privilege_id in sorted(restricted & cases.keys()):
        for number in cases[privilege_id]:
            await client.execute_query(
                sql("INSERT INTO filing_privilege_cases (privilege_id, case_number, added_at) VALUES (?, ?, ?)"),
                [privilege_id, number, _now()],
            )
            added += 1
    without = sorted(p for p in restricted if not cases.get(p))
    if not privileges:
        return
    lines = [
        f"0005_filer_permissions: {len(privileges)} filing privileges kept, each with its role's permissions;"
        f" {len(flagged)} pro hac vice; {added} case numbers from approved registrations.",
        f"0005_filer_permissions: {len(without)} case-restricted privileges have no case yet: they file"
        " nowhere until a clerk adds one (privileges(needsCases: true) lists them).",
    ]
    if unparsed:
        lines.append(
            f"0005_filer_permissions: {len(unparsed)} approved registrations have a case number that does"
            " not parse in their court's kind (add the case by hand): " + "; ".join(unparsed)
        )
    print("\n".join(lines), flush=True)


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)


class Migration(migrations.Migration):
    dependencies = [('models', '0004_throttles')]

    initial = False

    operations = [
        # Drop the old UNIQUE(account, court, role): a revoked privilege stays as history and
        # must not block the new one. The partial unique index on live rows replaces it below.
        RemoveUniqueTogether(
            model_name='FilingPrivilege',
            name=None,
            fields=['account', 'court', 'role'],
        ),
        ops.CreateModel(
            name='PrivilegeCase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('privilege', fields.ForeignKeyField('models.FilingPrivilege', source_field='privilege_id', db_constraint=True, to_field='id', related_name='case_rows', on_delete=OnDelete.RESTRICT)),
                ('case_number', fields.CharField(max_length=32)),
                ('added_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'filing_privilege_cases', 'app': 'models', 'unique_together': (('privilege', 'case_number'),), 'pk_attr': 'id', 'table_description': 'A case a case-restricted privilege may file in, by its canonical number.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CmecfAccount',
            name='cases',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AlterModelOptions(
            name='FilingPrivilege',
            options={'table': 'filing_privileges', 'app': 'models', 'indexes': [Index(fields=['account_id', 'court_id']), Index(fields=['court_id', 'id'])], 'pk_attr': 'id', 'table_description': 'Permission for a PACER account to file in one court, in one role, until revoked.'},
        ),
        ops.AddField(
            model_name='FilingPrivilege',
            name='pro_hac_vice',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='FilingPrivilege',
            name='revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='FilingPrivilege',
            name='revoked_by',
            field=fields.ForeignKeyField('models.PacerAccount', source_field='revoked_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='FilingPrivilege',
            name='revoked_reason',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddIndex(
            model_name='FilingPrivilege',
            index=Index(fields=['account_id', 'court_id']),
        ),
        ops.AddIndex(
            model_name='FilingPrivilege',
            index=Index(fields=['court_id', 'id']),
        ),
        ops.AddField(
            model_name='Registration',
            name='privilege',
            field=fields.ForeignKeyField('models.FilingPrivilege', source_field='privilege_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.RunSQL(
            'CREATE UNIQUE INDEX "filing_privileges_live" ON "filing_privileges" ("account_id", "court_id", "role")'
            ' WHERE "revoked_at" IS NULL',
            reverse_sql='DROP INDEX "filing_privileges_live"',
        ),
        ops.RunPython(permissions_from_registrations, ops.RunPython.noop),
    ]
