"""The demo's after-sales side (issue #5): customers with contact persons and contact records,
feedback of every type taken through the feedback process at the times it would have
happened, the default satisfaction questionnaire with two closed campaigns (last year and this
autumn), a summary report draft and a management review three weeks ahead.

Everything is written through the same actions as the pages, so the demo shows what the
application would have recorded. Running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

from django.db import transaction
from django.utils import timezone

from qloop.cases import actions as case_actions
from qloop.cases.choices import Gender
from qloop.cases.models import Case, Contact
from qloop.customers import actions as customer_actions
from qloop.customers.models import ContactRecord, CustomerContact, CustomerOrganisation
from qloop.demo.vocabulary import (
    BAD_COMMENTS,
    CITIES,
    CONTACT_RECORDS,
    CUSTOMER_KINDS,
    ESCALATION_REASONS,
    FEEDBACK,
    GIVEN,
    GOOD_COMMENTS,
    INSTRUCTIONS,
    ORGANISATIONS,
    POSITIONS,
    PRODUCTS,
    STREETS,
    SURNAMES,
)
from qloop.org.models import User

FEEDBACK_CASES = 40
CONTACTS_PER_CUSTOMER = 5  # at least, so that a survey has people to invite
INVITED = 95
PERSONAL_ANSWERS = 66
PAPER_ANSWERS = 14
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _handler_for(category: str) -> str:
    """Product quality goes to the quality engineer, service to CS, market news to sales."""
    return {"1": "qe", "2": "cs", "3": "sales"}[category[0]]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def load_customers(users: dict[str, User], rng: random.Random, now: dt.datetime) -> Counter[str]:
    """A customer per organisation the demo's contacts work for, each with contact persons
    (those on earlier cases join by themselves) and a few visits and calls."""
    made: Counter[str] = Counter()
    sales = users["sales"]
    for i, name in enumerate(ORGANISATIONS):
        if CustomerOrganisation.objects.filter(name=name).exists():
            continue
        customer = customer_actions.create_customer(
            name,
            kind=CUSTOMER_KINDS.get(name, "end_customer"),
            address=f"{CITIES[i % len(CITIES)]}市{rng.choice(STREETS)}{rng.randint(1, 300)}号",
            actor=sales,
        )
        made["customers"] += 1
        people = CustomerContact.objects.filter(customer=customer)
        with_email = people.exclude(contact__email="").count()
        for n in range(max(0, CONTACTS_PER_CUSTOMER - with_email)):
            customer_actions.add_contact_person(
                customer,
                name=_name(rng),
                gender=rng.choice([Gender.MALE, Gender.FEMALE]),
                phone=f"13{rng.randint(5, 9)}{rng.randrange(10**8):08d}",
                email=f"c{i:02d}{n}.{rng.randrange(10**4):04d}@example.cn",
                position=rng.choice(POSITIONS),
                actor=sales,
            )
            made["contact persons"] += 1
        contacts = list(people.values_list("contact_id", flat=True)[:6])
        for _ in range(rng.randint(2, 4)):
            way, summary = rng.choice(CONTACT_RECORDS)
            record = customer_actions.add_contact_record(
                customer,
                date=(now - dt.timedelta(days=rng.randint(3, 200))).date(),
                way=way,
                summary=summary,
                contact_id=rng.choice(contacts) if contacts else None,
                actor=rng.choice([sales, sales, users["cs"]]),
            )
            ContactRecord.objects.filter(pk=record.pk).update(
                created_at=timezone.make_aware(dt.datetime.combine(record.date, dt.time(17, 30)))
            )
            made["contact records"] += 1
    return made


def _customer_contacts() -> list[Contact]:
    return list(
        Contact.objects.filter(customer_link__isnull=False)
        .select_related("customer_link__customer")
        .order_by("pk")
    )


def _working(at: dt.datetime) -> dt.datetime:
    """The same moment, or the next morning when it falls outside working hours (China)."""
    local = timezone.localtime(at)
    if local.hour < 8:
        return local.replace(hour=9)
    if local.hour >= 18:
        return (local + DAY).replace(hour=9)
    return local


def _stepper(case: Case, users: dict[str, User], now: dt.datetime) -> Any:
    from qloop.process.engine import take_transition

    def step(name: str, actor: str, at: dt.datetime, data: dict[str, Any]) -> bool:
        at = _working(at)
        if at > now:
            return False
        take_transition(case, name, data, actor=users[actor], at=at)
        return True

    return step


def advance_feedback(
    case: Case,
    users: dict[str, User],
    rng: random.Random,
    now: dt.datetime,
    *,
    handling: str,
    answer: str,
    result: str,
    escalate: int | None = None,
    awaiting_instructions: bool = False,
    raise_complaint: bool = False,
) -> None:
    """Take a feedback case along FEEDBACK_V1 as far as its age makes believable."""
    r = case.received_at
    handler = _handler_for(case.category.code) if case.category else "sales"
    step = _stepper(case, users, now)
    if not step("assign", "sales", r + 2 * HOUR, {"handler": handler}):
        return
    if not step("record_handling", handler, r + 5 * HOUR, {"handling": handling}):
        return
    t = r + 6 * HOUR
    if escalate is not None:
        if not step("escalate", handler, t, {"reason": ESCALATION_REASONS[escalate]}):
            return
        if awaiting_instructions:
            return
        t = r + 26 * HOUR
        if not step("instruct", "gm", t, {"instructions": INSTRUCTIONS[escalate]}):
            return
    if not step(
        "answer_customer",
        handler,
        t + rng.randint(2, 20) * HOUR,
        {"answer": answer, "answer_channel": rng.choice(["phone", "phone", "email", "visit"])},
    ):
        return
    if raise_complaint:
        from qloop.demo.loader import advance

        step(
            "raise_complaint",
            handler,
            t + 22 * HOUR,
            {"reason": "客户反映同批次多台出现同样问题，属产品质量问题，转客户服务部立案调查。"},
        )
        complaint = case.raised_cases.first()
        if complaint is not None:
            advance(complaint, users, rng, now)
    step(
        "close",
        handler,
        r + rng.randint(3, 12) * DAY,
        {"result": result},
    )


def load_feedback(users: dict[str, User], rng: random.Random, now: dt.datetime) -> int:
    """About forty pieces of feedback of every type over the last half year."""
    titles = {f[3] for f in FEEDBACK}
    if Case.objects.filter(kind="feedback", title__in=titles).exists():
        return 0
    contacts = _customer_contacts()
    # Which ones went to the general manager (the newest still waits for instructions).
    escalations = {0: 1, 5: 0, 12: 1, 19: 2, 33: 0}
    raised = 0  # the first product-quality complaint raises a complaint case
    made = 0
    planned = []
    for i in range(FEEDBACK_CASES):
        # Spread over six months, the newest few still being handled.
        age = dt.timedelta(days=rng.uniform(14, 180)) if i >= 6 else dt.timedelta(hours=8 + 30 * i)
        received = timezone.localtime(now - age).replace(second=0, microsecond=0)
        if received.hour < 8 or received.hour > 17:  # working hours, China time
            received = min(received.replace(hour=rng.randint(8, 17)), now)
        if i == 0:
            # 09:00 at least a day ago, so that it was escalated before now whatever the hour
            # the demo runs at, and the general manager has yet to give instructions.
            received = timezone.localtime(now - 30 * HOUR).replace(hour=9, minute=0)
        planned.append((received, i, FEEDBACK[i % len(FEEDBACK)]))
    # Registered in the order they came in, so that the numbers follow the dates.
    for received, i, spec in sorted(planned):
        ftype, category, channel, title, content, handling, answer, result = spec
        contact = rng.choice(contacts)
        spec_, model, _product = rng.choice(PRODUCTS)
        product = (
            case_actions.ProductData(specification=spec_, model=model, quantity=rng.randint(1, 6))
            if category.startswith("1")
            else case_actions.ProductData()
        )
        case = case_actions.register_case(
            case_actions.Registration(
                kind="feedback",
                channel=channel,
                received_at=received,
                contact=case_actions.ContactData(
                    name=contact.name,
                    gender=contact.gender,
                    phone=contact.phone,
                    email=contact.email,
                    qq=contact.qq,
                    organisation=contact.organisation,
                ),
                known_contact=contact,
                product=product,
                symptom=content,
                title=title,
                category_code=category,
                feedback_type=ftype,
            ),
            actor=users["sales"] if i % 4 else users["cs"],
            registered_at=min(received + dt.timedelta(minutes=rng.randint(5, 40)), now),
        )
        raise_it = raised == 0 and ftype == "complaint" and category.startswith("1") and i >= 6
        raised += raise_it
        advance_feedback(
            case,
            users,
            rng,
            now,
            handling=handling,
            answer=answer,
            result=result,
            escalate=escalations.get(i),
            awaiting_instructions=i == 0,
            raise_complaint=raise_it,
        )
        made += 1
    return made


def autumn_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The latest autumn survey that has already closed: 15 September to 31 October."""
    year = today.year if today >= dt.date(today.year, 11, 1) else today.year - 1
    return dt.date(year, 9, 15), dt.date(year, 10, 31)


