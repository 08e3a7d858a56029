"""Every write of the pharmacy profile goes through these functions (house style).

The kinds' details are checked (``clean_*``, errors keyed by field, nothing written) and
created (``create_*``) by the case registration; the steps' effects run inside the step's
transaction. ADR reports get their deadline from the rule in force, and a batch that several
patients react to within a few days opens a group event.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case, Event
from qloop.notify.actions import notify, people_with_role
from qloop.org.models import Department, User
from qloop.pharmacy import counts
from qloop.pharmacy.models import (
    AdrCategory,
    AdrDeadlineRule,
    AdrDrug,
    AdrGroup,
    AdrReport,
    Causality,
    Challenge,
    CounterfeitCase,
    Criterion,
    Drug,
    DrugBatch,
    DrugFeedback,
    DrugRole,
    FeedbackSource,
    Finding,
    Outcome,
    PharmacySettings,
    ProblemType,
    Recipient,
    ReportType,
    Sending,
    SendingChannel,
    Seriousness,
    Sex,
    StockHold,
    UnitType,
)
from qloop.pharmacy.processes import (
    ADR_REPORT,
    CF_REPORT,
    DQ_REGULATOR,
    GROUP_REPORT,
    PHARMACISTS,
)
from qloop.process import clocks

MAX_TEXT = 5000
Errors = dict[str, list[str]]


# --- small checks ---------------------------------------------------------------------------


def _text(
    d: dict[str, Any], name: str, errors: Errors, *, required: bool = False, limit: int = MAX_TEXT
) -> str:
    value = d.pop(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = [_("This value has the wrong type.")]
        return ""
    try:
        inputs.validate_text(value)
    except ValidationError as exc:
        errors[name] = exc.messages
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = [_("This field is required.")]
    elif len(value) > limit:
        errors[name] = [_("At most %(n)s characters.") % {"n": limit}]
    return value


def _choice(d: dict[str, Any], name: str, choices: Any, default: str, errors: Errors) -> str:
    value = d.pop(name, default)
    if value in (None, ""):
        value = default
    if value not in choices.values and not (value == "" and default == ""):
        errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}]
    return str(value)


def _bool(d: dict[str, Any], name: str, errors: Errors) -> bool:
    value = d.pop(name, False)
    if isinstance(value, str):
        value = value.lower() in {"1", "true", "on", "yes"}
    if not isinstance(value, bool):
        errors[name] = [_("This value has the wrong type.")]
        return False
    return value


def _date(d: dict[str, Any], name: str, errors: Errors, *, birth: bool = False) -> dt.date | None:
    value = d.pop(name, None)
    if value in (None, ""):
        return None
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if birth:  # people are older than the system's other dates
            if day.year < 1880:
                raise ValueError
        else:
            inputs.validate_date(day)
    except (ValueError, ValidationError):
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return None
    if day > timezone.localdate():
        errors[name] = [_("This date cannot be in the future.")]
    return day


def _moment(d: dict[str, Any], name: str, errors: Errors) -> dt.datetime | None:
    value = d.pop(name, None)
    if value in (None, ""):
        return None
    try:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        errors[name] = [_("Enter a time as YYYY-MM-DD HH:MM.")]
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + dt.timedelta(minutes=5):
        errors[name] = [_("This time cannot be in the future.")]
    return moment


def _no_unknown(d: dict[str, Any], errors: Errors) -> None:
    for unknown in d:
        errors[str(unknown)] = [_("This kind of case takes no such field.")]


def _drug_and_batch(
    d: dict[str, Any], errors: Errors, *, required: bool, prefix: str = ""
) -> tuple[Drug | None, DrugBatch | None]:
    """The catalogue's drug (by id, or by approval number and manufacturer) and its batch by
    number; a batch number not yet in the catalogue is added under the drug (it is identified
    by manufacturer + approval number + batch number)."""
    drug_id = d.pop("drug_id", None)
    approval = _text(d, "approval_number", errors, limit=40)
    maker = _text(d, "manufacturer", errors, limit=120)
    batch_number = _text(d, "batch_number", errors, limit=40)
    drug = None
    if drug_id not in (None, ""):
        try:
            drug = Drug.objects.filter(pk=int(drug_id), is_active=True).first()
        except (TypeError, ValueError):
            drug = None
        if drug is None:
            errors[f"{prefix}drug_id"] = [_("There is no such drug in the catalogue.")]
    elif approval:
        qs = Drug.objects.filter(approval_number=approval, is_active=True)
        if maker:
            qs = qs.filter(manufacturer=maker)
        found = list(qs[:2])
        if len(found) == 1:
            drug = found[0]
        elif not found:
            errors[f"{prefix}approval_number"] = [
                _("No drug in the catalogue has this approval number and manufacturer.")
            ]
        else:
            errors[f"{prefix}manufacturer"] = [
                _("Several manufacturers hold this approval number: name the manufacturer.")
            ]
    elif required:
        errors[f"{prefix}drug_id"] = [_("Choose the drug from the catalogue.")]
    batch = None
    if drug is not None and batch_number:
        batch = DrugBatch.objects.filter(drug=drug, batch_number=batch_number).first()
        if batch is None:
            batch = DrugBatch(drug=drug, batch_number=batch_number)  # saved when created
    elif required and not batch_number:
        errors[f"{prefix}batch_number"] = [_("Give the batch number.")]
    return drug, batch


def _saved(batch: DrugBatch | None) -> DrugBatch | None:
    if batch is not None and batch.pk is None:
        batch, _created = DrugBatch.objects.get_or_create(
            drug=batch.drug, batch_number=batch.batch_number
        )
    return batch


def is_pharmacy_staff(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.has_role(*PHARMACISTS)


# --- drug quality feedback (R3.1, R3.3, R3.5) ----------------------------------------------


def clean_drug_feedback(detail: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    out: dict[str, Any] = {}
    out["drug"], out["batch"] = _drug_and_batch(detail, errors, required=False)
    out["drug_text"] = _text(detail, "drug_text", errors, limit=200)
    out["batch_text"] = _text(detail, "batch_text", errors, limit=40)
    if out["drug"] is None and not out["drug_text"] and not errors:
        errors["drug_id"] = [_("Name the drug: choose it from the catalogue or write its name.")]
    out["problem"] = _choice(detail, "problem", ProblemType, "", errors)
    if not out["problem"]:
        errors["problem"] = [_("This field is required.")]
    out["description"] = _text(detail, "description", errors, required=True)
    out["source"] = _choice(detail, "source", FeedbackSource, FeedbackSource.PATIENT, errors)
    out["patient_name"] = _text(detail, "patient_name", errors, limit=60)
    out["patient_phone"] = _text(detail, "patient_phone", errors, limit=30)
    out["major"] = _bool(detail, "major", errors)
    _no_unknown(detail, errors)
    if errors:
        raise ValidationError(errors)
    return out


def drug_feedback_title(detail: dict[str, Any]) -> str:
    drug = detail.get("drug")
    name = drug.generic_name if isinstance(drug, Drug) else str(detail.get("drug_text") or "")
    return f"{name}: {ProblemType(detail['problem']).label}"[:200]


def create_drug_feedback(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    values = dict(detail)
    values["batch"] = _saved(values["batch"])
    # Only the public page registers without a person (the API and the pages always have one):
    # the server decides where it came from, not a field a client could send.
    values["from_public_page"] = actor is None
    major_types = PharmacySettings.current().major_problems
    if values["problem"] in major_types and not values["major"]:
        values["major"] = True
        values["major_reason"] = _("The problem type is set as major.")
    feedback = DrugFeedback.objects.create(case=case, **values)
    if feedback.major:
        clocks.start_clock(case, DQ_REGULATOR, started_at=case.received_at)
        notify(
            people_with_role("pharmacy_head"),
            kind="pharmacy_major_problem",
            case=case,
            data={"number": case.number},
            exclude=actor,
        )


def flag_major_problem(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    feedback = DrugFeedback.objects.select_for_update().get(pk=case.pk)
    if feedback.major:
        raise ValidationError({"reason": [_("This problem is already flagged as major.")]})
    DrugFeedback.objects.filter(pk=case.pk).update(major=True, major_reason=cleaned["reason"])


def resolve_drug_feedback(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    DrugFeedback.objects.filter(pk=case.pk).update(
        cause=cleaned["cause"], resolution=cleaned["resolution"]
    )


def answer_drug_feedback(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    DrugFeedback.objects.filter(pk=case.pk).update(answer=cleaned["answer"], answered_at=now)


def archive_drug_feedback(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    """存档备查: only once answered and, for a major problem, reported to the regulator."""
    feedback = DrugFeedback.objects.get(pk=case.pk)
    errors: Errors = {}
    if not feedback.answer:
        errors["answer"] = [_("Record the answer to the person who asked first.")]
    if feedback.major and not case.sendings.filter(recipient=Recipient.REGULATOR).exists():
        errors["record_sending"] = [
            _("A major problem must be reported to the drug regulator first.")
        ]
    if errors:
        raise ValidationError(errors)
    DrugFeedback.objects.filter(pk=case.pk).update(archived_for_inspection_at=now)


# --- sendings ------------------------------------------------------------------------------


def _add_sending(case: Case, cleaned: dict[str, Any], actor: User, now: dt.datetime) -> Sending:
    return Sending.objects.create(
        case=case,
        at=now,
        channel=cleaned["channel"],
        recipient=cleaned["recipient"],
        by=actor,
        reference=cleaned.get("reference") or "",
        note=cleaned.get("note") or "",
    )


REGULATOR_CLOCKS = {"drug_feedback": DQ_REGULATOR, "counterfeit": CF_REPORT}


def record_sending(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    """A report sent (drug quality, counterfeit, group event); the one to the regulator stops
    the regulator clock."""
    _add_sending(case, cleaned, actor, now)
    if case.kind == "adr_group":
        clocks.stop_clock(case, GROUP_REPORT, now=now)
    elif cleaned["recipient"] == Recipient.REGULATOR and case.kind in REGULATOR_CLOCKS:
        clocks.stop_clock(case, REGULATOR_CLOCKS[case.kind], now=now)


def record_adr_sending(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    """R3.6: a valid report sent; the sendings the setting requires (and, for a death, the
    phone or fax call) stop the ``adr_report`` clock."""
    report = AdrReport.objects.select_related("rule").get(pk=case.pk)
    missing = report.missing()
    if missing:
        raise ValidationError({k: [v] for k, v in missing.items()})
    _add_sending(case, cleaned, actor, now)
    if adr_requirements_met(case, report):
        clocks.stop_clock(case, ADR_REPORT, now=now)


def adr_requirements_met(case: Case, report: AdrReport) -> bool:
    sent = list(case.sendings.values_list("recipient", "channel"))
    required = PharmacySettings.current().required_recipients()
    if not required <= {r for r, _c in sent}:
        return False
    needs_call = report.rule.needs_call if report.rule else report.category == AdrCategory.DEATH
    return not needs_call or any(c in (SendingChannel.PHONE, SendingChannel.FAX) for _r, c in sent)


# --- counterfeit and substandard drugs (R3.4) ----------------------------------------------


def _quantity(value: Any, errors: Errors, name: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[name] = [_("Enter a whole number of zero or more.")]
        return 0
    if number < 0:
        errors[name] = [_("Enter a whole number of zero or more.")]
    return number


def clean_counterfeit(detail: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    out: dict[str, Any] = {}
    out["drug"], out["batch"] = _drug_and_batch(detail, errors, required=True)
    out["where_found"] = _text(detail, "where_found", errors, required=True, limit=200)
    out["how_found"] = _text(detail, "how_found", errors, required=True)
    criteria = detail.pop("criteria", [])
    if not isinstance(criteria, list) or any(c not in Criterion.values for c in criteria):
        errors["criteria"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Criterion.values)}
        ]
        criteria = []
    out["criteria"] = list(dict.fromkeys(criteria))
    out["finding"] = _choice(detail, "finding", Finding, Finding.SUSPECTED, errors)
    holds = detail.pop("holds", [])
    cleaned_holds = []
    if not isinstance(holds, list) or not holds:
        errors["holds"] = [_("Put the stock of this batch on hold: say where and how much.")]
    else:
        for i, hold in enumerate(holds):
            if not isinstance(hold, dict):
                errors[f"holds.{i}"] = [_("This value has the wrong type.")]
                continue
            hold = dict(hold)
            store = _text(hold, "store", errors, required=True, limit=80)
            quantity = _quantity(hold.pop("quantity", None), errors, f"holds.{i}.quantity")
            unit = _text(hold, "unit", errors, limit=20) or "盒"
            cleaned_holds.append({"store": store, "quantity": quantity, "unit": unit})
    out["holds"] = cleaned_holds
    _no_unknown(detail, errors)
    if errors:
        raise ValidationError(errors)
    return out


def counterfeit_title(detail: dict[str, Any]) -> str:
    drug, batch = detail["drug"], detail["batch"]
    return f"{drug.generic_name} {drug.strength} {batch.batch_number}: {detail['where_found']}"


def create_counterfeit(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    values = dict(detail)
    holds = values.pop("holds")
    values["batch"] = _saved(values["batch"])
    CounterfeitCase.objects.create(case=case, **values)
    for hold in holds:
        StockHold.objects.create(
            case=case, batch=values["batch"], held_by=actor, held_at=case.received_at, **hold
        )
    notify(
        people_with_role("pharmacy_head"),
        kind="pharmacy_counterfeit_opened",
        case=case,
        data={"number": case.number},
        exclude=actor,
    )


def hold_stock(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    errors: Errors = {}
    quantity = _quantity(cleaned["quantity"], errors, "quantity")
    if errors:
        raise ValidationError(errors)
    cf = CounterfeitCase.objects.get(pk=case.pk)
    StockHold.objects.create(
        case=case,
        batch_id=cf.batch_id,
        store=cleaned["store"][:80],
        quantity=quantity,
        unit=(cleaned.get("unit") or "盒")[:20],
        held_by=actor,
        held_at=now,
    )


def send_sample(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    if cleaned["sent_on"] > timezone.localdate(now):
        raise ValidationError({"sent_on": [_("This date cannot be in the future.")]})
    CounterfeitCase.objects.filter(pk=case.pk).update(
        testing_institute=cleaned["institute"][:120],
        sample_sent_on=cleaned["sent_on"],
        sample_quantity=(cleaned.get("quantity") or "")[:40],
    )


def record_test_result(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    CounterfeitCase.objects.filter(pk=case.pk).update(
        test_report_number=cleaned["report_number"][:60],
        test_result=cleaned["result"],
        finding=cleaned["finding"],
        test_conforms=cleaned["finding"] == Finding.NEITHER,
    )


def record_disposal(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    CounterfeitCase.objects.filter(pk=case.pk).update(
        disposal=cleaned["disposal"], disposed_quantity=(cleaned.get("quantity") or "")[:40]
    )
    StockHold.objects.filter(case=case, released_at__isnull=True).update(released_at=now)


def close_counterfeit(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    if not case.sendings.filter(recipient=Recipient.REGULATOR).exists():
        raise ValidationError(
            {"record_sending": [_("Record the report to the drug regulator first.")]}
        )


# --- adverse drug reactions (R3.6) ---------------------------------------------------------

ADR_TEXTS: list[tuple[str, int]] = [
    ("patient_name", 60),
    ("ethnicity", 20),
    ("patient_contact", 60),
    ("hospital", 120),
    ("record_number", 40),
    ("underlying_disease", MAX_TEXT),
    ("past_adr", MAX_TEXT),
    ("family_adr", MAX_TEXT),
    ("history_other", 200),
    ("reaction", 200),
    ("course", MAX_TEXT),
    ("sequelae", 200),
    ("death_cause", 200),
    ("disease_effect", 60),
    ("causality_reporter_signed", 60),
    ("causality_unit_signed", 60),
    ("reporter_name", 60),
    ("reporter_phone", 30),
    ("reporter_occupation", 40),
    ("reporter_email", 120),
    ("reporting_unit", 120),
    ("unit_contact", 60),
    ("unit_phone", 30),
]
HISTORY = ("smoking", "alcohol", "pregnancy", "liver", "kidney", "allergy", "other")
DRUG_TEXTS: list[tuple[str, int]] = [
    ("brand_name", 120),
    ("dose", 40),
    ("route", 40),
    ("times_per_day", 20),
    ("reason", 200),
]


def _clean_adr_drug(raw: Any, i: int, errors: Errors) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        errors[f"drugs.{i}"] = [_("This value has the wrong type.")]
        return None
    d = dict(raw)
    sub: Errors = {}
    out: dict[str, Any] = {"role": _choice(d, "role", DrugRole, DrugRole.SUSPECT, sub)}
    given_generic = _text(d, "generic_name", sub, limit=120)
    approval = str(d.get("approval_number") or "")
    maker = str(d.get("manufacturer") or "")
    batch_number = str(d.get("batch_number") or "")
    out["drug"], batch = _drug_and_batch(d, sub, required=False)
    out["batch"] = batch
    drug = out["drug"]
    out["approval_number"] = drug.approval_number if drug else approval.strip()[:40]
    out["manufacturer"] = drug.manufacturer if drug else maker.strip()[:120]
    out["generic_name"] = (drug.generic_name if drug else "") or given_generic
    out["batch_number"] = batch_number.strip()[:40]
    if not out["generic_name"]:
        sub["generic_name"] = [_("This field is required.")]
    for name, limit in DRUG_TEXTS:
        out[name] = _text(d, name, sub, limit=limit)
    if drug and not out["brand_name"]:
        out["brand_name"] = drug.brand_name
    out["started_on"] = _date(d, "started_on", sub)
    out["stopped_on"] = _date(d, "stopped_on", sub)
    if out["started_on"] and out["stopped_on"] and out["stopped_on"] < out["started_on"]:
        sub["stopped_on"] = [_("A drug cannot be stopped before it was started.")]
    if drug is None and "drug_id" not in sub:
        # A drug not in the catalogue is kept as written (the national form takes any drug).
        sub.pop("approval_number", None)
        sub.pop("manufacturer", None)
    _no_unknown(d, sub)
    for key, messages in sub.items():
        errors[f"drugs.{i}.{key}"] = messages
    return out


def clean_adr(detail: dict[str, Any]) -> dict[str, Any]:
    """The report's fields; a report may be saved incomplete, but not sent (see missing())."""
    errors: Errors = {}
    out: dict[str, Any] = {}
    out["report_type"] = _choice(detail, "report_type", ReportType, ReportType.FIRST, errors)
    first = detail.pop("follow_up_of", "") or ""
    out["follow_up_of"] = None
    if out["report_type"] == ReportType.FOLLOW_UP:
        found = Case.objects.filter(number=str(first), kind="adr").first()
        if found is None:
            errors["follow_up_of"] = [_("Name the first report this follows up.")]
        out["follow_up_of"] = found
    elif first:
        errors["follow_up_of"] = [_("Only a follow-up report follows up another.")]
    out["seriousness"] = _choice(detail, "seriousness", Seriousness, Seriousness.GENERAL, errors)
    out["unit_type"] = _choice(detail, "unit_type", UnitType, UnitType.HOSPITAL, errors)
    for name, limit in ADR_TEXTS:
        out[name] = _text(detail, name, errors, limit=limit)
    out["sex"] = _choice(detail, "sex", Sex, Sex.UNKNOWN, errors)
    out["birth_date"] = _date(detail, "birth_date", errors, birth=True)
    age = detail.pop("age_years", None)
    out["age_years"] = None
    if age not in (None, ""):
        try:
            out["age_years"] = int(age)
            if not 0 <= out["age_years"] < 150:
                raise ValueError
        except (TypeError, ValueError):
            errors["age_years"] = [_("Enter an age from 0 to 149 years.")]
    weight = detail.pop("weight_kg", None)
    out["weight_kg"] = None
    if weight not in (None, ""):
        try:
            out["weight_kg"] = Decimal(str(weight))
            if not Decimal(0) < out["weight_kg"] < Decimal(500):
                raise InvalidOperation
        except InvalidOperation:
            errors["weight_kg"] = [_("Enter the weight in kilograms.")]
    history = detail.pop("history", [])
    if not isinstance(history, list) or any(h not in HISTORY for h in history):
        errors["history"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(HISTORY)}]
        history = []
    out["history"] = list(dict.fromkeys(history))
    out["onset_at"] = _moment(detail, "onset_at", errors)
    out["outcome"] = _choice(detail, "outcome", Outcome, Outcome.UNKNOWN, errors)
    out["death_at"] = _moment(detail, "death_at", errors)
    out["dechallenge"] = _choice(detail, "dechallenge", Challenge, Challenge.UNCLEAR, errors)
    out["rechallenge"] = _choice(detail, "rechallenge", Challenge, Challenge.NOT_DONE, errors)
    for name in ("causality_reporter", "causality_unit"):
        value = detail.pop(name, "") or ""
        if value and value not in Causality.values:
            errors[name] = [
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(Causality.values)}
            ]
        out[name] = value
    out["report_date"] = _date(detail, "report_date", errors)
    out["aware_at"] = _moment(detail, "aware_at", errors)
    out["part_of_group"] = _bool(detail, "part_of_group", errors)
    out["quality_suspected"] = _bool(detail, "quality_suspected", errors)
    dept = detail.pop("department", "") or ""
    out["department"] = None
    if dept:
        out["department"] = Department.objects.filter(code=str(dept), is_active=True).first()
        if out["department"] is None:
            errors["department"] = [_("There is no such department.")]
    drugs = detail.pop("drugs", [])
    out["drugs"] = []
    if not isinstance(drugs, list):
        errors["drugs"] = [_("This value has the wrong type.")]
    else:
        for i, raw in enumerate(drugs[:30]):
            cleaned = _clean_adr_drug(raw, i, errors)
            if cleaned is not None:
                out["drugs"].append(cleaned)
    _no_unknown(detail, errors)
    if errors:
        raise ValidationError(errors)
    return out


