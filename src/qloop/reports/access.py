"""Who may do what with survey summary reports and management reviews (R2.7).

Supply and Sales drafts the report, the general manager decides on it; the people who sees all
cases read the reports; the owner of an improvement action sees it and records its result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from qloop.org.models import Department

if TYPE_CHECKING:
    from qloop.org.models import User
    from qloop.reports.models import ImprovementAction, SurveyReport

SUPPLY_SALES_DEPARTMENT = "SALES"
SUPPLY_SALES_ROLES = frozenset({"supply_sales", "sales_head"})
GENERAL_MANAGER = frozenset({"general_manager"})
QUALITY_HEAD = frozenset({"quality_head"})


def in_department(user: User, code: str) -> bool:
    dept_id = Department.objects.filter(code=code).values_list("pk", flat=True).first()
    return dept_id is not None and dept_id in user.department_ids


def can_draft(user: User) -> bool:
    """Supply and Sales collects and analyses satisfaction and writes the report (R2.1, R2.7)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        user.is_superuser
        or user.has_role(*SUPPLY_SALES_ROLES)
        or in_department(user, SUPPLY_SALES_DEPARTMENT)
    )


def can_decide(user: User) -> bool:
    """The general manager decides the improvement measures (R2.7)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*GENERAL_MANAGER)


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
