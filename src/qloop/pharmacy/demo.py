"""The pharmacy part of the demo (documents 3 and 4): the hospital's pharmacy with a catalogue
of about 200 drugs and months of believable history in every kind — drug quality feedback
(some from the public page, some major and reported), counterfeit and substandard cases at
every stage, ADR reports of every seriousness (sent, late, waiting, a death, follow-ups) and
a group event the system found.

Cases are registered and moved through the same actions as the pages, with times in the past;
the demo is idempotent (a second run adds nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from qloop.demo.registry import DemoPart
from qloop.org.models import Profile

PROBLEMS = [
    ("mould", "颗粒内可见霉点，开袋有霉味。"),
    ("caking", "胶囊受潮粘连，部分破裂。"),
    ("colour", "片剂表面出现黄色斑点。"),
    ("particles", "输液瓶内可见白色絮状物。"),
    ("packaging", "铝塑板破损，药片外露。"),
    ("labelling", "外盒批号与内包装批号不一致。"),
    ("efficacy", "患者反映服用一周血压仍控制不佳，怀疑疗效。"),
    ("odour", "口服液有明显异味。"),
]
REACTIONS = [
    ("皮疹", "general", "recovered"),
    ("瘙痒", "general", "recovered"),
    ("恶心、呕吐", "general", "improving"),
    ("头晕", "general", "recovered"),
    ("过敏性休克", "serious", "recovered"),
    ("肝功能异常", "serious", "improving"),
    ("急性肾损伤", "new_serious", "improving"),
    ("静脉炎", "general", "recovered"),
    ("腹泻", "general", "recovered"),
    ("QT间期延长", "new", "improving"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志红玉文斌海燕"
REGULATOR = {"channel": "national_system", "recipient": "regulator"}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def load_pharmacy(options: dict[str, Any]) -> dict[str, int]:
    from qloop.cases.models import Case
    from qloop.demo.hospital import load_hospital
    from qloop.org.models import Organisation
    from qloop.pharmacy.setup import load_pharmacy_setup

    users = load_hospital()
    setup = load_pharmacy_setup()
    org = Organisation.current()
    if Profile.PHARMACY not in org.profiles:
        org.profiles = [*org.profiles, Profile.PHARMACY]
        org.save()
    if Case.objects.filter(profile=Profile.PHARMACY).exists():
        return {"drugs": setup["drugs"]}
    days = max(14, min(120, int(options.get("cases", 300)) * 2 // 5))
    return {"drugs": setup["drugs"], **_history(users, days=days)}


def _register(
    kind: str, detail: dict[str, Any], actor: Any, when: dt.datetime, *, channel: str = "visit"
) -> Any:
    from qloop.cases.actions import ContactData, Registration, register_case

    return register_case(
        Registration(
            kind=kind,
            channel=channel,
            contact=ContactData(name=""),
            symptom="",
            received_at=when,
            detail=detail,
        ),
        actor=actor,
        registered_at=when,
    )


def _history(users: dict[str, Any], *, days: int) -> dict[str, int]:
    from qloop.pharmacy.models import Drug
    from qloop.process.engine import take_transition

    rng = random.Random(20262)  # noqa: S311 - demo data
    now = timezone.now()
    start = now - dt.timedelta(days=days)
    drugs = list(Drug.objects.prefetch_related("batches").order_by("pk")[:120])
    pharm, head, officer = users["pharm"], users["pharm_head"], users["adr_officer"]
    made = {"drug feedback": 0, "counterfeit": 0, "ADR reports": 0}

    def at(day: float, hour: int = 9) -> dt.datetime:
        base = timezone.localtime(start + dt.timedelta(days=day))
        when = base.replace(hour=hour, minute=rng.randint(0, 59), second=0, microsecond=0)
        # The last day's office hours may still be ahead (before 17:00 local): never later than
        # now, or registration refuses a time received in the future.
        return min(when, now - dt.timedelta(minutes=1))

    def step(
        case: Any, name: str, data: dict[str, Any], actor: Any, when: dt.datetime, **kw: Any
    ) -> Any:
        if when >= now:
            return case
        return take_transition(case, name, data, actor=actor, at=when, **kw)

    # Drug quality feedback: about every third day; older ones archived, a few major.
    for day in range(0, days, 3):
        drug = rng.choice(drugs)
        batch = rng.choice(list(drug.batches.all()))
        problem, text = rng.choice(PROBLEMS)
        public = rng.random() < 0.3
        when = at(day + rng.random(), rng.randint(8, 17))
        case = _register(
            "drug_feedback",
            {
                "drug_id": drug.pk,
                "batch_number": batch.batch_number,
                "problem": problem,
                "description": text,
                "source": "patient" if public else rng.choice(("collected", "solicited")),
                "patient_name": _name(rng),
                "patient_phone": f"139{rng.randint(10**7, 10**8 - 1)}",
            },
            None if public else pharm,
            when,
            channel="web" if public else "visit",
        )
        made["drug feedback"] += 1
        age = (now - when).days
        if age < 2:
            continue  # still new: the answer clock runs
        major = problem in ("particles", "mould") and rng.random() < 0.5
        if major:
            case = step(
                case,
                "flag_major",
                {"reason": "可能影响用药安全，需上报。"},
                pharm,
                when + dt.timedelta(hours=2),
            )
            case = step(
                case,
                "record_sending",
                {**REGULATOR, "reference": f"SZYJ{rng.randint(1000, 9999)}"},
                pharm,
                when + dt.timedelta(hours=rng.choice((6, 20, 30))),
            )
        case = step(case, "investigate", {}, pharm, when + dt.timedelta(hours=3))
        case = step(
            case,
            "answer",
            {"answer": "已电话告知患者处理意见并为其更换药品。"},
            pharm,
            when + dt.timedelta(hours=rng.choice((20, 30, 60))),
        )
        if age > 6:
            case = step(
                case,
                "resolve",
                {"cause": "储存运输环节受潮。", "resolution": "该批次暂停使用并联系供应商退货。"},
                pharm,
                when + dt.timedelta(days=3),
            )
            if age > 10:
                step(case, "archive_for_inspection", {}, pharm, when + dt.timedelta(days=5))

    # Counterfeit and substandard drugs: a closed one, one at the testing institute, a new one.
    for n, day in enumerate((5, max(6, days - 20), days - 1)):
        drug = drugs[10 + n]
        when = at(day, 10)
        case = _register(
            "counterfeit",
            {
                "drug_id": drug.pk,
                "batch_number": f"JL{when:%y%m}{n}",
                "where_found": rng.choice(("门诊药房", "住院药房", "药库验收")),
                "how_found": "验收时发现外包装印刷与正品不符，防伪标识缺失。",
                "criteria": ["cf_passed_off"] if n != 1 else ["ss_expiry", "ss_batch"],
                "holds": [
                    {"store": "药库", "quantity": rng.randint(20, 200)},
                    {"store": "门诊药房", "quantity": rng.randint(1, 20)},
                ],
            },
            pharm,
            when,
        )
        made["counterfeit"] += 1
        if n == 2:
            continue
        case = step(
            case,
            "record_sending",
            {
                "channel": "paper",
                "recipient": "regulator",
                "reference": f"苏药监〔{when.year}〕{rng.randint(10, 99)}号",
            },
            pharm,
            when + dt.timedelta(hours=8),
        )
        case = step(
            case,
            "send_sample",
            {
                "institute": "苏州市药品检验检测研究中心",
                "sent_on": timezone.localdate(when).isoformat(),
                "quantity": "3盒",
            },
            pharm,
            when + dt.timedelta(hours=9),
        )
        if n == 0:
            case = step(
                case,
                "record_test_result",
                {
                    "report_number": f"JY{when:%Y%m}01",
                    "finding": "counterfeit",
                    "result": "主成分未检出。",
                },
                pharm,
                when + dt.timedelta(days=5),
            )
            case = step(
                case,
                "record_disposal",
                {"disposal": "移交药品监督管理部门封存销毁。", "quantity": "全部"},
                pharm,
                when + dt.timedelta(days=6),
            )
            step(
                case,
                "close",
                {},
                head,
                when + dt.timedelta(days=6, hours=2),
                signature={"meaning": "approved", "imported": True},
            )

    # ADR reports: about one a day; most sent in time, some late, the newest waiting.
    group_drug = drugs[3]
    group_batch = next(iter(group_drug.batches.all()))
    group_days = {max(1, days - 12), max(2, days - 10), max(3, days - 9)}
    reporters = [users["doctor"], pharm, officer]
    for day in range(days):
        in_group = day in group_days
        drug = group_drug if in_group else rng.choice(drugs)
        batch = group_batch if in_group else rng.choice(list(drug.batches.all()))
        reaction, seriousness, outcome = (
            ("寒战、高热", "serious", "improving") if in_group else rng.choice(REACTIONS)
        )
        when = at(day + rng.random(), rng.randint(8, 18))
        reporter = rng.choice(reporters)
        death = day == days // 2
        detail: dict[str, Any] = {
            "seriousness": "serious" if death else seriousness,
            "patient_name": _name(rng),
            "sex": rng.choice(("M", "F")),
            "age_years": rng.randint(3, 90),
            "record_number": str(rng.randint(100000, 999999)),
            "hospital": "苏州市第二人民医院",
            "reaction": "过敏性休克" if death else reaction,
            "onset_at": (when - dt.timedelta(hours=rng.randint(2, 30))).isoformat(),
            "course": "停药，给予抗过敏及对症治疗。",
            "outcome": "death" if death else outcome,
            **({"death_cause": "过敏性休克", "death_at": when.isoformat()} if death else {}),
            "dechallenge": "yes",
            "rechallenge": "not_done",
            "causality_reporter": rng.choice(("probable", "possible")),
            "causality_unit": rng.choice(("probable", "possible", "certain")),
            "reporter_name": reporter.display_name,
            "reporter_phone": "0512-65223637",
            "reporter_occupation": "医师" if reporter == users["doctor"] else "药师",
            "reporting_unit": "苏州市第二人民医院",
            "aware_at": when.isoformat(),
            "drugs": [
                {
                    "role": "suspect",
                    "drug_id": drug.pk,
                    "batch_number": batch.batch_number,
                    "dose": drug.strength,
                    "route": "静脉滴注" if "注射" in drug.generic_name else "口服",
                    "times_per_day": "1",
                    "reason": "感染" if "素" in drug.generic_name else "对症治疗",
                    "started_on": timezone.localdate(when - dt.timedelta(days=2)).isoformat(),
                },
            ],
        }
        case = _register("adr", detail, reporter, when)
        made["ADR reports"] += 1
        since = now - when
        if since < dt.timedelta(days=3):
            continue  # waiting to be sent
        if death:
            step(
                case,
                "record_sending",
                {
                    "channel": "phone",
                    "recipient": "regulator",
                    "note": "电话报告市药品不良反应监测中心",
                },
                officer,
                when + dt.timedelta(hours=3),
            )
        delay = dt.timedelta(days=rng.choice((1, 3, 8, 20 if seriousness == "general" else 10)))
        case = step(
            case,
            "record_sending",
            {**REGULATOR, "reference": f"ADR{when:%Y%m%d}{day:03d}"},
            officer,
            when + delay,
        )
        if since > dt.timedelta(days=25):
            case = step(case, "close", {}, officer, when + delay + dt.timedelta(days=1))
        if seriousness != "general" and rng.random() < 0.4 and since > dt.timedelta(days=10):
            follow = dict(
                detail,
                report_type="follow_up",
                follow_up_of=case.number,
                outcome="recovered",
                aware_at=(when + dt.timedelta(days=7)).isoformat(),
            )
            _register("adr", follow, officer, when + dt.timedelta(days=7))
            made["ADR reports"] += 1
    return made


DEMO_PART = DemoPart(
    Profile.PHARMACY,
    load_pharmacy,
    logins=(
        ("pharm", "药师 pharmacist"),
        ("pharm_head", "药剂科主任 head of pharmacy"),
        ("adr_officer", "药品不良反应监测员 ADR monitoring officer"),
    ),
    order=15,
)
