"""``qloop manage rebuild_signal_counts``: recount the signal table's drug–reaction and
reaction counts from the ADR reports (issue 10)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from qloop.pharmacy.counts import rebuild


class Command(BaseCommand):
    help = (
        "Recount the pre-counted drug–reaction pairs and reactions per month that the signal "
        "table reads, from the ADR reports: after reports were imported other than through "
        "QLoop, or to repair the counts. Registrations made meanwhile wait, then count."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        pairs, reactions = rebuild()
        self.stdout.write(
            f"{pairs} drug–reaction months and {reactions} reaction months counted "
            f"in {time.monotonic() - started:.1f} s"
        )
