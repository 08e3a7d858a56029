"""Every write of the clinical profile goes through these functions (house style).

Results come into a department register from the form, a spreadsheet or a hospital system;
a reported result changes only by a new version with a reason; a result that a rule or the
sender's flag marks opens a finding case that names who must be told and runs the
``clinician_ack`` clock; an infectious finding also opens (or joins) a report card for
infection control.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case, Event
from qloop.cases.search import normalise
from qloop.clinical import lookups
from qloop.clinical.models import (
    ENTRY_FIELDS,
    AbnormalFlag,
    AckMethod,
    CallAttempt,
    CallOutcome,
    ClinicalRegister,
    DiseaseReport,
    EntrySource,
    Finding,
    FindingKind,
    HL7Message,
    NotifiableDisease,
    ReportingRule,
    ResultEntry,
    ResultVersion,
    Sex,
)
from qloop.clinical.processes import CLINICIAN_ACK, DEPARTMENT_STAFF, DISEASE_REPORT
from qloop.clinical.rules import Match, as_number, matches
from qloop.inserts import send_many
from qloop.notify.actions import notify, people_in
from qloop.org import trail
from qloop.org.models import Department, User
from qloop.org.models import Sequence as NumberSequence
from qloop.process import clocks
from qloop.process.clocks import definition_for
from qloop.together import sent_together

if TYPE_CHECKING:
    from qloop.clinical.models import FindingRule

MAX_TEXT = 2000


@dataclass
class ResultData:
    """One result as a person, a spreadsheet or a hospital system gives it (R5.1)."""

    patient_name: str
    patient_id: str
    test_name: str
    result_value: str
    test_code: str = ""
    ordering_department: str = ""  # department code
    ordering_doctor_name: str = ""
    ordering_doctor: str = ""  # user name, when the doctor has one
    sex: str = Sex.UNKNOWN
    age_years: Decimal | None = None
    ward: str = ""  # ward code
    bed: str = ""
    specimen: str = ""
    unit: str = ""
    reference_range: str = ""
    abnormal_flag: str = ""
    repeat_result: str = ""
    accession: str = ""
    collected_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def can_write_register(user: User | None, register: ClinicalRegister) -> bool:
    """The register's own department's staff (and administrators) write it."""
    if user is None:
        return False
    if user.is_superuser or user.administers:
        return True
    return register.department_id in user.department_ids and user.has_role(*DEPARTMENT_STAFF)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def clean_result(data: ResultData, register: ClinicalRegister) -> dict[str, Any]:
    """Check one result; errors keyed by field, in the person's language; nothing written."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in ("patient_name", "patient_id", "test_name", "result_value"):
        value = str(getattr(data, name) or "").strip()
        if not value:
            errors[name] = [_("This field is required.")]
        values[name] = value
    for name in (
        "ordering_doctor_name",
        "bed",
        "specimen",
        "unit",
        "reference_range",
        "repeat_result",
        "accession",
    ):
        values[name] = str(getattr(data, name) or "").strip()
    values["test_code"] = (data.test_code or "").strip() or values["test_name"]
    for name, limit in (
        ("patient_name", 60),
        ("patient_id", 40),
        ("test_name", 200),
        ("result_value", MAX_TEXT),
        ("test_code", 64),
        ("ordering_doctor_name", 60),
        ("bed", 20),
        ("specimen", 100),
        ("unit", 40),
        ("reference_range", 100),
        ("repeat_result", 200),
        ("accession", 64),
    ):
        if len(values[name]) > limit:
            errors[name] = [_("At most %(n)s characters.") % {"n": limit}]
    values["sex"] = data.sex or Sex.UNKNOWN
    if values["sex"] not in Sex.values:
        errors["sex"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Sex.values)}]
    flag = (data.abnormal_flag or "").strip().upper()
    if flag and flag not in AbnormalFlag.values:
        errors["abnormal_flag"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(AbnormalFlag.values)}
        ]
    values["abnormal_flag"] = "" if flag == "N" else flag
    age = data.age_years
    if age is not None:
        try:
            age = Decimal(str(age))
        except (InvalidOperation, ValueError):
            age = None
            errors["age_years"] = [_("Enter the age as a number of years.")]
        else:
            if not Decimal(0) <= age < Decimal(150):
                errors["age_years"] = [_("Enter an age from 0 to 149 years.")]
    values["age_years"] = age
    values["ordering_department"] = None
    if data.ordering_department:
        dept = lookups.department(data.ordering_department)
        if dept is None:
            errors["ordering_department"] = [_("There is no such department.")]
        values["ordering_department"] = dept
    values["ward"] = None
    if data.ward:
        ward = lookups.ward(data.ward)
        if ward is None:
            errors["ward"] = [_("There is no such ward.")]
        elif values["ordering_department"] is None:
            values["ordering_department"] = ward.department
        values["ward"] = ward
    values["ordering_doctor"] = None
    if data.ordering_doctor:
        values["ordering_doctor"] = lookups.user(data.ordering_doctor)
    now = timezone.now()
    for name in ("collected_at", "received_at", "reported_at"):
        moment = _aware(getattr(data, name))
        if moment is not None and moment > now + dt.timedelta(minutes=5):
            errors[name] = [_("This time cannot be in the future.")]
        values[name] = moment
    values["reported_at"] = values["reported_at"] or now
    collected, reported = values["collected_at"], values["reported_at"]
    if collected is not None and collected > reported:
        errors["collected_at"] = [_("The specimen cannot be collected after the report.")]
    if errors:
        raise ValidationError(errors)
    values["result_numeric"] = as_number(values["result_value"])
    return values


