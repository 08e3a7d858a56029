"""The kinds of message the organisation app sends, registered with the notify app."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qloop.notify.texts import Kind, register


def register_kinds() -> None:
    register(
        Kind(
            "trail_broken",
            _("The audit trail shows tampering"),
            _("The audit trail is broken: {{ trails }}."),
            _(
                "The daily check of the audit trail found an entry that does not fit its hash "
                "chain: a change, deletion or insertion made in the database outside QLoop."
                "\n{{ first }}\nRun “qloop verify-trail” to see it, and compare with the last "
                "backup."
            ),
            channels=("app", "email"),
            sample={
                "trails": "cases.event",
                "first": "cases.event: BROKEN at entry 1234 (id 1240): its content was changed",
            },
        )
    )
