from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from qloop.demo.registry import DEMO_PARTS
from qloop.org.models import Profile


class Command(BaseCommand):
    help = (
        "Load the demo organisation: every registered profile's part (the manufacturer's people "
        "and a few hundred complaints first). Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=300, help="complaints to have in all")

    def handle(self, *args: Any, cases: int, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        for part in DEMO_PARTS:
            made = part.load({"cases": cases})
            if part.profile == Profile.MANUFACTURER:
                people, complaints = made.pop("people", 0), made.pop("complaints", 0)
                extra = "".join(f", {n} new {what}" for what, n in made.items())
                self.stdout.write(
                    f"Demo organisation ready: {people} people, {complaints} new complaints{extra}."
                )
            else:
                made_text = ", ".join(f"{n} new {what}" for what, n in made.items() if n)
                self.stdout.write(
                    f"Demo {Profile(part.profile).label} ready"
                    + (f": {made_text}." if made_text else ".")
                )
