"""Finding cases again (X2): Chinese search in either script, filters, sorting, who sees what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from qloop.cases.actions import ContactData, ProductData, archive_case, register_case
from qloop.cases.choices import FieldType
from qloop.cases.filters import CaseFilter, FilterError
from qloop.cases.models import Case, ExtraField
from qloop.cases.queues import my_work_queryset
from qloop.org.models import Department
from qloop.process import clocks
from qloop.process.engine import take_transition
from qloop.process.models import ClockName
from tests.conftest import registration

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*parts: int) -> dt.datetime:
    """A time on the wall clock in China."""
    return dt.datetime(*parts, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are compared in English whatever translations are installed."""
    with translation.override("en"):
        yield


@pytest.fixture
def register(users: dict[str, Any]) -> Any:
    def make(actor: str = "cs", **overrides: Any) -> Case:
        return register_case(registration(**overrides), actor=users[actor])

    return make


@pytest.fixture
def cases(register: Any, users: dict[str, Any]) -> dict[str, Case]:
    """Three complaints received around 20 November 2026, one stored in Traditional script.

    seal: received 20 Nov 09:30, model QL-CP50, category 1A, bought direct, handled by cs.
    impeller: received 21 Nov 00:30 in China (still 20 Nov in UTC), written in Traditional
        Chinese, category 2B, bought through a dealer, unassigned.
    motor: received 19 Nov 23:59 in China, category 1F, handled by prod.
    """
    seal = register(
        received_at=local(2026, 11, 20, 9, 30),
        title="离心泵机械密封漏水",
        category_code="1A",
        extra={"purchase_channel": "直销"},
    )
    impeller = register(
        received_at=local(2026, 11, 21, 0, 30),
        title="葉輪問題",
        contact=ContactData(name="陳大文", phone="13912345678", organisation="香港九龍水務"),
        product=ProductData(model="QL-VP80", quantity=1, serial_number="VP80-2610-00017"),
        symptom="葉輪磨損，振動過大。",
        current_status="已停機",
        category_code="2B",
        extra={"purchase_channel": "经销商", "delivery_date": "2026-10-15"},
    )
    motor = register(
        received_at=local(2026, 11, 19, 23, 59),
        title="电机过热",
        contact=ContactData(name="赵磊", email="zhaolei@example.cn"),
        product=ProductData(model="QL-CP65", serial_number="CP65-2611-00123"),
        symptom="电机过热跳闸。",
        category_code="1F",
    )
    seal = take_transition(seal, "assign", {"handler": "cs"}, actor=users["cs_head"])
    motor = take_transition(motor, "assign", {"handler": "prod"}, actor=users["cs_head"])
    return {"seal": seal, "impeller": impeller, "motor": motor}


def found(query: str) -> set[str]:
    return set(Case.objects.search(query).values_list("title", flat=True))


def listed(user: Any, **params: str) -> list[str]:
    return list(
        CaseFilter.from_query(params)
        .apply(Case.objects.all(), user)
        .values_list("title", flat=True)
    )


# Search -----------------------------------------------------------------------------------

