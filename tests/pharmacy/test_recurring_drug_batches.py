"""Recurring problems in the pharmacy (issue 13): drug quality feedback about the same drug
and batch with similar descriptions is grouped — the key comes from the pharmacy's kind, not
from the core — and the head of pharmacy decides on it."""

from __future__ import annotations

from typing import Any

import pytest

from qloop.cases.models import RecurringGroup, RecurringState
from qloop.cases.recurring import can_decide, dismiss, find_groups, groups_for
from qloop.pharmacy.models import DrugBatch
from tests.pharmacy.test_quality_cases import feedback

pytestmark = pytest.mark.django_db

MOULD = ["颗粒结块并有霉点。", "药品颗粒结块，表面有霉点。", "打开后发现颗粒结块发霉。"]


def test_feedback_on_one_drug_and_batch_is_grouped_and_another_batch_is_not(
    pharmacy: dict[str, Any],
) -> None:
    same = [feedback(pharmacy, description=text) for text in MOULD[:2]]
    other = DrugBatch.objects.create(drug=pharmacy["drug"], batch_number="OTHER-01")
    feedback(pharmacy, description=MOULD[2], batch_number=other.batch_number)
    assert find_groups() == {}

    same.append(feedback(pharmacy, description=MOULD[2]))
    assert find_groups() == {"raised": 1}
    group = RecurringGroup.objects.get()
    assert group.kind == "drug_feedback"
    assert pharmacy["batch"].batch_number in group.label
    assert set(group.cases.values_list("pk", flat=True)) == {c.pk for c in same}


def test_the_head_of_pharmacy_decides_and_manufacturer_quality_does_not(
    pharmacy: dict[str, Any],
) -> None:
    for text in MOULD:
        feedback(pharmacy, description=text)
    find_groups()
    group = RecurringGroup.objects.get()

    assert can_decide(pharmacy["pharm_head"], group)
    assert group in groups_for(pharmacy["pharm_head"])
    assert not can_decide(pharmacy["qe"], group)
    assert group not in groups_for(pharmacy["qe"])  # nor does it see the patients' cases

    dismiss(group, "储存条件不当，非批次问题", actor=pharmacy["pharm_head"])
    group.refresh_from_db()
    assert group.state == RecurringState.DISMISSED
