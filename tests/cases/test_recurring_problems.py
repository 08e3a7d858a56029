"""Recurring problems (issue 13, R1.5): cases about the same product model with similar
problem text are grouped; a group over the threshold is raised to Quality, who links it to one
corrective action or dismisses it with a reason; a new case joining a dismissed group raises it
again. No mocks: real registrations, the real job, the real pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qloop.capa.models import CorrectiveAction
from qloop.cases.actions import ProductData
from qloop.cases.jobs import find_recurring_problems
from qloop.cases.kinds import KINDS
from qloop.cases.models import Case, RecurringGroup, RecurringGroupEvent, RecurringState
from qloop.cases.recurring import dismiss, find_groups, link_corrective_action
from qloop.org import trail

pytestmark = pytest.mark.django_db

LEAKS = [
    "机械密封处漏水，每分钟滴水二十滴。",
    "泵的机械密封漏水严重，地面有积水。",
    "机械密封漏水，停机后仍然滴水。",
    "机械密封又开始漏水了，滴水不止。",
]
NOISE = "电机运行噪音大，轴承有异响。"


def _product(model: str) -> ProductData:
    return ProductData(specification="50-160", model=model, quantity=1, serial_number="")


@pytest.fixture
def case_of(make_case: Callable[..., Any]) -> Callable[..., Case]:
    def make(symptom: str, model: str = "QL-CP50", days_ago: int = 1) -> Case:
        received = timezone.now() - dt.timedelta(days=days_ago)
        return make_case(symptom=symptom, product=_product(model), received_at=received)

    return make


@pytest.fixture
def group(case_of: Callable[..., Case]) -> RecurringGroup:
    for text in LEAKS[:3]:
        case_of(text)
    find_groups()
    return RecurringGroup.objects.get()


def _numbers(group: RecurringGroup) -> set[str]:
    return set(group.cases.values_list("number", flat=True))


def test_similar_problems_of_one_model_are_raised_and_a_different_problem_is_not_in_it(
    case_of: Callable[..., Case],
) -> None:
    leaks = [case_of(text) for text in LEAKS[:3]]
    noise = case_of(NOISE)

    assert find_groups() == {"raised": 1}
    group = RecurringGroup.objects.get()
    assert group.state == RecurringState.OPEN and group.label == "QL-CP50"
    assert _numbers(group) == {c.number for c in leaks}
    assert noise.number not in _numbers(group)
    assert list(group.events.values_list("verb", flat=True)) == ["raised"]


def test_the_same_problem_on_different_models_is_not_grouped(
    case_of: Callable[..., Case],
) -> None:
    case_of(LEAKS[0], "QL-CP50")
    case_of(LEAKS[1], "QL-CP50")
    case_of(LEAKS[2], "QL-CP65")

    assert find_groups() == {}
    assert not RecurringGroup.objects.exists()


def test_dissimilar_problems_of_one_model_are_not_grouped(case_of: Callable[..., Case]) -> None:
    case_of(LEAKS[0])
    case_of(NOISE)
    case_of("包装箱外观破损，铭牌字迹模糊。")

    assert find_groups() == {}


def test_the_threshold_is_a_setting_in_cases_and_days(
    case_of: Callable[..., Case], settings: Any
) -> None:
    case_of(LEAKS[0], days_ago=100)  # outside the 90 days
    case_of(LEAKS[1])
    case_of(LEAKS[2])
    assert find_groups() == {}

    settings.QLOOP_RECURRING = {"cases": 3, "days": 120}
    assert find_groups() == {"raised": 1}

    case_of(LEAKS[3], "QL-CP80")
    settings.QLOOP_RECURRING = {"cases": 4, "days": 120}
    assert find_groups() == {}  # three is not four: the existing group is left as it is
    assert RecurringGroup.objects.count() == 1


def test_the_job_is_idempotent(case_of: Callable[..., Case]) -> None:
    for text in LEAKS[:3]:
        case_of(text)

    assert find_recurring_problems.call_local() == {"raised": 1}
    assert find_recurring_problems.call_local() == {}
    group = RecurringGroup.objects.get()
    assert group.events.count() == 1 and group.cases.count() == 3


def test_a_registration_raises_the_group_once_stored(
    case_of: Callable[..., Case], django_capture_on_commit_callbacks: Any
) -> None:
    case_of(LEAKS[0])
    case_of(LEAKS[1])
    assert not RecurringGroup.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        third = case_of(LEAKS[2])

    assert third.number in _numbers(RecurringGroup.objects.get())


def test_pharmacy_and_clinical_kinds_say_what_their_cases_are_about() -> None:
    """The grouping key comes from the kind registry, not from a list of kinds in the core."""
    grouped = {kind for kind, spec in KINDS.items() if spec.group_by is not None}
    assert {"complaint", "feedback", "drug_feedback", "counterfeit", "finding"} <= grouped


# --- Quality's decision: link or dismiss ---------------------------------------------------


def _with_corrective_action(case: Case) -> Case:
    CorrectiveAction.objects.create(case=case, plan="更换密封供应商")
    return case


def test_quality_links_the_group_to_a_corrective_action_on_the_page(
    group: RecurringGroup, client_for: Callable[[str], Client]
) -> None:
    member = _with_corrective_action(group.cases.order_by("pk").first())
    qe = client_for("qe")

    page = qe.get(reverse("recurring-list")).content.decode()
    assert group.number in page and member.number in page
    response = qe.post(reverse("recurring-link", args=[group.pk]), {"case": member.number})

    assert response.status_code == 302
    group.refresh_from_db()
    assert group.state == RecurringState.LINKED
    assert group.corrective_action_id == member.pk
    assert group.decided_by is not None and group.decided_by.username == "qe"
    assert list(group.events.values_list("verb", flat=True)) == ["raised", "linked"]
    linked = qe.get(reverse("recurring-list") + "?show=linked").content.decode()
    assert member.number in linked


def test_a_case_without_a_corrective_action_cannot_be_linked(
    group: RecurringGroup, client_for: Callable[[str], Client]
) -> None:
    member = group.cases.first()
    qe = client_for("qe")

    response = qe.post(
        reverse("recurring-link", args=[group.pk]), {"case": member.number}, follow=True
    )

    assert (
        "尚未" in response.content.decode() or "no corrective action" in response.content.decode()
    )
    group.refresh_from_db()
    assert group.state == RecurringState.OPEN and group.events.count() == 1


def test_quality_dismisses_with_a_reason_and_not_without(
    group: RecurringGroup, client_for: Callable[[str], Client]
) -> None:
    qa_head = client_for("qa_head")

    qa_head.post(reverse("recurring-dismiss", args=[group.pk]), {"reason": "  "})
    group.refresh_from_db()
    assert group.state == RecurringState.OPEN

    qa_head.post(reverse("recurring-dismiss", args=[group.pk]), {"reason": "安装不当，非产品问题"})
    group.refresh_from_db()
    assert group.state == RecurringState.DISMISSED and group.reason == "安装不当，非产品问题"
    event = group.events.get(verb="dismissed")
    assert event.comment == "安装不当，非产品问题" and event.actor.username == "qa_head"


@pytest.mark.parametrize(
    ("persona", "page", "decides"),
    [
        ("qe", 200, True),
        ("qa_head", 200, True),
        ("admin", 200, True),
        # Those who see all cases read the page; only Quality decides.
        ("gm", 200, False),
        ("cs", 200, False),
        ("sales", 200, False),
        ("prod", 403, False),
    ],
)
def test_who_reads_and_who_decides(
    group: RecurringGroup,
    client_for: Callable[[str], Client],
    users: dict[str, Any],
    persona: str,
    page: int,
    decides: bool,
) -> None:
    client = client_for(persona)
    assert client.get(reverse("recurring-list")).status_code == page

    response = client.post(reverse("recurring-dismiss", args=[group.pk]), {"reason": "不是"})
    group.refresh_from_db()
    if decides:
        assert response.status_code == 302 and group.state == RecurringState.DISMISSED
    else:
        assert response.status_code in {403, 404} and group.state == RecurringState.OPEN
        # The action itself refuses too, whatever page called it.
        with pytest.raises(PermissionDenied):
            dismiss(group, "不是", actor=users[persona])
        with pytest.raises(PermissionDenied):
            link_corrective_action(group, group.cases.first().number, actor=users[persona])


def test_a_decided_group_is_not_decided_twice(group: RecurringGroup, users: dict[str, Any]) -> None:
    from qloop.process.errors import Conflict

    dismiss(group, "安装不当", actor=users["qe"])
    with pytest.raises(Conflict):
        dismiss(group, "再次", actor=users["qe"])
    with pytest.raises(ValidationError):
        link_corrective_action(
            RecurringGroup.objects.create(kind="complaint", key="x", label="x"),
            "QC-0000-000000",
            actor=users["qe"],
        )


# --- the re-raise rule ---------------------------------------------------------------------


def test_a_dismissed_group_stays_dismissed_for_the_same_cases_and_a_new_case_raises_it_again(
    group: RecurringGroup, case_of: Callable[..., Case], users: dict[str, Any]
) -> None:
    dismiss(group, "安装不当，非产品问题", actor=users["qe"])

    assert find_groups() == {}
    group.refresh_from_db()
    assert group.state == RecurringState.DISMISSED

    newcomer = case_of(LEAKS[3])
    assert find_groups() == {"raised_again": 1}
    group.refresh_from_db()
    assert group.state == RecurringState.OPEN
    assert newcomer.number in _numbers(group) and group.cases.count() == 4
    assert list(group.events.order_by("seq").values_list("verb", flat=True)) == [
        "raised",
        "dismissed",
        "raised_again",
    ]
    assert RecurringGroup.objects.count() == 1  # the same group, its history kept
    report = trail.verify_chain(RecurringGroupEvent)
    assert report.ok and report.entries == 3  # its history is a tamper-evident trail


def test_a_linked_group_takes_new_cases_without_being_raised_again(
    group: RecurringGroup, case_of: Callable[..., Case], users: dict[str, Any]
) -> None:
    member = _with_corrective_action(group.cases.first())
    link_corrective_action(group, member.number, actor=users["qe"])

    case_of(LEAKS[3])
    assert find_groups() == {"joined": 1}
    group.refresh_from_db()
    assert group.state == RecurringState.LINKED and group.cases.count() == 4


def test_the_quality_dashboard_shows_the_raised_groups(
    group: RecurringGroup, client_for: Callable[[str], Client]
) -> None:
    page = client_for("qe").get(reverse("dashboard-board", args=["quality"])).content.decode()

    assert 'id="card-recurring"' in page
    assert f'href="{reverse("recurring-list")}?show=open" data-value="1"' in page
