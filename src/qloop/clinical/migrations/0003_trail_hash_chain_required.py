"""Every trail row has its place in the chain (chained by the migration before)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0002_trail_hash_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="callattempt",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="resultversion",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
    ]
