"""Chain the cases trail: each row carries the hash of the one before it (issue 9.17)."""

from typing import Any

from django.db import migrations, models

from qloop.org.trail import chain_existing


def chain_rows(apps: Any, schema_editor: Any) -> None:
    """The rows written before the chain, in the order they were written."""
    head = apps.get_model("org", "TrailHead")
    for name in ["event"]:
        chain_existing(apps.get_model("cases", name), head)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_trail_heads"),
        ("cases", "0009_extra_field_translated_choices"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="event",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="event",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.RunPython(chain_rows, migrations.RunPython.noop),
    ]
