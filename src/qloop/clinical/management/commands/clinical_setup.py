"""``qloop manage clinical_setup``: the clinical profile's reference data, once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from qloop.clinical.setup import load_clinical_setup


class Command(BaseCommand):
    help = (
        "Load the laboratory and radiology registers, wards, notifiable diseases, reporting "
        "rules and sample finding rules (needs the hospital's departments LAB, RAD, IC and the "
        "clinical departments). Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        made = load_clinical_setup()
        self.stdout.write(
            f"{len(made['registers'])} registers, {len(made['wards'])} wards, "
            f"{len(made['diseases'])} notifiable diseases ready."
        )
