"""A clock's name reads in the reader's language (X3): the choices behind every
``get_name_display()`` are kept per language (issue 14), never one language for all."""

from __future__ import annotations

from django.utils import translation

from qloop.process.models import Clock, clock_choices


def test_clock_names_follow_the_language() -> None:
    clock = Clock(name="customer_answer")
    seen = {}
    for language in ("zh-hans", "en", "zh-hant", "zh-hans"):
        with translation.override(language):
            seen[language] = (clock.get_name_display(), dict(clock_choices())["investigation"])
    assert seen["en"] == ("Answer to the customer", "48-hour investigation")
    assert seen["zh-hans"][0] == "答复客户"
    assert seen["zh-hant"][0] == "答覆客戶"


def test_the_kept_choices_cannot_be_changed_by_a_caller() -> None:
    choices = clock_choices()
    choices.clear()
    assert clock_choices()