def _aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _answers(rng: random.Random, mood: float, unhappy: bool) -> dict[str, list[str]]:
    """One filled-in questionnaire: ratings around the respondent's mood, a 0–10
    recommendation that goes with it, and now and then a comment."""
    from qloop.surveys.defaults import CSAT_TEMPLATE

    raw: dict[str, list[str]] = {}
    ratings = []
    for _section, items in CSAT_TEMPLATE["sections"]:
        for code, *_rest in items:
            kind = _rest[3]
            if kind == "rating":
                value = round(rng.gauss(mood, 0.7))
                value = min(5, max(1 if unhappy else 3, value))
                if unhappy and code.startswith("service") and rng.random() < 0.6:
                    value = rng.choice([1, 2])
                ratings.append(value)
                raw[code] = [str(value)]
            elif kind == "recommendation":
                average = sum(ratings) / len(ratings)
                value = round(average * 2 + rng.uniform(-1.5, 1.0))
                value = min(10, max(2 if unhappy else 5, value))
                if unhappy:
                    value = min(value, 4)
                raw[code] = [str(value)]
            elif kind == "single" and rng.random() < 0.85:
                raw[code] = [str(0 if mood >= 4 else rng.choice([0, 1, 1, 2]))]
            elif kind == "multiple" and rng.random() < 0.6:
                raw[code] = [str(v) for v in rng.sample(range(5), rng.randint(1, 2))]
            elif kind == "text":
                if unhappy:
                    raw[code] = [rng.choice(BAD_COMMENTS)]
                elif rng.random() < 0.3:
                    raw[code] = [rng.choice(GOOD_COMMENTS)]
    return raw


