"""Chain the reports trail: each row carries the hash of the one before it (issue 9.17)."""

from typing import Any

from django.db import migrations, models

from qloop.org.trail import chain_existing


def chain_rows(apps: Any, schema_editor: Any) -> None:
    """The rows written before the chain, in the order they were written."""
    head = apps.get_model("org", "TrailHead")
    for name in ["reportevent"]:
        chain_existing(apps.get_model("reports", name), head)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_trail_heads"),
        ("reports", "0001_survey_reports_and_reviews"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportevent",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.RunPython(chain_rows, migrations.RunPython.noop),
    ]