TITLES = {"seal": "离心泵机械密封漏水", "impeller": "葉輪問題", "motor": "电机过热"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("漏水", {"seal"}, id="two-character-word"),
        pytest.param("漏", {"seal"}, id="one-character"),
        pytest.param("机械密封处漏水", {"seal"}, id="longer-phrase"),
        pytest.param("每分钟约滴水二十滴", {"seal"}, id="phrase-in-symptom"),
        pytest.param("機械密封", {"seal"}, id="traditional-query-simplified-text"),
        pytest.param("機械密封處漏水", {"seal"}, id="traditional-phrase-simplified-text"),
        pytest.param("叶轮磨损", {"impeller"}, id="simplified-query-traditional-text"),
        pytest.param("振動過大", {"impeller"}, id="traditional-query-traditional-text"),
        pytest.param("陈大文", {"impeller"}, id="contact-name-other-script"),
        pytest.param("九龙", {"impeller"}, id="organisation-other-script"),
        pytest.param("已停机", {"impeller"}, id="current-status"),
        pytest.param("13912345678", {"impeller"}, id="whole-phone"),
        pytest.param("139123", {"impeller"}, id="phone-prefix"),
        pytest.param("1380013", {"seal"}, id="another-phone-prefix"),
        pytest.param("zhaolei@example.cn", {"motor"}, id="email"),
        pytest.param("QL-VP80", {"impeller"}, id="model"),
        pytest.param("ql-vp80", {"impeller"}, id="model-any-case"),
        pytest.param("ＱＬ－ＣＰ５０", {"seal"}, id="model-full-width"),
        pytest.param("QL-CP", {"seal", "motor"}, id="model-prefix"),
        pytest.param("7.5kW", {"seal"}, id="specification"),
        pytest.param("VP80-2610-00017", {"impeller"}, id="serial"),
        pytest.param("CP65-2611", {"motor"}, id="serial-prefix"),
        pytest.param("经销商", {"impeller"}, id="extra-field-value"),
        pytest.param("齿轮箱", set(), id="nothing"),
        pytest.param("漏水 振动", set(), id="words-from-two-cases"),
        pytest.param("%", set(), id="percent-is-literal"),
        pytest.param("_", set(), id="underscore-is-literal"),
    ],
)
def test_search_finds_chinese_in_either_script_and_numbers_by_prefix(
    cases: dict[str, Case], query: str, expected: set[str]
) -> None:
    """X2: a record can be found later by what a person remembers of it, typed in Simplified
    or Traditional characters, full- or half-width (runs on SQLite and PostgreSQL)."""
    assert found(query) == {TITLES[name] for name in expected}


def test_search_finds_a_case_by_its_number(cases: dict[str, Case]) -> None:
    """X2: every record can be found by its register number."""
    number = cases["impeller"].number
    assert found(number) == {"葉輪問題"}
    assert found(number.lower()) == {"葉輪問題"}


def test_an_empty_search_finds_everything(cases: dict[str, Case]) -> None:
    """X2: an empty search box does not hide the register."""
    assert found("   ") == set(TITLES.values())


def test_search_follows_an_edit(cases: dict[str, Case], users: dict[str, Any]) -> None:
    """X2: what was corrected is what is found."""
    from qloop.cases.actions import update_case

    update_case(cases["motor"], {"product.symptom": "轴承异响"}, actor=users["cs"])
    assert found("轴承异响") == {"电机过热"}
    assert found("跳闸") == set()


# Filters ----------------------------------------------------------------------------------


def test_filter_by_state(cases: dict[str, Case], users: dict[str, Any]) -> None:
    """R1.1: CS sees what is still waiting for a handler."""
    assert listed(users["cs"], state="new") == ["葉輪問題"]
    assert set(listed(users["cs"], state="cs_review")) == {"离心泵机械密封漏水", "电机过热"}


def test_filter_by_department(cases: dict[str, Case], register: Any, users: dict[str, Any]) -> None:
    """R2.1: feedback lands with Supply and Sales; each department's register is separate."""
    register(kind="feedback", title="客户建议增加型号")
    assert listed(users["cs"], department="SALES") == ["客户建议增加型号"]
    assert len(listed(users["cs"], department="CS")) == 3


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        pytest.param("me", {"离心泵机械密封漏水"}, id="me"),
        pytest.param("none", {"葉輪問題"}, id="unassigned"),
        pytest.param("prod", {"电机过热"}, id="by-username"),
        pytest.param("nobody-of-that-name", set(), id="unknown-username"),
    ],
)
def test_filter_by_handler(
    cases: dict[str, Case], users: dict[str, Any], handler: str, expected: set[str]
) -> None:
    """R1.1: my cases, the unassigned ones, or one colleague's."""
    assert set(listed(users["cs"], handler=handler)) == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        pytest.param("1A", {"离心泵机械密封漏水"}, id="leaf"),
        pytest.param("1", {"离心泵机械密封漏水", "电机过热"}, id="parent-finds-children"),
        pytest.param("2", {"葉輪問題"}, id="other-parent"),
        pytest.param("3", set(), id="empty-branch"),
    ],
)
def test_filter_by_category_including_its_children(
    cases: dict[str, Case], users: dict[str, Any], category: str, expected: set[str]
) -> None:
    """R2.10: "product quality" (1) gathers manufacturing (1A) … performance (1F)."""
    assert set(listed(users["cs"], category=category)) == expected


