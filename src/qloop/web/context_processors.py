from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def qloop(request: HttpRequest) -> dict[str, Any]:
    """Counts shown in the navigation bar on every page."""
    user = getattr(request, "user", None)
    context: dict[str, Any] = {"QLOOP_DEBUG": settings.DEBUG}
    if user is not None and user.is_authenticated:
        from qloop.cases.kinds import registration_links
        from qloop.cases.queues import my_work_queryset, open_tasks_for
        from qloop.notify.models import Notification
        from qloop.org.models import Organisation
        from qloop.process.engine import approvals_for
        from qloop.reports.queues import improvement_actions_for, reports_waiting_for
        from qloop.web.nav import nav_for

        approvals = approvals_for(user).count()
        context["approvals_count"] = approvals
        # The badge counts everything waiting: cases, my department's tasks, my approvals,
        # summary reports to decide or finish, my improvement actions.
        cases = getattr(request, "qloop_my_work_cases", None)
        if cases is None:
            cases = my_work_queryset(user).count()
        context["my_work_count"] = (
            cases
            + open_tasks_for(user).count()
            + approvals
            + reports_waiting_for(user).count()
            + improvement_actions_for(user).count()
        )
        context["unread_count"] = Notification.objects.filter(
            user=user, read_at__isnull=True
        ).count()
        context["ORG_NAME"] = Organisation.current().name
        profiles = Organisation.current_profiles()
        context["nav_items"] = nav_for(request, user, profiles)
        context["new_case_links"] = registration_links(profiles)
    return context
