from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from qloop.process.clocks import sweep


class Command(BaseCommand):
    help = "Run the deadline sweep once (the periodic job runs the same code)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", default="", help="sweep as of this ISO time")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what the sweep would do, and change nothing",
        )

    def handle(self, *args: Any, now: str, dry_run: bool = False, **options: Any) -> None:
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
        if dry_run:
            with transaction.atomic():
                report = sweep(when)
                transaction.set_rollback(True)
        else:
            report = sweep(when)
        stamp = timezone.localtime(when).isoformat()
        self.stdout.write(
            f"{'Would sweep' if dry_run else 'Swept'} as of {stamp}: "
            f"{report.breached} deadline(s) newly breached, {report.reminders} reminder(s), "
            f"{report.escalations} escalation step(s), {report.people} message(s) to people "
            f"on {len(report.cases)} case(s)."
        )