def test_filter_by_model_ignores_case(cases: dict[str, Case], users: dict[str, Any]) -> None:
    """R1.2: all complaints about one model, however it was typed."""
    assert listed(users["cs"], model=" ql-cp50 ") == ["离心泵机械密封漏水"]
    assert listed(users["cs"], model="QL-CP") == []  # a model filter is exact, unlike search


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"received_from": "2026-11-20", "received_to": "2026-11-20"},
            ["离心泵机械密封漏水"],
            id="one-china-day",
        ),
        pytest.param({"received_from": "2026-11-21"}, ["葉輪問題"], id="from"),
        pytest.param({"received_to": "2026-11-19"}, ["电机过热"], id="to-includes-the-day"),
        pytest.param(
            {"received_from": "2026-11-19", "received_to": "2026-11-21"},
            ["葉輪問題", "离心泵机械密封漏水", "电机过热"],
            id="newest-first",
        ),
    ],
)
def test_filter_by_date_uses_days_in_china(
    cases: dict[str, Case], users: dict[str, Any], params: dict[str, str], expected: list[str]
) -> None:
    """X5: a day is a day in Suzhou: 00:30 on the 21st is the 21st although it is the 20th in
    UTC, and 23:59 on the 19th is the 19th."""
    assert listed(users["cs"], **params) == expected


def test_filter_overdue_lists_the_breaches_the_sweep_recorded(
    cases: dict[str, Case], users: dict[str, Any]
) -> None:
    """X3, R2.3: overdue means a deadline of an open case is breached, as the sweep recorded
    it (and the timeline says): the filter agrees with the breach records, not with a second
    reading of the wall clock."""
    # Due: motor 21 Nov 23:59, seal 22 Nov 09:30, impeller 23 Nov 00:30.
    with time_machine.travel(local(2026, 11, 21, 12, 0), tick=False):
        clocks.sweep()
        assert listed(users["cs"], overdue="1") == []
    with time_machine.travel(local(2026, 11, 22, 12, 0), tick=False):
        # Past due, but no breach recorded yet: not overdue until the sweep (every minute).
        assert listed(users["cs"], overdue="1") == []
        clocks.sweep()
        assert set(listed(users["cs"], overdue="1")) == {"离心泵机械密封漏水", "电机过热"}
        clocks.stop_clock(cases["seal"], ClockName.CUSTOMER_ANSWER)  # answered
        archive_case(cases["motor"], "重复登记", actor=users["cs_head"])
        assert listed(users["cs"], overdue="1") == []
    with time_machine.travel(local(2026, 11, 23, 1, 0), tick=False):
        clocks.sweep()
        assert listed(users["cs"], overdue="true") == ["葉輪問題"]


def test_a_breach_recorded_ahead_of_the_wall_clock_is_overdue(
    cases: dict[str, Case], users: dict[str, Any]
) -> None:
    """X3: a breach the sweep recorded (``qloop manage sweep --now`` run ahead, a server
    clock set back) makes the case overdue although its due time has not come on this
    server's clock."""
    clocks.sweep(local(2026, 11, 22, 12, 0))
    with time_machine.travel(local(2026, 11, 21, 12, 0), tick=False):
        assert set(listed(users["cs"], overdue="1")) == {"离心泵机械密封漏水", "电机过热"}
        seal = Case.objects.get(pk=cases["seal"].pk)
        assert seal.is_overdue and seal.deadline_state == "breached"
        assert not Case.objects.get(pk=cases["impeller"].pk).is_overdue


