"""Patients' opinions (R5.4) and special test requests (R5.7), registered and handled as
cases of the department they concern."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from qloop.cases.models import Case
from qloop.process.engine import take_transition

pytestmark = pytest.mark.django_db

OPINION = {"opinion_type": "complaint", "content": "抽血排队四十分钟。", "phone": "13912345678"}


@override_settings(QLOOP_OPINIONS_PER_HOUR=3)
def test_the_public_opinion_page_registers_and_is_rate_limited_per_address(
    hospital: dict[str, Any],
) -> None:
    cache.clear()
    public = Client(REMOTE_ADDR="10.1.2.3")
    page = public.get("/p/opinion/lab/")
    assert page.status_code == 200 and page["Content-Language"] == "zh-hans"
    refused = public.post("/p/opinion/lab/", {"opinion_type": "complaint", "content": ""})
    assert refused.status_code == 422
    for _ in range(3):
        assert public.post("/p/opinion/lab/", OPINION).status_code == 200
    too_many = public.post("/p/opinion/lab/", OPINION)
    assert too_many.status_code == 429
    assert Case.objects.filter(kind="patient_opinion").count() == 3
    # Another address is not held back by the first one.
    assert Client(REMOTE_ADDR="10.9.9.9").post("/p/opinion/lab/", OPINION).status_code == 200
    assert Client().get("/p/opinion/nope/").status_code == 404
    case = Case.objects.filter(kind="patient_opinion").first()
    assert case is not None and case.department.code == "LAB"
    # The laboratory sees the patient's phone; radiology and the manufacturer see nothing.
    lab = Client()
    lab.force_login(hospital["lab"])
    assert "13912345678" in lab.get(f"/cases/{case.number}/").content.decode()
    for persona in ("rad", "gm", "doctor"):
        other = Client()
        other.force_login(hospital[persona])
        assert other.get(f"/cases/{case.number}/").status_code == 404, persona
    case = take_transition(
        case,
        "close",
        {"handling": "增开一个采血窗口。", "answer": "已电话致歉并说明改进。"},
        actor=hospital["lab_head"],
    )
    assert case.state == "closed" and case.patient_opinion.handling == "增开一个采血窗口。"


def test_a_special_test_request_is_reviewed_accepted_and_done(hospital: dict[str, Any]) -> None:
    doctor = Client()
    doctor.force_login(hospital["doctor"])
    bad = doctor.post("/clinical/requests/new/", {"register": "lab", "requesting_department": "IM"})
    assert bad.status_code == 422
    made = doctor.post(
        "/clinical/requests/new/",
        {
            "register": "lab",
            "requesting_department": "IM",
            "test_or_study": "血培养加做厌氧瓶",
            "clinical_reason": "疑似腹腔感染。",
        },
    )
    assert made.status_code == 302
    case = Case.objects.get(kind="special_request")
    assert case.number.startswith("STR-") and case.department.code == "LAB"
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied: not the lab's head
        take_transition(case, "accept", {"plan": "x"}, actor=hospital["doctor"])
    case = take_transition(case, "accept", {"plan": "次日起开展。"}, actor=hospital["lab_head"])
    case = take_transition(case, "complete", {"result": "已开展。"}, actor=hospital["lab"])
    assert case.state == "closed" and case.special_request.result == "已开展。"
    # The requesting department follows it; another clinical department does not.
    assert doctor.get(f"/cases/{case.number}/").status_code == 200
    surgeon = Client()
    surgeon.force_login(hospital["surg_doctor"])
    assert surgeon.get(f"/cases/{case.number}/").status_code == 404
    # The requester is told of the decision.
    from qloop.notify.models import Notification

    assert Notification.objects.filter(user=hospital["doctor"], case=case).exists()
