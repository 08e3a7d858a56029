"""Benchmarks of the pharmacy profile (#10): the signal table (PRR/ROR per drug–reaction pair)
and a month's and a quarter's periodic summary over many ADR and drug quality cases, and the
E2B(R3) export of many reports.

    # PostgreSQL: an empty database first
    psql -U postgres -h 127.0.0.1 -c 'create database qloop_pharmacy_bench'
    nice -n 10 .venv/bin/python bench/pharmacy_bench.py --cases 100000 --e2b 10000 \
        --database-url postgres://postgres@127.0.0.1:5432/qloop_pharmacy_bench

The cases are written in bulk (not through the actions: this measures the reads, not the
registration), spread over --years up to now, half ADR reports (one suspect and one
concomitant drug each) and half drug quality feedback. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--e2b", type=int, default=1000)
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from qloop.cases.models import Case

    call_command("migrate", verbosity=0)
    if not Case.objects.filter(kind="adr").exists():
        from qloop.demo.hospital import load_hospital
        from qloop.pharmacy.setup import load_pharmacy_setup

        load_hospital()
        load_pharmacy_setup()
        started = time.perf_counter()
        generate(args.cases, args.years)
        print(f"generated {args.cases} cases in {time.perf_counter() - started:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
    from qloop.pharmacy.e2b import e2b_document
    from qloop.pharmacy.signals import signal_table
    from qloop.pharmacy.summaries import figures, period_bounds

    total = Case.objects.filter(profile="pharmacy").count()
    label = f"{database_label()}, {total} pharmacy cases"
    for name, run in (
        ("signal table", lambda: len(signal_table())),
        (
            "summary of a month",
            lambda: figures(*period_bounds("month", timezone.localdate() - dt.timedelta(days=40))),
        ),
        (
            "summary of a quarter",
            lambda: figures(
                *period_bounds("quarter", timezone.localdate() - dt.timedelta(days=100))
            ),
        ),
    ):
        run()  # warm
        started = time.perf_counter()
        run()
        print(f"{label}: {name}: {time.perf_counter() - started:.2f} s")
    reports = list(Case.objects.filter(kind="adr").order_by("-received_at")[: args.e2b])
    started = time.perf_counter()
    size = len(e2b_document(reports))
    print(
        f"{label}: E2B(R3) of {len(reports)} reports: {time.perf_counter() - started:.2f} s, "
        f"{size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
