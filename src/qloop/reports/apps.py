from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "qloop.reports"
    label = "reports"
    verbose_name = _("Reports and management review")

    def ready(self) -> None:
        # Periodic jobs live in jobs.py (house style); importing registers them with Huey.
        from qloop.org.models import Profile
        from qloop.reports import jobs  # noqa: F401
        from qloop.reports.notices import register_kinds
        from qloop.web.nav import NavItem, register_nav

        register_kinds()
        from qloop.reports import dashboards, exports, period_summaries  # noqa: F401 - registries

        register_nav(
            NavItem(
                _("Period summaries"),
                "period-summary-list",
                shown_to=lambda user: bool(period_summaries.readable_sets(user)),
                order=31,
            ),
            NavItem(_("Dashboard"), "dashboard", order=5),
            NavItem(_("Analysis"), "analysis", shown_to=lambda user: user.sees_all_cases, order=6),
            NavItem(
                _("Summary reports"),
                "survey-report-list",
                Profile.MANUFACTURER,
                shown_to=lambda user: user.sees_all_cases,
                order=30,
            ),
        )
