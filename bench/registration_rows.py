#!/usr/bin/env python3
"""The rows registrations store, for comparing two versions of the code (issue 14).

    cp -a /tmp/qloop-bench/sqlite-100k /tmp/rows-a; cp -a /tmp/qloop-bench/sqlite-100k /tmp/rows-b
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/registration_rows.py --data-dir /tmp/rows-a > a.json
    .venv/bin/python bench/registration_rows.py --data-dir /tmp/rows-b > b.json
    cmp a.json b.json

Posts a set of complaint forms through the registration page (as cs, who sees personal data,
and as qe, who does not) with the clock stopped at one moment, then prints every row they
wrote or changed: cases, contacts, product problems, events (with their hash chain), clocks,
the similar-case texts, the daily counts, messages and notifications (the outbox), the
numbering and the trail's head. Two versions given copies of the same register must print the
same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from common import add_common_arguments, setup_django

FORMS: list[tuple[str, dict[str, str]]] = [
    ("cs", {}),  # the bench's complaint: a returning contact, by phone
    ("cs", {"contact_phone": "", "contact_email": "LJG@EXAMPLE.CN"}),  # by e-mail, case aside
    (
        "cs",
        {"contact_name": "王小_明", "contact_phone": "13000000001", "contact_email": "w_x@ex.cn"},
    ),
    ("cs", {"contact_name": "王小_明", "contact_phone": "", "contact_email": "wxx@ex.cn"}),
    ("cs", {"contact_name": "王小_明", "contact_phone": "", "contact_email": "W_X@ex.cn"}),
    ("cs", {"contact_organisation": "蘇州恆通水務有限公司", "symptom": "泵體異響，後來發現漏水。"}),
    ("cs", {"symptom": "乾燥後仍有異響 ABC-12", "current_status": "著名客戶；瞭解中"}),
    ("cs", {"contact_gender": "female", "contact_qq": "123456", "severity": "critical"}),
    ("qe", {}),  # a stranger's name and phone: a contact of its own
    ("qe", {"contact_name": "新客户", "contact_phone": "13900000002"}),
    ("qe", {"contact_name": "新客户", "contact_phone": "13900000002", "contact_qq": "42"}),
    ("cs", {"product_quantity": "", "product_model": "", "category": "", "severity": "minor"}),
]

TABLES = {
    "cases_case": "id",
    "cases_contact": "id",
    "cases_productproblem": "case_id",
    "cases_event": "id",
    "process_clock": "id",
    "cases_similardoc": "case_id",
    "notify_message": "id",
    "notify_notification": "id",
}


def rows(cursor: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    setup_django(args.database_url, args.data_dir)
    import time_machine
    from django.db import connection
    from django.test import Client
    from profile_pages import registration_form

    from qloop.org.models import User

    moment = dt.datetime(2026, 12, 7, 9, 30, 15, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        before = {}
        for table, key in TABLES.items():
            cursor.execute(f'SELECT COALESCE(MAX("{key}"), 0) FROM "{table}"')
            before[table] = cursor.fetchone()[0]
        # An edit after the register was copied would show here: the contacts as they stand.
        contacts_before = rows(cursor, 'SELECT * FROM "cases_contact" ORDER BY "id"', [])
    out: dict[str, Any] = {"responses": []}
    with time_machine.travel(moment, tick=False):
        clients = {}
        for username, changes in FORMS:
            if username not in clients:
                clients[username] = Client()
                clients[username].force_login(User.objects.get(username=username))
            form = {**registration_form(), **changes}
            response = clients[username].post("/cases/new/", form)
            clients[username].cookies.pop("messages", None)
            out["responses"].append([response.status_code, response.get("Location", "")])
    with connection.cursor() as cursor:
        for table, key in TABLES.items():
            out[table] = rows(
                cursor,
                f'SELECT * FROM "{table}" WHERE "{key}" > %s ORDER BY "{key}"',
                [before[table]],
            )
        after = {
            r["id"]: r for r in rows(cursor, 'SELECT * FROM "cases_contact" ORDER BY "id"', [])
        }
        out["contacts_changed"] = [r for r in contacts_before if after[r["id"]] != r]
        out["cases_casedaycount"] = rows(
            cursor,
            'SELECT * FROM "cases_casedaycount" WHERE "day" >= %s ORDER BY "id"',
            ["2026-12-06"],
        )
        out["org_sequence"] = rows(cursor, 'SELECT * FROM "org_sequence" ORDER BY "key"', [])
        out["org_trailhead"] = rows(cursor, 'SELECT * FROM "org_trailhead" ORDER BY "chain"', [])
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True, default=str)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
