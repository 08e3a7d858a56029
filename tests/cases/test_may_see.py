"""Whether a person may open a case is decided by the one visibility rule every list uses
(R1.8, X5), whether its SQL is built afresh or kept per person (``access.may_see``, issue 14):
for every demo persona of the manufacturer and the hospital and every case, both answers agree,
and a change to the person's roles, departments or account, or to the profiles switched on,
shows at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from qloop.cases import access
from qloop.cases.models import Case
from qloop.org.models import Department, Membership, Organisation, Role, User
from tests.clinical.conftest import hospital, report  # noqa: F401 (fixtures)
from tests.web.test_my_work_visibility import PERSONAS, cases_everywhere  # noqa: F401


def fresh(user: User) -> User:
    """The person as the next request reads them."""
    return User.objects.get(pk=user.pk)


def rule(user: User, case: Case) -> bool:
    return Case.objects.for_user(user).filter(pk=case.pk).exists()


def test_every_persona_sees_exactly_what_the_rule_lets_them(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],  # noqa: F811
) -> None:
    cases = list(Case.objects.all())
    seen = 0
    for persona in PERSONAS:
        user = fresh(hospital[persona])
        for case in cases:
            expected = rule(user, case)
            assert access.may_see(user, case.pk) is expected, (persona, case.number)
            seen += expected
    assert 0 < seen < len(PERSONAS) * len(cases)  # some see some, nobody sees all by accident


def test_a_change_to_the_person_shows_at_once(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],  # noqa: F811
) -> None:
    finding = cases_everywhere["im_finding"]
    head = hospital["lab_head"]  # sees it as the laboratory's, not as the one to be told
    assert access.may_see(fresh(head), finding.pk) is rule(fresh(head), finding) is True

    Membership.objects.filter(user=head).delete()
    assert access.may_see(fresh(head), finding.pk) is rule(fresh(head), finding) is False
    with pytest.raises(Http404):
        access.get_case_for_user(fresh(head), finding.number)

    Membership.objects.create(
        user=head,
        department=Department.objects.get(code="MED"),
        role=Role.objects.get(code="medical_affairs"),
    )
    assert access.may_see(fresh(head), finding.pk) is rule(fresh(head), finding) is True

    User.objects.filter(pk=head.pk).update(is_active=False)
    assert access.may_see(fresh(head), finding.pk) is False


def test_a_profile_switched_off_takes_its_cases_out_of_sight(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],  # noqa: F811
) -> None:
    finding = cases_everywhere["im_finding"]
    lab_head = fresh(hospital["lab_head"])
    assert access.may_see(lab_head, finding.pk)
    org = Organisation.current()
    org.profiles = [p for p in org.profiles if p != "clinical"]
    org.save()  # the process's copy of the profiles goes with the save
    assert access.may_see(lab_head, finding.pk) is rule(lab_head, finding) is False
