"""Benchmarks of the pharmacy profile (#10): the signal table (PRR/ROR per drug–reaction pair)
and a month's and a quarter's periodic summary over many ADR and drug quality cases, the
E2B(R3) export of many reports, and the rate of the real registration.

    # PostgreSQL: an empty database first
    psql -U postgres -h 127.0.0.1 -c 'create database qloop_pharmacy_bench'
    nice -n 10 .venv/bin/python bench/pharmacy_bench.py --cases 1000000 --e2b 10000 \
        --register 200 --database-url postgres://postgres@127.0.0.1:5432/qloop_pharmacy_bench

The cases are written in bulk, not through the actions (this measures the reads): on
PostgreSQL with COPY, each row built as a Django model instance so that every default is the
application's, in transactions of 20,000 cases; on SQLite with bulk_create. They are spread
over --years up to now, half ADR reports (one suspect and one concomitant drug each) and half
drug quality feedback, 0.4 % archived. The signal counts are then rebuilt from them
(``rebuild_signal_counts``, as after an import). ``--register N`` registers N ADR reports and N
drug quality cases through ``register_case`` (deadlines, group detection, signal counts,
events) and prints the rate. Prints one line per measurement, with CPU time and load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_common_arguments, database_label, setup_django

REACTIONS = [
    "皮疹",
    "瘙痒",
    "恶心",
    "呕吐",
    "头晕",
    "过敏性休克",
    "肝功能异常",
    "静脉炎",
    "腹泻",
    "QT间期延长",
    "急性肾损伤",
    "寒战",
    "发热",
    "心悸",
    "头痛",
]


def generate(cases: int, years: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from qloop.cases.models import Case
    from qloop.org.models import Department
    from qloop.pharmacy.models import AdrDrug, AdrReport, Drug, DrugFeedback, ProblemType

    rng = random.Random(10)
    dept = Department.objects.get(code="PHARM")
    drugs = list(Drug.objects.prefetch_related("batches"))
    batches = {d.pk: list(d.batches.all()) for d in drugs}
    problems = list(ProblemType.values)
    now = timezone.now()
    span = dt.timedelta(days=365 * years)
    chunk = 5000
    seq: dict[tuple[str, int], int] = {}
    for offset in range(0, cases, chunk):
        rows = []
        for i in range(offset, min(cases, offset + chunk)):
            when = now - span * rng.random()
            adr = i % 2 == 0
            prefix = "ADR" if adr else "DQ"
            key = (prefix, when.year)
            seq[key] = seq.get(key, 0) + 1
            rows.append(
                Case(
                    number=f"{prefix}B-{when.year}-{seq[key]:07d}",
                    kind="adr" if adr else "drug_feedback",
                    profile="pharmacy",
                    title="bench",
                    received_at=when,
                    channel="visit",
                    department=dept,
                    state="closed",
                    closed_at=when,
                    created_at=when,
                    updated_at=when,
                )
            )
        with transaction.atomic():
            made = Case.objects.bulk_create(rows)
            reports, feedback = [], []
            for case in made:
                drug = rng.choice(drugs[:60])
                batch = rng.choice(batches[drug.pk])
                if case.kind == "adr":
                    reports.append(
                        AdrReport(
                            case=case,
                            aware_at=case.received_at,
                            reaction=rng.choice(REACTIONS),
                            seriousness=rng.choice(("general", "general", "serious", "new")),
                            outcome=rng.choice(("recovered", "improving", "unknown")),
                            patient_name="患者",
                            reporter_name="药师",
                            reporter_phone="1",
                            department=dept,
                        )
                    )
                else:
                    feedback.append(
                        DrugFeedback(
                            case=case,
                            drug=drug,
                            batch=batch,
                            problem=rng.choice(problems),
                            description="bench",
                        )
                    )
            AdrReport.objects.bulk_create(reports)
            DrugFeedback.objects.bulk_create(feedback)
            AdrDrug.objects.bulk_create(
                AdrDrug(
                    report=r,
                    role=role,
                    drug=d,
                    batch=rng.choice(batches[d.pk]),
                    generic_name=d.generic_name,
                    batch_number="x",
                )
                for r in reports
                for role, d in (
                    ("suspect", rng.choice(drugs[:60])),
                    ("concomitant", rng.choice(drugs)),
                )
            )
        print(f"  {min(cases, offset + chunk)} cases", flush=True)


def _copy_rows(model: Any, objs: list[Any]) -> None:
    """COPY model instances (their defaults filled by Django) into their table."""
    from django.db import connection

    fields = model._meta.concrete_fields
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = model._meta.db_table
    with connection.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
        for obj in objs:
            cp.write_row([f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields])


def _next_ids(table: str, n: int) -> int:
    """Reserve ``n`` ids of ``table``'s sequence; the first one."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        first = int(cur.fetchone()[0])
        cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + n - 1])
    return first


