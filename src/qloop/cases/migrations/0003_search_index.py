"""A GIN index for Chinese full-text search on PostgreSQL (see qloop.cases.search).

SQLite scans the normalised text instead, so there is nothing to do there.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS case_search_tokens ON cases_case "
    "USING gin (to_tsvector('simple', search_tokens))"
)
DROP = "DROP INDEX IF EXISTS case_search_tokens"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
