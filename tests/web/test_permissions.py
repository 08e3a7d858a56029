"""Who may open which page: every URL of the web app × every demo persona, plus anonymous.

The expectations are derived from the personas' role flags (sees all cases, manages cases) and
the case's department, so the matrix stays true when the demo roles change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from qloop.capa.models import CorrectiveAction
from qloop.cases.models import Case
from qloop.customers.access import can_use_directory
from qloop.customers.models import ContactRecord, CustomerContact, CustomerOrganisation
from qloop.demo.loader import USERS
from qloop.notify.models import MessagePreference
from qloop.org.models import ApiToken, Department, User
from qloop.process import clocks
from qloop.process.definitions import QUALITY, process_for
from qloop.process.engine import take_transition
from qloop.process.models import Approval, Clock
from qloop.process.tasks import create_task
from qloop.reports.dashboards import home_board
from qloop.web import urls as web_urls
from tests.cases.recurring_routes import recurring_routes
from tests.conftest import PASSWORD
from tests.reports.manage_routes import manage_routes
from tests.reports.permission_routes import report_routes

PERSONAS = [username for username, *_rest in USERS]
ANONYMOUS = "anonymous"
LOGIN_REDIRECT = 302  # to the login page
DONE = 302  # a successful POST redirects back to a page


def sees(user: User, case: Case) -> bool:
    """The documented visibility rule, restated from the role flags."""
    return (
        user.sees_all_cases
        or case.department_id in user.department_ids
        or case.registered_by_id == user.pk
        or case.handler_id == user.pk
        # A department given a task in the case (R1.8).
        or case.tasks.filter(department_id__in=user.department_ids).exists()
        # The owner of the corrective plan (R1.5).
        or CorrectiveAction.objects.filter(case=case, owner=user).exists()
    )


def writes(user: User, case: Case) -> bool:
    return (
        sees(user, case)
        and not case.is_archived
        and (user.manages_cases or case.handler_id == user.pk)
    )


def always(status: int) -> Callable[[User, Case], int]:
    return lambda user, case: status


def if_visible(status: int) -> Callable[[User, Case], int]:
    return lambda user, case: status if sees(user, case) else 404


def if_writable(status: int) -> Callable[[User, Case], int]:
    def expect(user: User, case: Case) -> int:
        if not sees(user, case):
            return 404
        return status if writes(user, case) else 403

    return expect


def if_manager(status: int) -> Callable[[User, Case], int]:
    def expect(user: User, case: Case) -> int:
        if not sees(user, case):
            return 404
        return status if user.manages_cases and not case.is_archived else 403

    return expect


@dataclass(frozen=True)
class Route:
    """One request to one URL name, and what each person should get."""

    name: str
    method: str
    expect: Callable[[User, Case], int]
    public: bool = False  # answered without login
    data: Callable[[Any], dict[str, Any]] = field(default=lambda photo: {})
    # A snapshot of what the request changes; it must stay the same when the request is refused.
    probe: Callable[[Case], Any] | None = None
    # Brings the case to the state the request needs; returns URL arguments besides the case's.
    prepare: Callable[[Case, dict[str, User]], dict[str, Any]] = field(
        default=lambda case, users: {}
    )

    @property
    def id(self) -> str:
        return f"{self.method}-{self.name}"


def _edit_data(photo: Any) -> dict[str, Any]:
    return {
        "title": "改过的标题",
        "received_at": "2026-01-05T09:30",
        "channel": "email",
        "severity": "major",
        "category": "",
        "contact_name": "王芳",
        "contact_phone": "13800138000",
        "symptom": "机械密封处漏水。",
        "reason": "客户补充说明",
    }


ROUTES = [
    # The first page is the person's board when their role has one, else My work (issue 13).
    Route("home", "get", lambda user, case: 302 if home_board(user) is None else 200),
    Route("login", "get", always(200), public=True),
    Route("logout", "post", always(302), public=True),
    Route("set-language", "post", always(302), public=True, data=lambda p: {"language": "en"}),
    Route("healthz", "get", always(200), public=True),
    Route("favicon", "get", always(200), public=True),
    # Issue 12.22: the status page is public; a wrong pair is answered like any other.
    Route("case-status", "get", always(200), public=True),
    Route(
        "case-status",
        "post",
        always(200),
        public=True,
        data=lambda p: {"number": "QC-2026-999999", "phone": "0000"},
    ),
    Route("case-status-slip", "get", if_visible(200)),
    # Issue 12.23: administrators only; a preview changes nothing.
    Route("statutory-holidays", "get", lambda user, case: 200 if user.administers else 403),
    Route(
        "statutory-holidays",
        "post",
        lambda user, case: 200 if user.administers else 403,
        data=lambda p: {
            "year": "2099",
            "source": "通知",
            "holidays": "元旦 2099-01-01",
            "workdays": "",
            "preview": "1",
        },
    ),
    Route("my-work", "get", always(200)),
    Route("registered-by-me", "get", always(200)),
    Route("case-list", "get", always(200)),
    Route("case-export", "get", always(200)),
    Route("case-create", "get", always(200)),
    Route("contact-lookup", "get", always(200)),
    Route("case-detail", "get", if_visible(200)),
    Route("case-edit", "get", if_writable(200)),
    Route(
        "case-edit",
        "post",
        if_writable(DONE),
        data=_edit_data,
        probe=lambda case: Case.objects.get(pk=case.pk).title,
    ),
    Route(
        "case-comment",
        "post",
        if_visible(DONE),
        data=lambda p: {"body": "已电话回访"},
        probe=lambda case: case.comments.count(),
    ),
    Route(
        "case-photos",
        "post",
        if_writable(DONE),
        data=lambda photo: {"photos": photo("more.jpg")},
        probe=lambda case: case.attachments.count(),
    ),
    Route(
        "case-archive",
        "post",
        if_manager(DONE),
        data=lambda p: {"reason": "重复登记"},
        probe=lambda case: Case.objects.get(pk=case.pk).archived_at,
    ),
    Route("attachment", "get", if_visible(200)),
    Route("attachment-thumbnail", "get", if_visible(200)),
    Route("tokens", "get", always(200)),
    Route(
        "tokens",
        "post",
        always(200),
        data=lambda p: {"name": "ERP"},
        probe=lambda case: ApiToken.objects.count(),
    ),
]


def _investigating(case: Case, users: dict[str, User]) -> dict[str, Any]:
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    take_transition(case, "forward_to_quality", {"analysis": "需品质部调查"}, actor=users["cs"])
    case.refresh_from_db()
    return {}


def _corrective_action(case: Case, users: dict[str, User]) -> dict[str, Any]:
    _investigating(case, users)
    take_transition(
        case,
        "dispose_ours",
        {"findings": "同批次抽检发现缺陷", "root_cause": "密封件材质不符"},
        actor=users["qe"],
    )
    return {}


def _task_for_production(case: Case, users: dict[str, User]) -> dict[str, Any]:
    _investigating(case, users)
    task = create_task(case, department="PROD", title="复测同批次产品", actor=users["qe"])
    return {"task_id": task.pk}


def _onsite_request(case: Case, users: dict[str, User]) -> dict[str, Any]:
    _investigating(case, users)
    take_transition(case, "request_onsite", {"reason": "批量问题，需现场取证"}, actor=users["qe"])
    return {"approval_id": Approval.objects.get(case=case).pk}


def in_roles(roles: frozenset[str], status: int) -> Callable[[User, Case], int]:
    """Steps of the process: who may take them is declared in the process definition."""

    def expect(user: User, case: Case) -> int:
        if not sees(user, case):
            return 404
        return status if user.is_superuser or user.has_role(*roles) else 403

    return expect


def _dispose_ours_roles() -> frozenset[str]:
    step = process_for("complaint").transition("dispose_ours")
    assert step is not None
    return step.who.roles


def _task_done(user: User, case: Case) -> int:
    """A task given to Production: Production, Quality (who gave it) and administrators."""
    if not sees(user, case):
        return 404
    in_production = Department.objects.get(code="PROD").pk in user.department_ids
    return DONE if user.is_superuser or in_production or user.has_role(*QUALITY) else 403


PROCESS_ROUTES = [
    Route(
        "case-transition",
        "post",
        in_roles(_dispose_ours_roles(), DONE),
        data=lambda p: {"findings": "同批次抽检发现缺陷", "root_cause": "密封件材质不符"},
        probe=lambda case: Case.objects.get(pk=case.pk).state,
        prepare=lambda case, users: {**_investigating(case, users), "name": "dispose_ours"},
    ),
    Route(
        "case-task-create",
        "post",
        in_roles(QUALITY, DONE),
        data=lambda p: {"department": "PROD", "title": "复测同批次产品"},
        probe=lambda case: case.tasks.count(),
        prepare=_investigating,
    ),
    Route(
        "task-done",
        "post",
        _task_done,
        data=lambda p: {"result": "复测合格"},
        probe=lambda case: case.tasks.get().done_at,
        prepare=_task_for_production,
    ),
    Route("approvals", "get", always(200)),
    Route(
        "approval-decide",
        "post",
        in_roles(frozenset({"general_manager"}), DONE),
        data=lambda p: {"decision": "approve", "signature_password": PASSWORD},
        probe=lambda case: case.approvals.get().state,
        prepare=_onsite_request,
    ),
    Route(
        "case-eight-d",
        "post",
        in_roles(QUALITY, DONE),
        data=lambda p: {"d0_emergency": "隔离库存产品"},
        probe=lambda case: list(
            CorrectiveAction.objects.filter(case=case).values_list("d0_emergency", flat=True)
        ),
        prepare=_corrective_action,
    ),
    Route("case-report", "get", if_visible(200)),
    Route("process-diagram", "get", always(200), prepare=lambda c, u: {"kind": "complaint"}),
    Route("notifications", "get", always(200)),
    Route("notifications", "post", always(DONE)),
]
ROUTES += PROCESS_ROUTES


def directory(status: int) -> Callable[[User, Case], int]:
    """The customer directory: Supply and Sales, CS and the managers (R2.4, R2.5)."""
    return lambda user, case: status if can_use_directory(user) else 403


def _customer(case: Case, users: dict[str, User]) -> dict[str, Any]:
    customer = CustomerOrganisation.objects.create(name="苏州恒通水务有限公司")
    CustomerContact.objects.create(customer=customer, contact=case.contact)
    return {"pk": customer.pk}


# Registers list only the cases a person may see, so everyone may open them (R2.2, R2.11).
REGISTER_ROUTES = [
    Route("feedback-handling-record", "get", always(200)),
    Route("feedback-handling-record-xlsx", "get", always(200)),
    Route("complaint-feedback-record", "get", always(200)),
    Route("complaint-feedback-record-xlsx", "get", always(200)),
    Route("customer-list", "get", directory(200)),
    Route("customer-create", "get", directory(200)),
    Route(
        "customer-create",
        "post",
        directory(DONE),
        data=lambda p: {"name": "无锡市自来水公司", "kind": "end_customer"},
        probe=lambda case: CustomerOrganisation.objects.count(),
    ),
    Route("customer-detail", "get", directory(200), prepare=_customer),
    Route(
        "contact-record-create",
        "post",
        directory(DONE),
        data=lambda p: {"date": "2026-01-05", "way": "phone", "summary": "回访，客户满意"},
        probe=lambda case: ContactRecord.objects.count(),
        prepare=_customer,
    ),
    Route(
        "customer-add-contact",
        "post",
        directory(DONE),
        data=lambda p: {"name": "李明", "phone": "13912345678"},
        probe=lambda case: CustomerContact.objects.count(),
        prepare=_customer,
    ),
]
ROUTES += REGISTER_ROUTES


def _answer_clock(case: Case) -> str:
    return Clock.objects.get(case=case, name="customer_answer").state


def _paused(case: Case, users: dict[str, User]) -> dict[str, Any]:
    clocks.pause_clock(case, "customer_answer", reason="等待客户寄回样品", actor=users["cs"])
    return {"name": "customer_answer"}


# Deadlines are paused and resumed by whoever may change the case (X3); everyone chooses where
# their own messages reach them (X6).
MESSAGE_AND_CLOCK_ROUTES = [
    Route("message-settings", "get", always(200)),
    Route(
        "message-settings",
        "post",
        always(DONE),
        data=lambda p: {"task_assigned": "app", "email": "someone@example.com"},
        probe=lambda case: MessagePreference.objects.count(),
    ),
    Route(
        "case-clock-pause",
        "post",
        if_writable(DONE),
        data=lambda p: {"reason": "等待客户寄回样品"},
        probe=_answer_clock,
        prepare=lambda case, users: {"name": "customer_answer"},
    ),
    Route(
        "case-clock-resume",
        "post",
        if_writable(DONE),
        data=lambda p: {"reason": "客户已寄回"},
        probe=_answer_clock,
        prepare=_paused,
    ),
]
ROUTES += MESSAGE_AND_CLOCK_ROUTES
ROUTES += report_routes(Route)
ROUTES += manage_routes(Route)
ROUTES += recurring_routes(Route)

MATRIX = [
    pytest.param(route, persona, id=f"{route.id}-{persona}")
    for route in ROUTES
    for persona in [*PERSONAS, ANONYMOUS]
]


def _url_names() -> set[str]:
    return {p.name for p in web_urls.urlpatterns if isinstance(p, URLPattern) and p.name}


def _url(route: Route, case: Case, users: dict[str, User]) -> str:
    pattern = next(p for p in web_urls.urlpatterns if getattr(p, "name", None) == route.name)
    kwargs: dict[str, Any] = route.prepare(case, users)
    if "number" in pattern.pattern.converters:
        kwargs["number"] = case.number
    if "token" in pattern.pattern.converters:
        kwargs["token"] = case.attachments.get().token
    return reverse(route.name, kwargs=kwargs)


def test_every_web_url_is_in_the_matrix() -> None:
    assert {r.name for r in ROUTES} == _url_names()


def test_the_matrix_covers_every_demo_persona() -> None:
    assert set(PERSONAS) >= {"cs", "cs_head", "qe", "qa_head", "prod", "sales", "gm", "admin"}


@pytest.mark.parametrize(("route", "persona"), MATRIX)
def test_permission_matrix(
    route: Route,
    persona: str,
    users: dict[str, User],
    make_case: Callable[..., Case],
    photo: Callable[..., Any],
) -> None:
    case = make_case(actor="cs", photos=[photo()])
    url = _url(route, case, users)
    case.refresh_from_db()
    client = Client()
    if persona != ANONYMOUS:
        client.force_login(users[persona])
    before = route.probe(case) if route.probe else None

    response = getattr(client, route.method)(url, route.data(photo))

    if persona == ANONYMOUS and not route.public:
        assert response.status_code == LOGIN_REDIRECT
        assert response["Location"].startswith(reverse("login"))
        expected = LOGIN_REDIRECT
    else:
        user = users[persona] if persona != ANONYMOUS else User()
        expected = route.expect(user, case)
        assert response.status_code == expected, (route.id, persona)
    if route.probe:
        after = route.probe(case)
        if expected in (403, 404) or (persona == ANONYMOUS and not route.public):
            assert after == before, "a refused request changed something"
        else:
            assert after != before, "an allowed request changed nothing"


def test_prod_registers_and_sees_own_case_but_may_not_change_it(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case(actor="prod")
    client = client_for("prod")
    assert client.get(reverse("case-detail", args=[case.number])).status_code == 200
    assert client.get(reverse("case-edit", args=[case.number])).status_code == 403
    assert client.post(
        reverse("case-archive", args=[case.number]), {"reason": "x"}
    ).status_code == (403)


def test_handler_without_manager_role_may_edit_the_case_handed_to_them(
    make_case: Callable[..., Case], users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    case = make_case(actor="cs")
    Case.objects.filter(pk=case.pk).update(handler=users["prod"])
    client = client_for("prod")
    assert client.get(reverse("case-edit", args=[case.number])).status_code == 200
    assert client.post(
        reverse("case-archive", args=[case.number]), {"reason": "x"}
    ).status_code == (403)


def test_the_owner_of_the_corrective_plan_opens_the_case_and_records_progress(
    make_case: Callable[..., Case], users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    case = make_case(actor="cs")
    _corrective_action(case, users)
    plan = {"plan": "更换密封件供应商", "owner": "prod", "due": "2027-01-31"}
    take_transition(case, "submit_plan", plan, actor=users["qe"])
    client = client_for("prod")

    page = client.get(reverse("case-detail", args=[case.number]))
    step = client.post(
        reverse("case-transition", args=[case.number, "record_progress"]),
        {"note": "新供应商样件已到货"},
    )

    assert page.status_code == 200
    assert step.status_code == DONE
    assert case.events.filter(verb="transition", comment="新供应商样件已到货").exists()


@pytest.mark.parametrize("name", ["case-comment", "case-photos", "case-archive", "logout"])
def test_post_only_views_refuse_get(
    name: str, make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case()
    args = [case.number] if name.startswith("case-") else []
    assert client_for("admin").get(reverse(name, args=args)).status_code == 405


POST_ROUTES = [r for r in ROUTES if r.method == "post"] + [
    Route("login", "post", always(403), public=True, data=lambda p: {"username": "cs"}),
    Route(
        "case-create",
        "post",
        always(403),
        data=lambda p: {"contact_name": "王芳", "symptom": "漏水"},
        probe=lambda case: Case.objects.count(),
    ),
]


@pytest.mark.parametrize("route", [pytest.param(r, id=r.id) for r in POST_ROUTES])
def test_posts_without_csrf_token_are_refused(
    route: Route,
    users: dict[str, User],
    make_case: Callable[..., Case],
    photo: Callable[..., Any],
) -> None:
    case = make_case(actor="cs", photos=[photo()])
    url = _url(route, case, users)
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    before = route.probe(case) if route.probe else None

    response = client.post(url, route.data(photo))

    assert response.status_code == 403
    if route.probe:
        assert route.probe(case) == before
    # Still logged in: a forged logout must not end the session either.
    assert client.get(reverse("my-work")).status_code == 200


def test_posts_with_csrf_token_are_accepted(users: dict[str, User]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["cs"])
    page = client.get(reverse("tokens"))
    token = page.cookies["csrftoken"].value
    response = client.post(reverse("tokens"), {"name": "ERP", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=users["cs"], name="ERP").exists()