def _run_campaign(
    questionnaire: Any,
    title: str,
    opens: dt.date,
    closes: dt.date,
    mood: float,
    users: dict[str, User],
    rng: random.Random,
    now: dt.datetime,
) -> tuple[Any, int]:
    """A campaign that ran from ``opens`` to ``closes``: personal links to customers'
    contacts, their answers and some typed in from paper; closed at the end."""
    from qloop.surveys import actions as survey_actions
    from qloop.surveys.models import Invitation, Source

    sales = users["sales"]
    opens_at = _aware(opens)
    campaign = survey_actions.create_campaign(
        questionnaire,
        title=title,
        opens_at=opens_at,
        low_rating=2,
        low_recommendation=4,
        actor=sales,
    )
    contacts = [c for c in _customer_contacts() if c.email][:INVITED]
    # The e-mails went out when the campaign opened; they are history, not for the outbox.
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                campaign=campaign,
                contact=c,
                email=c.email,
                invited_at=opens_at + dt.timedelta(minutes=k),
            )
            for k, c in enumerate(contacts)
        ]
    )
    span = (closes - opens).days
    answering = rng.sample(invitations, min(PERSONAL_ANSWERS, len(invitations)))
    unhappy = set(rng.sample(range(len(answering)), 3))
    responses = 0
    for k, invitation in enumerate(answering):
        day = int(rng.triangular(0, span, 2))
        at = opens_at + dt.timedelta(days=day, hours=rng.uniform(-1, 12))  # 08:00–21:00
        response = survey_actions.submit_response(
            campaign,
            _answers(rng, rng.gauss(mood, 0.5), k in unhappy),
            source=Source.LINK,
            invitation=invitation,
            language="zh-hans",
            submitted_at=at,
        )
        responses += 1
        if response.case is not None:
            _follow_up(response.case, users, rng, now)
    for _ in range(PAPER_ANSWERS):
        survey_actions.submit_response(
            campaign,
            _answers(rng, rng.gauss(mood, 0.5), False),
            source=Source.PAPER,
            actor=sales,
            language="zh-hans",
            submitted_at=opens_at
            + dt.timedelta(days=rng.randint(1, span), hours=rng.uniform(0, 8)),
        )
        responses += 1
    campaign.closes_at = _aware(closes, 18)
    campaign.save(update_fields=["closes_at"])
    return campaign, responses


