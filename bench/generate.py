#!/usr/bin/env python3
"""Fill a QLoop database with N believable complaints, fast, for the benchmarks.

    .venv/bin/python bench/generate.py --cases 100000 --data-dir /tmp/qloop-bench/sqlite-100k
    .venv/bin/python bench/generate.py --cases 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/qloop_bench --data-dir /tmp/qloop-bench/pg

It migrates, loads the demo organisation (plus a realistic staff of handlers), then writes
contacts, cases, product problems, one customer-answer clock per case and 3–5 events per case.
Rows go in through PostgreSQL ``COPY`` or SQLite ``executemany`` with the secondary indexes
dropped and rebuilt afterwards; every value is what the application itself would have written
(the search columns are computed with ``qloop.cases.search``, and a sample is checked against
``Case.refresh_search`` at the end). The number sequences are left consistent, so the
application goes on numbering after the generated cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import queue
import random
import re
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, this folder is on sys.path.
from common import add_common_arguments, database_label, setup_django

TABLES = ["cases_contact", "cases_case", "cases_productproblem", "process_clock", "cases_event"]
COLUMNS = {
    "cases_contact": [
        "id",
        "name",
        "gender",
        "phone",
        "email",
        "qq",
        "organisation",
        "created_at",
    ],
    "cases_case": [
        "id",
        "number",
        "kind",
        "profile",
        "title",
        "received_at",
        "channel",
        "severity",
        "state",
        "process_version",
        "extra",
        "created_at",
        "updated_at",
        "closed_at",
        "next_due_at",
        "deadline_state",
        "archived_at",
        "archive_reason",
        "search_text",
        "search_tokens",
        "archived_by_id",
        "department_id",
        "handler_id",
        "registered_by_id",
        "category_id",
        "contact_id",
    ],
    "cases_productproblem": [
        "case_id",
        "specification",
        "model",
        "quantity",
        "serial_number",
        "symptom",
        "current_status",
    ],
    "process_clock": [
        "id",
        "name",
        "state",
        "started_at",
        "due_at",
        "paused_at",
        "stopped_at",
        "breached_at",
        "unit",
        "schedule",
        "alerts_done",
        "next_alert_at",
        "case_id",
    ],
    "cases_event": [
        "id",
        "at",
        "verb",
        "changes",
        "comment",
        "data",
        "actor_id",
        "case_id",
        "seq",
        "prev_hash",
        "hash",
    ],
}

# How many extra handlers each department gets besides its demo users, so that one demo user's
# share of the open cases is realistic (qe: about 0.5 %).
STAFF = {"CS": ("cs_clerk", 30), "QA": ("quality_engineer", 80), "PROD": ("member", 40)}
STAFF["SALES"] = ("supply_sales", 10)

# Open complaint states after the first days, with weights, and who owns them.
OPEN_LATER = [
    ("cs_handling", 15),
    ("investigating", 30),
    ("corrective_action", 20),
    ("implementing", 15),
    ("standardising", 10),
    ("ready_to_close", 10),
]
STATE_DEPARTMENTS = {
    "cs_review": [("CS", 1)],
    "cs_handling": [("CS", 1)],
    "investigating": [("QA", 4), ("PROD", 1)],
    "corrective_action": [("QA", 1)],
    "implementing": [("PROD", 3), ("QA", 2)],
    "standardising": [("QA", 1)],
    "ready_to_close": [("CS", 1)],
    "closed": [("CS", 40), ("QA", 45), ("PROD", 15)],
    "handling": [("SALES", 1)],
}
FEEDBACK_SHARE = 0.08
FEEDBACK_TEXTS = [
    ("希望增加远程监控接口，方便在手机上查看运行状态。", "已转研发评估。", "3D"),
    ("询问大流量机型的交货周期和报价。", "已安排销售回访。", "3A"),
    ("建议说明书增加常见故障排查表。", "记录在案。", "2F"),
    ("对售后回访及时表示满意。", "无需处理。", "2E"),
    ("同行业用户普遍要求提高能效等级。", "转市场部分析。", "3C"),
]
COMMENTS = [
    "已电话联系客户，约定明天上门。",
    "已要求客户提供现场照片和铭牌信息。",
    "备件已发出，快递单号已告知客户。",
    "初步判断为安装问题，待现场确认。",
    "同批次产品已安排抽检。",
    "客户同意更换处理方案。",
    "已与供应商沟通，要求提供质量分析报告。",
    "现场复查正常，客户确认。",
]
CLOSED_CHANGE = json.dumps(
    [{"field": "state", "label": "状态", "old": "ready_to_close", "new": "closed"}]
)
PURCHASE_CHANNELS = ["直销", "经销商", "电商平台", "工程项目"]
CHANNELS = ["phone", "phone", "phone", "email", "im", "visit", "letter"]
ASCII_WORD = re.compile(r"[0-9a-z]+")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@dataclass
class Stats:
    """Counts of what was written, for the report."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    open_cases: int = 0
    states: dict[str, int] = field(default_factory=dict)
    handlers: dict[int, int] = field(default_factory=dict)
    unassigned_open: dict[int, int] = field(default_factory=dict)