def _next_number(register: ClinicalRegister, when: dt.datetime) -> str:
    year = timezone.localtime(when).year
    value = NumberSequence.next_value(f"{register.prefix}-{year}")
    return f"{register.prefix}-{year}-{value:06d}"


def register_result(
    data: ResultData,
    *,
    register: ClinicalRegister,
    actor: User | None,
    source: str = EntrySource.FORM,
    message: HL7Message | None = None,
    by_system: bool = False,
) -> tuple[ResultEntry, list[Case]]:
    """Enter a result in the register (R5.1); open the findings it is (R5.5).

    A hospital system (``by_system``: HL7 v2, FHIR; its caller checked the sender) writes as
    the system; a person must belong to the register's department. Returns the entry and the
    finding cases opened.
    """
    if not (by_system or message is not None) and not can_write_register(actor, register):
        raise PermissionDenied
    values = clean_result(data, register)
    with transaction.atomic():
        entry = ResultEntry(
            register=register,
            number=_next_number(register, values["reported_at"]),
            reported_by=actor,
            source=source,
            message=message,
            **values,
        )
        entry.save()
        ResultVersion.objects.create(
            entry=entry,
            version=1,
            values=entry.values(),
            changed_by=actor,
            changed_at=entry.reported_at,
            source=source,
        )
        opened = open_findings(entry, actor=actor)
    return entry, opened


def prepare_result(
    data: ResultData, *, register: ClinicalRegister, source: str
) -> tuple[ResultEntry, list[Match]]:
    """A system's result checked and built, not saved, with the findings it would open: the
    HL7 listener stores the results that open none in bulk (``register_plain_results``) and
    sends the others through ``register_result``."""
    values = clean_result(data, register)
    entry = ResultEntry(register=register, reported_by=None, source=source, **values)
    return entry, matches(entry, lookups.rules(register.pk))


def send_result_numbers(entries: list[ResultEntry]) -> Callable[[], None]:
    """The register numbers of results stored in bulk, a block at a time per register and
    year, in two halves: the sequences' updates are sent now, the function returned gives the
    entries their numbers (see ``qloop.together``)."""
    wanted: dict[str, list[ResultEntry]] = {}
    for entry in entries:
        year = timezone.localtime(entry.reported_at).year
        wanted.setdefault(f"{entry.register.prefix}-{year}", []).append(entry)
    sent = [
        (key, group, NumberSequence.send_next_values(key, len(group)))
        for key, group in wanted.items()
    ]

    def number() -> None:
        for key, group, values in sent:
            for entry, value in zip(group, values(), strict=True):
                entry.number = f"{key}-{value:06d}"

    return number


