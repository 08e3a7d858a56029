"""The clinical part of the demo: the hospital's registers with months of believable entries,
findings acknowledged by signature or call (a few late, one still waiting), report cards,
patients' opinions and special requests (document 5).

Results are entered through the same actions as the pages, with times in the past; the demo
is idempotent (a second run adds nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from qloop.demo.registry import DemoPart
from qloop.org.models import Department, Profile, Role

# user name, name, department, role (beside the shared hospital's; heads and nurses of the
# clinical departments, so escalations reach somebody)
EXTRA_USERS = [
    ("im_head", "黄志明", "IM", "clinical_head"),
    ("nurse_im", "杨丽", "IM", "nurse"),
    ("surg_doctor", "何建军", "SURG", "physician"),
    ("ped_doctor", "罗晓燕", "PED", "physician"),
    ("er_doctor", "梁海涛", "ER", "physician"),
    ("rad_head", "许国栋", "RAD", "radiology_head"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌海燕"

# test code, name, unit, reference range, normal low, normal high, decimals, specimen
LAB_TESTS = [
    ("K", "血钾", "mmol/L", "3.5-5.3", 3.5, 5.3, 1, "血清"),
    ("NA", "血钠", "mmol/L", "137-147", 137, 147, 0, "血清"),
    ("GLU", "血糖", "mmol/L", "3.9-6.1", 3.9, 6.1, 1, "血浆"),
    ("HGB", "血红蛋白", "g/L", "115-150", 115, 150, 0, "全血"),
    ("PLT", "血小板", "10^9/L", "125-350", 125, 350, 0, "全血"),
    ("WBC", "白细胞", "10^9/L", "3.5-9.5", 3.5, 9.5, 1, "全血"),
]
TEXT_TESTS = [
    ("HBSAG", "乙肝表面抗原", "阴性", "阳性", "血清"),
    ("TPPA", "梅毒螺旋体抗体", "阴性", "阳性", "血清"),
    ("FLUA", "甲型流感病毒抗原", "阴性", "阳性", "鼻咽拭子"),
    ("17576-0", "志贺菌培养", "未检出", "检出宋内志贺菌", "粪便"),
]
STUDIES = [
    ("CXR", "胸部正位片", "双肺纹理清晰，心影不大。", "右上肺片状影，建议复查。"),
    ("CT-HEAD", "头颅CT平扫", "颅内未见明显异常。", "左侧基底节区出血，约 25 ml。"),
    ("CXR-TB", "胸部CT（结核筛查）", "未见活动性病灶。", "右上肺空洞性病变，提示活动性肺结核。"),
]

OPINIONS = [
    ("complaint", "抽血排队时间太长，等了四十多分钟。"),
    ("suggestion", "希望报告可以在手机上查看。"),
    ("praise", "采血的护士很耐心，一点都不疼。"),
    ("complaint", "拍片的时候没有告知需要取下项链，又重新排队。"),
    ("suggestion", "放射科候诊区的座位太少。"),
]
REQUESTS = [
    ("IM", "lab", "血培养加做厌氧瓶", "疑似腹腔感染，需排除厌氧菌。"),
    ("PED", "lab", "微量采血测血铅", "儿童铅暴露筛查，静脉采血困难。"),
    ("SURG", "rad", "术前加做下肢血管超声", "拟行关节置换，需评估深静脉血栓。"),
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _ensure_users(base: dict[str, Any]) -> dict[str, Any]:
    """The laboratory's and radiology's extra people, and the nurse's role, beside the
    hospital's."""
    from qloop.demo.loader import put_people
    from qloop.rows import put_rows

    put_rows(
        Role,
        "code",
        [{"code": "nurse", "name": "护士", "name_zh_hant": "護士", "name_en": "Nurse"}],
        update=False,
    )
    roles = {r.code: r for r in Role.objects.filter(code__in={u[3] for u in EXTRA_USERS})}
    depts = {d.code: d for d in Department.objects.filter(code__in={u[2] for u in EXTRA_USERS})}
    return {**base, **put_people(EXTRA_USERS, depts, roles, email_domain="hospital.example.com")}


