"""``qloop demo``: a believable manufacturer, idempotent, in Chinese."""

from __future__ import annotations

import datetime as dt
import functools
import random
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from qloop.cases import actions
from qloop.cases.choices import Channel, FieldType, Gender, Severity
from qloop.cases.models import Case, Category, ExtraField
from qloop.demo.vocabulary import GIVEN, ORGANISATIONS, PRODUCTS, SURNAMES, SYMPTOMS
from qloop.org.models import Department, Membership, Organisation, Profile, Role, User
from qloop.rows import put_rows

DEPARTMENTS = [
    # code, 简体, 繁體, English, intake kinds
    ("CS", "客户服务部", "客戶服務部", "Customer Service", ["complaint"]),
    ("QA", "品质部", "品質部", "Quality department", []),
    ("PROD", "生产部", "生產部", "Production department", []),
    ("SALES", "供销部", "供銷部", "Supply and Sales", ["feedback"]),
    ("GM", "总经理办公室", "總經理辦公室", "General Manager's office", []),
]

# code, 简体, 繁體, English, sees all, manages, personal data, administers
ROLES = [
    ("cs_clerk", "客服专员", "客服專員", "CS clerk", True, True, True, False),
    ("cs_head", "客户服务部经理", "客戶服務部經理", "CS head", True, True, True, False),
    ("quality_engineer", "质量工程师", "質量工程師", "Quality engineer", True, False, False, False),
    ("quality_head", "品质部经理", "品質部經理", "Quality head", True, True, False, False),
    ("member", "部门成员", "部門成員", "Department member", False, False, False, False),
    ("supply_sales", "供销专员", "供銷專員", "Supply and sales", True, True, True, False),
    ("general_manager", "总经理", "總經理", "General Manager", True, False, True, False),
    ("admin", "系统管理员", "系統管理員", "Administrator", True, True, True, True),
]

USERS = [
    # username, name, department, role
    ("cs", "林小红", "CS", "cs_clerk"),
    ("cs_head", "周建华", "CS", "cs_head"),
    ("qe", "陈志强", "QA", "quality_engineer"),
    ("qa_head", "王海燕", "QA", "quality_head"),
    ("prod", "刘国庆", "PROD", "member"),
    ("sales", "赵晓东", "SALES", "supply_sales"),
    ("gm", "张立新", "GM", "general_manager"),
    ("admin", "系统管理员", "GM", "admin"),
]

# R2.10, the default taxonomy: code, 简体, 繁體, English, parent code.
CATEGORIES = [
    ("1", "产品质量", "產品質量", "Product quality", None),
    ("1A", "制造质量", "製造質量", "Manufacturing quality", "1"),
    ("1B", "设计缺陷", "設計缺陷", "Design defect", "1"),
    ("1C", "外购件匹配性", "外購件匹配性", "Compatibility of purchased parts", "1"),
    ("1D", "外购件质量", "外購件質量", "Quality of purchased parts", "1"),
    ("1E", "机加工件质量", "機加工件質量", "Quality of machined parts", "1"),
    ("1F", "性能缺陷", "性能缺陷", "Performance defect", "1"),
    ("2", "售后服务质量", "售後服務質量", "After-sales service quality", None),
    ("2A", "响应时间", "響應時間", "Response time", "2"),
    ("2B", "服务态度", "服務態度", "Attitude", "2"),
    ("2C", "技术水平", "技術水平", "Technical competence", "2"),
    ("2D", "与顾客的沟通", "與顧客的溝通", "Communication with the customer", "2"),
    ("2E", "顾客意见", "顧客意見", "Customer opinions", "2"),
    ("2F", "顾客建议", "顧客建議", "Customer suggestions", "2"),
    ("2G", "顾客投诉", "顧客投訴", "Customer complaints", "2"),
    ("3", "市场需求", "市場需求", "Market demand", None),
    ("3A", "本产品需求", "本產品需求", "Demand for this product", "3"),
    ("3B", "相关产品需求", "相關產品需求", "Demand for related products", "3"),
    ("3C", "行业状况", "行業狀況", "State of the industry", "3"),
    ("3D", "新产品设想", "新產品設想", "Ideas for new products", "3"),
]

