"""Where each caller's last write stands in the database's WAL (issue 33: a read replica).

``sessions.write_lsn`` and ``court_service_keys.write_lsn``: the database's WAL insert position
(in bytes) taken after the caller's last mutation committed, kept while a read replica is
configured (``nextgen_gql.replica.writes``). A query of that caller reads the replica only
once it has replayed that far. Null: nothing written since (or no replica); SQLite keeps the
columns, never filled (a replica is PostgreSQL's).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0016_email_verification")]

    initial = False

    operations = [
        ops.AddField(model_name="Session", name="write_lsn", field=fields.BigIntField(null=True)),
        ops.AddField(model_name="CourtServiceKey", name="write_lsn", field=fields.BigIntField(null=True)),
    ]
