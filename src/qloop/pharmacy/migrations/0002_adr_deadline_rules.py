"""The ADR deadline rules of Order 81 (卫生部令第81号, in force 2011-07-01), version 1.

A change of law is a new version added like this one, never an edit of these rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import migrations

ORDER_81 = "《药品不良反应报告和监测管理办法》（卫生部令第81号）"
RULES = [
    # category, days, hours, immediate, needs_call, source
    ("death", 0, 24, True, True, f"{ORDER_81}第二十一条：死亡病例须立即报告"),
    ("new_serious", 15, 0, False, False, f"{ORDER_81}第二十一条：新的、严重的药品不良反应应于发现或者获知之日起15日内报告"),
    ("general", 30, 0, False, False, f"{ORDER_81}第二十一条：其他药品不良反应应当在30日内报告"),
    ("follow_up", 15, 0, False, False, f"{ORDER_81}第二十一条：有随访信息的，应当及时报告（本单位按15日执行）"),
    ("group", 0, 24, True, True, f"{ORDER_81}第二十七条：药品群体不良事件应当立即通过电话或者传真等方式报告"),
]


def add_rules(apps: Any, schema_editor: Any) -> None:
    Rule = apps.get_model("pharmacy", "AdrDeadlineRule")
    for category, days, hours, immediate, needs_call, source in RULES:
        Rule.objects.get_or_create(
            category=category,
            version=1,
            defaults={
                "valid_from": dt.date(2011, 7, 1),
                "days": days,
                "hours": hours,
                "immediate": immediate,
                "needs_call": needs_call,
                "source": source,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("pharmacy", "0001_pharmacy_catalogue_cases_adr")]

    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