def register_plain_results(
    entries: list[ResultEntry], *, numbered: bool = False
) -> list[ResultEntry]:
    """Store results from a hospital system that open no finding (``prepare_result`` said so)
    in a few statements: numbers taken a block at a time, the entries and their first
    versions inserted in bulk, the versions chained in the trail as one by one. The caller
    holds the transaction (the listener's batch); what ``register_result`` would write for
    each is written here, nothing more and nothing less. ``numbered``: the caller gave them
    their numbers (``send_result_numbers``).

    On PostgreSQL the statements that need no answer of each other go together
    (``qloop.together``): the entries' insert with the trail head's lock, the head's update
    with the versions' insert; in the same order as one by one."""
    if not entries:
        return entries
    with transaction.atomic(savepoint=False):  # the listener's batch holds a savepoint
        if not numbered:
            send_result_numbers(entries)()
        with sent_together():
            entries_stored = send_many(entries)
            head = trail.send_head(ResultVersion)
        entries_stored()
        versions = [
            ResultVersion(
                entry=entry,
                version=1,
                values=entry.values(),
                changed_by=None,
                changed_at=entry.reported_at,
                source=entry.source,
            )
            for entry in entries
        ]
        # The trail's bulk append for rows that refer only to rows of this transaction (the
        # entries just inserted), after the head locked above.
        locked = head()
        with sent_together():
            versions_stored = trail.send_append(ResultVersion, versions, locked)
        versions_stored()
    return entries


def correct_result(
    entry: ResultEntry,
    data: ResultData,
    *,
    reason: str,
    actor: User | None,
    source: str = EntrySource.FORM,
    message: HL7Message | None = None,
    by_system: bool = False,
) -> tuple[ResultEntry, list[Case]]:
    """A reported result changes only by a new version with a reason; the old values stay
    (R5.1). A corrected result that is now a finding opens one."""
    if not (by_system or message is not None) and not can_write_register(actor, entry.register):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the correction.")]})
    values = clean_result(data, entry.register)
    with transaction.atomic():
        entry = ResultEntry.objects.select_for_update().get(pk=entry.pk)
        before = entry.values()
        for name, value in values.items():
            setattr(entry, name, value)
        if entry.values() == before:
            return entry, []
        entry.version += 1
        entry.source = source
        if message is not None:
            entry.message = message
        entry.save()
        ResultVersion.objects.create(
            entry=entry,
            version=entry.version,
            values=entry.values(),
            reason=reason.strip()[:MAX_TEXT],
            changed_by=actor,
            source=source,
        )
        for finding in entry.findings.select_related("case"):
            Event.objects.create(
                case=finding.case,
                actor=actor,
                verb="result_corrected",
                comment=reason.strip(),
                data={"entry": entry.number, "version": entry.version},
            )
        opened = open_findings(entry, actor=actor)
    return entry, opened


# --- findings ------------------------------------------------------------------------------


def _limit_minutes(register: ClinicalRegister, rule: FindingRule | None) -> int:
    """The clinician's time: the rule's, else the register's (its department's), else the
    clock definition's (15 minutes unless an administrator changed it)."""
    if rule is not None and rule.ack_minutes:
        return rule.ack_minutes
    if register.ack_minutes:
        return register.ack_minutes
    definition = definition_for("finding", CLINICIAN_ACK)
    amount = definition.amount or 15
    factor = {"minutes": 1, "hours": 60, "days": 1440}.get(definition.unit, 1)
    return int(amount * factor)


def open_findings(entry: ResultEntry, *, actor: User | None) -> list[Case]:
    """A finding case for each reason the result is one, unless one of that kind is already
    open for this entry (a correction does not tell the clinician twice)."""
    opened = []
    for match in matches(entry, lookups.rules(entry.register_id)):
        already = entry.findings.filter(kind=match.kind).exclude(case__state="closed").exists()
        if already:
            continue
        opened.append(_open_finding(entry, match, actor))
    return opened