EXTRA_FIELDS = [
    # kind, code, label, English, 繁體, type, choices (简体, English, 繁體)
    (
        "complaint",
        "purchase_channel",
        "购买渠道",
        "Bought through",
        "購買渠道",
        FieldType.CHOICE,
        (
            ["直销", "经销商", "电商平台", "工程项目"],
            ["Direct sale", "Distributor", "Online shop", "Engineering project"],
            ["直銷", "經銷商", "電商平台", "工程項目"],
        ),
    ),
    (
        "complaint",
        "delivery_date",
        "交货日期",
        "Delivery date",
        "交貨日期",
        FieldType.DATE,
        ([], [], []),
    ),
]


def demo_password_hash(password: str) -> str:
    """One hash for every demo user's (same) password: hashing it afresh per user took a
    third of a second each, some ten seconds of the first start (issue 12.19). A fresh salt
    per user protects different passwords; these are one and the same by design."""
    return _hash_once(password, tuple(settings.PASSWORD_HASHERS))


@functools.cache
def _hash_once(password: str, hashers: tuple[str, ...]) -> str:
    return make_password(password)


def check_password_allowed() -> str:
    password = settings.QLOOP_DEMO_PASSWORD
    if password == "demo" and settings.DATABASE_URL:  # noqa: S105 - the documented default
        raise ImproperlyConfigured(
            "Refusing to create demo users with the default password on a production set-up "
            "(DATABASE_URL is set): "
            "set QLOOP_DEMO_PASSWORD."
        )
    return password


def put_people(
    people: list[tuple[str, str, str, str]],
    depts: dict[str, Department],
    roles: dict[str, Role],
    *,
    email_domain: str,
) -> dict[str, Any]:
    """Demo users (username, name, department code, role code) with their memberships; a user
    that exists keeps its name, address and password."""
    password = demo_password_hash(check_password_allowed())
    users = put_rows(
        User,
        "username",
        [
            {
                "username": username,
                "display_name": name,
                "email": f"{username}@{email_domain}",
                "password": password,
            }
            for username, name, _dept, _role in people
        ],
        update=False,
    )
    put_rows(
        Membership,
        ("user_id", "department_id", "role_id"),
        [
            {
                "user_id": users[username].pk,
                "department_id": depts[dept].pk,
                "role_id": roles[role].pk,
            }
            for username, _name, dept, role in people
        ],
    )
    return {username: users[username] for username, *_rest in people}


def put_departments(
    departments: list[tuple[str, str, str, str, Any]], parents: dict[str, str | None]
) -> dict[str, Department]:
    """Departments (code, 简体, 繁體, English, intake kinds or None) under their parents' codes;
    a parent is put before its children."""
    depts: dict[str, Department] = {}
    todo = list(departments)
    while todo:
        level = [d for d in todo if (parents.get(d[0]) or "") in {"", *depts}]
        if not level:
            raise ValueError(f"departments under no listed department: {todo}")
        depts |= put_rows(
            Department,
            "code",
            [
                {
                    "code": code,
                    "name": name,
                    "name_zh_hant": hant,
                    "name_en": en,
                    **({"intake_kinds": intake} if intake is not None else {}),
                    **({"parent_id": depts[parent].pk} if (parent := parents.get(code)) else {}),
                }
                for code, name, hant, en, intake in level
            ],
        )
        todo = [d for d in todo if d not in level]
    return depts


