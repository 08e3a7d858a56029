"""The pharmacy profile (documents 3 and 4): it plugs into the core's registries; the core
never imports it (DESIGN "How a profile plugs in")."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacyConfig(AppConfig):
    name = "qloop.pharmacy"
    label = "pharmacy"
    verbose_name = _("Pharmacy")
    default_auto_field = "django.db.models.BigAutoField"
    urls = "qloop.pharmacy.urls"

    def ready(self) -> None:
        from qloop.cases.kinds import KindSpec, register_kind
        from qloop.org.models import Profile
        from qloop.pharmacy import access, actions, presentation
        from qloop.pharmacy.processes import PROCESSES
        from qloop.process.definitions import register_process
        from qloop.process.effects import register_effects

        pharmacy = Profile.PHARMACY
        register_kind(
            KindSpec(
                "drug_feedback",
                _("Drug quality feedback"),
                "DQ",
                pharmacy,
                _("Drug quality feedback register"),
                has_contact=False,
                detail_relation="drug_feedback",
                may_register=access.in_pharmacy,
                clean_detail=actions.clean_drug_feedback,
                create_detail=actions.create_drug_feedback,
                detail_out=presentation.drug_feedback_out,
                title_from=actions.drug_feedback_title,
                search_parts=lambda case: [
                    str(case.drug_feedback.drug or case.drug_feedback.drug_text),
                    case.drug_feedback.batch.batch_number
                    if case.drug_feedback.batch
                    else case.drug_feedback.batch_text,
                    case.drug_feedback.description,
                    case.drug_feedback.problem,
                    str(case.drug_feedback.get_problem_display()),
                ],
                case_template="pharmacy/_drug_feedback.html",
                registration_url="pharmacy-feedback-create",
                new_label=_("New drug quality feedback"),
                # Recurring problems: the same drug and batch (issue 13).
                group_by=lambda case: (
                    " ".join(
                        p
                        for p in (
                            str(case.drug_feedback.drug or case.drug_feedback.drug_text).strip(),
                            case.drug_feedback.batch.batch_number
                            if case.drug_feedback.batch
                            else case.drug_feedback.batch_text.strip(),
                        )
                        if p
                    ),
                    case.drug_feedback.description,
                ),
                group_related=("drug_feedback__drug", "drug_feedback__batch"),
                visibility=access.pharmacy_visibility,
                personal_data=access.pharmacy_personal_data,
            )
        )
        register_kind(
            KindSpec(
                "counterfeit",
                _("Counterfeit or substandard drug"),
                "JL",
                pharmacy,
                _("Counterfeit and substandard drug register"),
                has_contact=False,
                detail_relation="counterfeit",
                may_register=access.in_pharmacy,
                clean_detail=actions.clean_counterfeit,
                create_detail=actions.create_counterfeit,
                detail_out=presentation.counterfeit_out,
                title_from=actions.counterfeit_title,
                search_parts=lambda case: [
                    str(case.counterfeit.drug),
                    case.counterfeit.batch.batch_number,
                    case.counterfeit.where_found,
                ],
                case_template="pharmacy/_counterfeit.html",
                registration_url="pharmacy-counterfeit-create",
                new_label=_("Open a counterfeit or substandard drug case"),
                group_by=lambda case: (
                    f"{case.counterfeit.drug} {case.counterfeit.batch.batch_number}",
                    case.counterfeit.how_found,
                ),
                group_related=("counterfeit__drug", "counterfeit__batch"),
                visibility=access.pharmacy_visibility,
                personal_data=access.pharmacy_personal_data,
            )
        )
        register_kind(
            KindSpec(
                "adr",
                _("Adverse drug reaction report"),
                "ADR",
                pharmacy,
                _("Adverse drug reaction register"),
                has_contact=False,
                detail_relation="adr",
                may_register=access.may_report_adr,
                clean_detail=actions.clean_adr,
                create_detail=actions.create_adr,
                detail_out=presentation.adr_out,
                title_from=actions.adr_title,
                search_parts=lambda case: [
                    case.adr.reaction,
                    *[f"{d.generic_name} {d.batch_number}" for d in case.adr.drugs.all()],
                ],
                case_template="pharmacy/_adr.html",
                registration_url="pharmacy-adr-create",
                new_label=_("New ADR report"),
                visibility=access.adr_visibility,
                personal_data=access.pharmacy_personal_data,
                on_archive=actions.adr_archived,
            )
        )
        register_kind(
            KindSpec(
                "adr_group",
                _("Group adverse drug event"),
                "ADRG",
                pharmacy,
                _("Group adverse drug event register"),
                has_contact=False,
                detail_relation="adr_group",
                # Opened with a report that completes a group: whoever may report an ADR.
                may_register=access.may_report_adr,
                clean_detail=actions.clean_adr_group,
                create_detail=actions.create_adr_group,
                detail_out=presentation.adr_group_out,
                title_from=actions.adr_group_title,
                search_parts=lambda case: [str(case.adr_group.batch or "")],
                case_template="pharmacy/_adr_group.html",
                visibility=access.group_visibility,
                personal_data=access.pharmacy_personal_data,
            )
        )
        for process in PROCESSES:
            register_process(process)
        register_effects(actions.PHARMACY_EFFECTS)

        from qloop.pharmacy import jobs, notices  # noqa: F401  (periodic jobs, message kinds)
        from qloop.pharmacy.nav import register_entries

        register_entries()
        from qloop.pharmacy.dashboard import register_cards

        register_cards()
        from qloop.pharmacy.summaries import register as register_summaries

        register_summaries()  # the recipient sets of the periodic summaries (R3.2)
        from qloop.demo.registry import register_demo
        from qloop.pharmacy.demo import DEMO_PART

        register_demo(DEMO_PART)
        from qloop.api.api import api
        from qloop.pharmacy.api import router

        if all(r is not router for _prefix, r in api._routers):  # ready() may run twice
            api.add_router("", router)
