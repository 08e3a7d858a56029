"""The clinical profile's processes: the one place their workflow lives (R5.1–R5.7).

Role sets are named here and asked for by name elsewhere (visibility, pages), so a hospital
that calls its roles differently changes them in one place.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qloop.clinical.models import CallOutcome, CaseClassification, ReceiverRole
from qloop.process.spec import ClockSpec, Input, Label, Process, Transition, Who

LABORATORY = frozenset({"lab_technologist", "lab_head"})
RADIOLOGY = frozenset({"radiology_technologist", "radiology_head"})
DEPARTMENT_STAFF = LABORATORY | RADIOLOGY
DEPARTMENT_HEADS = frozenset({"lab_head", "radiology_head"})
CLINICIANS = frozenset({"physician", "clinical_head", "nurse"})
MEDICAL_AFFAIRS = frozenset({"medical_affairs"})
INFECTION_CONTROL = frozenset({"infection_control"})

ROLES = {
    "department": DEPARTMENT_STAFF,
    "department_heads": DEPARTMENT_HEADS,
    "clinicians": CLINICIANS,
    "medical_affairs": MEDICAL_AFFAIRS,
    "infection_control": INFECTION_CONTROL,
    # Who decides on a recurring problem of a test (issue 13): medical affairs (医务处).
    "quality": MEDICAL_AFFAIRS,
}

CLINICIAN_ACK = "clinician_ack"
DISEASE_REPORT = "disease_report"

FINDING_V1 = Process(
    kind="finding",
    version=1,
    initial="awaiting_ack",
    states={
        "awaiting_ack": _("Awaiting acknowledgement"),
        "acknowledged": _("Acknowledged"),
        "closed": _("Closed"),
    },
    terminal=frozenset({"closed"}),
    clocks={
        # R5.5: the clinician hears of the finding at once; nobody acknowledging goes to the
        # heads of the departments, then to the medical affairs office (医务科).
        CLINICIAN_ACK: ClockSpec(
            CLINICIAN_ACK,
            minutes=15,
            label=_("Clinician's acknowledgement"),
            reminders="50%",
            ladder=(
                (0, "ordering_department_head, department_head"),
                (0.25, "role:medical_affairs"),
            ),
            pausable=False,
        )
    },
    roles=ROLES,
    transitions=(
        Transition(
            # The clinician signs that the result was received (签收).
            "acknowledge",
            _("Acknowledge receipt (sign)"),
            frozenset({"awaiting_ack"}),
            "acknowledged",
            Who(CLINICIANS),
            inputs=(Input("note", _("Note"), required=False),),
            signature="received",
            stops=(CLINICIAN_ACK,),
            notify=("handler",),
            effect="acknowledge_finding",
        ),
        Transition(
            # Every call is kept; only a read-back that matches stops the clock.
            "record_call",
            _("Record a call"),
            frozenset({"awaiting_ack"}),
            "awaiting_ack",
            Who(DEPARTMENT_STAFF | MEDICAL_AFFAIRS),
            inputs=(
                Input("receiver_name", _("Who answered"), required=False),
                Input(
                    "receiver_role",
                    _("Their role"),
                    "choice",
                    required=False,
                    choices=tuple((c.value, c.label) for c in ReceiverRole),
                ),
                Input(
                    "outcome",
                    _("Outcome"),
                    "choice",
                    choices=tuple((c.value, c.label) for c in CallOutcome),
                ),
                Input("readback_name", _("Patient name read back"), required=False),
                Input("readback_patient_id", _("Record number read back"), required=False),
                Input("readback_result", _("Result read back"), required=False),
                Input("note", _("Note"), required=False),
            ),
            target_if=(("outcome", CallOutcome.CONFIRMED, "acknowledged"),),
            notify=("clinicians_concerned",),
            effect="record_call_attempt",
        ),
        Transition(
            "close",
            _("Record the clinical action and close"),
            frozenset({"acknowledged"}),
            "closed",
            Who(CLINICIANS | DEPARTMENT_STAFF),
            inputs=(Input("action", _("Clinical action taken")),),
            effect="record_clinical_action",
        ),
    ),
)

DISEASE_REPORT_V1 = Process(
    kind="disease_report",
    version=1,
    initial="to_report",
    states={
        "to_report": _("To be reported"),
        "closed": _("Reported"),
    },
    terminal=frozenset({"closed"}),
    clocks={
        # 《传染病防治法》 and 《传染病信息报告管理规范》: 2 hours for class A and those managed
        # as class A, 24 hours for the others; the rule in force sets the due time.
        DISEASE_REPORT: ClockSpec(
            DISEASE_REPORT,
            hours=24,
            label=_("Infectious-disease report"),
            reminders="50%",
            ladder=((0, "department_head, role:infection_control"), (1, "role:medical_affairs")),
            pausable=False,
        )
    },
    roles=ROLES,
    transitions=(
        Transition(
            "record_report",
            _("Record the direct report to the CDC"),
            frozenset({"to_report"}),
            "closed",
            Who(INFECTION_CONTROL),
            inputs=(
                Input("network_report_id", _("Direct-report number")),
                Input(
                    "classification",
                    _("Case classification"),
                    "choice",
                    choices=tuple((c.value, c.label) for c in CaseClassification),
                ),
                Input("note", _("Note"), required=False),
            ),
            stops=(DISEASE_REPORT,),
            effect="record_disease_report",
        ),
    ),
)

DEPARTMENT_CASE_STATES: dict[str, Label] = {
    "new": _("New"),
    "handling": _("Handling"),
    "closed": _("Closed"),
}

PATIENT_OPINION_V1 = Process(
    kind="patient_opinion",
    version=1,
    initial="new",
    states=DEPARTMENT_CASE_STATES,
    terminal=frozenset({"closed"}),
    roles=ROLES,
    transitions=(
        Transition(
            "assign",
            _("Assign a handler"),
            frozenset({"new"}),
            "handling",
            Who(DEPARTMENT_HEADS),
            inputs=(Input("handler", _("Handler"), "user"),),
            notify=("handler",),
            effect="assign_handler",
        ),
        Transition(
            "close",
            _("Record handling and close"),
            frozenset({"new", "handling"}),
            "closed",
            Who(DEPARTMENT_HEADS, handler=True),
            inputs=(
                Input("handling", pgettext_lazy("clinical record", "Handling")),
                Input("answer", _("Answer to the patient"), required=False),
            ),
            effect="close_patient_opinion",
        ),
    ),
)

SPECIAL_REQUEST_V1 = Process(
    kind="special_request",
    version=1,
    initial="new",
    states={
        "new": _("Under review"),
        "accepted": _("Accepted"),
        "closed": _("Closed"),
    },
    terminal=frozenset({"closed"}),
    roles=ROLES,
    transitions=(
        Transition(
            "accept",
            _("Accept with a plan"),
            frozenset({"new"}),
            "accepted",
            Who(DEPARTMENT_HEADS),
            inputs=(Input("plan", _("Plan")),),
            notify=("clinicians_concerned",),
            effect="accept_special_request",
        ),
        Transition(
            "decline",
            _("Decline with a reason"),
            frozenset({"new"}),
            "closed",
            Who(DEPARTMENT_HEADS),
            inputs=(Input("reason", _("Reason")),),
            notify=("clinicians_concerned",),
            effect="decline_special_request",
        ),
        Transition(
            "complete",
            _("Record the result and close"),
            frozenset({"accepted"}),
            "closed",
            Who(DEPARTMENT_STAFF),
            inputs=(Input("result", _("Result")),),
            notify=("clinicians_concerned",),
            effect="complete_special_request",
        ),
    ),
)

CLINICIAN_ISSUE_V1 = Process(
    kind="clinician_issue",
    version=1,
    initial="new",
    states=DEPARTMENT_CASE_STATES,
    terminal=frozenset({"closed"}),
    roles=ROLES,
    transitions=(
        Transition(
            # R5.3: important problems are taken up with the clinical department promptly.
            "take_up",
            _("Take up with the clinical department"),
            frozenset({"new"}),
            "handling",
            Who(DEPARTMENT_STAFF),
            inputs=(Input("discussion", _("What was agreed with the department")),),
            effect="take_up_issue",
        ),
        Transition(
            "close",
            _("Record the improvement and close"),
            frozenset({"new", "handling"}),
            "closed",
            Who(DEPARTMENT_STAFF),
            inputs=(Input("improvement", _("Improvement")),),
            effect="close_issue",
        ),
    ),
)

PROCESSES = (
    FINDING_V1,
    DISEASE_REPORT_V1,
    PATIENT_OPINION_V1,
    SPECIAL_REQUEST_V1,
    CLINICIAN_ISSUE_V1,
)
