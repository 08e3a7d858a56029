"""``qloop demo``: loads twice without duplicating anything, and gives the after-sales pages
something to show (issue #5): customers, feedback of every type, two closed survey campaigns
with sane results, a summary report draft and a management review ahead."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import PASSWORD


def counts() -> dict[str, int]:
    from qloop.cases.models import Case, Contact, Event
    from qloop.customers.models import ContactRecord, CustomerContact, CustomerOrganisation
    from qloop.reports.models import ManagementReview, SurveyReport
    from qloop.surveys.models import Answer, Campaign, Invitation, Questionnaire, Response

    # The manufacturer's surveys (the hospital's information feedback forms run on the same
    # engine and are counted by the clinical tests).
    hospital = "clinical_feedback"
    return {
        "complaints": Case.objects.filter(kind="complaint").count(),
        "feedback": Case.objects.filter(kind="feedback").count(),
        "events": Event.objects.count(),
        "contacts": Contact.objects.count(),
        "customers": CustomerOrganisation.objects.count(),
        "customer contacts": CustomerContact.objects.count(),
        "contact records": ContactRecord.objects.count(),
        "questionnaires": Questionnaire.objects.exclude(template_code=hospital).count(),
        "campaigns": Campaign.objects.exclude(questionnaire__template_code=hospital).count(),
        "invitations": Invitation.objects.count(),
        "responses": Response.objects.exclude(
            campaign__questionnaire__template_code=hospital
        ).count(),
        "answers": Answer.objects.exclude(campaign__questionnaire__template_code=hospital).count(),
        "reports": SurveyReport.objects.count(),
        "reviews": ManagementReview.objects.count(),
    }


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", cases=20, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(db: Any) -> dict[str, Any]:
    first = run_demo()
    return {"first": first, "counts": counts()}


def test_the_demo_loads_twice_without_duplicating(loaded: dict[str, Any]) -> None:
    second = run_demo()
    assert counts() == loaded["counts"]
    assert "20 new complaints" in loaded["first"]
    assert "40 new feedback cases" in loaded["first"]
    assert "2 new survey campaigns" in loaded["first"]
    # The manufacturer's line; profiles' parts (the hospital) follow, with nothing new either.
    assert second.strip().splitlines()[0] == "Demo organisation ready: 8 people, 0 new complaints."
    assert "new" not in "".join(second.strip().splitlines()[1:])


def test_the_demo_has_customers_feedback_surveys_and_reports(loaded: dict[str, Any]) -> None:
    from qloop.cases.choices import FeedbackType
    from qloop.cases.models import Case
    from qloop.customers.models import CustomerOrganisation

    n = loaded["counts"]
    assert n["customers"] == 18
    assert n["contact records"] >= 2 * 18
    assert n["questionnaires"] == 1 and n["campaigns"] == 2
    # Up to 95 invited per campaign: the customers' contact persons with an e-mail address.
    assert n["responses"] == 160 and 2 * 80 <= n["invitations"] <= 2 * 95
    assert n["reports"] == 1 and n["reviews"] == 1
    # Every customer has people to invite.
    for customer in CustomerOrganisation.objects.all():
        assert customer.people.exclude(contact__email="").count() >= 5, customer.name

    feedback = Case.objects.filter(kind="feedback")
    # 40 registered by hand, and a follow-up case for each low score in the surveys.
    assert feedback.exclude(channel="survey").count() == 40
    assert 2 <= feedback.filter(channel="survey").count() <= 10
    types = set(feedback.values_list("feedback__feedback_type", flat=True))
    assert types >= set(FeedbackType.values)
    states = set(feedback.values_list("state", flat=True))
    assert {"closed", "handling", "escalated"} <= states
    assert feedback.filter(state="closed").count() > feedback.count() / 2
    assert feedback.exclude(feedback__instructed_at=None).count() >= 3
    raised = Case.objects.filter(kind="complaint", source_case__isnull=False)
    assert raised.count() == 1
    # The complaint was raised when the feedback was handled, not when the demo ran.
    assert raised.get().received_at < timezone.now() - dt.timedelta(days=3)
    # Feedback happened over the last months, not all today.
    oldest = feedback.order_by("received_at").first()
    assert oldest is not None and oldest.received_at < timezone.now() - dt.timedelta(days=90)


def test_the_survey_results_are_sane_and_compare_with_last_year(loaded: dict[str, Any]) -> None:
    from qloop.reports.models import ManagementReview, SurveyReport
    from qloop.surveys.models import Campaign
    from qloop.surveys.results import campaign_results

    now = timezone.now()
    latest, earlier = Campaign.objects.exclude(
        questionnaire__template_code="clinical_feedback"
    ).order_by("-opens_at")
    assert latest.closes_at is not None and latest.closes_at < now
    assert earlier.closes_at is not None and earlier.closes_at < latest.opens_at
    results = campaign_results(latest.pk)
    assert results.previous is not None and results.previous.campaign_id == earlier.pk
    for r in (results, results.previous):
        assert r.answered + r.public_answers == 80
        assert r.csat is not None and 0 <= r.csat <= 100
        assert r.nps is not None and -100 <= r.nps <= 100
        assert r.response_rate is not None and 0 < r.response_rate <= 1
        comments = [c for q in r.questions for c in q.comments]
        assert any("服务" in c for c in comments)
    report = SurveyReport.objects.get()
    assert report.campaign_id == latest.pk and report.is_draft and report.analysis
    review = ManagementReview.objects.get()
    assert 14 <= (review.held_on - timezone.localdate()).days <= 31


@pytest.mark.parametrize("hour", [0, 7, 9, 13, 17, 19, 23])
def test_the_demo_feedback_shows_every_state_whatever_the_hour_it_runs(db: Any, hour: int) -> None:
    """The steps move to working hours, so a demo run late at night once left no case waiting
    for the general manager: every hour must give new, handled, escalated and closed cases."""
    import random

    from qloop.cases.models import Case
    from qloop.demo.aftersales import load_customers, load_feedback
    from qloop.demo.loader import load_organisation

    now = timezone.localtime().replace(hour=hour, minute=30)
    users = load_organisation()
    load_customers(users, random.Random(1), now)
    assert load_feedback(users, random.Random(2), now) == 40
    states = set(Case.objects.filter(kind="feedback").values_list("state", flat=True))
    assert {"handling", "escalated", "closed"} <= states
    assert not Case.objects.filter(received_at__gt=now).exists()


def test_the_demo_hospital_is_shared_and_loads_twice_without_duplicating(db: Any) -> None:
    """Documents 3–5: the hospital the pharmacy and clinical profiles share, with the demo
    users the issues name, each in the right department and role."""
    from qloop.demo.hospital import HOSPITAL_USERS, load_hospital
    from qloop.org.models import Department, Membership

    first = load_hospital()
    again = load_hospital()
    assert set(first) == set(again) == {name for name, *_rest in HOSPITAL_USERS}
    assert Membership.objects.filter(user__username__in=list(first)).count() == len(first)
    doctor = Membership.objects.select_related("department", "role").get(user=first["doctor"])
    assert (doctor.department.name, doctor.role.code) == ("内科", "physician")
    assert Department.objects.get(code="PHARM").parent == Department.objects.get(code="HOSP")
    assert first["pharm"].check_password(PASSWORD)


@pytest.mark.parametrize("hour", [2, 9, 16, 23])
def test_the_pharmacy_demo_loads_whatever_the_hour_it_runs(
    db: Any, hour: int, at: Callable[[dt.datetime], None]
) -> None:
    """Its history fills office hours up to today: run at 02:00 the last day's office hours
    were still ahead, and registration refused a case received in the future."""
    from qloop.cases.models import Case
    from qloop.demo.loader import load_organisation
    from qloop.org.models import Profile
    from qloop.pharmacy.demo import load_pharmacy

    at(timezone.localtime().replace(hour=hour, minute=30, second=0, microsecond=0))
    load_organisation()
    load_pharmacy({"cases": 40})
    assert Case.objects.filter(profile=Profile.PHARMACY).exists()
    assert not Case.objects.filter(received_at__gt=timezone.now()).exists()


def test_the_organisation_loads_again_putting_back_its_own_rows_and_keeping_peoples_changes(
    db: Any,
) -> None:
    """Loaded again, the demo puts its departments and taxonomy back as it has them, leaves the
    people's own changes (name, password) alone and makes nothing twice; rows are written a
    few statements per table (issue 14: most tests' set-up), yet each still tells the caches
    that listen for saved rows."""
    from qloop.cases.models import Category, ExtraField
    from qloop.clinical import lookups
    from qloop.demo.hospital import load_hospital
    from qloop.demo.loader import load_organisation
    from qloop.org import refdata
    from qloop.org.models import Department, Membership, Role, User

    def counts() -> list[int]:
        return [
            m.objects.count() for m in (Department, Role, User, Membership, Category, ExtraField)
        ]

    load_organisation()
    first = counts()
    Department.objects.filter(code="QA").update(name="质检科", parent=None)
    Category.objects.filter(code="1A").update(order=99, name="改过的")
    cs = User.objects.get(username="cs")
    cs.display_name = "林红"
    cs.set_password("Own-pass-2026")
    cs.save()
    token = refdata.current_token()

    users = load_organisation()

    assert counts() == first
    qa = Department.objects.get(code="QA")
    assert (qa.name, qa.parent.code if qa.parent else None) == ("品质部", "GM")
    assert Category.objects.filter(code="1A", order=1, name="制造质量").exists()
    cs.refresh_from_db()
    assert cs.display_name == "林红" and cs.check_password("Own-pass-2026")
    assert users["cs"].pk == cs.pk and users["admin"].is_superuser
    assert refdata.current_token() != token  # pages read the departments and taxonomy afresh

    # The laboratory is unknown to the result listener until the hospital is loaded; its
    # look-up, kept for a few seconds, hears of the new departments at once.
    assert lookups.department("LAB") is None
    load_hospital()
    assert lookups.department("LAB") == Department.objects.get(code="LAB")
