from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from qloop.process.clocks import sweep_breaches


class Command(BaseCommand):
    help = "Run the deadline sweep once (the periodic job runs the same code)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", default="", help="sweep as of this ISO time")

    def handle(self, *args: Any, now: str, **options: Any) -> None:
        when = timezone.now()
        if now:
            try:
                when = dt.datetime.fromisoformat(now)
            except ValueError as exc:
                raise CommandError(
                    f"--now must be an ISO time such as 2026-11-25T09:00+08:00: {exc}"
                ) from exc
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
        breached = sweep_breaches(when)
        self.stdout.write(f"Swept as of {when.isoformat()}: {breached} deadline(s) newly breached.")
