"""The clinical profile's kinds of message (X6), in the reader's language.

Messages name the case, the test and the result, never the patient: they travel by e-mail and
group robots.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qloop.notify.texts import Kind, register

_SAMPLE = {"number": "FN-2026-000123", "title": "危急值: 血钾 2.5 mmol/L (LL)"}

register(
    Kind(
        "finding_opened",
        _("A result to be acknowledged"),
        _("{{ number }}: {{ test }} {{ result }} needs your acknowledgement."),
        _(
            "{{ number }} {{ title }}\nThe laboratory or radiology reports {{ test }}: "
            "{{ result }}. Acknowledge it (sign as received) or take the call.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={**_SAMPLE, "test": "血钾", "result": "2.5 mmol/L (LL)"},
    )
)
register(
    Kind(
        "disease_report_opened",
        _("An infectious-disease report card to complete"),
        _("{{ number }}: a report card for {{ disease }} is due."),
        _(
            "{{ number }} {{ title }}\nA notifiable disease was found: {{ disease }}. "
            "Complete the report card and report it within the deadline.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={"number": "IDR-2026-000012", "title": "传染病报告卡", "disease": "细菌性痢疾"},
    )
)
register(
    Kind(
        "feedback_form_sent",
        _("An information feedback form to fill in"),
        _("An information feedback form from {{ sender }} is due back by {{ due }}."),
        _(
            "{{ sender }} asks your department for its information feedback form, due back by "
            "{{ due }}.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={"sender": "检验科", "due": "2026-12-15"},
    )
)
register(
    Kind(
        "feedback_form_reminder",
        _("A feedback form is late"),
        _("The information feedback form from {{ sender }} was due back on {{ due }}."),
        _(
            "The information feedback form from {{ sender }} was due back on {{ due }}. "
            "Please fill it in.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={"sender": "检验科", "due": "2026-12-15"},
    )
)
