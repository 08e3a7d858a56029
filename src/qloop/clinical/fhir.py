"""FHIR R4 at /fhir/r4/ (R5.8): results in as DiagnosticReport + Observation, the clinician's
acknowledgement out as a Communication.

``POST /fhir/r4/DiagnosticReport`` takes a report whose Observations (and Patient) are
``contained``, or ``POST /fhir/r4/Bundle`` a transaction or collection Bundle of them. Each
Observation becomes a register entry through the same action as HL7 v2 and the form, so the
same rules open findings. ``GET /fhir/r4/Communication/<finding number>`` and
``GET /fhir/r4/Communication?based-on=<finding number>`` read the acknowledgement.

Resources are checked with the fhir.resources models (its R4B package: DiagnosticReport,
Observation, Patient and Communication have the same elements in R4 and R4B).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError as ModelError

from qloop.cases.access import can_see_personal_data
from qloop.cases.models import Case
from qloop.clinical.models import ClinicalRegister, EntrySource, Modality
from qloop.org.models import ApiToken, User

FHIR_JSON = "application/fhir+json"
FLAGS = {"HH", "LL", "AA", "H", "L", "A", "N"}


def _outcome(status: int, text: str, code: str = "invalid") -> JsonResponse:
    return JsonResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
        },
        status=status,
        content_type=FHIR_JSON,
    )


def _user(request: HttpRequest) -> User | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return ApiToken.authenticate(header[7:].strip())
    user = request.user
    return user if user.is_authenticated else None  # type: ignore[return-value]


def _text(concept: Any) -> tuple[str, str]:
    """(code, display) of a CodeableConcept."""
    if concept is None:
        return "", ""
    coding = (concept.coding or [None])[0]
    code = (coding.code if coding else "") or ""
    display = (coding.display if coding else "") or concept.text or code
    return str(code), str(display)


def _patient(resource: Patient | None) -> dict[str, Any]:
    if resource is None:
        raise ValidationError("The report names no Patient (contained or in the Bundle).")
    name = ""
    if resource.name:
        human = resource.name[0]
        name = human.text or "".join([human.family or "", *(g or "" for g in human.given or [])])
    record = ""
    if resource.identifier:
        record = resource.identifier[0].value or ""
    sex = {"male": "M", "female": "F"}.get(resource.gender or "", "U")
    return {"patient_name": name, "patient_id": record, "sex": sex, "birth": resource.birthDate}


def _observation_value(obs: Observation) -> tuple[str, str]:
    if obs.valueQuantity is not None:
        value = obs.valueQuantity.value
        return (str(Decimal(str(value))) if value is not None else "", obs.valueQuantity.unit or "")
    if obs.valueString is not None:
        return obs.valueString, ""
    if obs.valueCodeableConcept is not None:
        return _text(obs.valueCodeableConcept)[1], ""
    return "", ""


def results_from(
    report: DiagnosticReport, observations: list[Observation], patient: Patient | None
) -> list[Any]:
    from qloop.clinical.actions import ResultData

    who = _patient(patient)
    issued = report.issued or timezone.now()
    out = []
    for obs in observations:
        code, display = _text(obs.code)
        value, unit = _observation_value(obs)
        if not value:
            raise ValidationError(f"Observation {obs.id or code} has no value.")
        flag = ""
        for interp in obs.interpretation or []:
            candidate = _text(interp)[0].upper()
            if candidate in FLAGS:
                flag = candidate
        ref = ""
        if obs.referenceRange:
            rng = obs.referenceRange[0]
            if rng.text:
                ref = rng.text
            elif rng.low is not None or rng.high is not None:
                low = rng.low.value if rng.low is not None else ""
                high = rng.high.value if rng.high is not None else ""
                ref = f"{low}-{high}"
        age = None
        if who["birth"] is not None and obs.effectiveDateTime is not None:
            collected = obs.effectiveDateTime
            days = (collected.date() - who["birth"]).days
            age = round(Decimal(max(0, days)) / Decimal("365.25"), 2)
        out.append(
            ResultData(
                patient_name=who["patient_name"],
                patient_id=who["patient_id"],
                sex=who["sex"],
                age_years=age,
                test_code=code,
                test_name=display or code,
                result_value=value,
                unit=unit,
                reference_range=ref,
                abnormal_flag="" if flag == "N" else flag,
                accession=str(report.id or ""),
                collected_at=obs.effectiveDateTime,
                reported_at=obs.issued or issued,
            )
        )
    if not out:
        raise ValidationError("The DiagnosticReport has no Observation.")
    return out


def _split(body: dict[str, Any]) -> tuple[DiagnosticReport, list[Observation], Patient | None]:
    kind = body.get("resourceType")
    if kind == "DiagnosticReport":
        contained = body.get("contained") or []
        report = DiagnosticReport.model_validate({**body, "contained": []})
        observations = [
            Observation.model_validate(r)
            for r in contained
            if r.get("resourceType") == "Observation"
        ]
        patients = [
            Patient.model_validate(r) for r in contained if r.get("resourceType") == "Patient"
        ]
        return report, observations, (patients[0] if patients else None)
    if kind == "Bundle":
        resources = [e.get("resource") or {} for e in body.get("entry") or []]
        reports = [r for r in resources if r.get("resourceType") == "DiagnosticReport"]
        if len(reports) != 1:
            raise ValidationError("The Bundle must hold exactly one DiagnosticReport.")
        report = DiagnosticReport.model_validate({**reports[0], "contained": []})
        observations = [
            Observation.model_validate(r)
            for r in resources
            if r.get("resourceType") == "Observation"
        ]
        patients = [
            Patient.model_validate(r) for r in resources if r.get("resourceType") == "Patient"
        ]
        return report, observations, (patients[0] if patients else None)
    raise ValidationError("Send a DiagnosticReport or a Bundle.")


def _register(report: DiagnosticReport) -> ClinicalRegister | None:
    imaging = any(_text(c)[0] in {"RAD", "IMG"} for c in report.category or [])
    wanted = Modality.IMAGING if imaging else Modality.LABORATORY
    return ClinicalRegister.objects.filter(is_active=True, modality=wanted).order_by("id").first()


@csrf_exempt
def endpoint(request: HttpRequest, resource: str) -> HttpResponse:
    """POST a DiagnosticReport or Bundle; GET Communication?based-on=FN-…"""
    from qloop.clinical.api import can_send_results

    user = _user(request)
    if user is None:
        return _outcome(401, "Send a valid token as Authorization: Bearer TOKEN.", "login")
    if request.method == "GET" and resource == "Communication":
        number = request.GET.get("based-on", "")
        return read(request, "Communication", number.split("/")[-1])
    if request.method != "POST" or resource not in {"DiagnosticReport", "Bundle"}:
        return _outcome(
            405, "POST a DiagnosticReport or a Bundle; GET a Communication.", "not-supported"
        )
    if not can_send_results(user):
        return _outcome(403, "You may not send results.", "forbidden")
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return _outcome(400, "The body is not a JSON resource.", "structure")
    try:
        report, observations, patient = _split(body)
        register = _register(report)
        if register is None:
            raise ValidationError("No register is set up to take these results.")
        results = results_from(report, observations, patient)
        entries = _apply(results, register)
    except ModelError as exc:
        return _outcome(422, f"Not a valid FHIR R4 resource: {exc.errors()[0].get('msg', exc)}")
    except ValidationError as exc:
        return _outcome(422, "; ".join(exc.messages))
    out = report.model_dump(mode="json", exclude_none=True)
    out["id"] = entries[0].accession or entries[0].number
    out["identifier"] = [{"system": "urn:qloop:register-entry", "value": e.number} for e in entries]
    return JsonResponse(out, status=201, content_type=FHIR_JSON)


def _apply(results: list[Any], register: ClinicalRegister) -> list[Any]:
    """All the report's Observations or none; a report sent again corrects, not repeats."""
    from qloop.clinical.actions import correct_result, register_result
    from qloop.clinical.models import ResultEntry

    entries = []
    with transaction.atomic():
        for data in results:
            existing = (
                ResultEntry.objects.filter(
                    register=register, accession=data.accession, test_code=data.test_code
                ).first()
                if data.accession
                else None
            )
            if existing is None:
                entry, _o = register_result(
                    data, register=register, actor=None, source=EntrySource.FHIR, by_system=True
                )
            else:
                entry, _o = correct_result(
                    existing,
                    data,
                    reason="FHIR DiagnosticReport sent again",
                    actor=None,
                    source=EntrySource.FHIR,
                    by_system=True,
                )
            entries.append(entry)
    return entries


