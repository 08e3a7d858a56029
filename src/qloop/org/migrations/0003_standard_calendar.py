"""The default working calendar every installation starts with (X3)."""

from django.db import migrations


def create_standard_calendar(apps, schema_editor):
    WorkingCalendar = apps.get_model("org", "WorkingCalendar")
    if WorkingCalendar.objects.filter(is_default=True).exists():
        return
    WorkingCalendar.objects.update_or_create(
        code="standard",
        defaults={
            "name": "标准工作日历",
            "name_zh_hant": "標準工作日曆",
            "name_en": "Standard working calendar",
            "periods": [["08:30", "12:00"], ["13:30", "17:30"]],
            "workdays": [0, 1, 2, 3, 4],
            "statutory": True,
            "is_default": True,
        },
    )


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0002_working_calendars"),
    ]

    operations = [
        migrations.RunPython(create_standard_calendar, migrations.RunPython.noop),
    ]
