"""Who may run surveys and who may read their results (R2.6, R2.7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from qloop.org.models import Department
from qloop.process.definitions import process_for
from qloop.surveys.models import Campaign, Questionnaire

if TYPE_CHECKING:
    from qloop.org.models import User


def survey_department() -> Department | None:
    """Supply and Sales runs the surveys (R2.1, R2.7): the department that takes in customer
    feedback, whatever its code or name."""
    return Department.intake_for("feedback")


def result_roles() -> frozenset[str]:
    """Results go to the superior of the feedback process, the General Manager (R2.6, R2.7)."""
    return process_for("feedback").role_set("gm")


def can_manage_surveys(user: User) -> bool:
    """Build questionnaires, run campaigns, type in paper answers: Supply and Sales, admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.administers:
        return True
    department = survey_department()
    return department is not None and department.pk in user.department_ids


def can_see_results(user: User) -> bool:
    return can_manage_surveys(user) or (user.is_authenticated and user.has_role(*result_roles()))


def check_manager(user: User) -> None:
    if not can_manage_surveys(user):
        raise PermissionDenied


def get_questionnaire_for_user(user: User, questionnaire_id: int) -> Questionnaire:
    check_manager(user)
    found = Questionnaire.objects.filter(pk=questionnaire_id).first()
    if found is None:
        raise Http404
    return found


def get_campaign_for_user(user: User, campaign_id: int, *, manage: bool = False) -> Campaign:
    """The campaign if ``user`` may read its results (403 otherwise), or run it with
    ``manage``."""
    if not (can_manage_surveys(user) if manage else can_see_results(user)):
        raise PermissionDenied
    found = Campaign.objects.select_related("questionnaire").filter(pk=campaign_id).first()
    if found is None:
        raise Http404
    return found
