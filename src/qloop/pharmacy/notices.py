"""The pharmacy profile's kinds of message (X6). Messages name the case and the drug, never
the patient: they travel by e-mail and group robots."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qloop.notify.texts import Kind, register

register(
    Kind(
        "pharmacy_major_problem",
        _("A major drug quality problem to report"),
        _("{{ number }}: a major drug quality problem must go to the drug regulator."),
        _(
            "{{ number }} {{ title }}\nA major drug quality problem was registered. Report it "
            "to the drug regulator within the deadline.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={"number": "DQ-2026-000012", "title": "头孢克肟颗粒: 霉变"},
    )
)
register(
    Kind(
        "pharmacy_counterfeit_opened",
        _("A counterfeit or substandard drug case opened"),
        _("{{ number }}: a counterfeit or substandard drug case was opened."),
        _(
            "{{ number }} {{ title }}\nThe batch is on hold. Send a retained sample for "
            "testing and report to the drug regulator within the deadline.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={"number": "JL-2026-000003", "title": "阿莫西林胶囊 0.25g 2406123"},
    )
)
register(
    Kind(
        "pharmacy_adr_death",
        _("A death reported as an adverse drug reaction"),
        _("{{ number }}: a death after a suspected adverse drug reaction — report it at once."),
        _(
            "{{ number }} {{ title }}\nReport it immediately, record the phone or fax call to "
            "the authority, and send the report.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={"number": "ADR-2026-000044", "title": "注射用头孢曲松钠: 过敏性休克"},
    )
)
register(
    Kind(
        "pharmacy_adr_group",
        _("A group adverse drug event"),
        _("{{ number }}: several patients reacted to the same batch — a group event."),
        _(
            "{{ number }} {{ title }}\nSeveral patients had a suspected reaction to the same "
            "drug and batch within a few days. Report it immediately by phone or fax.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={"number": "ADRG-2026-000002", "title": "群体不良事件: 注射用头孢曲松钠 2409015"},
    )
)
