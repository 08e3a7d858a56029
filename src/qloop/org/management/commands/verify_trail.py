"""``qloop verify-trail``: check the hash chains of every trail (issue 9.17)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qloop.org import trail


class Command(BaseCommand):
    help = (
        "Check that no trail entry (case events, e-signatures, report steps, register "
        "corrections, call attempts) was changed, deleted or inserted outside QLoop. Exit 0 "
        "with the count of entries, or exit 1 naming the first broken entry. It only reads: "
        "safe to run at any time and to interrupt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--alert",
            action="store_true",
            help="also alert the administrators when a trail is broken (as the daily job does)",
        )
        parser.add_argument(
            "--chunk-size", type=int, default=5000, help="rows read from the database at a time"
        )

    def handle(
        self, *args: Any, alert: bool = False, chunk_size: int = 5000, **options: Any
    ) -> None:
        started = time.monotonic()
        if alert:
            reports = trail.check_and_alert(chunk_size=chunk_size)
        else:
            reports = trail.verify(chunk_size=chunk_size)
        for report in reports:
            self.stdout.write(trail.describe(report))
        broken = [r for r in reports if not r.ok]
        seconds = time.monotonic() - started
        if broken:
            raise CommandError(f"Trail broken: {trail.describe(broken[0])}", returncode=1)
        total = sum(r.entries for r in reports)
        self.stdout.write(f"{total} entries verified in {seconds:.1f} s; every chain is intact.")