def adr_title(detail: dict[str, Any]) -> str:
    suspect = next((d for d in detail["drugs"] if d["role"] == DrugRole.SUSPECT), None)
    drug = suspect["generic_name"] if suspect else _("unknown drug")
    reaction = detail["reaction"] or _("reaction not yet described")
    return f"{drug}: {reaction}"[:200]


def adr_department(detail: dict[str, Any]) -> Department | None:
    """ADR reports land with the pharmacy's ADR monitoring (the kind's intake department)."""
    return None


def _due(rule: AdrDeadlineRule | None, aware_at: dt.datetime) -> dt.datetime:
    if rule is None:
        return aware_at + dt.timedelta(hours=24)
    return aware_at + (rule.length if rule.length else dt.timedelta(hours=24))


def create_adr(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    values = dict(detail)
    drugs = values.pop("drugs")
    values["aware_at"] = values["aware_at"] or case.received_at
    if values["department"] is None and actor is not None:
        values["department"] = (
            Department.objects.filter(memberships__user=actor).order_by("pk").first()
        )
    report = AdrReport(case=case, **values)
    rule = AdrDeadlineRule.in_force(report.category, timezone.localdate(report.aware_at))
    report.rule = rule
    report.save()
    for d in drugs:
        d = dict(d)
        d["batch"] = _saved(d["batch"])
        AdrDrug.objects.create(report=report, **d)
    counts.report_added(report.pk)
    clocks.start_clock(
        case, ADR_REPORT, started_at=report.aware_at, due_at=_due(rule, report.aware_at)
    )
    if report.category == AdrCategory.DEATH:
        notify(
            people_with_role("adr_officer", "pharmacy_head"),
            kind="pharmacy_adr_death",
            case=case,
            data={"number": case.number},
            exclude=actor,
        )
    detect_group(report, actor=actor)


def update_adr(case: Case, detail: dict[str, Any], *, actor: User) -> Case:
    """Complete or correct a report before (or after) it is sent: the whole detail again, as
    at registration; a change of category moves the running deadline to the new rule."""
    if not (is_pharmacy_staff(actor) or case.registered_by_id == actor.pk):
        raise PermissionDenied
    if case.is_archived or case.state == "closed":
        raise PermissionDenied
    cleaned = clean_adr(dict(detail))
    drugs = cleaned.pop("drugs")
    with transaction.atomic():
        report = AdrReport.objects.select_for_update().get(pk=case.pk)
        before = report.category
        counted_before = counts.counted(report.pk)
        changes: list[dict[str, Any]] = []
        for key, value in cleaned.items():
            if key == "aware_at" and value is None:
                continue
            if key == "department" and value is None:
                continue
            if getattr(report, key) != value:
                changes.append(
                    {"field": key, "from": str(getattr(report, key) or ""), "to": str(value or "")}
                )
                setattr(report, key, value)
        # Drugs are rows of the report, never deleted: those not yet on it are added.
        old = set(report.drugs.values_list("generic_name", "batch_number", "role"))
        added: list[list[str]] = []
        for d in drugs:
            row = (d["generic_name"], d["batch_number"], d["role"])
            if row in old:
                continue
            d = dict(d)
            d["batch"] = _saved(d["batch"])
            AdrDrug.objects.create(report=report, **d)
            added.append(list(row))
        if added:
            changes.append({"field": "drugs", "from": "", "to": added})
        if report.category != before:
            report.rule = AdrDeadlineRule.in_force(
                report.category, timezone.localdate(report.aware_at)
            )
        report.save()
        counts.move(counted_before, counts.counted(report.pk))
        if report.category != before or any(c["field"] == "aware_at" for c in changes):
            _move_deadline(case, report)
        if changes:
            Event.objects.create(
                case=case,
                actor=actor,
                verb="updated",
                changes=changes,
                data={"what": "adr_report"},
            )
    detect_group(report, actor=actor)
    return case


def _move_deadline(case: Case, report: AdrReport) -> None:
    clock = case.clocks.filter(name=ADR_REPORT, state__in=clocks.OPEN).first()
    if clock is None:
        return
    p = clocks.make_plan(
        case, ADR_REPORT, report.aware_at, due_at=_due(report.rule, report.aware_at)
    )
    clock.started_at, clock.due_at, clock.schedule = report.aware_at, p.due_at, p.schedule
    clock.alerts_done, clock.next_alert_at = 0, None
    from qloop.process import schedule as plan

    clock.next_alert_at = plan.next_alert(p.schedule, 0)
    clock.save(update_fields=["started_at", "due_at", "schedule", "alerts_done", "next_alert_at"])
    clocks.refresh_next_due(case)


def detect_group(report: AdrReport, *, actor: User | None) -> Case | None:
    """Art. 27: several patients, same drug and batch, short time. A report marked as part of
    a group, or N first reports on one batch within D days (settings), open a group event (or
    join the one already open for the batch)."""
    if report.report_type != ReportType.FIRST:
        return None
    settings = PharmacySettings.current()
    suspects = list(
        report.drugs.filter(role=DrugRole.SUSPECT, batch__isnull=False).select_related(
            "batch__drug"
        )
    )
    opened = None
    for suspect in suspects:
        batch = suspect.batch
        assert batch is not None
        since = report.aware_at - dt.timedelta(days=settings.group_days)
        members = list(
            AdrReport.objects.filter(
                report_type=ReportType.FIRST,
                drugs__role=DrugRole.SUSPECT,
                drugs__batch=batch,
                aware_at__gte=since,
                aware_at__lte=report.aware_at + dt.timedelta(days=settings.group_days),
                case__archived_at__isnull=True,
            )
            .select_related("case")
            .distinct()
        )
        group_case = (
            Case.objects.filter(kind="adr_group", adr_group__batch=batch)
            .exclude(state="closed")
            .order_by("-received_at")
            .first()
        )
        if group_case is None and (len(members) >= settings.group_patients or report.part_of_group):
            group_case = _open_group(batch, members, actor=actor, detected=not report.part_of_group)
            opened = group_case
        if group_case is not None:
            _link_members(
                group_case, members if len(members) >= settings.group_patients else [report]
            )
    if opened is None and report.part_of_group and not suspects and report.group_id is None:
        opened = _open_group(None, [report], actor=actor, detected=False)
        _link_members(opened, [report])
    return opened


def _open_group(
    batch: DrugBatch | None, members: list[AdrReport], *, actor: User | None, detected: bool
) -> Case:
    first_use = min(
        (d.started_on for m in members for d in m.drugs.all() if d.started_on), default=None
    )
    first_onset = min((timezone.localdate(m.onset_at) for m in members if m.onset_at), default=None)
    detail = {
        "_batch": batch,
        "_detected": detected,
        "using_unit": next((m.reporting_unit for m in members if m.reporting_unit), ""),
        "first_use_on": first_use,
        "first_onset_on": first_onset,
    }
    case = register_case(
        Registration(
            kind="adr_group",
            channel="web",
            contact=ContactData(name=""),
            symptom="",
            detail=detail,
        ),
        actor=actor,
    )
    notify(
        people_with_role("pharmacy_head", "adr_officer", "medical_affairs"),
        kind="pharmacy_adr_group",
        case=case,
        data={"number": case.number},
        urgent=True,
    )
    return case


def _link_members(group_case: Case, members: list[AdrReport]) -> None:
    new = [m for m in members if m.group_id != group_case.pk]
    if not new:
        return
    AdrReport.objects.filter(pk__in=[m.pk for m in new]).update(group=group_case)
    linked = AdrReport.objects.filter(group=group_case)
    AdrGroup.objects.filter(pk=group_case.pk).update(
        affected=linked.count(),
        serious=linked.exclude(seriousness=Seriousness.GENERAL).count(),
        deaths=linked.filter(outcome=Outcome.DEATH).count(),
    )
    Event.objects.create(
        case=group_case,
        verb="reports_linked",
        data={"reports": [m.case.number for m in new]},
    )


def clean_adr_group(detail: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    out: dict[str, Any] = {}
    # Group detection passes the batch itself; JSON (the API) cannot, so a client can neither
    # name a batch this way nor claim the system found the group.
    batch = detail.pop("_batch", None)
    detected = bool(detail.pop("_detected", False)) and isinstance(batch, DrugBatch)
    if not isinstance(batch, DrugBatch):
        batch = None
    if batch is None:
        out["drug"], out["batch"] = _drug_and_batch(detail, errors, required=False)
    else:
        out["drug"], out["batch"] = batch.drug, batch
    out["detected"] = detected
    for name, limit in (("area", 120), ("using_unit", 120), ("devices", 200)):
        out[name] = _text(detail, name, errors, limit=limit)
    for name in ("first_use_on", "first_onset_on"):
        value = detail.pop(name, None)
        if isinstance(value, dt.date) or value is None:
            out[name] = value
        else:
            detail[name] = value
            out[name] = _date(detail, name, errors)
    exposed = detail.pop("exposed", None)
    out["exposed"] = None
    if exposed not in (None, ""):
        out["exposed"] = _quantity(exposed, errors, "exposed")
    _no_unknown(detail, errors)
    if errors:
        raise ValidationError(errors)
    return out


def adr_group_title(detail: dict[str, Any]) -> str:
    batch = detail.get("batch")
    if isinstance(batch, DrugBatch):
        return _("Group ADR event: %(drug)s batch %(batch)s") % {
            "drug": batch.drug.generic_name,
            "batch": batch.batch_number,
        }
    return _("Group ADR event")


def create_adr_group(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    values = dict(detail)
    values["batch"] = _saved(values["batch"])
    AdrGroup.objects.create(case=case, **values)


def open_quality_case(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    """An ADR that may come from the drug's quality opens a linked drug quality or counterfeit
    case for the suspect batch (R3.6 with R3.4/R3.5)."""
    report = AdrReport.objects.get(pk=case.pk)
    suspect = report.drugs.filter(role=DrugRole.SUSPECT, batch__isnull=False).first()
    if suspect is None or suspect.batch is None:
        raise ValidationError({"kind": [_("The report names no suspect drug with its batch.")]})
    batch = suspect.batch
    if cleaned["kind"] == "counterfeit":
        detail: dict[str, Any] = {
            "drug_id": batch.drug_id,
            "batch_number": batch.batch_number,
            "where_found": cleaned.get("where_found") or _("Adverse reaction report"),
            "how_found": _("Found through the adverse reaction report %(number)s.")
            % {"number": case.number},
            "holds": [{"store": _("Pharmacy"), "quantity": 0}],
        }
    else:
        detail = {
            "drug_id": batch.drug_id,
            "batch_number": batch.batch_number,
            "problem": ProblemType.OTHER,
            "description": _("Quality suspected from the adverse reaction report %(number)s.")
            % {"number": case.number},
            "source": FeedbackSource.COLLECTED,
        }
    linked = register_case(
        Registration(
            kind=cleaned["kind"],
            channel="web",
            contact=ContactData(name=actor.printed_name),
            symptom="",
            detail=detail,
        ),
        actor=actor,
        source_case=case,
    )
    AdrReport.objects.filter(pk=case.pk).update(quality_suspected=True)
    Event.objects.create(
        case=case, actor=actor, verb="linked_case", at=now, data={"case": linked.number}
    )


PHARMACY_EFFECTS = [
    flag_major_problem,
    resolve_drug_feedback,
    answer_drug_feedback,
    archive_drug_feedback,
    record_sending,
    record_adr_sending,
    hold_stock,
    send_sample,
    record_test_result,
    record_disposal,
    close_counterfeit,
    open_quality_case,
]


def adr_archived(case: Case) -> None:
    """An archived report leaves the signal counts (in the archiving transaction)."""
    counts.report_archived(case.pk)
