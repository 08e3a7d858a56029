"""The kinds of message the reports app sends, registered with the notify app."""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

KIND_CODES = (
    "survey_report_submitted",
    "survey_report_returned",
    "survey_report_decided",
    "improvement_action_assigned",
    "improvement_action_done",
    "review_summary_prepared",
    "period_summary_ready",
)

_REPORT = {"number": "SR-2026-0001", "title": "2026年度顾客满意度调查总结报告", "actor": "赵晓东"}


def register_kinds() -> None:
    try:
        from qloop.notify.texts import Kind, register
    except ImportError:  # an older notify app without registrable kinds
        return
    register(
        Kind(
            "survey_report_submitted",
            _("A survey summary report awaits my decision"),
            _("{{ number }}: {{ actor }} submitted “{{ title }}” for your decision."),
            format_lazy(
                "{}\n{{{{ url }}}}",
                _("{{ number }}: {{ actor }} submitted “{{ title }}” for your decision."),
            ),
            channels=("app", "email"),
            sample=_REPORT,
        )
    )
    register(
        Kind(
            "survey_report_returned",
            _("A survey summary report was sent back"),
            _("{{ number }}: {{ actor }} sent “{{ title }}” back: {{ comment }}"),
            format_lazy(
                "{}\n{{{{ url }}}}",
                _("{{ number }}: {{ actor }} sent “{{ title }}” back: {{ comment }}"),
            ),
            sample={**_REPORT, "comment": "请补充售后服务响应时间的分析"},
        )
    )
    register(
        Kind(
            "survey_report_decided",
            _("The general manager decided on a survey summary report"),
            _("{{ number }}: {{ actor }} decided on “{{ title }}”."),
            format_lazy(
                "{}\n{{{{ url }}}}", _("{{ number }}: {{ actor }} decided on “{{ title }}”.")
            ),
            sample=_REPORT,
        )
    )
    register(
        Kind(
            "improvement_action_assigned",
            _("An improvement action is given to me"),
            _("{{ number }}: improvement action for you, due {{ due }}: {{ measure }}"),
            format_lazy(
                "{}\n{{{{ url }}}}",
                _("{{ number }}: improvement action for you, due {{ due }}: {{ measure }}"),
            ),
            channels=("app", "email"),
            sample={**_REPORT, "measure": "售后服务24小时内响应", "due": "2026-12-31"},
        )
    )
    register(
        Kind(
            "improvement_action_done",
            _("An improvement action I decided was done"),
            _("{{ number }}: improvement action done by {{ actor }}: {{ measure }}"),
            format_lazy(
                "{}\n{{{{ url }}}}",
                _("{{ number }}: improvement action done by {{ actor }}: {{ measure }}"),
            ),
            sample={**_REPORT, "measure": "售后服务24小时内响应"},
        )
    )
    register(
        Kind(
            "review_summary_prepared",
            _("The management review summary is prepared"),
            _("The summary for the management review on {{ held_on }} is ready."),
            format_lazy(
                "{}\n{{{{ url }}}}",
                _("The summary for the management review on {{ held_on }} is ready."),
            ),
            channels=("app", "email"),
            sample={"held_on": "2026-12-15", "title": "2026年度管理评审"},
        )
    )
    register(
        Kind(
            "period_summary_ready",
            _("A period summary is ready to be signed off"),
            _("The {{ period }} summary for {{ recipients }} from {{ start }} is ready."),
            format_lazy(
                "{}\n{{{{ url }}}}",
                _("The {{ period }} summary for {{ recipients }} from {{ start }} is ready."),
            ),
            channels=("app", "email"),
            sample={"period": "月度", "recipients": "总经理", "start": "2026-11-01"},
        )
    )
