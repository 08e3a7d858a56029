"""Chain the clinical trail: each row carries the hash of the one before it (issue 9.17)."""

from typing import Any

from django.db import migrations, models

from qloop.org.trail import chain_existing


def chain_rows(apps: Any, schema_editor: Any) -> None:
    """The rows written before the chain, in the order they were written."""
    head = apps.get_model("org", "TrailHead")
    for name in ["resultversion", "callattempt"]:
        chain_existing(apps.get_model("clinical", name), head)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_trail_heads"),
        ("clinical", "0001_clinical_registers_findings_reports"),
    ]

    operations = [
        migrations.AddField(
            model_name="callattempt",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="callattempt",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="callattempt",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="resultversion",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="resultversion",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="resultversion",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.RunPython(chain_rows, migrations.RunPython.noop),
    ]