def _open_finding(entry: ResultEntry, match: Match, actor: User | None) -> Case:
    label = FindingKind(match.kind).label
    with translation.override("zh-hans"):
        title = f"{label}: {entry.test_name} {entry.result_text}"[:200]
    reg = Registration(
        kind="finding",
        channel="api" if entry.source in {EntrySource.HL7, EntrySource.FHIR} else "web",
        contact=ContactData(name=""),
        symptom="",
        title=title,
        severity="critical" if match.kind == FindingKind.CRITICAL else "major",
        received_at=entry.reported_at,
        detail={"_entry": entry, "_match": match},
    )
    case = register_case(reg, actor=actor)
    finding = case.finding
    recipients = recipients_of(finding)
    notify(
        recipients,
        kind="finding_opened",
        case=case,
        data={"test": entry.test_name, "result": entry.result_text, "finding": match.kind},
        urgent=True,
    )
    if match.kind == FindingKind.INFECTIOUS and match.rule is not None and match.rule.disease:
        _report_disease(finding, match.rule.disease, actor)
    return case


def clean_finding_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """Findings are opened by the register's rules, never registered by hand (API, forms)."""
    if not isinstance(detail.get("_entry"), ResultEntry) or not isinstance(
        detail.get("_match"), Match
    ):
        raise ValidationError(
            _("Findings are opened by the register's rules from a result, not by hand.")
        )
    return detail


def finding_department(detail: dict[str, Any]) -> Department | None:
    entry = detail.get("_entry")
    return entry.register.department if isinstance(entry, ResultEntry) else None


