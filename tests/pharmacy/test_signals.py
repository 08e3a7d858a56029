"""Signals: PRR and ROR with 95 % confidence intervals per drug–reaction pair with at least 3
reports, computed by the database; pairs over the threshold are reviewed and closed."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.pharmacy.signals import close_signal, signal_table
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db


def reports(pharmacy: dict[str, Any], generic: str, reaction: str, n: int) -> None:
    for _ in range(n):
        register_case(
            Registration(
                kind="adr",
                channel="visit",
                contact=ContactData(name=""),
                symptom="",
                detail=adr_detail(
                    pharmacy,
                    reaction=reaction,
                    drugs=[{"role": "suspect", "generic_name": generic}],
                ),
            ),
            actor=pharmacy["pharm"],
        )


def test_prr_and_ror_match_the_textbook_formulas(pharmacy: dict[str, Any]) -> None:
    # a = 4 (甲药, 肝损伤), b = 2 (甲药, other), c = 2 (other drugs, 肝损伤), d = 12.
    reports(pharmacy, "甲药", "肝损伤", 4)
    reports(pharmacy, "甲药", "皮疹", 2)
    reports(pharmacy, "乙药", "肝损伤", 2)
    reports(pharmacy, "乙药", "皮疹", 6)
    reports(pharmacy, "丙药", "头晕", 6)
    pairs = {(p.generic_name, p.reaction): p for p in signal_table()}
    # Only pairs with at least three reports are listed.
    assert set(pairs) == {("甲药", "肝损伤"), ("乙药", "皮疹"), ("丙药", "头晕")}
    p = pairs[("甲药", "肝损伤")]
    a, b, c, d = 4, 2, 2, 12
    assert (p.a, p.b, p.c, p.d) == (a, b, c, d)
    prr = (a / (a + b)) / (c / (c + d))
    ror = (a * d) / (b * c)
    se_prr = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    se_ror = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert p.prr == pytest.approx(prr)
    assert p.ror == pytest.approx(ror)
    assert p.prr_low == pytest.approx(math.exp(math.log(prr) - 1.959964 * se_prr))
    assert p.ror_low == pytest.approx(math.exp(math.log(ror) - 1.959964 * se_ror))
    assert p.ror_high == pytest.approx(math.exp(math.log(ror) + 1.959964 * se_ror))
    assert p.over_threshold
    # A drug with no other reactions (b = 0) has no ROR: no division by zero.
    assert pairs[("丙药", "头晕")].ror is None and not pairs[("丙药", "头晕")].over_threshold


def test_a_pharmacist_reviews_and_closes_a_signal_with_a_reason(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    reports(pharmacy, "甲药", "肝损伤", 4)
    reports(pharmacy, "甲药", "皮疹", 2)
    reports(pharmacy, "乙药", "肝损伤", 2)
    reports(pharmacy, "乙药", "皮疹", 6)
    reports(pharmacy, "丙药", "头晕", 6)
    page = client_as("pharm").get("/pharmacy/signals/")
    assert page.status_code == 200
    assert {(p.generic_name, p.reaction) for p in page.context["open"]} == {
        ("甲药", "肝损伤"),
        ("乙药", "皮疹"),
    }
    with pytest.raises(ValidationError):
        close_signal("甲药", "肝损伤", "  ", actor=pharmacy["pharm"])
    with pytest.raises(PermissionDenied):
        close_signal("甲药", "肝损伤", "已知不良反应", actor=pharmacy["doctor"])
    done = client_as("pharm").post(
        "/pharmacy/signals/",
        {"generic_name": "甲药", "reaction": "肝损伤", "reason": "说明书已载明，已通报临床。"},
    )
    assert done.status_code == 302
    page = client_as("pharm").get("/pharmacy/signals/")
    assert [p.generic_name for p in page.context["open"]] == ["乙药"]
    assert "说明书已载明" in page.content.decode()
    assert client_as("doctor").get("/pharmacy/signals/").status_code == 403
