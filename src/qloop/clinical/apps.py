"""The clinical profile (document 5): it plugs into the core's registries; the core never
imports it (DESIGN "How a profile plugs in")."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicalConfig(AppConfig):
    name = "qloop.clinical"
    label = "clinical"
    verbose_name = _("Laboratory and radiology")
    default_auto_field = "django.db.models.BigAutoField"
    # Included by the site's URL configuration (qloop.urls) for every app that names them.
    urls = "qloop.clinical.urls"

    def ready(self) -> None:
        from qloop.cases.kinds import KindSpec, register_kind
        from qloop.clinical import access as clinical_access
        from qloop.clinical import actions, casework, presentation
        from qloop.clinical.processes import PROCESSES
        from qloop.org.models import Profile
        from qloop.process.audience import register_audience
        from qloop.process.definitions import register_process
        from qloop.process.effects import register_effects

        clinical = Profile.CLINICAL
        register_kind(
            KindSpec(
                "finding",
                _("Finding fed back to the clinician"),
                "FN",
                clinical,
                _("Finding register"),
                has_contact=False,
                detail_relation="finding",
                clean_detail=actions.clean_finding_detail,
                create_detail=actions.create_finding,
                department_for=actions.finding_department,
                detail_out=presentation.finding_out,
                search_parts=lambda case: [
                    case.finding.entry.number,
                    case.finding.test_name,
                    case.finding.sent_result,
                ],
                case_template="clinical/_finding.html",
                # Recurring problems: findings of the same test (issue 13).
                group_by=lambda case: (
                    case.finding.test_name.strip(),
                    f"{case.finding.reason} {case.finding.sent_result}",
                ),
                group_related=("finding",),
                visibility=clinical_access.finding_visibility,
                personal_data=clinical_access.finding_personal_data,
            )
        )
        register_kind(
            KindSpec(
                "disease_report",
                _("Infectious-disease report card"),
                "IDR",
                clinical,
                _("Infectious-disease report register"),
                has_contact=False,
                detail_relation="disease_report",
                clean_detail=actions.clean_report_detail,
                create_detail=actions.create_disease_report,
                department_for=actions.report_department,
                detail_out=presentation.disease_report_out,
                search_parts=lambda case: [case.disease_report.disease.name],
                case_template="clinical/_disease_report.html",
                visibility=clinical_access.disease_report_visibility,
                personal_data=clinical_access.disease_report_personal_data,
            )
        )
        register_kind(
            KindSpec(
                "patient_opinion",
                _("Patient opinion"),
                "PO",
                clinical,
                _("Patient opinion register"),
                has_contact=False,
                # The patient may follow it on the public status page (issue 12.22).
                status_phone=lambda case: case.patient_opinion.phone,
                detail_relation="patient_opinion",
                clean_detail=casework.clean_opinion,
                create_detail=casework.create_opinion,
                department_for=casework.register_department,
                title_from=casework.opinion_title,
                detail_out=presentation.opinion_out,
                search_parts=lambda case: [case.patient_opinion.content],
                case_template="clinical/_opinion.html",
                registration_url="clinical-opinion-create",
                new_label=_("New patient opinion"),
                visibility=clinical_access.department_visibility,
                personal_data=clinical_access.department_personal_data,
            )
        )
        register_kind(
            KindSpec(
                "special_request",
                _("Special test request"),
                "STR",
                clinical,
                _("Special test request register"),
                has_contact=False,
                detail_relation="special_request",
                clean_detail=casework.clean_special_request,
                create_detail=casework.create_special_request,
                department_for=casework.register_department,
                title_from=lambda d: str(d["test_or_study"]),
                detail_out=presentation.special_request_out,
                search_parts=lambda case: [case.special_request.test_or_study],
                case_template="clinical/_special_request.html",
                registration_url="clinical-request-create",
                new_label=_("New special test request"),
                visibility=clinical_access.department_visibility,
                personal_data=clinical_access.department_personal_data,
            )
        )
        register_kind(
            KindSpec(
                "clinician_issue",
                _("Clinician's issue from a feedback form"),
                "CFI",
                clinical,
                _("Clinicians' issue register"),
                has_contact=False,
                detail_relation="clinician_issue",
                clean_detail=casework.clean_issue,
                create_detail=casework.create_issue,
                department_for=casework.register_department,
                title_from=lambda d: str(d["said"])[:60],
                detail_out=presentation.issue_out,
                search_parts=lambda case: [case.clinician_issue.said],
                case_template="clinical/_issue.html",
                visibility=clinical_access.department_visibility,
                personal_data=clinical_access.department_personal_data,
            )
        )
        for process in PROCESSES:
            register_process(process)
        register_effects([*actions.FINDING_EFFECTS, *casework.CASEWORK_EFFECTS])
        register_audience("clinicians_concerned", _clinicians_concerned)
        register_audience("ordering_department_head", _ordering_department_head)

        from qloop.clinical import jobs, notices  # noqa: F401  (periodic jobs, message kinds)
        from qloop.clinical.feedback import register_template

        register_template()
        from qloop.clinical.nav import register_entries
        from qloop.demo.registry import register_demo

        register_entries()
        from qloop.clinical.dashboard import register_cards

        register_cards()
        from qloop.clinical import lookups

        lookups.connect()
        from qloop.clinical.demo import DEMO_PART

        register_demo(DEMO_PART)
        from qloop.api.api import api
        from qloop.clinical.api import router

        if all(r is not router for _prefix, r in api._routers):  # ready() may run twice
            api.add_router("", router)


def _clinicians_concerned(case: Any, memo: Any) -> list[Any]:
    """Whom a finding names (doctor, ward, department), or who asked for a special test."""
    from qloop.clinical.actions import recipients_of
    from qloop.notify.actions import people_in

    finding = getattr(case, "finding", None) if case.kind == "finding" else None
    if finding is not None:
        return recipients_of(finding)
    request = getattr(case, "special_request", None) if case.kind == "special_request" else None
    if request is not None:
        people = people_in([request.requesting_department.code])
        if case.registered_by is not None:
            people.append(case.registered_by)
        return people
    return []


def _ordering_department_head(case: Any, memo: Any) -> list[Any]:
    from qloop.process.audience import department_heads

    finding = getattr(case, "finding", None) if case.kind == "finding" else None
    if finding is None:
        return []
    return department_heads(finding.ordering_department_id, memo)
