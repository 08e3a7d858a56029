"""ICH E2B(R3) ICSR messages for ADR reports (R3.6), built with lxml.

One batch (MCCI_IN200100UV01) holds one ICSR message (PORR_IN049016UV) per report. Reactions
are sent as the reporter's words (no MedDRA coding here); the drugs with their approval number
(批准文号) and holder, batch, dose, route and dates; causality as the reporter and the unit
assessed it. The tests validate the output against the ICH schema package.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from copy import deepcopy as _deepcopy
from typing import Any

from django.utils import timezone
from lxml import etree

from qloop.cases.models import Case
from qloop.org.models import Organisation
from qloop.pharmacy.models import AdrDrug, AdrReport, Causality, DrugRole, Outcome, Sex

V3 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {None: V3, "xsi": XSI}
OID = "2.16.840.1.113883.3.989.2.1"
TYPE = f"{{{XSI}}}type"
_SubElement = etree.SubElement

# E2B(R3) code lists
SEX = {Sex.MALE: "1", Sex.FEMALE: "2"}
OUTCOME = {
    Outcome.RECOVERED: "1",
    Outcome.IMPROVING: "2",
    Outcome.NOT_IMPROVED: "3",
    Outcome.SEQUELAE: "4",
    Outcome.DEATH: "5",
    Outcome.UNKNOWN: "0",
}
QUALIFICATION = {"医师": "1", "药师": "2", "护士": "3"}


def _ts(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y%m%d%H%M%S%z")
    return value.strftime("%Y%m%d")


_TAGS: dict[str, str] = {}


def _el(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    qualified = _TAGS.get(tag)
    if qualified is None:
        qualified = _TAGS[tag] = f"{{{V3}}}{tag}"
    if "xsi_type" in attrs:  # in its place: the same bytes as before
        attrs = {TYPE if k == "xsi_type" else k: v for k, v in attrs.items()}
    node = _SubElement(parent, qualified, attrs)
    if text is not None:
        node.text = text
    return node


def _copy(parent: Any, template: list[Any]) -> None:
    """Append copies of fixed elements built once per batch (lxml copies them in C: one call
    instead of one per element)."""
    for node in template:
        parent.append(_deepcopy(node))


def _fixed(build: Callable[[Any], None]) -> list[Any]:
    holder = etree.Element(f"{{{V3}}}holder", nsmap=NS)
    build(holder)
    return list(holder)


def _blocks(sender_id: str, now: dt.datetime) -> dict[str, list[Any]]:
    """The parts of every ICSR of a batch that do not depend on the report."""

    def head(msg: Any) -> None:
        _el(msg, "creationTime", value=_ts(now))
        _el(msg, "interactionId", extension="PORR_IN049016UV", root="2.16.840.1.113883.1.6")
        _el(msg, "processingCode", code="P")
        _el(msg, "processingModeCode", code="T")
        _el(msg, "acceptAckCode", code="AL")
        _device(msg, "receiver", "RCV", "CN-NMPA-ADR", f"{OID}.3.12")
        _device(msg, "sender", "SND", sender_id, f"{OID}.3.11")
        cap = _el(msg, "controlActProcess", classCode="CACT", moodCode="EVN")
        _el(cap, "code", code="PORR_TE049016UV", codeSystem="2.16.840.1.113883.1.18")
        _el(cap, "effectiveTime", value=_ts(now))

    def territory(approval: Any) -> None:
        terr = _el(
            _el(
                _el(approval, "author", typeCode="AUT"),
                "territorialAuthority",
                classCode="TERR",
            ),
            "territory",
            classCode="NAT",
            determinerCode="INSTANCE",
        )
        _el(terr, "code", code="CN", codeSystem="1.0.3166.1.2.2")

    def documents(event: Any, expedited: bool) -> None:
        comp = _el(
            _el(event, "component", typeCode="COMP"),
            "observationEvent",
            classCode="OBS",
            moodCode="EVN",
        )
        _el(
            comp,
            "code",
            code="1",
            codeSystem=f"{OID}.1.19",
            displayName="additionalDocumentsAvailable",
        )
        _el(comp, "value", xsi_type="BL", value="false")
        comp = _el(
            _el(event, "component", typeCode="COMP"),
            "observationEvent",
            classCode="OBS",
            moodCode="EVN",
        )
        _el(
            comp,
            "code",
            code="23",
            codeSystem=f"{OID}.1.19",
            displayName="localCriteriaForExpedited",
        )
        _el(comp, "value", xsi_type="BL", value="true" if expedited else "false")

    def located(person: Any) -> None:
        place = _el(
            _el(person, "asLocatedEntity", classCode="LOCE"),
            "location",
            classCode="COUNTRY",
            determinerCode="INSTANCE",
        )
        _el(place, "code", code="CN", codeSystem="1.0.3166.1.2.2")

    def characteristics(event: Any) -> None:
        char = _el(
            _el(event, "subjectOf2", typeCode="SUBJ"),
            "investigationCharacteristic",
            classCode="OBS",
            moodCode="EVN",
        )
        _el(char, "code", code="1", codeSystem=f"{OID}.1.23", displayName="ichReportType")
        _el(
            char,
            "value",
            xsi_type="CE",
            code="1",
            codeSystem=f"{OID}.1.2",
            displayName="Spontaneous report",
        )
        char = _el(
            _el(event, "subjectOf2", typeCode="SUBJ"),
            "investigationCharacteristic",
            classCode="OBS",
            moodCode="EVN",
        )
        _el(char, "code", code="2", codeSystem=f"{OID}.1.23", displayName="otherCaseIds")
        _el(char, "value", xsi_type="BL", nullFlavor="NI")

    return {
        "head": _fixed(head),
        "territory": _fixed(territory),
        "expedited": _fixed(lambda e: documents(e, True)),
        "not_expedited": _fixed(lambda e: documents(e, False)),
        "located": _fixed(located),
        "characteristics": _fixed(characteristics),
    }


def _id(parent: Any, extension: str, root: str) -> Any:
    return _el(parent, "id", extension=extension, root=root)


def _device(parent: Any, tag: str, type_code: str, extension: str, root: str) -> None:
    dev = _el(
        _el(parent, tag, typeCode=type_code), "device", classCode="DEV", determinerCode="INSTANCE"
    )
    _id(dev, extension, root)


def _observation(parent: Any, obs_code: str, obs_name: str, **value: str) -> Any:
    obs = _el(parent, "observation", classCode="OBS", moodCode="EVN")
    _el(obs, "code", code=obs_code, codeSystem=f"{OID}.1.19", displayName=obs_name)
    text = value.pop("text", None)
    _el(obs, "value", text, **value)
    return obs


def _bool_flag(parent: Any, code: str, name: str, value: bool | None) -> None:
    rel = _el(parent, "outboundRelationship2", typeCode="PERT")
    if value is None:
        _observation(rel, code, name, xsi_type="BL", nullFlavor="NI")
    else:
        _observation(rel, code, name, xsi_type="BL", value="true" if value else "false")


def _icsr(
    batch: Any,
    case: Case,
    report: AdrReport,
    sender_id: str,
    now: dt.datetime,
    organisation_name: str,
    blocks: dict[str, list[Any]],
    report_drugs: list[AdrDrug],
    causality_labels: dict[str, str],
) -> None:
    msg = _el(batch, "PORR_IN049016UV")
    _id(msg, case.number, f"{OID}.3.1")
    _copy(msg, blocks["head"])
    cap = msg[-1]
    event = _el(
        _el(cap, "subject", typeCode="SUBJ"),
        "investigationEvent",
        classCode="INVSTG",
        moodCode="EVN",
    )
    unique = f"CN-{sender_id}-{case.number}"
    _id(event, unique, f"{OID}.3.1")
    _id(event, unique, f"{OID}.3.2")
    _el(event, "code", code="PAT_ADV_EVNT", codeSystem="2.16.840.1.113883.5.4")
    narrative = " ".join(p for p in (report.reaction, report.course) if p) or case.title
    _el(event, "text", narrative)
    _el(event, "statusCode", code="active")
    _el(_el(event, "effectiveTime"), "low", value=_ts(report.aware_at))
    _el(event, "availabilityTime", value=_ts(case.updated_at))

    assessment = _el(
        _el(event, "component", typeCode="COMP"),
        "adverseEventAssessment",
        classCode="INVSTG",
        moodCode="EVN",
    )
    role = _el(_el(assessment, "subject1", typeCode="SBJ"), "primaryRole", classCode="INVSBJ")
    player = _el(role, "player1", classCode="PSN", determinerCode="INSTANCE")
    _el(
        player,
        "name",
        report.patient_name or None,
        **({} if report.patient_name else {"nullFlavor": "UNK"}),
    )
    if report.sex in SEX:
        _el(player, "administrativeGenderCode", code=SEX[Sex(report.sex)], codeSystem="1.0.5218")
    if report.birth_date:
        _el(player, "birthTime", value=_ts(report.birth_date))
    if report.record_number:
        other = _el(player, "asIdentifiedEntity", classCode="IDENT")
        _id(other, report.record_number, f"{OID}.3.9")
        _el(other, "code", code="2", codeSystem=f"{OID}.1.4", displayName="HospitalRecordNumber")
    if report.age_years is not None:
        rel = _el(role, "subjectOf2", typeCode="SBJ")
        _observation(rel, "3", "age", xsi_type="PQ", value=str(report.age_years), unit="a")
    if report.weight_kg is not None:
        rel = _el(role, "subjectOf2", typeCode="SBJ")
        _observation(rel, "7", "bodyWeight", xsi_type="PQ", value=str(report.weight_kg), unit="kg")
    if report.underlying_disease:
        org = _el(
            _el(role, "subjectOf2", typeCode="SBJ"),
            "organizer",
            classCode="CATEGORY",
            moodCode="EVN",
        )
        _el(
            org,
            "code",
            code="1",
            codeSystem=f"{OID}.1.20",
            displayName="relevantMedicalHistoryAndConcurrentConditions",
        )
        _observation(
            _el(org, "component", typeCode="COMP"),
            "18",
            "historyAndConcurrentConditionText",
            xsi_type="ED",
            text=report.underlying_disease,
        )
    reaction_id = f"{case.number}-R1"
    obs = _el(
        _el(role, "subjectOf2", typeCode="SBJ"), "observation", classCode="OBS", moodCode="EVN"
    )
    _el(obs, "id", root=f"{OID}.3.99", extension=reaction_id)
    _el(obs, "code", code="29", codeSystem=f"{OID}.1.19", displayName="reaction")
    if report.onset_at:
        when = _el(obs, "effectiveTime", xsi_type="IVL_TS")
        _el(when, "low", value=_ts(report.onset_at))
    value = _el(obs, "value", xsi_type="CE", codeSystem="2.16.840.1.113883.6.163")
    _el(value, "originalText", report.reaction, language="zh-CN")
    rel = _el(obs, "outboundRelationship2", typeCode="PERT")
    _observation(rel, "30", "reactionForTranslation", xsi_type="ED", text=report.reaction)
    _bool_flag(obs, "34", "resultsInDeath", True if report.outcome == Outcome.DEATH else None)
    serious = report.seriousness in ("serious", "new_serious")
    _bool_flag(obs, "26", "otherMedicallyImportantCondition", True if serious else None)
    rel = _el(obs, "outboundRelationship2", typeCode="PERT")
    _observation(
        rel,
        "27",
        "outcome",
        xsi_type="CE",
        code=OUTCOME[Outcome(report.outcome)],
        codeSystem=f"{OID}.1.11",
    )

    drugs = report_drugs
    org = _el(
        _el(role, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN"
    )
    _el(org, "code", code="4", codeSystem=f"{OID}.1.20", displayName="drugInformation")
    for i, drug in enumerate(drugs, start=1):
        sa = _el(
            _el(org, "component", typeCode="COMP"),
            "substanceAdministration",
            classCode="SBADM",
            moodCode="EVN",
        )
        _el(sa, "id", root=f"{OID}.3.98", extension=f"{case.number}-D{i}")
        inst = _el(_el(sa, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST")
        kind = _el(inst, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
        _el(kind, "name", " ".join(p for p in (drug.generic_name, drug.brand_name) if p))
        if drug.approval_number or drug.manufacturer:
            approval = _el(
                _el(
                    _el(kind, "asManufacturedProduct", classCode="MANU"),
                    "subjectOf",
                    typeCode="SBJ",
                ),
                "approval",
                classCode="CNTRCT",
                moodCode="EVN",
            )
            if drug.approval_number:
                _id(approval, drug.approval_number, f"{OID}.3.4")
            if drug.manufacturer:
                holder = _el(_el(approval, "holder", typeCode="HLD"), "role", classCode="HLD")
                org_el = _el(
                    holder, "playingOrganization", classCode="ORG", determinerCode="INSTANCE"
                )
                _el(org_el, "name", drug.manufacturer)
            _copy(approval, blocks["territory"])
        dosage = _el(
            _el(sa, "outboundRelationship2", typeCode="COMP"),
            "substanceAdministration",
            classCode="SBADM",
            moodCode="EVN",
        )
        text = " ".join(
            p for p in (drug.dose, drug.times_per_day and f"{drug.times_per_day}/d") if p
        )
        if text:
            _el(dosage, "text", text)
        period = _el(dosage, "effectiveTime", xsi_type="IVL_TS")
        if drug.started_on or drug.stopped_on:
            if drug.started_on:
                _el(period, "low", value=_ts(drug.started_on))
            if drug.stopped_on:
                _el(period, "high", value=_ts(drug.stopped_on))
        else:
            period.set("nullFlavor", "ASKU")
        if drug.route:
            _el(_el(dosage, "routeCode"), "originalText", drug.route)
        if drug.batch_number:
            lot_inst = _el(
                _el(dosage, "consumable", typeCode="CSM"), "instanceOfKind", classCode="INST"
            )
            lot = _el(
                lot_inst, "productInstanceInstance", classCode="MMAT", determinerCode="INSTANCE"
            )
            _el(lot, "lotNumberText", drug.batch_number)
            _el(lot_inst, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
        if drug.reason:
            ind = _el(
                _el(sa, "inboundRelationship", typeCode="RSON"),
                "observation",
                classCode="OBS",
                moodCode="EVN",
            )
            _el(ind, "code", code="19", codeSystem=f"{OID}.1.19", displayName="indication")
            _el(
                _el(ind, "value", xsi_type="CE", codeSystem="2.16.840.1.113883.6.163"),
                "originalText",
                drug.reason,
            )
    for i, drug in enumerate(drugs, start=1):
        ca = _el(
            _el(assessment, "component", typeCode="COMP"),
            "causalityAssessment",
            classCode="OBS",
            moodCode="EVN",
        )
        _el(
            ca,
            "code",
            code="20",
            codeSystem=f"{OID}.1.19",
            displayName="interventionCharacterization",
        )
        suspect = drug.role == DrugRole.SUSPECT
        _el(ca, "value", xsi_type="CE", code="1" if suspect else "2", codeSystem=f"{OID}.1.13")
        ref = _el(
            _el(ca, "subject2", typeCode="SUBJ"),
            "productUseReference",
            classCode="SBADM",
            moodCode="EVN",
        )
        _el(ref, "id", root=f"{OID}.3.98", extension=f"{case.number}-D{i}")
    for i, drug in enumerate(drugs, start=1):
        if drug.role != DrugRole.SUSPECT:
            continue
        for who, value, label in (
            (
                "PRIMARY SOURCE REPORTER",
                report.causality_reporter,
                causality_labels.get(report.causality_reporter, report.causality_reporter),
            ),
            (
                "REPORTING UNIT",
                report.causality_unit,
                causality_labels.get(report.causality_unit, report.causality_unit),
            ),
        ):
            if not value:
                continue
            ca = _el(
                _el(assessment, "component", typeCode="COMP"),
                "causalityAssessment",
                classCode="OBS",
                moodCode="EVN",
            )
            _el(ca, "code", code="39", codeSystem=f"{OID}.1.19", displayName="causality")
            _el(
                ca,
                "value",
                label,
                xsi_type="ST",
            )
            _el(_el(ca, "methodCode"), "originalText", "国家药品不良反应监测中心关联性评价")
            author = _el(_el(ca, "author", typeCode="AUT"), "assignedEntity", classCode="ASSIGNED")
            _el(_el(author, "code"), "originalText", who)
            adv = _el(
                _el(ca, "subject1", typeCode="SUBJ"),
                "adverseEffectReference",
                classCode="OBS",
                moodCode="EVN",
            )
            _el(adv, "id", root=f"{OID}.3.99", extension=reaction_id)
            ref = _el(
                _el(ca, "subject2", typeCode="SUBJ"),
                "productUseReference",
                classCode="SBADM",
                moodCode="EVN",
            )
            _el(ref, "id", root=f"{OID}.3.98", extension=f"{case.number}-D{i}")

    _copy(event, blocks["expedited" if report.category != "general" else "not_expedited"])

    # C.2.r: the primary source (the reporter).
    rel = _el(event, "outboundRelationship", typeCode="SPRT")
    _el(rel, "priorityNumber", value="1")
    inv = _el(rel, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    _el(inv, "code", code="2", codeSystem=f"{OID}.1.22", displayName="sourceReport")
    entity = _el(
        _el(
            _el(
                _el(inv, "subjectOf2", typeCode="SUBJ"),
                "controlActEvent",
                classCode="CACT",
                moodCode="EVN",
            ),
            "author",
            typeCode="AUT",
        ),
        "assignedEntity",
        classCode="ASSIGNED",
    )
    if report.reporter_phone:
        _el(entity, "telecom", value=f"tel:{report.reporter_phone}")
    if report.reporter_email:
        _el(entity, "telecom", value=f"mailto:{report.reporter_email}")
    person = _el(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
    name = _el(person, "name")
    _el(
        name,
        "family",
        report.reporter_name or None,
        **({} if report.reporter_name else {"nullFlavor": "UNK"}),
    )
    qual = QUALIFICATION.get(report.reporter_occupation)
    if qual:
        _el(
            _el(person, "asQualifiedEntity", classCode="QUAL"),
            "code",
            code=qual,
            codeSystem=f"{OID}.1.6",
        )
    _copy(person, blocks["located"])
    if report.reporting_unit:
        unit = _el(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        _el(unit, "name", report.reporting_unit)

    # C.3: the sender (the reporting unit).
    sender = _el(
        _el(
            _el(event, "subjectOf1", typeCode="SUBJ"),
            "controlActEvent",
            classCode="CACT",
            moodCode="EVN",
        ),
        "author",
        typeCode="AUT",
    )
    sender_entity = _el(sender, "assignedEntity", classCode="ASSIGNED")
    _el(
        sender_entity,
        "code",
        code="3" if report.unit_type == "hospital" else "1",
        codeSystem=f"{OID}.1.7",
    )
    if report.unit_phone:
        _el(sender_entity, "telecom", value=f"tel:{report.unit_phone}")
    contact = _el(sender_entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
    contact_name = _el(contact, "name")
    _el(
        contact_name,
        "family",
        report.unit_contact or report.reporter_name or None,
        **({} if (report.unit_contact or report.reporter_name) else {"nullFlavor": "UNK"}),
    )
    org_el = _el(
        sender_entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE"
    )
    _el(org_el, "name", report.reporting_unit or organisation_name)

    _copy(event, blocks["characteristics"])


def _causality_labels() -> dict[str, str]:
    """The causality labels in the active language, once per batch (not a lazy lookup per
    field and report)."""
    return {str(value): str(label) for value, label in Causality.choices}


def e2b_document(cases: Iterable[Case], *, now: dt.datetime | None = None) -> bytes:
    """One E2B(R3) batch of ICSRs for these ADR cases (one or many)."""
    now = now or timezone.now()
    # Read once for the whole batch (once per report was most of a 10,000-report export).
    organisation_name = Organisation.current().name
    sender_id = "QLOOP-" + (organisation_name or "ORG")[:20]
    batch = etree.Element(f"{{{V3}}}MCCI_IN200100UV01", nsmap=NS, ITSVersion="XML_1.0")
    cases = list(cases)
    _id(batch, f"QLOOP-{_ts(now)}-{len(cases)}", f"{OID}.3.22")
    _el(batch, "creationTime", value=_ts(now))
    _el(batch, "responseModeCode", code="D")
    _el(batch, "interactionId", extension="MCCI_IN200100UV01", root="2.16.840.1.113883.1.6")
    _el(batch, "name", code="1", displayName="ichicsr", codeSystem=f"{OID}.1.1")
    blocks = _blocks(sender_id, now)
    labels = _causality_labels()
    ids = [c.pk for c in cases]
    reports: dict[int, AdrReport] = {}
    drugs: dict[int, list[AdrDrug]] = {}
    # Two queries for the whole batch, in slices (a bounded IN list), the drugs grouped here
    # rather than through a prefetch (a queryset per report).
    for start in range(0, len(ids), 2000):
        part = ids[start : start + 2000]
        reports.update((r.pk, r) for r in AdrReport.objects.filter(pk__in=part))
        for drug in AdrDrug.objects.filter(report_id__in=part).order_by("id"):
            drugs.setdefault(drug.report_id, []).append(drug)
    for case in cases:
        report = reports[case.pk]
        _icsr(
            batch,
            case,
            report,
            sender_id,
            now,
            organisation_name,
            blocks,
            drugs.get(case.pk, []),
            labels,
        )
    _device(batch, "receiver", "RCV", "CN-NMPA-ADR", f"{OID}.3.14")
    _device(batch, "sender", "SND", sender_id, f"{OID}.3.13")
    return bytes(etree.tostring(batch, xml_declaration=True, encoding="UTF-8", pretty_print=True))