def put_roles(roles: list[tuple[str, str, str, str, bool, bool, bool, bool]]) -> dict[str, Role]:
    """Roles (code, 简体, 繁體, English, sees all, manages, personal data, administers)."""
    return put_rows(
        Role,
        "code",
        [
            {
                "code": code,
                "name": name,
                "name_zh_hant": hant,
                "name_en": en,
                "sees_all_cases": all_,
                "manages_cases": manages,
                "sees_personal_data": personal,
                "administers": admin,
            }
            for code, name, hant, en, all_, manages, personal, admin in roles
        ],
    )


def load_organisation() -> dict[str, Any]:
    """Departments, roles, people, taxonomy and extra fields; safe to run again."""
    check_password_allowed()
    org = Organisation.current()
    if Profile.MANUFACTURER not in org.profiles:
        org.profiles = [*org.profiles, Profile.MANUFACTURER]
    org.name = "苏州启环机电有限公司"
    org.save()
    depts = put_departments(DEPARTMENTS, {code: "GM" for code in ("CS", "QA", "PROD", "SALES")})
    roles = put_roles(ROLES)
    users = put_people(USERS, depts, roles, email_domain="example.com")
    admin = users["admin"]
    if not (admin.is_staff and admin.is_superuser):
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
    place = {code: n for n, (code, *_rest) in enumerate(CATEGORIES)}
    categories: dict[str, Category] = {}
    for level in ([c for c in CATEGORIES if not c[4]], [c for c in CATEGORIES if c[4]]):
        categories |= put_rows(
            Category,
            "code",
            [
                {
                    "code": code,
                    "name": name,
                    "name_zh_hant": hant,
                    "name_en": en,
                    "parent_id": categories[parent].pk if parent else None,
                    "order": place[code],
                    "profile": Profile.MANUFACTURER,
                }
                for code, name, hant, en, parent in level
            ],
        )
    put_rows(
        ExtraField,
        ("kind", "code"),
        [
            {
                "kind": kind,
                "code": code,
                "label": label,
                "label_en": en,
                "label_zh_hant": hant,
                "field_type": ftype,
                "choices": choices,
                "choices_en": choices_en,
                "choices_zh_hant": choices_hant,
                "order": order,
            }
            for order, (
                kind,
                code,
                label,
                en,
                hant,
                ftype,
                (choices, choices_en, choices_hant),
            ) in enumerate(EXTRA_FIELDS)
        ],
    )
    return users


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def phone_number(rng: random.Random) -> str:
    return (
        rng.choice(["138", "139", "136", "137", "150", "151", "158", "186", "188", "135"])
        + f"{rng.randrange(10**8):08d}"
    )


def sample_registration(
    rng: random.Random, received_at: dt.datetime, contacts: list[actions.ContactData]
) -> actions.Registration:
    if contacts and rng.random() < 0.3:
        contact = rng.choice(contacts)  # a returning customer
    else:
        name = person_name(rng)
        contact = actions.ContactData(
            name=name,
            gender=rng.choice([Gender.MALE, Gender.FEMALE]),
            phone=phone_number(rng),
            email=f"user{rng.randrange(10**6)}@example.cn" if rng.random() < 0.5 else "",
            qq=str(rng.randrange(10**7, 10**10)) if rng.random() < 0.4 else "",
            organisation=rng.choice(ORGANISATIONS),
        )
        contacts.append(contact)
    spec, model, product_name = rng.choice(PRODUCTS)
    symptom, status, category = rng.choice(SYMPTOMS)
    return actions.Registration(
        kind="complaint",
        channel=rng.choice(
            [Channel.PHONE, Channel.PHONE, Channel.EMAIL, Channel.IM, Channel.VISIT, Channel.LETTER]
        ),
        received_at=received_at,
        contact=contact,
        product=actions.ProductData(
            specification=spec,
            model=model,
            quantity=rng.choice([1, 1, 1, 2, 3, 5, 10]),
            serial_number=f"{model[3:]}-{received_at:%y%m}-{rng.randrange(10**5):05d}",
        ),
        symptom=symptom,
        current_status=status,
        title=f"{product_name}{symptom.split('，')[0][:24]}",
        severity=rng.choices([Severity.MINOR, Severity.MAJOR, Severity.CRITICAL], [70, 25, 5])[0],
        category_code=category,
        extra={"purchase_channel": rng.choice(["直销", "经销商", "电商平台", "工程项目"])},
    )