def generate_bulk(cases: int, years: int) -> None:
    """PostgreSQL: cases, ADR reports with their drugs and drug quality feedback through COPY,
    each row built as a Django model instance (so every default is the application's), in
    chunks of 20,000 cases, each chunk one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from qloop.cases.models import Case
    from qloop.org.models import Department
    from qloop.pharmacy.models import AdrDrug, AdrReport, Drug, DrugFeedback, ProblemType

    rng = random.Random(10)
    dept = Department.objects.get(code="PHARM")
    drugs = list(Drug.objects.prefetch_related("batches"))
    batches = {d.pk: list(d.batches.all()) for d in drugs}
    problems = list(ProblemType.values)
    now = timezone.now()
    span = dt.timedelta(days=365 * years)
    chunk = 20_000
    seq: dict[tuple[str, int], int] = {}
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
    case_id = _next_ids("cases_case", cases)
    drug_id = _next_ids("pharmacy_adrdrug", cases + 2)
    for offset in range(0, cases, chunk):
        made, reports, feedback, rows = [], [], [], []
        for i in range(offset, min(cases, offset + chunk)):
            when = now - span * rng.random()
            adr = i % 2 == 0
            prefix = "ADR" if adr else "DQ"
            key = (prefix, when.year)
            seq[key] = seq.get(key, 0) + 1
            archived = rng.random() < 0.004
            case = Case(
                id=case_id,
                number=f"{prefix}B-{when.year}-{seq[key]:07d}",
                kind="adr" if adr else "drug_feedback",
                profile="pharmacy",
                title="bench",
                received_at=when,
                channel="visit",
                department=dept,
                state="closed",
                closed_at=when,
                created_at=when,
                updated_at=when,
                archived_at=when if archived else None,
                archive_reason="bench" if archived else "",
            )
            case_id += 1
            made.append(case)
            drug = rng.choice(drugs[:60])
            if adr:
                report = AdrReport(
                    case=case,
                    aware_at=when,
                    reaction=rng.choice(REACTIONS),
                    seriousness=rng.choice(("general", "general", "serious", "new")),
                    outcome=rng.choice(("recovered", "improving", "unknown")),
                    patient_name="患者",
                    age_years=rng.randint(1, 90),
                    reporter_name="药师",
                    reporter_phone="1",
                    department=dept,
                )
                reports.append(report)
                for role, d in (("suspect", drug), ("concomitant", rng.choice(drugs))):
                    rows.append(
                        AdrDrug(
                            id=drug_id,
                            report=report,
                            role=role,
                            drug=d,
                            batch=rng.choice(batches[d.pk]),
                            generic_name=d.generic_name,
                            batch_number="x",
                        )
                    )
                    drug_id += 1
            else:
                feedback.append(
                    DrugFeedback(
                        case=case,
                        drug=drug,
                        batch=rng.choice(batches[drug.pk]),
                        problem=rng.choice(problems),
                        description="bench",
                    )
                )
        with transaction.atomic():
            _copy_rows(Case, made)
            _copy_rows(AdrReport, reports)
            _copy_rows(AdrDrug, rows)
            _copy_rows(DrugFeedback, feedback)
        print(f"  {min(cases, offset + chunk)} cases", flush=True)


def register_sample(n: int) -> tuple[float, float]:
    """Register ``n`` ADR reports and ``n`` drug quality feedback through register_case, as the
    pages and the API do (group detection, deadlines, signal counts, events); returns (wall,
    CPU) seconds."""
    from qloop.cases.actions import ContactData, Registration, register_case
    from qloop.org.models import Organisation, Profile, User
    from qloop.pharmacy.models import Drug

    org = Organisation.current()
    if Profile.PHARMACY not in org.profiles:
        org.profiles = [*org.profiles, Profile.PHARMACY]
        org.save()
    rng = random.Random(12)
    actor = User.objects.get(username="pharm")
    drugs = list(Drug.objects.prefetch_related("batches")[:60])
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        drug = rng.choice(drugs)
        batch = rng.choice(list(drug.batches.all()))
        register_case(
            Registration(
                kind="adr",
                channel="visit",
                contact=ContactData(name=""),
                symptom="",
                detail={
                    "report_type": "first",
                    "seriousness": "general",
                    "patient_name": "患者",
                    "sex": "F",
                    "age_years": 40 + i % 40,
                    "reaction": rng.choice(REACTIONS),
                    "outcome": "improving",
                    "reporter_name": "药师",
                    "reporter_phone": "0512-65223637",
                    "drugs": [
                        {
                            "role": "suspect",
                            "drug_id": drug.pk,
                            "batch_number": batch.batch_number,
                            "dose": "0.5g",
                        },
                        {"role": "concomitant", "generic_name": "维生素C"},
                    ],
                },
            ),
            actor=actor,
        )
        register_case(
            Registration(
                kind="drug_feedback",
                channel="visit",
                contact=ContactData(name=""),
                symptom="",
                detail={
                    "drug_id": drug.pk,
                    "batch_number": batch.batch_number,
                    "problem": "caking",
                    "description": "颗粒结块。",
                    "source": "collected",
                },
            ),
            actor=actor,
        )
    return time.perf_counter() - started, time.process_time() - cpu


def timed(run: Any) -> tuple[Any, float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    out = run()
    return out, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--e2b", type=int, default=1000)
    parser.add_argument(
        "--register",
        type=int,
        default=0,
        help="also register this many ADR and as many drug "
        "quality cases through register_case, and report the rate",
    )
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from qloop.cases.models import Case

    def load() -> str:
        one, five, fifteen = os.getloadavg()
        return f"load {one:.1f} {five:.1f} {fifteen:.1f}"

    _none, wall, _cpu = timed(lambda: call_command("migrate", verbosity=0))
    print(f"migrate: {wall:.1f} s", flush=True)
    if not Case.objects.filter(kind="adr").exists():
        from qloop.demo.hospital import load_hospital
        from qloop.pharmacy.counts import rebuild
        from qloop.pharmacy.setup import load_pharmacy_setup

        load_hospital()
        load_pharmacy_setup()
        started = time.perf_counter()
        if connection.vendor == "postgresql":
            generate_bulk(args.cases, args.years)
        else:
            generate(args.cases, args.years)
        print(f"generated {args.cases} cases in {time.perf_counter() - started:.1f} s")
        rebuild()  # the bulk path bypasses the domain code, as an import would
        if connection.vendor == "postgresql":
            # As autovacuum would in time: statistics, and the visibility map that lets the
            # summaries' index-only scans skip the table.
            with connection.cursor() as cur:
                cur.execute("VACUUM (ANALYZE)")
    if args.generate_only:
        return
    from qloop.pharmacy.counts import rebuild
    from qloop.pharmacy.e2b import e2b_document
    from qloop.pharmacy.signals import signal_table
    from qloop.pharmacy.summaries import figures, period_bounds

    total = Case.objects.filter(profile="pharmacy").count()
    label = f"{database_label()}, {total} pharmacy cases"
    rows, wall, cpu = timed(rebuild)
    print(
        f"{label}: rebuild_signal_counts ({rows[0]} pair months, {rows[1]} reaction months): "
        f"{wall:.2f} s (CPU {cpu:.2f} s), {load()}",
        flush=True,
    )
    if args.register:
        wall, cpu = register_sample(args.register)
        print(
            f"{label}: register_case, {args.register} ADR + {args.register} drug quality: "
            f"{wall:.1f} s (CPU {cpu:.1f} s), {2 * args.register / wall:.1f} cases/s, {load()}",
            flush=True,
        )

    def summary(kind: str, back: int) -> Any:
        # As produce() does: the period and the one before it.
        start, end = period_bounds(kind, timezone.localdate() - dt.timedelta(days=back))
        before, _s = period_bounds(kind, start - dt.timedelta(days=1))
        return figures(start, end), figures(before, start)

    def one(kind: str, back: int) -> Any:
        return figures(*period_bounds(kind, timezone.localdate() - dt.timedelta(days=back)))

    for name, run in (
        ("signal table", lambda: len(signal_table())),
        ("summary of a month (its figures only)", lambda: one("month", 40)),
        ("summary of a month with the month before", lambda: summary("month", 40)),
        ("summary of a quarter (its figures only)", lambda: one("quarter", 100)),
        ("summary of a quarter with the quarter before", lambda: summary("quarter", 100)),
    ):
        run()  # warm
        _out, wall, cpu = timed(run)
        print(f"{label}: {name}: {wall:.2f} s (CPU {cpu:.2f} s), {load()}", flush=True)
    reports = list(Case.objects.filter(kind="adr").order_by("-received_at")[: args.e2b])
    size, wall, cpu = timed(lambda: len(e2b_document(reports)))
    print(
        f"{label}: E2B(R3) of {len(reports)} reports: {wall:.2f} s (CPU {cpu:.2f} s), "
        f"{size / 1e6:.1f} MB, {load()}"
    )


if __name__ == "__main__":
    main()
