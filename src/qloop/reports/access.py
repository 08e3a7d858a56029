"""Who may do what with survey summary reports and management reviews (R2.7).

Supply and Sales drafts the report, the general manager decides on it; the people who sees all
cases read the reports; the owner of an improvement action sees it and records its result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from qloop.org.models import Department
from qloop.process.definitions import process_for

if TYPE_CHECKING:
    from qloop.org.models import User
    from qloop.reports.models import ImprovementAction, SurveyReport


def supply_sales() -> Department | None:
    """The department that takes in customer feedback and writes the report (R2.1, R2.7)."""
    return Department.intake_for("feedback")


def drafter_roles() -> frozenset[str]:
    return process_for("feedback").role_set("intake")


def decider_roles() -> frozenset[str]:
    """The general manager, the feedback process's superior (R2.7, R2.8)."""
    return process_for("feedback").role_set("gm")


def quality_head_roles() -> frozenset[str]:
    return process_for("complaint").role_set("quality_head")


def can_draft(user: User) -> bool:
    """Supply and Sales collects and analyses satisfaction and writes the report (R2.1, R2.7)."""
    if not user.is_authenticated or not user.is_active:
        return False
    department = supply_sales()
    return (
        user.is_superuser
        or user.has_role(*drafter_roles())
        or (department is not None and department.pk in user.department_ids)
    )


def can_decide(user: User) -> bool:
    """The general manager decides the improvement measures (R2.7)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*decider_roles())


def can_read_reports(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.sees_all_cases or can_draft(user) or can_decide(user)


def can_read_report(user: User, report: SurveyReport) -> bool:
    return can_read_reports(user) or report.actions.filter(owner=user).exists()


def can_complete_action(user: User, action: ImprovementAction) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        user.is_superuser
        or action.owner_id == user.pk
        or action.department_id in user.department_ids
        or can_decide(user)
    )


def can_set_reviews(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.administers


def get_report_for_user(user: User, pk: int) -> SurveyReport:
    """The report, or 404 when it does not exist or the person may not read it."""
    from qloop.reports.models import SurveyReport

    report = SurveyReport.objects.select_related("drafted_by").filter(pk=pk).first()
    if report is None or not can_read_report(user, report):
        raise Http404
    return report


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied
