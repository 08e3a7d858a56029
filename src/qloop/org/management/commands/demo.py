from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from qloop.demo.aftersales import load_aftersales
from qloop.demo.loader import load_cases, load_organisation


class Command(BaseCommand):
    help = "Load the demo organisation, its people and a few hundred complaints (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=300, help="complaints to have in all")

    def handle(self, *args: Any, cases: int, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        users = load_organisation()
        made = load_cases(cases, users)
        after = load_aftersales(users)
        extra = "".join(f", {n} new {what}" for what, n in after.items())
        self.stdout.write(
            f"Demo organisation ready: {len(users)} people, {made} new complaints{extra}."
        )
