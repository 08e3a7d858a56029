"""The pharmacy profile's processes: the one place their workflow lives (R3.1–R3.6).

Role sets are named here and asked for by name elsewhere (visibility, pages, escalation).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qloop.pharmacy.models import Finding, Recipient, SendingChannel
from qloop.process.spec import ClockSpec, Input, Process, Transition, Who

PHARMACISTS = frozenset({"pharmacist", "pharmacy_head", "adr_officer"})
PHARMACY_HEAD = frozenset({"pharmacy_head"})
ADR_STAFF = frozenset({"adr_officer", "pharmacy_head", "pharmacist"})
PHYSICIANS = frozenset({"physician", "clinical_head"})
MEDICAL_AFFAIRS = frozenset({"medical_affairs"})

ROLES = {
    "pharmacy": PHARMACISTS,
    "pharmacy_head": PHARMACY_HEAD,
    "medical_affairs": MEDICAL_AFFAIRS,
    # Who decides on a recurring problem of drugs (issue 13): the head of pharmacy.
    "quality": PHARMACY_HEAD,
}

# Clock names (the API's names).
DQ_ANSWER = "dq_answer"
DQ_REGULATOR = "dq_regulator"
CF_REPORT = "counterfeit_report"
ADR_REPORT = "adr_report"
GROUP_REPORT = "adr_group_report"

SENDING_INPUTS = (
    Input(
        "channel",
        _("How"),
        "choice",
        choices=tuple((c.value, c.label) for c in SendingChannel),
    ),
    Input(
        "recipient",
        _("To whom"),
        "choice",
        choices=tuple((c.value, c.label) for c in Recipient),
    ),
    Input("reference", _("Reference returned"), required=False),
    Input("note", _("Note"), required=False),
)

DQ_OPEN = frozenset({"new", "investigating", "resolved"})

DRUG_FEEDBACK_V1 = Process(
    kind="drug_feedback",
    version=1,
    initial="new",
    states={
        "new": _("New"),
        "investigating": _("Finding the cause"),
        "resolved": _("Resolved"),
        "closed": _("Archived for inspection"),
    },
    terminal=frozenset({"closed"}),
    clocks={
        # R3.5: the person who asked hears back; 2 working days unless the organisation
        # changes the clock's definition.
        DQ_ANSWER: ClockSpec(
            DQ_ANSWER,
            working_days=2,
            label=_("Answer to the person who asked"),
            ladder=((0, "department_head"),),
        ),
        # R3.5: a major problem goes to the drug regulator promptly.
        DQ_REGULATOR: ClockSpec(
            DQ_REGULATOR,
            hours=24,
            label=_("Report of a major problem to the drug regulator"),
            reminders="50%, 80%",
            ladder=((0, "role:pharmacy_head"),),
            pausable=False,
        ),
    },
    clocks_on_registration=(DQ_ANSWER,),
    roles=ROLES,
    transitions=(
        Transition(
            "investigate",
            _("Start finding the cause"),
            frozenset({"new"}),
            "investigating",
            Who(PHARMACISTS),
            inputs=(Input("note", _("Note"), required=False),),
        ),
        Transition(
            "flag_major",
            _("Flag as a major problem"),
            DQ_OPEN,
            "new",
            Who(PHARMACISTS),
            inputs=(Input("reason", _("Why it is major")),),
            starts=(DQ_REGULATOR,),
            notify=("pharmacy_head",),
            effect="flag_major_problem",
            same_state=True,
        ),
        Transition(
            "resolve",
            _("Record the cause and resolution"),
            frozenset({"new", "investigating"}),
            "resolved",
            Who(PHARMACISTS),
            inputs=(Input("cause", _("Cause")), Input("resolution", _("Resolution"))),
            effect="resolve_drug_feedback",
        ),
        Transition(
            "answer",
            _("Record the answer to the person who asked"),
            DQ_OPEN,
            "new",
            Who(PHARMACISTS),
            inputs=(Input("answer", _("Answer")),),
            stops=(DQ_ANSWER,),
            effect="answer_drug_feedback",
            same_state=True,
        ),
        Transition(
            "record_sending",
            _("Record a report sent"),
            DQ_OPEN,
            "new",
            Who(PHARMACISTS),
            inputs=SENDING_INPUTS,
            effect="record_sending",
            same_state=True,
        ),
        Transition(
            "archive_for_inspection",
            _("Archive for inspection"),
            frozenset({"resolved"}),
            "closed",
            Who(PHARMACISTS),
            inputs=(Input("note", _("Note"), required=False),),
            stops=(DQ_ANSWER, DQ_REGULATOR),
            effect="archive_drug_feedback",
        ),
    ),
)

CF_OPEN = frozenset({"opened", "testing", "tested", "disposed"})

COUNTERFEIT_V1 = Process(
    kind="counterfeit",
    version=1,
    initial="opened",
    states={
        "opened": _("Opened (立案), stock on hold"),
        "testing": _("Sample at the drug testing institute"),
        "tested": _("Test result recorded"),
        "disposed": _("Stock disposed of"),
        "closed": _("Closed"),
    },
    terminal=frozenset({"closed"}),
    clocks={
        CF_REPORT: ClockSpec(
            CF_REPORT,
            hours=24,
            label=_("Report to the drug regulator"),
            reminders="50%, 80%",
            ladder=((0, "role:pharmacy_head"),),
            pausable=False,
        )
    },
    clocks_on_registration=(CF_REPORT,),
    roles=ROLES,
    transitions=(
        Transition(
            "hold_stock",
            _("Put more stock on hold"),
            frozenset({"opened", "testing", "tested"}),
            "opened",
            Who(PHARMACISTS),
            inputs=(
                Input("store", _("Store")),
                Input("quantity", _("Quantity")),
                Input("unit", _("Unit"), required=False),
            ),
            effect="hold_stock",
            same_state=True,
        ),
        Transition(
            "send_sample",
            _("Send a retained sample to the drug testing institute"),
            frozenset({"opened"}),
            "testing",
            Who(PHARMACISTS),
            inputs=(
                Input("institute", _("Drug testing institute")),
                Input("sent_on", _("Sent on"), "date"),
                Input("quantity", _("Sample quantity"), required=False),
            ),
            effect="send_sample",
        ),
        Transition(
            "record_test_result",
            _("Record the test result"),
            frozenset({"testing"}),
            "tested",
            Who(PHARMACISTS),
            inputs=(
                Input("report_number", _("Test report number")),
                Input(
                    "finding",
                    _("Finding"),
                    "choice",
                    choices=tuple((c.value, c.label) for c in Finding if c != Finding.SUSPECTED),
                ),
                Input("result", _("Test result")),
            ),
            effect="record_test_result",
        ),
        Transition(
            "record_sending",
            _("Record a report sent"),
            CF_OPEN,
            "opened",
            Who(PHARMACISTS),
            inputs=SENDING_INPUTS,
            effect="record_sending",
            same_state=True,
        ),
        Transition(
            "record_disposal",
            _("Record the disposal of the stock"),
            frozenset({"opened", "tested"}),
            "disposed",
            Who(PHARMACISTS),
            inputs=(
                Input("disposal", _("Disposal (destroyed, returned, handed to the regulator…)")),
                Input("quantity", _("Quantity disposed"), required=False),
            ),
            effect="record_disposal",
        ),
        Transition(
            "close",
            _("Close (head of pharmacy signs)"),
            frozenset({"disposed"}),
            "closed",
            Who(PHARMACY_HEAD),
            inputs=(Input("note", _("Note"), required=False),),
            signature="approved",
            stops=(CF_REPORT,),
            effect="close_counterfeit",
        ),
    ),
)

ADR_V1 = Process(
    kind="adr",
    version=1,
    initial="to_report",
    states={
        "to_report": _("To be reported"),
        "reported": _("Reported"),
        "closed": _("Closed"),
    },
    terminal=frozenset({"closed"}),
    clocks={
        # The due time comes from the deadline rule in force (death: at once; new or serious:
        # 15 days; general: 30 days; follow-up: promptly), counted from the awareness date.
        ADR_REPORT: ClockSpec(
            ADR_REPORT,
            hours=24,
            label=_("ADR report (Order 81)"),
            reminders="50%, 80%",
            ladder=((0, "role:adr_officer, role:pharmacy_head"),),
            pausable=False,
        )
    },
    roles=ROLES,
    transitions=(
        Transition(
            "record_sending",
            _("Record a report sent"),
            frozenset({"to_report", "reported"}),
            "reported",
            Who(ADR_STAFF),
            inputs=SENDING_INPUTS,
            effect="record_adr_sending",
        ),
        Transition(
            "open_quality_case",
            _("Open a linked drug quality case for the batch"),
            frozenset({"to_report", "reported"}),
            "to_report",
            Who(ADR_STAFF),
            inputs=(
                Input(
                    "kind",
                    _("Kind"),
                    "choice",
                    choices=(
                        ("drug_feedback", _("Drug quality feedback")),
                        ("counterfeit", _("Counterfeit or substandard drug")),
                    ),
                ),
                Input("where_found", _("Where found (counterfeit only)"), required=False),
            ),
            effect="open_quality_case",
            same_state=True,
        ),
        Transition(
            "close",
            _("Close"),
            frozenset({"reported"}),
            "closed",
            Who(ADR_STAFF),
            inputs=(Input("note", _("Note"), required=False),),
            stops=(ADR_REPORT,),
        ),
    ),
)

ADR_GROUP_V1 = Process(
    kind="adr_group",
    version=1,
    initial="open",
    states={
        "open": _("To be reported at once"),
        "reported": _("Reported"),
        "closed": _("Closed"),
    },
    terminal=frozenset({"closed"}),
    clocks={
        # Order 81 art. 27: a group event is reported immediately by phone or fax.
        GROUP_REPORT: ClockSpec(
            GROUP_REPORT,
            hours=24,
            label=_("Group event report (immediately)"),
            reminders="25%, 50%, 80%",
            ladder=((0, "role:pharmacy_head, role:medical_affairs"),),
            pausable=False,
        )
    },
    clocks_on_registration=(GROUP_REPORT,),
    roles=ROLES,
    transitions=(
        Transition(
            "record_sending",
            _("Record a report sent"),
            frozenset({"open", "reported"}),
            "reported",
            Who(ADR_STAFF),
            inputs=SENDING_INPUTS,
            effect="record_sending",
        ),
        Transition(
            "close",
            _("Close"),
            frozenset({"reported"}),
            "closed",
            Who(ADR_STAFF | MEDICAL_AFFAIRS),
            inputs=(Input("note", _("Note"), required=False),),
            stops=(GROUP_REPORT,),
        ),
    ),
)

PROCESSES = (DRUG_FEEDBACK_V1, COUNTERFEIT_V1, ADR_V1, ADR_GROUP_V1)