# Search columns ------------------------------------------------------------------------------


class SearchColumns:
    """``search_text`` and ``search_tokens`` exactly as ``Case.refresh_search`` computes them.

    The normalised text of the parts joined by spaces equals the parts normalised one by one
    and joined (no part contains a space-spanning phrase), and so do the tokens; so each
    distinct repeated text (titles, symptoms, names, organisations) is normalised once.
    """

    def __init__(self) -> None:
        from qloop.cases import search

        self._normalise = search.normalise
        self._tokens = search.tokens
        self._cache: dict[str, tuple[str, list[str]]] = {}

    def part(self, text: str) -> tuple[str, list[str]]:
        """Normalised text and tokens of one repeated text, cached."""
        hit = self._cache.get(text)
        if hit is None:
            norm = self._normalise(text)
            hit = (norm, self._tokens(norm))
            self._cache[text] = hit
        return hit

    def ordered(self, parts: list[tuple[str, bool]]) -> tuple[str, str]:
        """Search columns of ``parts`` in order; each is (text, repeated?)."""
        texts: list[str] = []
        toks: list[str] = []
        for text, repeated in parts:
            if not text:
                continue
            if repeated or not text.isascii():
                norm, words = self.part(text)
            else:
                # NFKC and Traditional→Simplified change nothing in ASCII; casefold is lower().
                norm = " ".join(text.lower().split())
                words = ASCII_WORD.findall(norm)
            if norm:
                texts.append(norm)
                toks.extend(words)
        return " ".join(texts), " ".join(dict.fromkeys(toks))


# Generation -----------------------------------------------------------------------------------


@dataclass
class People:
    """Ids of the demo users and the handler pools per department."""

    users: dict[str, int]
    names: dict[int, str]
    departments: dict[str, int]
    pools: dict[str, list[int]]
    categories: dict[str, int]
    registrars: list[int]
    heads: dict[str, int]


