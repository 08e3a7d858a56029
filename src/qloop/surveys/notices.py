"""The kinds of message the surveys app sends, registered with the notify app."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qloop.notify.texts import Kind, register


def register_kinds() -> None:
    register(
        Kind(
            "survey_overdue",
            _("No satisfaction survey for eleven months"),
            _("No customer satisfaction survey has run for eleven months (R2.5 c)."),
            _(
                "No customer satisfaction survey has run for eleven months; at least one is "
                "due every year (R2.5 c). The last one closed: {{ last_closed|default:'—' }}."
                "\n{{ link }}"
            ),
            channels=("app", "email"),
            sample={"last_closed_at": "2025-12-20T17:00:00+08:00"},
        )
    )
    # Invitations and reminders go to customers' addresses, not to people's preferences.
    for code, label in (
        ("survey_invitation", _("Survey invitation to a customer")),
        ("survey_reminder", _("Survey reminder to a customer")),
    ):
        register(Kind(code, label, "{{ subject }}", "{{ body }}", channels=(), personal=False))
