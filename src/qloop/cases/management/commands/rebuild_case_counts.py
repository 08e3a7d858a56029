"""Recount the dashboards' daily case counts (and the similar-case statistics) from the cases,
and forget every figure and list kept between pages: after a bulk load or a change by hand that
bypassed the application (bench/generate.py, a restore, SQL), which nothing else notices."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Recount the daily case counts and the similar-case statistics from the cases, and "
        "forget the figures kept between pages (after changes made outside QLoop)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        from qloop.cases import counts, similar_index

        start = time.perf_counter()
        rows = counts.rebuild()
        self.stdout.write(f"daily case counts: {rows} rows in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        docs, grams = similar_index.rebuild(out=self.stdout.write)
        self.stdout.write(
            f"similar cases: {docs} cases, {grams} bigram statistics "
            f"in {time.perf_counter() - start:.1f} s"
        )
        from django.db import transaction

        from qloop import freshness
        from qloop.org import refdata

        with transaction.atomic():
            refdata.bump()  # every process reads categories, fields and clocks afresh
        freshness.changed()  # badges, register counts and option lists are counted again
        self.stdout.write("kept figures and reference data: forgotten")
