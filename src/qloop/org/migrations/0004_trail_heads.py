"""The head of each tamper-evident trail (issue 9.17)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0003_standard_calendar"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrailHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("chain", models.CharField(max_length=100, unique=True)),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(blank=True, max_length=64)),
            ],
            options={
                "verbose_name": "trail head",
                "verbose_name_plural": "trail heads",
            },
        ),
    ]