def read(request: HttpRequest, resource: str, rid: str) -> HttpResponse:
    """GET /fhir/r4/Communication/<finding number>: the acknowledgement of a finding."""
    user = _user(request)
    if user is None:
        return _outcome(401, "Send a valid token as Authorization: Bearer TOKEN.", "login")
    if resource != "Communication":
        return _outcome(404, "Only Communication resources are read here.", "not-found")
    case = (
        Case.objects.for_user(user)
        .filter(number=rid, kind="finding")
        .select_related("finding__entry")
        .first()
    )
    if case is None:
        return _outcome(404, "No such finding.", "not-found")
    return JsonResponse(communication(case, user), content_type=FHIR_JSON)


def communication(case: Case, user: User) -> dict[str, Any]:
    """The finding as a Communication: sent when reported, received when acknowledged, with
    how (signature or read-back) and by whom."""
    f = case.finding
    e = f.entry
    full = can_see_personal_data(user, case)
    status = "completed" if f.acknowledged_at else "in-progress"
    text = f"{f.get_kind_display()}: {f.test_name} {f.sent_result}"
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": case.number,
        "identifier": [{"system": "urn:qloop:case", "value": case.number}],
        "status": status,
        "category": [{"text": str(f.get_kind_display())}],
        "priority": "stat" if f.kind == "critical" else "urgent",
        "subject": {"display": e.patient_name if full else e.patient_name[:1] + "**"},
        "about": [{"identifier": {"system": "urn:qloop:register-entry", "value": e.number}}],
        "sent": timezone.localtime(f.reported_at).isoformat(),
        "payload": [{"contentString": text}],
    }
    if f.recipient_user is not None:
        resource["recipient"] = [{"display": f.recipient_user.printed_name}]
    if f.acknowledged_at is not None:
        resource["received"] = timezone.localtime(f.acknowledged_at).isoformat()
        resource["note"] = [
            {"text": f"{f.get_ack_method_display()}: {f.acknowledged_by}"},
        ]
    # Checked against the model before it leaves.
    return Communication.model_validate(resource).model_dump(mode="json", exclude_none=True)
