"""Process definitions: the one place the workflow lives (R1.3–R1.8, R2.12).

Each kind of case has a process: states, transitions, who may take each, what each requires,
which clocks it starts and stops, and whom it tells. A running case keeps the version it
started on; a changed process gets a new version next to the old one.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qloop.cases.choices import Channel
from qloop.process.spec import ClockSpec, Input, Label, Process, Transition, Who

CS = frozenset({"cs_clerk", "cs_head"})
QUALITY = frozenset({"quality_engineer", "quality_head"})
QUALITY_HEAD = frozenset({"quality_head"})
GENERAL_MANAGER = frozenset({"general_manager"})
# The complaint's states in which the corrective work goes on: the 8D record is written and
# Customer Service follows its progress (R1.5, R1.7).
CORRECTIVE = frozenset({"corrective_action", "implementing", "standardising", "ready_to_close"})

ANSWER_CHANNELS = tuple(
    (c.value, c.label)
    for c in (Channel.PHONE, Channel.EMAIL, Channel.IM, Channel.VISIT, Channel.LETTER)
)

ANSWER = (
    Input("answer", _("Answer to the customer")),
    Input("answer_channel", _("Answered by"), "choice", choices=ANSWER_CHANNELS),
)

# The steps of Quality's own investigation before the disposition (R1.4, R1.6): whoever takes
# them investigated, whoever signs the disposition approved (the printed report's two boxes).
INVESTIGATION_STEPS = frozenset({"request_onsite", "record_onsite"})

COMPLAINT_STATES: dict[str, Label] = {
    "new": _("New"),
    "cs_review": _("CS review"),
    "investigating": _("Investigating"),
    "cs_handling": _("Handled by CS"),
    "corrective_action": _("Corrective action"),
    "implementing": _("Implementing"),
    "standardising": _("Standardising"),
    "ready_to_close": _("Ready to close"),
    "closed": _("Closed"),
}

COMPLAINT_V1 = Process(
    kind="complaint",
    version=1,
    initial="new",
    states=COMPLAINT_STATES,
    terminal=frozenset({"closed"}),
    clocks={
        # R2.3, R2.8: a late answer goes at once to the handler and the head of CS, then to
        # the general manager a day later.
        "customer_answer": ClockSpec(
            "customer_answer",
            from_answer_setting=True,
            ladder=((0, "handler, role:cs_head"), (24, "role:general_manager")),
        ),
        # R1.4: a late investigation goes to the quality head, then the general manager.
        "investigation": ClockSpec(
            "investigation",
            hours=48,
            ladder=((0, "role:quality_head"), (24, "role:general_manager")),
        ),
    },
    clocks_on_registration=("customer_answer",),
    roles={"cs": CS, "quality": QUALITY, "quality_head": QUALITY_HEAD, "gm": GENERAL_MANAGER},
    state_groups={
        # R1.8: departments are given tasks during investigation and corrective action.
        "tasks": frozenset({"investigating", "corrective_action", "implementing", "standardising"}),
        "corrective": CORRECTIVE,
    },
    transitions=(
        Transition(
            "assign",
            _("Assign a handler"),
            frozenset({"new"}),
            "cs_review",
            Who(CS),
            inputs=(Input("handler", _("Handler"), "user"),),
            notify=("handler",),
            effect="assign_handler",
        ),
        Transition(
            "forward_to_quality",
            _("Forward to Quality"),
            frozenset({"cs_review"}),
            "investigating",
            Who(CS, handler=True),
            inputs=(
                Input("analysis", _("Preliminary analysis")),
                Input("departments", _("Departments concerned"), "departments", required=False),
            ),
            starts=("investigation",),
            notify=("quality", "departments"),
            effect="record_analysis",
        ),
        Transition(
            "resolve_directly",
            _("Answer and close"),
            frozenset({"cs_review"}),
            "closed",
            Who(CS, handler=True),
            inputs=ANSWER,
            stops=("customer_answer",),
            effect="record_answer",
        ),
        Transition(
            # R2.3: the customer hears from us within the answer deadline, even while the
            # investigation or the corrective work goes on.
            "answer_customer",
            _("Record an answer to the customer"),
            frozenset(
                {
                    "cs_review",
                    "investigating",
                    "cs_handling",
                    "corrective_action",
                    "implementing",
                    "standardising",
                    "ready_to_close",
                }
            ),
            "cs_review",
            Who(CS, handler=True),
            inputs=ANSWER,
            stops=("customer_answer",),
            effect="record_answer",
            same_state=True,
        ),
        Transition(
            "request_onsite",
            _("Ask for on-site investigation"),
            frozenset({"investigating"}),
            "investigating",
            Who(QUALITY),
            inputs=(Input("reason", _("Why an on-site investigation is needed")),),
            requests_approval=("onsite", "general_manager"),  # a role code
            notify=("gm",),
            effect="record_onsite_request",
        ),
        Transition(
            "record_onsite",
            _("Record on-site findings"),
            frozenset({"investigating"}),
            "investigating",
            Who(QUALITY),
            inputs=(Input("findings", _("On-site findings")),),
            requires_approval="onsite",
            effect="record_onsite_findings",
        ),
        Transition(
            "dispose_not_ours",
            _("Not our product's problem"),
            frozenset({"investigating"}),
            "cs_handling",
            Who(QUALITY_HEAD),
            inputs=(Input("findings", _("Investigation findings")),),
            signature="approved",
            stops=("investigation",),
            notify=("cs", "handler"),
            effect="dispose_not_ours",
            attaches_report=True,
        ),
        Transition(
            "dispose_ours",
            _("Our product's problem"),
            frozenset({"investigating"}),
            "corrective_action",
            Who(QUALITY),
            inputs=(
                Input("findings", _("Investigation findings")),
                Input("root_cause", _("Root cause")),
            ),
            stops=("investigation",),
            notify=("cs", "handler"),
            effect="dispose_ours",
        ),
        Transition(
            "submit_plan",
            _("Submit the corrective plan"),
            frozenset({"corrective_action"}),
            "implementing",
            Who(QUALITY),
            inputs=(
                Input("plan", _("Corrective plan")),
                Input("owner", _("Owner"), "user"),
                Input("due", _("Due"), "date"),
            ),
            notify=("cs", "owner"),
            effect="submit_plan",
        ),
        Transition(
            "record_progress",
            _("Record progress"),
            frozenset({"implementing"}),
            "implementing",
            Who(QUALITY, owner=True),
            inputs=(Input("note", _("Progress")),),
            notify=("cs",),
        ),
        Transition(
            "verify_effectiveness",
            _("Verify effectiveness"),
            frozenset({"implementing"}),
            "standardising",
            Who(QUALITY),
            inputs=(
                Input(
                    "result",
                    _("Result"),
                    "choice",
                    choices=(("effective", _("Effective")), ("ineffective", _("Ineffective"))),
                ),
                Input("evidence", _("Evidence")),
            ),
            target_if=(("result", "ineffective", "implementing"),),
            signature="verified",
            notify=("cs", "owner"),
            effect="verify_effectiveness",
        ),
        Transition(
            "standardise",
            _("Standardise (固化)"),
            frozenset({"standardising"}),
            "ready_to_close",
            Who(QUALITY),
            inputs=(Input("changes", _("Procedures, drawings or work instructions changed")),),
            notify=("cs",),
            effect="standardise",
        ),
        Transition(
            "close",
            _("Answer and close"),
            frozenset({"cs_handling", "ready_to_close"}),
            "closed",
            Who(CS, handler=True),
            inputs=ANSWER,
            stops=("customer_answer",),
            effect="record_answer",
        ),
        Transition(
            "reopen",
            _("Reopen"),
            frozenset({"closed"}),
            "investigating",
            Who(QUALITY_HEAD),
            inputs=(Input("reason", _("Why the case is reopened")),),
            starts=("investigation",),
            notify=("quality", "cs"),
            effect="reopen",
        ),
    ),
)

SUPPLY_SALES = frozenset({"supply_sales"})
# R2.8: the superior manager to whom what cannot be handled at once goes.
SUPERIOR = GENERAL_MANAGER
FEEDBACK_OPEN = frozenset({"new", "handling", "escalated"})

FEEDBACK_V1 = Process(
    kind="feedback",
    version=1,
    initial="new",
    states={
        "new": _("New"),
        "handling": _("Handling"),
        "escalated": _("Escalated to the superior"),
        "closed": _("Closed"),
    },
    terminal=frozenset({"closed"}),
    clocks={
        "customer_answer": ClockSpec(
            "customer_answer",
            from_answer_setting=True,
            ladder=((0, "handler, department_head"), (24, "role:general_manager")),
        )
    },
    clocks_on_registration=("customer_answer",),
    # "cs": a complaint raised from feedback goes to Customer Service (R2.8, R1.1).
    roles={"intake": SUPPLY_SALES, "gm": SUPERIOR, "cs": CS},
    transitions=(
        Transition(
            "assign",
            _("Assign a handler"),
            frozenset({"new"}),
            "handling",
            Who(SUPPLY_SALES),
            inputs=(Input("handler", _("Handler"), "user"),),
            notify=("handler",),
            effect="assign_handler",
        ),
        Transition(
            # R2.3, R2.11: how it is being handled, written in the handling record.
            "record_handling",
            _("Record handling"),
            frozenset({"handling"}),
            "handling",
            Who(SUPPLY_SALES, handler=True),
            inputs=(Input("handling", pgettext_lazy("feedback record", "Handling")),),
            effect="record_feedback_handling",
            same_state=True,
        ),
        Transition(
            # R2.3: the answer within two days stops the answer clock; the case stays open.
            "answer_customer",
            _("Record an answer to the customer"),
            FEEDBACK_OPEN,
            "handling",
            Who(SUPPLY_SALES, handler=True),
            inputs=ANSWER,
            stops=("customer_answer",),
            effect="record_answer",
            same_state=True,
        ),
        Transition(
            # R2.8: what cannot be handled at once goes at once to the superior manager.
            "escalate",
            _("Escalate to the superior"),
            frozenset({"new", "handling"}),
            "escalated",
            Who(SUPPLY_SALES, handler=True),
            inputs=(Input("reason", _("Why it cannot be handled at once")),),
            notify=("gm",),
            effect="escalate_feedback",
        ),
        Transition(
            # The superior decides the corrective measures and hands the case back.
            "instruct",
            _("Give instructions"),
            frozenset({"escalated"}),
            "handling",
            Who(SUPERIOR),
            inputs=(Input("instructions", _("Instructions and corrective measures")),),
            notify=("handler",),
            effect="instruct_feedback",
        ),
        Transition(
            # R2.8: a complaint about our product goes to the complaint process (document 1).
            "raise_complaint",
            _("Raise a complaint case"),
            FEEDBACK_OPEN,
            "handling",
            Who(SUPPLY_SALES, handler=True),
            inputs=(Input("reason", _("Why this needs a complaint case")),),
            notify=("cs",),
            effect="raise_complaint",
            same_state=True,
        ),
        Transition(
            "close",
            _("Record the result and close"),
            frozenset({"handling"}),
            "closed",
            Who(SUPPLY_SALES, handler=True),
            inputs=(
                Input("result", _("Result")),
                Input("answer", _("Answer to the customer"), required=False),
                Input(
                    "answer_channel",
                    _("Answered by"),
                    "choice",
                    required=False,
                    choices=ANSWER_CHANNELS,
                ),
            ),
            stops=("customer_answer",),
            effect="close_feedback",
        ),
    ),
)

# The registry: every process of every profile, each version (running cases keep theirs).
PROCESSES: dict[tuple[str, int], Process] = {}
CURRENT_VERSION: dict[str, int] = {}
STATES: dict[str, dict[str, Label]] = {}
# Every kind's end states; mutated in place by ``register_process`` so importers see additions.
CLOSED_STATES: set[str] = set()
INITIAL_STATE = "new"


def register_process(process: Process, *, current: bool = True) -> Process:
    """Add a process (a profile calls this in its ``AppConfig.ready``); ``current`` makes it the
    version new cases of its kind start on. Soundness is checked once all apps are ready."""
    key = (process.kind, process.version)
    if key in PROCESSES and PROCESSES[key] is not process:
        raise ImproperlyConfigured(f"Process {process.kind} v{process.version} is declared twice")
    PROCESSES[key] = process
    if current:
        CURRENT_VERSION[process.kind] = process.version
        STATES[process.kind] = process.states
    CLOSED_STATES.update(process.terminal)
    return process


register_process(COMPLAINT_V1)
register_process(FEEDBACK_V1)


def process_for(kind: str, version: int | None = None) -> Process:
    return PROCESSES[(kind, version or CURRENT_VERSION[kind])]


def clock_names() -> list[str]:
    """Every clock any registered process declares, in declaration order."""
    return list(dict.fromkeys(n for p in PROCESSES.values() for n in p.clocks))


def clock_label(name: str) -> Label:
    from qloop.process.models import ClockName

    if name in ClockName.values:
        return ClockName(name).label
    for process in PROCESSES.values():
        spec = process.clocks.get(name)
        if spec is not None and spec.label:
            return spec.label
    return name


def state_label(kind: str, state: str) -> Label:
    return STATES.get(kind, {}).get(state, state)


def all_states() -> dict[str, Label]:
    """Every state of every kind, for filters that span kinds."""
    merged: dict[str, Label] = {}
    for states in STATES.values():
        for code, label in states.items():
            merged.setdefault(code, label)
    return merged


def states_moved_by(roles: set[str]) -> dict[str, set[str]]:
    """Per kind, the open states whose next step one of these roles takes (not counting steps
    that stay in the state, like recording progress): where a case waits for them."""
    out: dict[str, set[str]] = {}
    for kind, version in CURRENT_VERSION.items():
        process = PROCESSES[(kind, version)]
        out[kind] = {state for state in process.states if process.moved_on_by(state) & roles}
    return out


def check_definitions() -> None:
    """Refuse to start with an unsound process (run once every app is ready)."""
    from qloop.cases.kinds import KINDS
    from qloop.process.effects import EFFECTS

    problems = [p for process in PROCESSES.values() for p in process.problems()]
    for process in PROCESSES.values():
        where = f"{process.kind} v{process.version}"
        if process.kind not in KINDS:
            problems.append(f"{where}: no kind {process.kind!r} is registered")
        for t in process.transitions:
            if t.effect and t.effect not in EFFECTS:
                problems.append(f"{where}: {t.name!r} names unknown effect {t.effect!r}")
    for kind in KINDS:
        if kind not in CURRENT_VERSION:
            problems.append(f"kind {kind!r} has no process")
    if problems:
        raise ImproperlyConfigured("Process definitions are unsound:\n" + "\n".join(problems))