def create_finding(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    """The finding's record, whom it names, and its ``clinician_ack`` clock (R5.5)."""
    entry: ResultEntry = detail["_entry"]
    match: Match = detail["_match"]
    minutes = _limit_minutes(entry.register, match.rule)
    doctor = entry.ordering_doctor
    finding = Finding.objects.create(
        case=case,
        entry=entry,
        entry_version=entry.version,
        kind=match.kind,
        rule=match.rule,
        reason=match.reason[:200],
        register=entry.register,
        test_code=entry.test_code,
        test_name=entry.test_name,
        sent_result=entry.result_text[:300],
        ordering_department=entry.ordering_department,
        recipient_user=doctor,
        recipient_ward=entry.ward if doctor is None else None,
        reported_at=entry.reported_at,
        limit_minutes=minutes,
        disease=match.rule.disease if match.rule is not None else None,
    )
    if entry.reported_by is not None and entry.reported_by.is_active:
        case.handler = entry.reported_by
        Case.objects.filter(pk=case.pk).update(handler=entry.reported_by)
    clocks.start_clock(
        case,
        CLINICIAN_ACK,
        started_at=entry.reported_at,
        due_at=entry.reported_at + dt.timedelta(minutes=minutes),
    )
    case.finding = finding


def recipients_of(finding: Finding) -> list[User]:
    """Who must be told: the ordering doctor, else the ward's staff, else the ordering
    department."""
    if finding.recipient_user is not None:
        return [finding.recipient_user]
    if finding.recipient_ward is not None:
        staff = list(finding.recipient_ward.staff.filter(is_active=True))
        if staff:
            return staff
    if finding.ordering_department is not None:
        return people_in([finding.ordering_department.code])
    return []


def _matches(given: str, expected: str) -> bool:
    return bool(given.strip()) and normalise(given) == normalise(expected)


def _result_matches(given: str, entry: ResultEntry) -> bool:
    """The result read back: the same number (units may be said or not), or the same words."""
    if not given.strip():
        return False
    if entry.result_numeric is not None:
        number = as_number(given.split()[0]) if given.split() else None
        return number is not None and number == entry.result_numeric
    return normalise(entry.result_value) in normalise(given)


def record_call_attempt(case: Case, cleaned: dict[str, Any], actor: User, now: dt.datetime) -> None:
    """Keep the call; a "confirmed" outcome stands only when both patient identifiers and the
    result read back match what was sent (R5.1: the read-back is the proof)."""
    finding = Finding.objects.select_related("entry").get(pk=case.pk)
    entry = finding.entry
    name_ok = _matches(cleaned.get("readback_name") or "", entry.patient_name)
    id_ok = _matches(cleaned.get("readback_patient_id") or "", entry.patient_id)
    result_ok = _result_matches(cleaned.get("readback_result") or "", entry)
    given = cleaned["outcome"]
    outcome = given
    if given == CallOutcome.CONFIRMED and not (name_ok and id_ok and result_ok):
        outcome = CallOutcome.NO_READBACK
    cleaned["outcome"] = outcome
    CallAttempt.objects.create(
        finding=finding,
        at=now,
        caller=actor,
        receiver_name=(cleaned.get("receiver_name") or "")[:60],
        receiver_role=cleaned.get("receiver_role") or "",
        readback_name=(cleaned.get("readback_name") or "")[:60],
        readback_patient_id=(cleaned.get("readback_patient_id") or "")[:40],
        readback_result=(cleaned.get("readback_result") or "")[:200],
        name_matches=name_ok,
        patient_id_matches=id_ok,
        result_matches=result_ok,
        outcome_given=given,
        outcome=outcome,
        note=cleaned.get("note") or "",
    )
    if outcome == CallOutcome.CONFIRMED:
        who = cleaned.get("receiver_name") or ""
        _acknowledged(finding, now, who, AckMethod.READBACK)
        clocks.stop_clock(case, CLINICIAN_ACK, now=now)


def _acknowledged(finding: Finding, now: dt.datetime, who: str, method: str) -> None:
    finding.acknowledged_at = now
    finding.acknowledged_by = who[:100]
    finding.ack_method = method
    finding.ack_seconds = max(0, int((now - finding.reported_at).total_seconds()))
    finding.save(update_fields=["acknowledged_at", "acknowledged_by", "ack_method", "ack_seconds"])


def acknowledge_finding(case: Case, cleaned: dict[str, Any], actor: User, now: dt.datetime) -> None:
    """The clinician's signature, meaning "received": only those the finding names."""
    from qloop.clinical.access import names_clinician

    finding = Finding.objects.select_related("recipient_ward").get(pk=case.pk)
    if not (actor.is_superuser or names_clinician(actor, finding)):
        raise PermissionDenied
    _acknowledged(finding, now, actor.printed_name, AckMethod.SIGNATURE)


def record_clinical_action(
    case: Case, cleaned: dict[str, Any], actor: User, now: dt.datetime
) -> None:
    Finding.objects.filter(pk=case.pk).update(clinical_action=cleaned["action"])


# --- infectious-disease report cards -------------------------------------------------------


def _report_disease(finding: Finding, disease: NotifiableDisease, actor: User | None) -> None:
    """A notifiable disease goes to infection control with the report card filled in from the
    register; a repeat positive for the same patient within the disease's window joins the
    earlier card (R5.5)."""
    entry = finding.entry
    since = entry.reported_at - dt.timedelta(days=disease.repeat_days)
    earlier = (
        DiseaseReport.objects.filter(
            disease=disease, patient_id=entry.patient_id, diagnosed_at__gte=since
        )
        .select_related("case")
        .order_by("-diagnosed_at")
        .first()
    )
    if earlier is not None:
        Finding.objects.filter(pk=finding.pk).update(disease_report=earlier.case)
        finding.disease_report = earlier.case
        Event.objects.create(
            case=earlier.case,
            actor=actor,
            verb="repeat_positive",
            data={"finding": finding.case.number, "entry": entry.number},
        )
        return
    with translation.override("zh-hans"):
        title = _("Report card: %(disease)s") % {"disease": disease.name}
    reg = Registration(
        kind="disease_report",
        channel="web",
        contact=ContactData(name=""),
        symptom="",
        title=title,
        severity="critical",
        received_at=entry.reported_at,
        detail={"_finding": finding, "_disease": disease},
    )
    case = register_case(reg, actor=actor)
    Finding.objects.filter(pk=finding.pk).update(disease_report=case)
    finding.disease_report = case
    from qloop.clinical.processes import INFECTION_CONTROL

    notify(
        people_with_roles(INFECTION_CONTROL),
        kind="disease_report_opened",
        case=case,
        data={"disease": disease.name},
        urgent=True,
    )


def people_with_roles(roles: frozenset[str]) -> list[User]:
    from qloop.notify.actions import people_with_role

    return people_with_role(*sorted(roles))


def clean_report_detail(detail: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(detail.get("_finding"), Finding):
        raise ValidationError(
            _("Report cards are opened from an infectious-disease finding, not by hand.")
        )
    return detail


def report_department(detail: dict[str, Any]) -> Department | None:
    from qloop.clinical.processes import INFECTION_CONTROL

    return (
        Department.objects.filter(
            memberships__role__code__in=sorted(INFECTION_CONTROL), is_active=True
        )
        .order_by("code")
        .first()
    )


def create_disease_report(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    """The card, pre-filled from the register, and its clock from the rule in force."""
    finding: Finding = detail["_finding"]
    disease: NotifiableDisease = detail["_disease"]
    entry = finding.entry
    rule = ReportingRule.in_force(disease.disease_class, timezone.localdate(entry.reported_at))
    DiseaseReport.objects.create(
        case=case,
        disease=disease,
        rule=rule,
        entry=entry,
        patient_name=entry.patient_name,
        patient_id=entry.patient_id,
        sex=entry.sex,
        age_years=entry.age_years,
        diagnosed_at=entry.reported_at,
        lab_result=f"{entry.test_name}: {entry.result_text}"[:300],
        reporting_department=entry.ordering_department,
        reporting_doctor=entry.ordering_doctor_name,
    )
    hours = rule.hours if rule is not None else 24
    clocks.start_clock(
        case,
        DISEASE_REPORT,
        started_at=entry.reported_at,
        due_at=entry.reported_at + dt.timedelta(hours=hours),
    )


def record_disease_report(
    case: Case, cleaned: dict[str, Any], actor: User, now: dt.datetime
) -> None:
    DiseaseReport.objects.filter(pk=case.pk).update(
        network_report_id=cleaned["network_report_id"][:60],
        classification=cleaned["classification"],
        network_reported_at=now,
    )


CARD_FIELDS = (
    "parent_name",
    "id_number",
    "birth_date",
    "work_unit",
    "phone",
    "address",
    "occupation",
    "classification",
    "onset_date",
    "death_date",
    "reporting_doctor",
    "remarks",
)


def update_report_card(
    report: DiseaseReport, values: dict[str, Any], *, actor: User
) -> DiseaseReport:
    """Infection control completes the card's fields the register cannot know."""
    from qloop.clinical.processes import INFECTION_CONTROL

    if not (actor.is_superuser or actor.has_role(*INFECTION_CONTROL)):
        raise PermissionDenied
    with transaction.atomic():
        report = DiseaseReport.objects.select_for_update().get(pk=report.pk)
        changes = []
        for name in CARD_FIELDS:
            if name not in values:
                continue
            old, new = getattr(report, name), values[name]
            if old != new:
                setattr(report, name, new)
                changes.append(
                    {
                        "field": name,
                        "label": str(
                            getattr(DiseaseReport._meta.get_field(name), "verbose_name", name)
                        ),
                        "old": "" if old is None else str(old),
                        "new": "" if new is None else str(new),
                    }
                )
        if changes:
            report.full_clean(exclude=["case", "disease", "rule", "entry"])
            report.save()
            Event.objects.create(case=report.case, actor=actor, verb="changed", changes=changes)
    return report


FINDING_EFFECTS = [
    acknowledge_finding,
    record_call_attempt,
    record_clinical_action,
    record_disease_report,
]


def entry_fields() -> tuple[str, ...]:
    return ENTRY_FIELDS