def load_cases(count: int, users: dict[str, User], *, seed: int = 2026) -> int:
    """Register ``count`` complaints over the past year through the same action as the UI."""
    existing = Case.objects.filter(kind="complaint").count()
    if existing >= count:
        return 0
    rng = random.Random(seed + existing)  # noqa: S311 - sample data, not secrets
    now = timezone.now()
    contacts: list[actions.ContactData] = []
    made = 0
    registrars = [users["cs"], users["cs_head"], users["sales"], users["prod"]]
    for i in range(count - existing):
        # Spread over the past year, denser recently; the newest few are still fresh.
        age = (
            dt.timedelta(days=rng.triangular(0, 365, 0))
            if i >= 12
            else dt.timedelta(hours=i * 5 + 1)
        )
        received = (now - age).replace(second=0, microsecond=0)
        with transaction.atomic():
            case = actions.register_case(
                sample_registration(rng, received, contacts),
                actor=rng.choice(registrars),
                registered_at=min(received + dt.timedelta(minutes=rng.randint(5, 50)), now),
            )
            advance(case, users, rng, now)
        made += 1
    _leave_an_approval_waiting(users)
    # What happened long ago has been read; the bell shows what is recent.
    from qloop.notify.models import Notification

    Notification.objects.filter(created_at__lt=now - dt.timedelta(days=2)).update(read_at=now)
    return made


ANSWERS = [
    "已电话联系客户说明处理安排。",
    "已邮件回复客户并约定上门时间。",
    "已向客户说明原因并提供使用建议。",
]


def advance(case: Case, users: dict[str, User], rng: random.Random, now: dt.datetime) -> None:
    """Move a demo complaint along the process as far as its age makes believable, each step at
    the time it would have happened, through the same action as the UI."""
    from qloop.process.engine import decide_approval, take_transition
    from qloop.process.models import Approval

    # Signatures of past steps are recorded as imported: re-entering a hashed password for
    # hundreds of historical steps would make the demo take minutes.
    sig: dict[str, Any] = {"imported": True}
    r = case.received_at
    hours = dt.timedelta(hours=1)

    def step(
        name: str, actor: str, after: dt.timedelta, data: dict[str, Any], meaning: str | None = None
    ) -> bool:
        at = r + after
        if at > now:
            return False
        take_transition(
            case,
            name,
            data,
            actor=users[actor],
            at=at,
            signature={**sig, "meaning": meaning} if meaning else None,
        )
        return True

    if not step("assign", "cs_head", 1 * hours, {"handler": "cs"}):
        return
    if rng.random() < 0.12:
        step(
            "resolve_directly",
            "cs",
            5 * hours,
            {"answer": "经核实为操作问题，已电话指导客户处理。", "answer_channel": "phone"},
        )
        return
    departments = rng.choice([["PROD"], ["PROD", "SALES"], []])
    if not step(
        "forward_to_quality",
        "cs",
        3 * hours,
        {"analysis": "经初步确认，问题属实，需品质部调查分析。", "departments": departments},
    ):
        return
    late = rng.random() < 0.1  # some investigations run over the 48 hours, as in life
    step(
        "answer_customer",
        "cs",
        (40 if late else 20) * hours,
        {"answer": rng.choice(ANSWERS), "answer_channel": "phone"},
    )
    if case.severity == "critical" and step(
        "request_onsite", "qe", 6 * hours, {"reason": "批量性问题，需到客户现场取证。"}
    ):
        approval = Approval.objects.filter(case=case, state="pending").first()
        if approval is not None and r + 10 * hours <= now:
            decide_approval(
                approval,
                "approve",
                actor=users["gm"],
                comment="同意，尽快安排。",
                signature={"password": settings.QLOOP_DEMO_PASSWORD, "meaning": "approved"},
                at=r + 10 * hours,
            )
            step("record_onsite", "qe", 30 * hours, {"findings": "现场确认安装与使用条件正常。"})
    dispose_after = (60 if late else 36) * hours
    if rng.random() < 0.4:
        if step(
            "dispose_not_ours",
            "qa_head",
            dispose_after,
            {"findings": "经检测产品性能符合标准，问题系现场安装或使用不当。"},
            "approved",
        ):
            step(
                "close",
                "cs",
                dispose_after + 8 * hours,
                {"answer": "已向客户说明调查结论并给出使用建议。", "answer_channel": "email"},
            )
        return
    if not step(
        "dispose_ours",
        "qe",
        dispose_after,
        {
            "findings": "抽检同批次产品发现同类缺陷。",
            "root_cause": "外购密封件材质不符合图纸要求。",
        },
    ):
        return
    day = dt.timedelta(days=1)
    if not step(
        "submit_plan",
        "qe",
        3 * day,
        {
            "plan": "更换密封件供应商，对库存产品全检，召回已发货批次。",
            "owner": "prod",
            "due": (r + 30 * day).date().isoformat(),
        },
    ):
        return
    step("record_progress", "prod", 8 * day, {"note": "新供应商样件已到货，完成首件检验。"})
    if not step(
        "verify_effectiveness",
        "qe",
        20 * day,
        {"result": "effective", "evidence": "连续三批抽检合格，客户回访无复发。"},
        "verified",
    ):
        return
    if step(
        "standardise",
        "qe",
        24 * day,
        {"changes": "修订《密封件进货检验规程》QI-07，更新图纸技术要求。"},
    ):
        step(
            "close", "cs", 26 * day, {"answer": "已完成整改并回访客户。", "answer_channel": "phone"}
        )