def load_clinical(options: dict[str, Any]) -> dict[str, int]:
    from qloop.clinical.models import ResultEntry, Ward
    from qloop.clinical.setup import load_clinical_setup
    from qloop.demo.hospital import load_hospital
    from qloop.org.models import Organisation

    users = _ensure_users(load_hospital())
    setup = load_clinical_setup()
    org = Organisation.current()
    if Profile.CLINICAL not in org.profiles:
        org.profiles = [*org.profiles, Profile.CLINICAL]
        org.save()
    wards: dict[str, Ward] = setup["wards"]
    wards["IM1"].staff.add(users["nurse_im"])
    if ResultEntry.objects.exists():
        return {}
    # Four months for the full demo (300 complaints), two weeks for a small one (tests).
    days = max(14, min(120, int(options.get("cases", 300)) * 2 // 5))
    return _history(users, setup, days=days)


def _history(users: dict[str, Any], setup: dict[str, Any], *, days: int) -> dict[str, int]:
    """Months of register entries; findings acknowledged as they would be in a real
    laboratory (most within minutes, some late, one waiting now)."""
    from qloop.clinical.actions import ResultData, register_result
    from qloop.clinical.models import CallOutcome, Sex
    from qloop.process.engine import take_transition

    rng = random.Random(20261)  # noqa: S311 - demo data
    registers = setup["registers"]
    wards = list(setup["wards"].values())
    doctors = {
        "IM": users["doctor"],
        "SURG": users["surg_doctor"],
        "PED": users["ped_doctor"],
        "ER": users["er_doctor"],
    }
    now = timezone.now()
    start = now - dt.timedelta(days=days)
    results = findings = late = 0
    for day in range(days):
        base = timezone.localtime(start + dt.timedelta(days=day)).replace(
            hour=7, minute=30, second=0, microsecond=0
        )
        for i in range(rng.randint(10, 16)):
            ward = rng.choice(wards)
            dept = ward.department.code
            doctor = doctors.get(dept)
            reported = base + dt.timedelta(minutes=rng.randint(20, 600) + i)
            if reported >= now - dt.timedelta(minutes=30):
                continue
            is_study = rng.random() < 0.2
            is_child = dept == "PED"
            age = Decimal(rng.randint(1, 14) if is_child else rng.randint(18, 90))
            sex = rng.choice([Sex.MALE, Sex.FEMALE])
            reporter = users["rad"] if is_study else users["lab"]
            if is_study:
                code, name, normal, abnormal = rng.choice(STUDIES)
                bad = rng.random() < 0.06
                data = ResultData(
                    patient_name=_name(rng),
                    patient_id=f"{rng.randint(100000, 999999)}",
                    test_code=code,
                    test_name=name,
                    result_value=abnormal if bad else normal,
                    abnormal_flag="AA" if bad and code == "CT-HEAD" else ("A" if bad else ""),
                    specimen="",
                    ordering_department=dept,
                    ordering_doctor_name=doctor.printed_name if doctor else "",
                    ordering_doctor=doctor.username if doctor else "",
                    ward=ward.code,
                    bed=str(rng.randint(1, ward.beds or 20)),
                    sex=sex,
                    age_years=age,
                    collected_at=reported - dt.timedelta(hours=2),
                    received_at=reported - dt.timedelta(hours=1, minutes=50),
                    reported_at=reported,
                )
                register = registers["rad"]
            else:
                if rng.random() < 0.2:
                    code, name, neg, pos, specimen = rng.choice(TEXT_TESTS)
                    value, unit, ref, flag = (
                        (pos, "", "阴性", "A") if rng.random() < 0.08 else (neg, "", "阴性", "")
                    )
                else:
                    code, name, unit, ref, lo, hi, dec, specimen = rng.choice(LAB_TESTS)
                    roll = rng.random()
                    if roll < 0.03:
                        number = lo * rng.uniform(0.55, 0.75)
                    elif roll < 0.06:
                        number = hi * rng.uniform(1.3, 1.6)
                    else:
                        number = rng.uniform(lo * 0.9, hi * 1.1)
                    value = f"{number:.{dec}f}"
                    flag = "L" if number < lo else "H" if number > hi else ""
                data = ResultData(
                    patient_name=_name(rng),
                    patient_id=f"{rng.randint(100000, 999999)}",
                    test_code=code,
                    test_name=name,
                    result_value=value,
                    unit=unit,
                    reference_range=ref,
                    abnormal_flag=flag,
                    specimen=specimen,
                    ordering_department=dept,
                    ordering_doctor_name=doctor.printed_name if doctor else "",
                    ordering_doctor=doctor.username if doctor else "",
                    ward=ward.code,
                    bed=str(rng.randint(1, ward.beds or 20)),
                    sex=sex,
                    age_years=age,
                    accession=f"S{reported:%y%m%d}{i:04d}",
                    collected_at=reported - dt.timedelta(minutes=rng.randint(60, 180)),
                    received_at=reported - dt.timedelta(minutes=rng.randint(30, 55)),
                    reported_at=reported,
                )
                register = registers["lab"]
            entry, opened = register_result(data, register=register, actor=reporter)
            results += 1
            for case in opened:
                findings += 1
                minutes = rng.choice([3, 5, 6, 8, 9, 11, 12, 14, 18, 25])
                if minutes > case.finding.limit_minutes:
                    late += 1
                when = reported + dt.timedelta(minutes=minutes)
                if when > now:
                    continue
                if rng.random() < 0.4 and case.finding.recipient_user is not None:
                    take_transition(
                        case,
                        "acknowledge",
                        {"note": "已阅，已处理"},
                        actor=case.finding.recipient_user,
                        signature={"meaning": "received", "imported": True},
                        at=when,
                    )
                else:
                    if rng.random() < 0.25:
                        take_transition(
                            case,
                            "record_call",
                            {"outcome": CallOutcome.NOT_REACHED, "note": "病区电话占线"},
                            actor=reporter,
                            at=when - dt.timedelta(minutes=2),
                        )
                    take_transition(
                        case,
                        "record_call",
                        {
                            "receiver_name": "杨丽",
                            "receiver_role": "nurse",
                            "outcome": CallOutcome.CONFIRMED,
                            "readback_name": entry.patient_name,
                            "readback_patient_id": entry.patient_id,
                            "readback_result": entry.result_value,
                        },
                        actor=reporter,
                        at=when,
                    )
                if case.finding.recipient_user is not None:
                    take_transition(
                        case,
                        "close",
                        {"action": "已通知主管医师，调整治疗方案并复查。"},
                        actor=case.finding.recipient_user,
                        at=when + dt.timedelta(minutes=30),
                    )
    made = {"results": results, "findings": findings, "late_findings": late}
    made.update(_waiting_now(users, registers))
    made.update(_casework(users, registers, rng, days))
    return made


def _casework(
    users: dict[str, Any], registers: dict[str, Any], rng: random.Random, days: int
) -> dict[str, int]:
    """Patients' opinions, special requests and two rounds of feedback forms, each handled
    as a department would."""
    from qloop.cases.actions import ContactData, Registration, register_case
    from qloop.clinical import feedback
    from qloop.clinical.models import FeedbackForm, FeedbackSchedule
    from qloop.process.engine import take_transition
    from qloop.surveys.actions import create_from_template

    now = timezone.now()
    opinions = 0
    for i, (kind, text) in enumerate(OPINIONS):
        when = now - dt.timedelta(days=rng.randint(2, max(3, days - 1)), hours=i)
        register = registers["rad"] if "拍片" in text or "放射" in text else registers["lab"]
        case = register_case(
            Registration(
                kind="patient_opinion",
                channel="web" if i % 2 else "visit",
                contact=ContactData(name=""),
                symptom="",
                received_at=when,
                detail={
                    "register": register.code,
                    "opinion_type": kind,
                    "content": text,
                    "patient_name": _name(rng) if i % 2 else "",
                    "phone": f"139{rng.randint(10000000, 99999999)}" if i % 2 else "",
                    "from_public_page": bool(i % 2),
                },
            ),
            actor=None if i % 2 else users["lab"],
            registered_at=when,
        )
        opinions += 1
        if i < 3:
            head = users["lab_head"] if register.code == "lab" else users["rad_head"]
            take_transition(
                case,
                "close",
                {"handling": "已向病人了解情况并改进流程。", "answer": "已电话答复病人。"},
                actor=head,
                at=when + dt.timedelta(days=1),
            )
    requests = 0
    for i, (dept, register, test, reason) in enumerate(REQUESTS):
        when = now - dt.timedelta(days=10 + 7 * i)
        doctor = {"IM": users["doctor"], "PED": users["ped_doctor"], "SURG": users["surg_doctor"]}[
            dept
        ]
        case = register_case(
            Registration(
                kind="special_request",
                channel="web",
                contact=ContactData(name=""),
                symptom="",
                received_at=when,
                detail={
                    "register": register,
                    "requesting_department": dept,
                    "test_or_study": test,
                    "clinical_reason": reason,
                },
            ),
            actor=doctor,
            registered_at=when,
        )
        requests += 1
        head = users["lab_head"] if register == "lab" else users["rad_head"]
        if i == 0:
            take_transition(
                case,
                "accept",
                {"plan": "次日起常规开展，标本 2 小时内送达。"},
                actor=head,
                at=when + dt.timedelta(hours=5),
            )
            take_transition(
                case,
                "complete",
                {"result": "已开展 12 例。"},
                actor=users["lab"],
                at=when + dt.timedelta(days=3),
            )
        elif i == 1:
            take_transition(
                case,
                "accept",
                {"plan": "使用末梢血铅检测仪，每周二、四开展。"},
                actor=head,
                at=when + dt.timedelta(hours=6),
            )
    schedule = FeedbackSchedule.objects.create(
        register=registers["lab"],
        questionnaire=create_from_template("clinical_feedback", actor=None),
        collector=users["lab_head"],
        every_days=30,
        days_to_return=10,
        next_send_on=timezone.localdate(now - dt.timedelta(days=61)),
    )
    schedule.departments.set(
        Department.objects.filter(code__in=["IM", "SURG", "PED", "OBGYN", "ER"])
    )
    first = now - dt.timedelta(days=61)
    feedback.send_due_forms(first)
    feedback.send_due_forms(now - dt.timedelta(days=31))
    answers = {
        "timeliness": ["3"],
        "accuracy": ["5"],
        "critical_values": ["4"],
        "communication": ["4"],
        "problems": ["夜间急诊生化报告偶尔超过 1 小时。"],
        "requests": ["希望开展降钙素原检测。"],
    }
    forms = list(
        FeedbackForm.objects.select_related("department").order_by("sent_at", "department__code")
    )
    members = {
        "IM": users["doctor"],
        "SURG": users["surg_doctor"],
        "PED": users["ped_doctor"],
        "ER": users["er_doctor"],
    }
    for i, form in enumerate(forms):
        clinician = members.get(form.department.code)
        if clinician is None or (form.sent_at > first + dt.timedelta(days=1) and i % 2):
            continue
        form = feedback.return_form(form, answers, actor=clinician)
        if form.sent_at < first + dt.timedelta(days=1):
            feedback.review_form(
                form,
                [("problems", form.department.code == "ER"), ("requests", False)],
                actor=users["lab_head"],
            )
    return {
        "patient opinions": opinions,
        "special requests": requests,
        "feedback forms": len(forms),
    }


def _waiting_now(users: dict[str, Any], registers: dict[str, Any]) -> dict[str, int]:
    """A critical value reported a few minutes ago that the doctor has not acknowledged."""
    from qloop.clinical.actions import ResultData, register_result

    now = timezone.now()
    data = ResultData(
        patient_name="王建华",
        patient_id="880123",
        test_code="K",
        test_name="血钾",
        result_value="2.4",
        unit="mmol/L",
        reference_range="3.5-5.3",
        abnormal_flag="LL",
        specimen="血清",
        ordering_department="IM",
        ordering_doctor_name=users["doctor"].printed_name,
        ordering_doctor="doctor",
        ward="IM1",
        bed="12",
        sex="M",
        age_years=Decimal(67),
        accession=f"S{timezone.localtime(now):%y%m%d}9999",
        collected_at=now - dt.timedelta(minutes=50),
        received_at=now - dt.timedelta(minutes=35),
        reported_at=now - dt.timedelta(minutes=4),
    )
    register_result(data, register=registers["lab"], actor=users["lab"])
    return {"waiting": 1}


DEMO_PART = DemoPart(
    Profile.CLINICAL,
    load_clinical,
    logins=(
        ("lab", "检验技师 laboratory technologist"),
        ("lab_head", "检验科主任 head of laboratory"),
        ("rad", "放射技师 radiology technologist"),
        ("doctor", "内科医师 physician"),
        ("med_affairs", "医务科 medical affairs"),
        ("ic", "院感科 infection control"),
    ),
    order=20,
)