def _weighted(pairs: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [p[0] for p in pairs], [p[1] for p in pairs]


class Generator:
    """Makes the rows of N cases, oldest first, as tuples in the column order of COLUMNS."""

    def __init__(
        self,
        count: int,
        people: People,
        *,
        now: dt.datetime,
        years: float,
        seed: int,
        first_ids: dict[str, int],
        ts: Callable[[dt.datetime | None], Any],
        answer_days: int,
    ) -> None:
        from qloop.demo.vocabulary import GIVEN, ORGANISATIONS, PRODUCTS, SURNAMES, SYMPTOMS

        self.count = count
        self.people = people
        self.now = now
        self.start = now - dt.timedelta(days=365 * years)
        self.rng = random.Random(seed)
        self.ids = dict(first_ids)
        self.ts = ts
        self.answer = dt.timedelta(days=answer_days)
        self.search = SearchColumns()
        self.stats = Stats()
        self.surnames = SURNAMES
        self.given = GIVEN
        self.organisations = ORGANISATIONS
        self.products = PRODUCTS
        self.symptoms = SYMPTOMS
        self.contacts: list[tuple[int, str, str, str, str, str]] = []
        self.sequences: dict[str, int] = {}
        self.extra_json: dict[tuple[str, str], str] = {}
        self.json_cache: dict[Any, str] = {}
        self.dept_codes = {v: k for k, v in people.departments.items()}
        self.user_dept = {
            uid: code for code, pool in people.pools.items() for uid in pool
        }  # a handler's department
        self.open_later = _weighted(OPEN_LATER)
        self.state_depts = {k: _weighted(v) for k, v in STATE_DEPARTMENTS.items()}

    # Helpers --------------------------------------------------------------------------------

    def _next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _contact(self, at: dt.datetime, rows: list[tuple[Any, ...]]) -> tuple[int, list[str]]:
        """A returning contact (30 %) or a new one; returns its id and its searchable parts."""
        rng = self.rng
        if self.contacts and rng.random() < 0.3:
            # Returning customers are mostly recent ones.
            idx = (
                len(self.contacts) - 1 - min(int(rng.expovariate(1 / 2000)), len(self.contacts) - 1)
            )
            cid, name, phone, email, qq, org = self.contacts[idx]
            return cid, [name, phone, email, qq, org]
        cid = self._next_id("cases_contact")
        name = rng.choice(self.surnames) + rng.choice(self.given)
        phone = rng.choice(
            ["138", "139", "136", "137", "150", "151", "158", "186", "188", "135"]
        ) + str(rng.randrange(10**8)).zfill(8)
        email = f"user{rng.randrange(10**7)}@example.cn" if rng.random() < 0.5 else ""
        qq = str(rng.randrange(10**7, 10**10)) if rng.random() < 0.4 else ""
        org = rng.choice(self.organisations)
        gender = "male" if rng.random() < 0.6 else "female"
        rows.append((cid, name, gender, phone, email, qq, org, self.ts(at)))
        self.contacts.append((cid, name, phone, email, qq, org))
        if len(self.contacts) > 50_000:
            del self.contacts[:10_000]
        return cid, [name, phone, email, qq, org]

    def _number(self, prefix: str, at: dt.datetime) -> str:
        key = f"{prefix}-{at.astimezone(SHANGHAI).year}"
        value = self.sequences.get(key, 0) + 1
        self.sequences[key] = value
        return f"{key}-{value:06d}"

    def _extra(self, purchase: str, delivery: str) -> str:
        key = (purchase, delivery)
        hit = self.extra_json.get(key)
        if hit is None:
            # In the order PostgreSQL's jsonb gives keys back (shorter first), so that the
            # search text is the same on both databases.
            value: dict[str, str] = {"delivery_date": delivery} if delivery else {}
            value["purchase_channel"] = purchase
            hit = json.dumps(value)
            self.extra_json[key] = hit
        return hit

    def _json(self, key: Any, make: Callable[[], Any]) -> str:
        """JSON text of a repeated value, encoded once."""
        hit = self.json_cache.get(key)
        if hit is None:
            hit = json.dumps(make())
            self.json_cache[key] = hit
        return hit

    def _state(self, age_days: float, feedback: bool) -> str:
        rng = self.rng
        if feedback:
            if age_days < 1:
                return "new"
            p_open = 0.9 * math.exp(-(age_days - 1) / 10) + 0.005
            return "handling" if rng.random() < p_open else "closed"
        if age_days < 1:
            return "new" if rng.random() < 0.85 else "cs_review"
        if age_days < 3:
            return rng.choice(["cs_review", "cs_handling", "investigating", "investigating"])
        p_open = 0.9 * math.exp(-(age_days - 3) / 25) + 0.01
        if rng.random() >= p_open:
            return "closed"
        states, weights = self.open_later
        return rng.choices(states, weights)[0]

    def _handler(self, state: str, feedback: bool) -> tuple[int, int | None]:
        """(department id, handler id or None) for a case in ``state``."""
        people = self.people
        if state == "new":
            code = "SALES" if feedback else "CS"
            return people.departments[code], None
        if feedback:
            code = "SALES"
        else:
            codes, weights = self.state_depts[state]
            code = codes[0] if len(codes) == 1 else self.rng.choices(codes, weights)[0]
        return people.departments[code], self.rng.choice(people.pools[code])

    # Rows -----------------------------------------------------------------------------------

    def batches(self, size: int) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
        """Rows of ``size`` cases at a time, oldest first."""
        span = (self.now - self.start).total_seconds()
        for first in range(0, self.count, size):
            out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
            for i in range(first, min(first + size, self.count)):
                seconds = span * (i + self.rng.random()) / self.count
                received = (self.start + dt.timedelta(seconds=seconds)).replace(
                    second=0, microsecond=0
                )
                self._case(received, out)
            yield out

    def _case(self, received: dt.datetime, out: dict[str, list[tuple[Any, ...]]]) -> None:
        rng = self.rng
        ts = self.ts
        people = self.people
        now = self.now
        stats = self.stats
        age_days = (now - received).total_seconds() / 86400
        feedback = rng.random() < FEEDBACK_SHARE
        case_id = self._next_id("cases_case")
        contact_id, contact_parts = self._contact(received, out["cases_contact"])
        spec, model, product_name = rng.choice(self.products)
        if feedback:
            symptom, status, category = rng.choice(FEEDBACK_TEXTS)
            title = symptom.split("，")[0][:30]
            prefix, kind = "FB", "feedback"
        else:
            symptom, status, category = rng.choice(self.symptoms)
            title = f"{product_name}{symptom.split('，')[0][:24]}"
            prefix, kind = "QC", "complaint"
        number = self._number(prefix, received)
        serial = f"{model[3:]}-{received:%y%m}-{rng.randrange(10**5):05d}"
        quantity = rng.choice((1, 1, 1, 2, 3, 5, 10))
        purchase = rng.choice(PURCHASE_CHANNELS)
        delivery = (
            (received - dt.timedelta(days=rng.randrange(20, 400))).date().isoformat()
            if rng.random() < 0.5
            else ""
        )
        state = self._state(age_days, feedback)
        department_id, handler_id = self._handler(state, feedback)
        is_open = state != "closed"
        archived = rng.random() < 0.004 and age_days > 30
        registrar = rng.choice(people.registrars)
        severity = rng.choices(("minor", "major", "critical"), (70, 25, 5))[0]
        channel = rng.choice(CHANNELS)

        # The customer-answer clock (R2.3) and the deadline it puts on the case.
        due = received + self.answer
        clock_id = self._next_id("process_clock")
        stopped_at = breached_at = next_due = None
        if due > now and (state == "new" or rng.random() < 0.5):
            clock_state, next_due = "running", due
        elif is_open and rng.random() < 0.04:
            clock_state, breached_at, next_due = "breached", due, due
        else:
            clock_state = "stopped"
            if rng.random() < 0.07:
                breached_at = due
                stopped_at = due + dt.timedelta(hours=rng.uniform(1, 72))
            else:
                stopped_at = received + dt.timedelta(hours=rng.uniform(0.5, 44))
            stopped_at = min(stopped_at, now)
        closed_at = None
        if not is_open:
            closed_at = min(received + dt.timedelta(days=rng.uniform(3, 60)), now)
            if stopped_at is not None:
                closed_at = max(closed_at, stopped_at)
        archived_at = None
        if archived:
            archived_at = min((closed_at or received) + dt.timedelta(days=rng.uniform(1, 30)), now)
            next_due = None if not is_open else next_due

        # Events: registered, assigned, the clock, comments, closed; 3 to 5 in all.
        last = closed_at or now
        events: list[tuple[dt.datetime, str, str, str, str, int | None]] = [
            (
                received,
                "registered",
                "[]",
                "",
                self._json(
                    ("registered", feedback, channel),
                    lambda: {
                        "department": "SALES" if feedback else "CS",
                        "channel": channel,
                        "photos": 0,
                    },
                ),
                registrar,
            )
        ]
        if handler_id is not None:
            at = min(received + dt.timedelta(hours=rng.uniform(0.2, 20)), last)
            change = self._json(
                ("assigned", handler_id),
                lambda: [
                    {
                        "field": "handler",
                        "label": "处理人",
                        "old": "",
                        "new": people.names[handler_id],
                    }
                ],
            )
            head = people.heads.get(self.dept_codes[department_id], registrar)
            events.append((at, "assigned", change, "", "{}", head))
        if breached_at is not None and breached_at <= now:
            events.append(
                (
                    breached_at,
                    "clock_breached",
                    "[]",
                    "",
                    f'{{"clock": "customer_answer", "due_at": "{breached_at.isoformat()}"}}',
                    None,
                )
            )
        if closed_at is not None:
            events.append((closed_at, "closed", CLOSED_CHANGE, "", "{}", handler_id))
        target = rng.randint(3, 5)
        while len(events) < target:
            at = received + (last - received) * rng.random()
            events.append((at, "commented", "[]", rng.choice(COMMENTS), "{}", handler_id))
        events.sort(key=lambda e: e[0])
        updated_at = events[-1][0]
        if archived_at is not None:
            events.append(
                (archived_at, "archived", "[]", "重复登记", "{}", people.users["cs_head"])
            )
            updated_at = archived_at
        ev_rows = out["cases_event"]
        for at, verb, changes, comment, data, actor in events:
            ev_rows.append(
                (self._next_id("cases_event"), ts(at), verb, changes, comment, data, actor, case_id)
            )

        extra = self._extra(purchase, delivery)
        text, tokens = self.search.ordered(
            [
                (number, False),
                (title, True),
                (contact_parts[0], True),
                (contact_parts[1], False),
                (contact_parts[2], False),
                (contact_parts[3], False),
                (contact_parts[4], True),
                (spec, True),
                (model, True),
                (serial, False),
                (symptom, True),
                (status, True),
                (delivery, True),
                (purchase, True),
            ]
        )
        out["cases_case"].append(
            (
                case_id,
                number,
                kind,
                "manufacturer",
                title,
                ts(received),
                channel,
                severity,
                state,
                1,
                extra,
                ts(received),
                ts(updated_at),
                ts(closed_at),
                ts(next_due),
                # As qloop.process.clocks keeps it: the state of the case's open clock.
                clock_state if next_due is not None else "",
                ts(archived_at),
                "重复登记" if archived else "",
                text,
                tokens,
                people.users["cs_head"] if archived else None,
                department_id,
                handler_id,
                registrar,
                people.categories.get(category),
                contact_id,
            )
        )
        out["cases_productproblem"].append(
            (case_id, spec, model, quantity, serial, symptom, status)
        )
        out["process_clock"].append(
            (
                clock_id,
                "customer_answer",
                clock_state,
                ts(received),
                ts(due),
                None,
                ts(stopped_at),
                ts(breached_at),
                # Started as the demo's customer answer is (calendar days), with no reminder
                # or escalation left to send: what a clock looks like once its alerts ran.
                "days",
                "[]",
                0,
                None,
                case_id,
            )
        )
        stats.states[state] = stats.states.get(state, 0) + 1
        if is_open and not archived:
            stats.open_cases += 1
            if handler_id is None:
                stats.unassigned_open[department_id] = (
                    stats.unassigned_open.get(department_id, 0) + 1
                )
            else:
                stats.handlers[handler_id] = stats.handlers.get(handler_id, 0) + 1


# Writing --------------------------------------------------------------------------------------


class Writer:
    """Bulk loading for one database: drop secondary indexes, load, rebuild, reset sequences.

    ``write`` runs in the loader thread, on that thread's own connection (``session`` sets it
    up); everything else runs in the main thread.
    """

    parallel_builds = 1

    def __init__(self, state_file: Path) -> None:
        from django.db import connection

        self.vendor = connection.vendor
        self.state_file = state_file
        # The case events' hash chain (issue 9.17): the last number and hash written so far.
        self.trail: tuple[int, str] | None = None

    def chained_events(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Give generated case events their places in the trail's hash chain, hashed exactly
        as QLoop hashes them, so that ``qloop verify-trail`` passes on a generated register."""
        from django.db import connection

        from qloop.cases.models import Event
        from qloop.org import trail

        if self.trail is None:  # the loader thread's first batch, or a resumed run
            with connection.cursor() as cur:
                cur.execute("SELECT seq, hash FROM cases_event ORDER BY seq DESC LIMIT 1")
                last = cur.fetchone()
            self.trail = (int(last[0]), str(last[1])) if last else (0, trail.GENESIS)
        fields = trail.content_fields(Event)
        seq, prev = self.trail
        out = []
        for id_, at, verb, changes, comment, data, actor, case_id in rows:
            seq += 1
            when = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at)
            values = {
                "seq": seq,
                "actor_id": actor,
                "verb": verb,
                "changes": json.loads(changes),
                "comment": comment,
                "data": json.loads(data),
                "case_id": case_id,
                "at": when if when.tzinfo else when.replace(tzinfo=dt.UTC),
            }
            digest = trail.entry_hash(
                "cases.event", prev, trail.row_values(fields, [values[f.attname] for f in fields])
            )
            out.append((id_, at, verb, changes, comment, data, actor, case_id, seq, prev, digest))
            prev = digest
        self.trail = (seq, prev)
        return out

    def completed(self, table: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Rows with the columns the generator does not vary: the case events' chain."""
        if table == "cases_event":
            return self.chained_events(rows)
        return rows

    def save_trail_head(self) -> None:
        from qloop.org.models import TrailHead

        if self.trail is not None:
            TrailHead.objects.update_or_create(
                chain="cases.event", defaults={"seq": self.trail[0], "hash": self.trail[1]}
            )

    def ts(self, value: dt.datetime | None) -> Any:
        """A timestamp as this database's loader wants it."""
        raise NotImplementedError

    def dropped_indexes(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def session(self) -> None:
        """Settings for the connection of the current thread."""

    def begin(self) -> None:
        """Drop the secondary indexes of the loaded tables (remembered on disk)."""
        from django.db import connection

        self.restore_indexes()
        indexes = self.dropped_indexes()
        self.state_file.write_text(json.dumps(indexes), encoding="utf-8")
        with connection.cursor() as cur:
            for name, _sql in indexes:
                cur.execute(f'DROP INDEX IF EXISTS "{name}"')

    def _build(self, name: str, sql: str) -> None:
        from django.db import connection

        started = time.monotonic()
        try:
            self.session()
            with connection.cursor() as cur:
                cur.execute(sql)
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()
        print(f"  index {name}: {time.monotonic() - started:.1f} s", flush=True)

    def restore_indexes(self) -> None:
        """Rebuild the indexes dropped by ``begin`` (also after an interrupted run), the
        biggest first and, on PostgreSQL, two at a time."""
        if not self.state_file.exists():
            return
        indexes = json.loads(self.state_file.read_text(encoding="utf-8"))
        indexes.sort(key=lambda i: ("USING gin" not in i[1], not i[0].startswith("case")))
        if self.parallel_builds > 1:
            with ThreadPoolExecutor(self.parallel_builds) as pool:
                for future in [pool.submit(self._build, name, sql) for name, sql in indexes]:
                    future.result()
        else:
            for name, sql in indexes:
                self._build(name, sql)
        self.state_file.unlink()

    def write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        from django.core.management.color import no_style
        from django.db import connection

        from qloop.cases.models import Case, Contact, Event
        from qloop.process.models import Clock

        self.restore_indexes()
        self.save_trail_head()
        sql = connection.ops.sequence_reset_sql(no_style(), [Contact, Case, Clock, Event])
        with connection.cursor() as cur:
            for statement in sql:
                cur.execute(statement)


class PostgresWriter(Writer):
    """COPY … FROM STDIN through psycopg, foreign-key triggers off during the load."""

    parallel_builds = 2

    def ts(self, value: dt.datetime | None) -> Any:
        return value

    def session(self) -> None:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("SET synchronous_commit = off")
            # The generator keeps every reference consistent; checking each row costs time.
            cur.execute("SET session_replication_role = replica")

    def dropped_indexes(self) -> list[tuple[str, str]]:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT i.relname, pg_get_indexdef(i.oid)
                FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname = ANY(%s) AND NOT x.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
                ORDER BY t.relname, i.relname
                """,
                [TABLES],
            )
            return [(name, sql) for name, sql in cur.fetchall()]

    def write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        from django.db import connection

        rows = self.completed(table, rows)
        cols = ", ".join(COLUMNS[table])
        with connection.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)

    def _vacuum(self, table: str) -> None:
        from django.db import connection

        try:
            with connection.cursor() as cur:
                cur.execute(f"VACUUM (ANALYZE) {table}")
        finally:
            connection.close()

    def finish(self) -> None:
        super().finish()
        started = time.monotonic()
        with ThreadPoolExecutor(self.parallel_builds) as pool:
            for future in [pool.submit(self._vacuum, t) for t in TABLES]:
                future.result()
        print(f"  vacuum analyze: {time.monotonic() - started:.1f} s", flush=True)


class SqliteWriter(Writer):
    """executemany on the raw sqlite3 connection, with synchronous writes off."""

    def ts(self, value: dt.datetime | None) -> Any:
        # Django stores aware datetimes on SQLite as naive UTC text.
        return None if value is None else value.replace(tzinfo=None).isoformat(" ")

    def session(self) -> None:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("PRAGMA synchronous = OFF")
            cur.execute("PRAGMA cache_size = -262144")

    def dropped_indexes(self) -> list[tuple[str, str]]:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({', '.join('?' * len(TABLES))}) ORDER BY tbl_name, name",
                TABLES,
            )
            return [(name, sql) for name, sql in cur.fetchall()]

    def write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        from django.db import connection

        rows = self.completed(table, rows)
        cols = COLUMNS[table]
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        connection.connection.executemany(sql, rows)

    def finish(self) -> None:
        from django.db import connection

        super().finish()
        started = time.monotonic()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        print(f"  analyze: {time.monotonic() - started:.1f} s", flush=True)


def load(gen: Generator, writer: Writer, batch_size: int) -> tuple[float, float]:
    """Generate in this thread while a loader thread writes the previous batch, so that the
    database works on one batch while Python makes the next; returns (load, generate) seconds."""
    from django.db import connection, transaction

    batches: queue.Queue[dict[str, list[tuple[Any, ...]]] | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []
    started = time.monotonic()
    done = [0]

    def loader() -> None:
        try:
            writer.session()
            while (batch := batches.get()) is not None:
                with transaction.atomic():
                    for table in TABLES:
                        writer.write(table, batch[table])
                        gen.stats.rows[table] += len(batch[table])
                done[0] += len(batch["cases_case"])
                elapsed = time.monotonic() - started
                rows = sum(gen.stats.rows.values())
                print(
                    f"  {done[0]:>9,} cases  {rows:>10,} rows  {elapsed:7.1f} s  "
                    f"{rows / elapsed:9,.0f} rows/s",
                    flush=True,
                )
        except BaseException as exc:
            failed.append(exc)
            while batches.get() is not None:  # let the producer finish
                pass
        finally:
            connection.close()

    thread = threading.Thread(target=loader, name="loader")
    thread.start()
    gen_time = 0.0
    produced = gen.batches(batch_size)
    try:
        while not failed:
            t0 = time.monotonic()
            batch = next(produced, None)
            gen_time += time.monotonic() - t0
            if batch is None:
                break
            batches.put(batch)
    finally:
        batches.put(None)
        thread.join()
    if failed:
        raise failed[0]
    return time.monotonic() - started, gen_time


# Set-up -----------------------------------------------------------------------------------------


def prepare(*, migrate: bool = True) -> People:
    """Migrate, load the demo organisation and a staff of handlers; return their ids.
    (``migrate=False``: the database is ready, as the test database of the CI run is.)"""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from qloop.cases.models import Category
    from qloop.demo.loader import load_organisation, person_name
    from qloop.org.models import Department, Membership, Role, User

    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
    users = load_organisation()
    depts = {d.code: d for d in Department.objects.all()}
    roles = {r.code: r for r in Role.objects.all()}
    rng = random.Random(7)
    unusable = make_password(None)
    pools: dict[str, list[int]] = {}
    for code, (role, count) in STAFF.items():
        wanted = [f"{code.lower()}{n:03d}" for n in range(1, count + 1)]
        have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
        new = [
            User(username=u, display_name=person_name(rng), password=unusable)
            for u in wanted
            if u not in have
        ]
        User.objects.bulk_create(new)
        staff = list(User.objects.filter(username__in=wanted))
        for user in staff:
            Membership.objects.get_or_create(user=user, department=depts[code], role=roles[role])
        demo = [u.pk for name, u in users.items() if u.memberships.filter(department__code=code)]
        pools[code] = demo + [u.pk for u in staff]
    everyone = User.objects.all()
    return People(
        users={u.username: u.pk for u in everyone},
        names={u.pk: u.display_name or u.username for u in everyone},
        departments={code: d.pk for code, d in depts.items()},
        pools={k: [u for u in v if u != users["admin"].pk] for k, v in pools.items()},
        categories={c.code: c.pk for c in Category.objects.all()},
        registrars=[users[u].pk for u in ("cs", "cs", "cs", "cs_head", "sales", "prod")]
        + pools["CS"][2:6],
        heads={
            "CS": users["cs_head"].pk,
            "QA": users["qa_head"].pk,
            "PROD": users["qa_head"].pk,
            "SALES": users["sales"].pk,
        },
    )


def reset_cases() -> None:
    """Remove every case and whatever refers to a case (for --reset)."""
    from django.db import connection

    from qloop.cases.models import Case, Contact

    # Tables of every model that points at a case or a contact, whichever app it lives in.
    tables = {
        rel.related_model._meta.db_table
        for model in (Case, Contact)
        for rel in model._meta.related_objects
    }
    tables |= {*TABLES, "org_sequence"}
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {', '.join(sorted(tables))} RESTART IDENTITY CASCADE")
        else:
            cur.execute("PRAGMA foreign_keys = OFF")
            for table in sorted(tables):
                cur.execute(f"DELETE FROM {table}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("VACUUM")
    # A trail emptied here starts its hash chain again (issue 9.17).
    from qloop.org import trail
    from qloop.org.models import TrailHead

    for model in trail.chained_models():
        if not model._default_manager.exists():
            TrailHead.objects.filter(chain=model._meta.label_lower).delete()


def first_ids() -> dict[str, int]:
    from django.db import connection

    ids = {}
    with connection.cursor() as cur:
        for table in ("cases_contact", "cases_case", "process_clock", "cases_event"):
            cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
            ids[table] = int(cur.fetchone()[0])
    return ids


def save_sequences(sequences: dict[str, int]) -> None:
    """Keep ``org.Sequence`` in step so the next registration gets the next free number."""
    from qloop.org.models import Sequence

    for key, value in sequences.items():
        Sequence.objects.update_or_create(key=key, defaults={"last_value": value})


def check_sample(count: int = 25, seed: int = 1) -> None:
    """The stored search columns of a few cases equal what ``Case.refresh_search`` gives."""
    from qloop.cases.models import Case

    rng = random.Random(seed)
    total = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = sorted({rng.randrange(1, total + 1) for _ in range(count)})
    cases = Case.objects.select_related("contact", "product").filter(id__in=ids)
    checked = 0
    for case in cases:
        stored = (case.search_text, case.search_tokens)
        case.refresh_search()
        if stored != (case.search_text, case.search_tokens):
            raise SystemExit(f"Search columns of {case.number} differ from refresh_search()")
        checked += 1
    print(f"  search columns of {checked} sampled cases match Case.refresh_search()")


def generate(
    people: People, cases: int, state_file: Path, *, years: float, batch: int, seed: int
) -> tuple[Generator, float, float, float]:
    """Write ``cases`` cases into the prepared database and check a sample; returns the
    generator (its stats) and the load, generating and index seconds."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    writer: Writer = (
        PostgresWriter(state_file)
        if connection.vendor == "postgresql"
        else SqliteWriter(state_file)
    )
    gen = Generator(
        cases,
        people,
        now=timezone.now().replace(second=0, microsecond=0),
        years=years,
        seed=seed,
        first_ids=first_ids(),
        ts=writer.ts,
        answer_days=settings.QLOOP_ANSWER_DAYS,
    )
    writer.begin()
    try:
        load_time, gen_time = load(gen, writer, batch)
        print("Indexes: rebuilding …", flush=True)
    finally:
        index_started = time.monotonic()
        writer.finish()
    index_time = time.monotonic() - index_started
    save_sequences(gen.sequences)
    check_sample()
    return gen, load_time, gen_time, index_time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, required=True, help="how many cases to write")
    parser.add_argument("--years", type=float, default=3.0, help="spread over this many years")
    parser.add_argument("--batch", type=int, default=20_000, help="cases per transaction")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--reset", action="store_true", help="delete existing cases first (else refuse)"
    )
    parser.add_argument(
        "--skip-summaries",
        action="store_true",
        help="leave the daily counts and similar-case index empty (rebuild_case_counts later)",
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    started = time.monotonic()
    setup_django(args.database_url, args.data_dir)
    from django.conf import settings

    from qloop.cases.models import Case

    print(f"Database: {database_label()}; data folder: {settings.DATA_DIR}", flush=True)
    people = prepare()
    if Case.objects.exists():
        if not args.reset:
            raise SystemExit("The register already has cases; run with --reset to replace them.")
        reset_cases()
    print(f"Set-up: {time.monotonic() - started:.1f} s", flush=True)

    state_file = Path(settings.DATA_DIR) / "bench-dropped-indexes.json"
    gen, load_time, gen_time, index_time = generate(
        people, args.cases, state_file, years=args.years, batch=args.batch, seed=args.seed
    )
    if not args.skip_summaries:
        # The rows bypassed Case.save: the dashboards' daily counts and the similar-case index
        # are recounted from them, as `qloop manage rebuild_case_counts` does (issue 13).
        from qloop.cases import counts, similar_index

        t0 = time.monotonic()
        counts.rebuild()
        similar_index.rebuild()
        print(f"Daily counts and similar-case index: {time.monotonic() - t0:.1f} s", flush=True)
    total = time.monotonic() - started
    rows = sum(gen.stats.rows.values())
    s = gen.stats
    depts = {v: k for k, v in people.departments.items()}
    print("\nWritten:")
    for table in TABLES:
        print(f"  {table:<22} {s.rows[table]:>10,}")
    print(f"  open cases (live)      {s.open_cases:>10,} ({s.open_cases / max(args.cases, 1):.1%})")
    for user in ("qe", "cs", "cs_head", "qa_head"):
        n = s.handlers.get(people.users[user], 0)
        print(f"  open cases handled by {user:<8} {n:>6,} ({n / max(s.open_cases, 1):.2%} of open)")
    for dept, n in sorted(s.unassigned_open.items()):
        print(f"  unassigned open in {depts[dept]:<6} {n:>6,}")
    print(
        f"\nLoad {load_time:.1f} s (generating {gen_time:.1f} s), indexes and analyse "
        f"{index_time:.1f} s, total {total:.1f} s; "
        f"{rows:,} rows at {rows / load_time:,.0f} rows/s loading, "
        f"{args.cases / total:,.0f} cases/s overall",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
