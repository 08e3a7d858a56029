"""My work and its badge in the navigation list only cases the person can open (issue 9 point 2,
R1.8): the same visibility rule as the case page, for every demo persona of the manufacturer and
of the hospital. Before, a role that moves a state (a physician acknowledging findings, a
restricted quality engineer) saw every case in that state, whatever its department."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Case
from qloop.demo.hospital import HOSPITAL_USERS
from qloop.demo.loader import USERS
from qloop.org.models import Department, Role, User
from qloop.process.engine import take_transition
from qloop.process.tasks import create_task
from tests.clinical.conftest import hospital, report  # noqa: F401 (fixtures)

PERSONAS = [u for u, *_ in USERS] + [u for u, *_ in HOSPITAL_USERS]
BADGE = re.compile(r'href="/my-work/">[^<]*<span class="badge text-bg-light">(\d+)</span>')
LISTED_CASE = re.compile(r'<td class="col-number"><a href="/cases/([^/"]+)/"')


def _work_items(html: str) -> int:
    """What My work lists: case rows, tasks, approvals, summary reports, improvement actions."""
    cases = len(LISTED_CASE.findall(html))
    tasks = len(re.findall(r'action="/tasks/\d+/done/"', html))
    approvals = len(re.findall(r'action="/approvals/\d+/decide/"', html))
    reports = html.count('my-report"')
    actions = html.count('my-improvement-action"')
    return cases + tasks + approvals + reports + actions


def check_my_work(client: Client, persona: str) -> set[str]:
    """Every case linked from My work opens for this person; every case that does not open is
    absent; the badge counts exactly what is listed. Returns the numbers listed."""
    html = client.get(reverse("my-work")).content.decode()
    badge = BADGE.search(html)
    assert badge is not None, persona
    assert int(badge.group(1)) == _work_items(html), persona
    linked = set(re.findall(r'href="/cases/([A-Z]+-\d+-\d+)/', html))
    for number in Case.objects.values_list("number", flat=True):
        status = client.get(f"/cases/{number}/").status_code
        if number in linked:
            assert status == 200, (persona, number)
        else:
            assert status in {200, 404}, (persona, number)
        if status == 404:
            assert number not in html, (persona, number)
    return linked


@pytest.fixture
def cases_everywhere(
    hospital: dict[str, Any],  # noqa: F811
    report: Callable[..., Any],  # noqa: F811
    make_case: Callable[..., Any],
) -> dict[str, Case]:
    """Complaints at several steps (a task for Production, an approval for the general
    manager) and critical results for internal medicine and for surgery."""
    users = hospital
    fresh = make_case()
    investigating = make_case()
    take_transition(investigating, "assign", {"handler": "cs"}, actor=users["cs_head"])
    investigating = take_transition(
        investigating, "forward_to_quality", {"analysis": "需品质部调查"}, actor=users["cs"]
    )
    create_task(investigating, department="PROD", title="复测同批次产品", actor=users["qe"])
    onsite = make_case()
    take_transition(onsite, "assign", {"handler": "cs"}, actor=users["cs_head"])
    take_transition(onsite, "forward_to_quality", {"analysis": "批量问题"}, actor=users["cs"])
    onsite = take_transition(onsite, "request_onsite", {"reason": "需现场取证"}, actor=users["qe"])
    im_finding = report(result_value="2.1")[1][0]
    surgery_finding = report(
        result_value="2.0", ordering_department="SURG", ordering_doctor="", ward="", bed=""
    )[1][0]
    return {
        "fresh": fresh,
        "investigating": investigating,
        "onsite": onsite,
        "im_finding": im_finding,
        "surgery_finding": surgery_finding,
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_my_work_lists_and_counts_only_cases_the_person_can_open(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],
    persona: str,
) -> None:
    client = Client()
    client.force_login(hospital[persona])
    check_my_work(client, persona)


def test_a_physician_sees_the_findings_of_his_department_only(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],
) -> None:
    """The physician acknowledges findings (his role moves them on), but only those he may
    open: his own department's, never surgery's."""
    client = Client()
    client.force_login(hospital["doctor"])
    listed = check_my_work(client, "doctor")
    assert cases_everywhere["im_finding"].number in listed
    assert cases_everywhere["surgery_finding"].number not in listed
    assert client.get(f"/cases/{cases_everywhere['surgery_finding'].number}/").status_code == 404


def test_a_role_that_sees_only_its_department_finds_only_its_department_in_my_work(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],
) -> None:
    """A quality engineer whose role does not see all cases, working in Production: complaints
    under investigation wait for his role, but the ones of other departments are not his to
    see, in the list or in the badge."""
    Role.objects.filter(code="quality_engineer").update(sees_all_cases=False)
    qe: User = User.objects.get(username="qe")
    qe.memberships.update(department=Department.objects.get(code="PROD"))
    qe = User.objects.get(pk=qe.pk)  # forget the role flags read before
    client = Client()
    client.force_login(qe)
    investigating = cases_everywhere["investigating"]
    onsite = cases_everywhere["onsite"]
    listed = check_my_work(client, "qe")
    visible = set(Case.objects.for_user(qe).values_list("number", flat=True))
    assert listed <= visible
    assert onsite.number not in listed
    assert investigating.number in listed  # Production has a task in it (R1.8)