def test_filter_by_extra_field(cases: dict[str, Case], users: dict[str, Any]) -> None:
    """R1.2 "etc.": an organisation's own fields can be filtered like built-in ones."""
    assert listed(users["cs"], **{"extra.purchase_channel": "经销商"}) == ["葉輪問題"]
    assert listed(users["cs"], **{"extra.delivery_date": "2026-10-15"}) == ["葉輪問題"]
    assert listed(users["cs"], **{"extra.purchase_channel": "直销"}) == ["离心泵机械密封漏水"]


def test_filter_by_text_and_number_extra_fields(register: Any, users: dict[str, Any]) -> None:
    """R1.2 "etc.": a text field matches part of the value, a number field the number."""
    ExtraField.objects.create(kind="complaint", code="site", label="安装地点")
    ExtraField.objects.create(
        kind="complaint", code="units", label="在用台数", field_type=FieldType.INTEGER
    )
    register(title="一号泵房", extra={"site": "一号泵房 (Pump House)", "units": 3})
    register(title="二号泵房", extra={"site": "二号泵房", "units": "12"})
    assert listed(users["cs"], **{"extra.site": "一号"}) == ["一号泵房"]
    assert listed(users["cs"], **{"extra.site": "pump house"}) == ["一号泵房"]
    assert set(listed(users["cs"], **{"extra.site": "泵房"})) == {"一号泵房", "二号泵房"}
    assert listed(users["cs"], **{"extra.units": "12"}) == ["二号泵房"]
    assert listed(users["cs"], **{"extra.units": "1"}) == []
    with pytest.raises(FilterError) as caught:
        listed(users["cs"], **{"extra.units": "twelve"})
    assert (caught.value.field, caught.value.message) == ("extra.units", "Enter a whole number.")


def test_filter_combines_with_search(cases: dict[str, Case], users: dict[str, Any]) -> None:
    """X2: the search box narrows whatever the filters show."""
    assert listed(users["cs"], q="機械", category="1") == ["离心泵机械密封漏水"]
    assert listed(users["cs"], q="機械", category="2") == []


def test_archived_cases_are_listed_only_when_asked_for(
    cases: dict[str, Case], users: dict[str, Any]
) -> None:
    """X2, R3.5: archived records stay findable for inspection, apart from the live ones."""
    archive_case(cases["motor"], "重复登记", actor=users["cs_head"])
    assert "电机过热" not in listed(users["cs"])
    assert listed(users["cs"], archived="1") == ["电机过热"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        pytest.param("-received_at", ["impeller", "seal", "motor"], id="newest-first"),
        pytest.param("received_at", ["motor", "seal", "impeller"], id="oldest-first"),
        pytest.param("number", ["seal", "impeller", "motor"], id="number"),
        pytest.param("-number", ["motor", "impeller", "seal"], id="number-descending"),
        pytest.param("due", ["motor", "seal", "impeller"], id="soonest-deadline-first"),
    ],
)
def test_sorting(
    cases: dict[str, Case], users: dict[str, Any], sort: str, expected: list[str]
) -> None:
    """X2: the register sorts by time received, number or deadline."""
    assert listed(users["cs"], sort=sort) == [TITLES[name] for name in expected]


def test_sorting_by_deadline_puts_cases_without_one_last(
    cases: dict[str, Case], users: dict[str, Any]
) -> None:
    """X3: a case with no running deadline comes after every case that has one."""
    clocks.stop_clock(cases["motor"], ClockName.CUSTOMER_ANSWER)
    assert listed(users["cs"], sort="due") == ["离心泵机械密封漏水", "葉輪問題", "电机过热"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        pytest.param(
            {"received_from": "2026-13-01"},
            "received_from",
            "Enter a date as YYYY-MM-DD.",
            id="month",
        ),
        pytest.param(
            {"received_to": "yesterday"}, "received_to", "Enter a date as YYYY-MM-DD.", id="word"
        ),
        pytest.param({"sort": "title"}, "sort", "Sort by one of: ", id="sort"),
    ],
)
def test_a_filter_it_cannot_understand_is_refused_by_name(
    params: dict[str, str], field: str, message: str
) -> None:
    """X2: a bad filter says which parameter is wrong instead of showing everything."""
    with pytest.raises(FilterError) as caught:
        CaseFilter.from_query(params)
    assert caught.value.field == field
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"extra.colour": "red"}, "extra.colour", id="unknown-field"),
        pytest.param({"extra.delivery_date": "2026-02-30"}, "extra.delivery_date", id="bad-date"),
        pytest.param({"extra.purchase_channel": "邮购"}, "extra.purchase_channel", id="bad-choice"),
    ],
)
def test_a_bad_extra_field_filter_is_refused_by_name(
    cases: dict[str, Case], users: dict[str, Any], params: dict[str, str], field: str
) -> None:
    """R1.2 "etc.": an organisation's own fields are checked in filters as in forms."""
    with pytest.raises(FilterError) as caught:
        listed(users["cs"], **params)
    assert caught.value.field == field


