"""The case page's parts that are rendered in one pass or from rows read once (issue 14): the
person select of a step, the timeline, and why a step is blocked, as a user sees them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from qloop.cases.actions import add_comment, update_case
from qloop.cases.models import Case
from qloop.org.models import Department, Membership, Role, User
from qloop.process.engine import blocked_reason, decide_approval, process_of, take_transition
from qloop.process.models import Approval
from qloop.web.views import render_case_page
from tests.process.test_complaint_flow import sig


def _options(html: str, select_id: str) -> list[str]:
    """The options of one select, as written."""
    match = re.search(rf'<select[^>]*id="{select_id}">(.*?)</select>', html, re.S)
    assert match, select_id
    return re.findall(r"<option[^>]*>[^<]*</option>", match.group(1))


def test_the_handler_select_lists_everyone_active_in_a_department(
    make_case: Callable[..., Case], users: dict[str, User], client_for: Any
) -> None:
    case = make_case()
    role = Role.objects.first()
    assert role is not None
    odd = User.objects.create(username="zz<odd>", display_name="<b>王五</b>")
    Membership.objects.create(user=odd, department=Department.objects.first(), role=role)
    User.objects.create(username="zz_nobody", display_name="无部门")  # in no department
    gone = User.objects.create(username="zz_gone", display_name="已离职", is_active=False)
    Membership.objects.create(user=gone, department=Department.objects.first(), role=role)

    html = client_for("cs_head").get(reverse("case-detail", args=[case.number])).content.decode()
    options = _options(html, "assign-handler")
    assert options[0] == '<option value="">—</option>'
    people = (
        User.objects.filter(is_active=True, memberships__isnull=False)
        .distinct()
        .order_by("username")
    )
    assert len(options) == 1 + people.count()
    assert f'<option value="cs">{users["cs"].printed_name} (cs)</option>' in options
    # Names are escaped; people without a department or no longer active are not offered.
    assert (
        '<option value="zz&lt;odd&gt;">&lt;b&gt;王五&lt;/b&gt; (zz&lt;odd&gt;)</option>' in options
    )
    assert "zz_nobody" not in html and "zz_gone" not in html
    assert " selected" not in "".join(options)


def test_a_refused_step_shows_the_chosen_handler_again(
    make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    case = make_case()
    request = RequestFactory().get("/")
    request.user = users["cs_head"]
    response = render_case_page(
        request, case, status=409, open_step="assign", step_values={"handler": "qe"}
    )
    options = _options(response.content.decode(), "assign-handler")
    chosen = [o for o in options if " selected" in o]
    assert chosen == [f'<option value="qe" selected>{users["qe"].printed_name} (qe)</option>']


def test_the_timeline_escapes_what_people_wrote(
    make_case: Callable[..., Case], users: dict[str, User], client_for: Any
) -> None:
    case = make_case()
    update_case(case, {"title": "<script>x</script>"}, actor=users["cs_head"])
    add_comment(Case.objects.get(pk=case.pk), "<i>再联系</i>", actor=users["cs"])
    html = client_for("cs_head").get(reverse("case-detail", args=[case.number])).content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert "<script>x" not in timeline and "<i>再联系" not in timeline
    assert "</del> → &lt;script&gt;x&lt;/script&gt;</li>" in timeline
    assert "&lt;i&gt;再联系&lt;/i&gt;" in timeline
    assert users["cs_head"].printed_name in timeline


def test_why_a_step_is_blocked_follows_its_approval(
    make_case: Callable[..., Case], users: dict[str, User], client_for: Any
) -> None:
    """The page reads the approvals once for every step; the answer is the one the step gets
    when it is taken (which reads them itself)."""
    case = make_case()
    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    case = take_transition(case, "forward_to_quality", {"analysis": "批量漏水"}, actor=users["cs"])
    url = reverse("case-detail", args=[case.number])
    qe = client_for("qe")
    record = process_of(case).transition("record_onsite")
    request = process_of(case).transition("request_onsite")
    assert record is not None and request is not None

    def page_says(text: str) -> None:
        """The page shows the message the step gets when taken."""
        fresh = Case.objects.get(pk=case.pk)
        approvals = list(fresh.approvals.all())
        reasons = [blocked_reason(fresh, t) for t in (record, request)]
        message = translation.gettext(text)  # the test runs in the organisation's language
        assert message in reasons
        assert reasons == [blocked_reason(fresh, t, approvals) for t in (record, request)]
        html = qe.get(url).content.decode()
        assert escape(message) in html

    page_says("This step needs an approval that has not been asked for.")
    take_transition(case, "request_onsite", {"reason": "需到现场"}, actor=users["qe"])
    page_says("This step waits for a pending approval.")
    decide_approval(
        Approval.objects.get(case=case), "refuse", actor=users["gm"], signature=sig("refused")
    )
    page_says("The approval this step needs was refused.")
    take_transition(case, "request_onsite", {"reason": "再次申请"}, actor=users["qe"])
    decide_approval(
        Approval.objects.get(case=case, state="pending"),
        "approve",
        actor=users["gm"],
        signature=sig("approved"),
    )
    html = qe.get(url).content.decode()
    assert 'id="btn-step-record_onsite"' in html
    assert "needs an approval" not in html and "was refused" not in html
