"""The vocabulary in which processes are declared, and the start-up check of a declaration."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.utils.functional import Promise

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import User

Label = str | Promise
InputType = Literal["text", "user", "departments", "date", "choice"]


@dataclass(frozen=True)
class Who:
    """Who may take a transition: people with one of the roles, and/or the case's handler,
    and/or the owner of its corrective action."""

    roles: frozenset[str] = frozenset()
    handler: bool = False
    owner: bool = False

    def allows(self, user: User, case: Case) -> bool:
        if user.is_superuser:
            return True
        if self.handler and case.handler_id == user.pk:
            return True
        if self.owner:
            ca = getattr(case, "corrective_action", None)
            if ca is not None and ca.owner_id == user.pk:
                return True
        return bool(self.roles) and user.has_role(*self.roles)

    @property
    def is_nobody(self) -> bool:
        return not (self.roles or self.handler or self.owner)


@dataclass(frozen=True)
class Input:
    """A value a person gives when taking a transition."""

    name: str
    label: Label
    type: InputType = "text"
    required: bool = True
    choices: tuple[tuple[str, Label], ...] = ()


@dataclass(frozen=True)
class ClockSpec:
    """A deadline's defaults: how long, when to remind, whom to escalate to after a breach.

    These seed the clock's definition, which administrators may then edit (X3).
    """

    name: str
    hours: int = 0
    working_days: int = 0
    # Short clocks ("tell the clinician within 15 minutes").
    minutes: int = 0
    # What people call it; the manufacturer's clocks take theirs from ClockName.
    label: Label = ""
    # R2.3's answer deadline: its length is the organisation's setting (QLOOP_ANSWER_DAYS,
    # calendar or working days), not a number in the process.
    from_answer_setting: bool = False
    reminders: str = "50%, 80%, 1h"
    # (hours after the breach, "audience tokens"); 0 hours escalates at once (R2.8).
    ladder: tuple[tuple[float, str], ...] = ()
    # Waiting on the customer or a part stops the time.
    pausable: bool = True

    @property
    def amount(self) -> int:
        return self.working_days or self.hours or self.minutes

    @property
    def unit(self) -> str:
        if self.working_days:
            return "working_days"
        return "minutes" if self.minutes and not self.hours else "hours"


@dataclass(frozen=True)
class Transition:
    name: str
    label: Label
    sources: frozenset[str]
    target: str
    who: Who
    inputs: tuple[Input, ...] = ()
    # An input's value may send the case elsewhere: (input name, value, state).
    target_if: tuple[tuple[str, str, str], ...] = ()
    signature: str | None = None  # the meaning the signer must state, e.g. "approved"
    requests_approval: tuple[str, str] | None = None  # (approval kind, deciding role)
    requires_approval: str | None = None  # approval kind that must have been granted
    starts: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()  # audiences: quality, departments, cs, handler, owner, gm
    effect: str = ""  # name of a function in qloop.capa.effects
    attaches_report: bool = False
    same_state: bool = False  # a step that leaves the case where it is (``target`` unused)

    def targets(self) -> set[str]:
        if self.same_state:
            return set(self.sources)
        return {self.target, *(state for _field, _value, state in self.target_if)}

    def edges(self) -> set[tuple[str, str]]:
        """Every (from, to) this step can make; a same-state step only loops on each source."""
        if self.same_state:
            return {(s, s) for s in self.sources}
        return {(s, t) for s in self.sources for t in self.targets()}

    def target_for(self, data: dict[str, Any], current: str) -> str:
        if self.same_state:
            return current
        for name, value, state in self.target_if:
            if data.get(name) == value:
                return state
        return self.target


@dataclass(frozen=True)
class Process:
    kind: str
    version: int
    initial: str
    states: dict[str, Label]
    terminal: frozenset[str]
    transitions: tuple[Transition, ...]
    clocks: dict[str, ClockSpec] = field(default_factory=dict)
    clocks_on_registration: tuple[str, ...] = ()
    # Named sets of role codes: the audiences that ``notify`` tokens name ("cs", "quality",
    # "gm" …) and the roles that rules outside the transitions ask about (who gives tasks,
    # who follows corrective work). Roles are the organisation's data; the process says which.
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    # Named sets of states that rules outside the transitions ask about ("tasks": while
    # departments may be given tasks; "corrective": while the 8D record is written …).
    state_groups: dict[str, frozenset[str]] = field(default_factory=dict)

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def role_set(self, name: str) -> frozenset[str]:
        """The roles a name stands for in this process; empty when the process has none."""
        return self.roles.get(name, frozenset())

    def states_in(self, group: str) -> frozenset[str]:
        return self.state_groups.get(group, frozenset())

    def moved_on_by(self, state: str) -> frozenset[str]:
        """The roles whose step takes a case out of ``state`` (steps that leave it where it
        is, like recording progress, do not count): whom the case waits for there."""
        if state in self.terminal:
            return frozenset()
        return frozenset().union(
            *(
                t.who.roles
                for t in self.transitions
                for src, dst in t.edges()
                if src == state != dst
            )
        )

    def problems(self) -> list[str]:
        """Everything wrong with this declaration; empty when it is sound."""
        where = f"{self.kind} v{self.version}"
        out: list[str] = []
        names = [t.name for t in self.transitions]
        for dup in {n for n in names if names.count(n) > 1}:
            out.append(f"{where}: transition {dup!r} is declared twice")
        if self.initial not in self.states:
            out.append(f"{where}: initial state {self.initial!r} is not a state")
        # The indexes over open cases (cases.Case.Meta) treat "closed" as the one end state.
        for state in sorted(self.terminal - {"closed"}):
            out.append(f"{where}: terminal state {state!r} must be called 'closed'")
        for group, states in self.state_groups.items():
            for state in sorted(states - set(self.states)):
                out.append(f"{where}: state group {group!r} names unknown state {state!r}")
        from qloop.process.audience import AUDIENCES

        builtin_audiences = {"handler", "owner", "departments", "department_head", *AUDIENCES}
        for t in self.transitions:
            for token in t.notify:
                if token not in builtin_audiences and token not in self.roles:
                    out.append(f"{where}: {t.name!r} notifies unknown audience {token!r}")
        for t in self.transitions:
            for state in t.sources | t.targets():
                if state not in self.states:
                    out.append(f"{where}: transition {t.name!r} names unknown state {state!r}")
            if t.who.is_nobody:
                out.append(f"{where}: nobody may take transition {t.name!r}")
            input_names = {i.name for i in t.inputs}
            for name, _value, _state in t.target_if:
                if name not in input_names:
                    out.append(f"{where}: {t.name!r} branches on unknown input {name!r}")
            for clock in (*t.starts, *t.stops):
                if clock not in self.clocks:
                    out.append(f"{where}: {t.name!r} names unknown clock {clock!r}")
        # Reachability from the initial state.
        seen = {self.initial}
        todo = deque([self.initial])
        while todo:
            state = todo.popleft()
            for t in self.transitions:
                for src, nxt in t.edges():
                    if src == state and nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
        for state in self.states:
            if state not in seen:
                out.append(f"{where}: state {state!r} cannot be reached")
        # Every non-terminal state has a way out.
        dead_ends = {
            state
            for state in self.states
            if state not in self.terminal
            and not any(
                src == state and dst != state for t in self.transitions for src, dst in t.edges()
            )
        }
        out += [
            f"{where}: state {state!r} is a dead end" for state in self.states if state in dead_ends
        ]
        # From every state the case can still be closed (no loop that never ends).
        closable = set(self.terminal)
        grew = True
        while grew:
            grew = False
            for t in self.transitions:
                for src, dst in t.edges():
                    if dst in closable and src not in closable:
                        closable.add(src)
                        grew = True
        for state in self.states:
            if state not in closable and state not in dead_ends:
                out.append(f"{where}: from state {state!r} the case can never be closed")
        # A clock that is started must be stopped by some transition.
        started = {c for t in self.transitions for c in t.starts} | set(self.clocks_on_registration)
        stopped = {c for t in self.transitions for c in t.stops}
        for clock in sorted(started - stopped):
            out.append(f"{where}: clock {clock!r} is started but never stopped")
        return out
