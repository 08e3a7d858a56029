"""Every trail row has its place in the chain (chained by the migration before)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_trail_hash_chain"),
    ]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
    ]