def _leave_an_approval_waiting(users: dict[str, User]) -> None:
    """The general manager finds one on-site investigation to decide on the first login."""
    from qloop.process.engine import take_transition
    from qloop.process.models import Approval

    if Approval.objects.filter(state="pending").exists():
        return
    case = Case.objects.filter(state="investigating").order_by("-received_at").first()
    if case is not None:
        take_transition(
            case,
            "request_onsite",
            {"reason": "客户反映同批次多台出现同样问题，需到现场取证。"},
            actor=users["qe"],
        )


# An example of the State Council's notice for a year chinesecalendar 1.11.0 does not know, so
# that the demo's working-day clocks, the calendars page and the preview cover it (12.23).
DEMO_NOTICE_YEAR = 2027
DEMO_NOTICE_SOURCE = (
    "演示数据：仿照《国务院办公厅关于部分节假日安排的通知》录入的 2027 年示例（不是正式通知）"
)
DEMO_NOTICE_HOLIDAYS = """元旦 2027-01-01 2027-01-03
春节 2027-02-05 2027-02-12
清明节 2027-04-03 2027-04-05
劳动节 2027-05-01 2027-05-05
端午节 2027-06-09
中秋节 2027-09-15
国庆节 2027-10-01 2027-10-07"""
DEMO_NOTICE_WORKDAYS = "2027-01-31 2027-02-20 2027-04-25 2027-05-08 2027-09-26 2027-10-09"


def load_demo_holidays(admin: User) -> None:
    """Enter the example notice unless the package or an earlier notice knows the year."""
    from qloop.org.holidays import enter_notice, parse_notice, year_is_known

    if year_is_known(DEMO_NOTICE_YEAR):
        return
    data = parse_notice(
        str(DEMO_NOTICE_YEAR), DEMO_NOTICE_SOURCE, DEMO_NOTICE_HOLIDAYS, DEMO_NOTICE_WORKDAYS
    )
    enter_notice(data, actor=admin)