# Who sees what ----------------------------------------------------------------------------


def test_a_department_member_sees_only_their_share(register: Any, users: dict[str, Any]) -> None:
    """X1, R1.8: Production sees cases of its department, cases it registered and cases it
    handles; CS (and the other roles that see all) see the whole register."""
    Department.objects.filter(code="SALES").update(intake_kinds=[])
    Department.objects.filter(code="PROD").update(intake_kinds=["feedback"])
    in_prod = register(kind="feedback", title="生产部收到的反馈")
    registered = register(actor="prod", title="生产部登记的投诉")
    handled = take_transition(
        register(title="生产部处理的投诉"), "assign", {"handler": "prod"}, actor=users["cs_head"]
    )
    register(title="与生产部无关的投诉")

    prod_sees = set(Case.objects.for_user(users["prod"]).values_list("pk", flat=True))
    assert prod_sees == {in_prod.pk, registered.pk, handled.pk}
    for persona in ["cs", "cs_head", "qe", "qa_head", "sales", "gm", "admin"]:
        assert Case.objects.for_user(users[persona]).count() == 4, persona
    assert set(listed(users["prod"], q="投诉")) == {"生产部处理的投诉", "生产部登记的投诉"}


def test_an_inactive_person_sees_nothing(cases: dict[str, Case], users: dict[str, Any]) -> None:
    """X1: a person who has left sees no case, even one they handled."""
    prod = users["prod"]
    prod.is_active = False
    prod.save()
    assert not Case.objects.for_user(prod).exists()


def test_filters_never_show_more_than_the_person_may_see(
    cases: dict[str, Case], users: dict[str, Any]
) -> None:
    """X1: filtering for another department's cases does not get round the rules."""
    assert listed(users["prod"]) == ["电机过热"]
    assert listed(users["prod"], handler="cs") == []
    assert listed(users["prod"], q="漏水") == []


# My work ----------------------------------------------------------------------------------


def test_my_work_lists_what_waits_for_me_soonest_deadline_first(
    cases: dict[str, Case], register: Any, users: dict[str, Any]
) -> None:
    """R1.1, X3: CS works through its cases, its unassigned queue and every case whose next
    step is CS's, soonest deadline first; a case without a running deadline comes last and an
    archived one not at all. A department member sees only what they handle."""
    register(received_at=local(2026, 11, 22, 8, 0), title="稍后收到的投诉")
    no_deadline = register(received_at=local(2026, 11, 18, 8, 0), title="已答复客户")
    clocks.stop_clock(no_deadline, ClockName.CUSTOMER_ANSWER)
    archived = register(received_at=local(2026, 11, 17, 8, 0), title="已归档")
    archive_case(archived, "重复登记", actor=users["cs_head"])

    work = [c.title for c in my_work_queryset(users["cs"])]
    # Due: motor 21 Nov 23:59 (handled by prod, but its next step is CS's review), seal
    # 22 Nov 09:30 (mine), impeller 23 Nov 00:30 (unassigned), later 24 Nov 08:00.
    assert work == ["电机过热", "离心泵机械密封漏水", "葉輪問題", "稍后收到的投诉", "已答复客户"]
    assert [c.title for c in my_work_queryset(users["prod"])] == ["电机过热"]
    assert [c.title for c in my_work_queryset(users["qe"])] == []
