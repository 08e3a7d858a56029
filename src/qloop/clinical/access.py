"""Who sees the clinical profile's cases and the patients in them (DESIGN: patients' data only
for those who need them).

A finding is seen by the department that reported it, the clinical department that ordered
the test, the medical affairs office (it supervises critical-value reporting) and, for
infectious findings, infection control. The patient's name and record number are shown in full
only to the reporting department, the clinicians the finding names (the ordering doctor, else
the ward or department standing in, and that department's head) and infection control.
Manufacturer roles that see all cases see none of these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q

from qloop.clinical.processes import (
    DEPARTMENT_STAFF,
    INFECTION_CONTROL,
    MEDICAL_AFFAIRS,
)

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.clinical.models import Finding
    from qloop.org.models import User


def _ward_staff(user: User) -> Exists:
    from qloop.clinical.models import Ward

    return Exists(
        Ward.staff.through.objects.filter(
            ward_id=OuterRef("finding__recipient_ward_id"), user_id=user.pk
        )
    )


def finding_visibility(user: User) -> Q:
    depts = sorted(user.department_ids)
    rule: Q = (
        Q(department_id__in=depts)
        | Q(finding__ordering_department_id__in=depts)
        | Q(finding__recipient_user_id=user.pk)
        | Q(_ward_staff(user))
    )
    if user.has_role(*MEDICAL_AFFAIRS):
        return Q()
    if user.has_role(*INFECTION_CONTROL):
        rule |= Q(finding__kind="infectious")
    return rule


def names_clinician(user: User, finding: Finding) -> bool:
    """Whether the finding names this person to be told: the ordering doctor; when no doctor is
    named, the ward's staff or the ordering department (standing in); and that department's
    head."""
    if finding.recipient_user_id is not None:
        if finding.recipient_user_id == user.pk:
            return True
    elif (
        finding.recipient_ward is not None
        and finding.recipient_ward.staff.filter(pk=user.pk).exists()
    ) or finding.ordering_department_id in user.department_ids:
        return True
    return finding.ordering_department_id in user.department_ids and user.manages_cases


def finding_personal_data(user: User, case: Case) -> bool:
    finding = getattr(case, "finding", None)
    if finding is None or not user.is_authenticated:
        return False
    if case.department_id in user.department_ids and user.has_role(*DEPARTMENT_STAFF):
        return True
    if finding.kind == "infectious" and user.has_role(*INFECTION_CONTROL):
        return True
    return names_clinician(user, finding)


def disease_report_visibility(user: User) -> Q:
    if user.has_role(*INFECTION_CONTROL) or user.has_role(*MEDICAL_AFFAIRS):
        return Q()
    depts = sorted(user.department_ids)
    # The reporting department and the laboratory that found it follow their cards.
    from qloop.clinical.models import Finding

    found_here = Finding.objects.filter(
        disease_report_id=OuterRef("pk"), register__department_id__in=depts
    )
    return Q(disease_report__reporting_department_id__in=depts) | Q(Exists(found_here))


def disease_report_personal_data(user: User, case: Case) -> bool:
    if not user.is_authenticated:
        return False
    if user.has_role(*INFECTION_CONTROL):
        return True
    report = getattr(case, "disease_report", None)
    return report is not None and report.reporting_department_id in user.department_ids


def department_visibility(user: User) -> Q:
    """Patient opinions, special requests and clinicians' issues: the department they are
    about, the person who registered them and the clinical department concerned."""
    depts = sorted(user.department_ids)
    rule = Q(department_id__in=depts) | Q(registered_by_id=user.pk) | Q(handler_id=user.pk)
    rule |= Q(special_request__requesting_department_id__in=depts)
    rule |= Q(clinician_issue__clinical_department_id__in=depts)
    if user.has_role(*MEDICAL_AFFAIRS):
        return Q()
    return rule


def department_personal_data(user: User, case: Case) -> bool:
    if not user.is_authenticated:
        return False
    return (
        case.department_id in user.department_ids
        or case.handler_id == user.pk
        or case.registered_by_id == user.pk
    )


def mask_name(name: str) -> str:
    """张三丰 → 张**: enough to tell cases apart, not to name the patient."""
    return f"{name[:1]}{'*' * max(1, len(name) - 1)}" if name else ""


def mask_id(value: str) -> str:
    return f"{'*' * max(0, len(value) - 3)}{value[-3:]}" if len(value) > 3 else "***"