def _follow_up(case: Case, users: dict[str, User], rng: random.Random, now: dt.datetime) -> None:
    """A low score raised a feedback case (R2.6): Supply and Sales calls the customer back."""
    from qloop.process.engine import take_transition

    take_transition(
        case, "assign", {"handler": "sales"}, actor=users["sales"], at=case.received_at + DAY
    )
    step = _stepper(case, users, now)
    step(
        "answer_customer",
        "sales",
        case.received_at + 2 * DAY,
        {"answer": "已电话回访客户，了解不满意的原因并致歉。", "answer_channel": "phone"},
    )
    step(
        "close",
        "sales",
        case.received_at + rng.randint(6, 15) * DAY,
        {"result": "已安排服务站上门处理，客户表示认可。"},
    )


def load_surveys(users: dict[str, User], rng: random.Random, now: dt.datetime) -> Counter[str]:
    from qloop.surveys import actions as survey_actions
    from qloop.surveys.models import Campaign, Questionnaire

    made: Counter[str] = Counter()
    questionnaire = Questionnaire.objects.filter(template_code="csat").order_by("pk").first()
    if questionnaire is None:
        questionnaire = survey_actions.create_from_template("csat", actor=users["sales"])
        made["questionnaires"] += 1
    opens, closes = autumn_window(timezone.localdate(now))
    last_opens, last_closes = (
        opens.replace(year=opens.year - 1),
        closes.replace(year=closes.year - 1),
    )
    for title, start, end, mood in [
        (f"{last_opens.year} 年度顾客满意度调查", last_opens, last_closes, 3.9),
        (f"{opens.year} 年度顾客满意度调查", opens, closes, 4.2),
    ]:
        if Campaign.objects.filter(title=title).exists():
            continue
        _campaign, responses = _run_campaign(
            questionnaire, title, start, end, mood, users, rng, now
        )
        made["survey campaigns"] += 1
        made["survey responses"] += responses
    return made


def load_reports(users: dict[str, User], now: dt.datetime) -> Counter[str]:
    """The summary report draft of the latest campaign and the next management review."""
    from qloop.reports import actions as report_actions
    from qloop.reports import review
    from qloop.reports.models import ManagementReview, SurveyReport
    from qloop.surveys.models import Campaign

    made: Counter[str] = Counter()
    latest = Campaign.objects.filter(closes_at__lte=now).order_by("-opens_at", "-pk").first()
    if latest is not None and not SurveyReport.objects.filter(campaign_id=latest.pk).exists():
        report = report_actions.draft_report(latest.pk, actor=users["sales"])
        report_actions.update_report(
            report,
            {
                "analysis": (
                    "本次调查共回收有效答卷80份。与去年相比，产品制造质量和交货及时性评分上升；"
                    "售后服务响应时间仍是得分最低的一项，3位顾客给出了低分，已逐一回访。"
                ),
                "improvements": (
                    "1. 在华东、华南增设两个备件库，售后到场时间承诺缩短到24小时；\n"
                    "2. 说明书增加常见故障排查表；\n3. 对服务站人员进行沟通技巧培训。"
                ),
            },
            actor=users["sales"],
        )
        made["summary reports"] += 1
    today = timezone.localdate(now)
    if not ManagementReview.objects.filter(held_on__gte=today).exists():
        review.create_review(
            today + dt.timedelta(days=21),
            title=f"{today.year} 年度管理评审",
            actor=users["admin"],
        )
        made["management reviews"] += 1
    return made


def load_aftersales(users: dict[str, User], *, seed: int = 2605) -> Counter[str]:
    """Everything of issue #5 the demo shows; returns what was made (nothing the second time)."""
    from qloop.notify.models import Notification

    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    now = timezone.now()
    made: Counter[str] = Counter()
    with transaction.atomic():
        made.update(load_customers(users, rng, now))
        made["feedback cases"] += load_feedback(users, rng, now)
        made.update(load_surveys(users, rng, now))
        made.update(load_reports(users, now))
        Notification.objects.filter(
            created_at__lt=now - dt.timedelta(days=2), read_at__isnull=True
        ).update(read_at=now)
    return +made
