"""Reference data kept in each process's memory (issue 14): categories, extra fields, clock
definitions and their ladders, the organisation's profiles. An edit made anywhere — the admin
of one gunicorn worker, a script — is what the very next request of every other process
reads: the processes share nothing but the database, so each test warms this process's copy,
edits, and asks again without telling this process anything but what the database says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Category, ExtraField
from qloop.org import refdata
from qloop.org.models import Organisation, Profile, User
from qloop.process.clocks import definition_for
from qloop.process.models import Clock, ClockDefinition, ClockName

pytestmark = pytest.mark.django_db


def _admin_form(client: Client, url: str) -> dict[str, Any]:
    """What the admin's change page posts back unchanged: its form and its inline forms."""
    context = client.get(url).context
    forms = [context["adminform"].form]
    data: dict[str, Any] = {}
    for inline in context["inline_admin_formsets"]:
        # The blank extra forms are left out, as a browser sends them empty.
        formset = inline.formset
        forms += formset.initial_forms
        data[formset.management_form.add_prefix("TOTAL_FORMS")] = formset.initial_form_count()
        data[formset.management_form.add_prefix("INITIAL_FORMS")] = formset.initial_form_count()
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value is not None and value is not False:
                data[form.add_prefix(name)] = value
    return {**data, "_save": "Save"}


def _errors(response: Any) -> Any:
    context = response.context
    return context["adminform"].form.errors, [
        f.errors for i in context["inline_admin_formsets"] for f in i.formset.forms
    ]


def _registered_options(client: Client) -> str:
    return client.get(reverse("case-create")).content.decode()


def test_a_category_renamed_in_the_admin_is_offered_by_the_next_request(
    users: dict[str, User], client_for: Any, superuser: Client
) -> None:
    cs = client_for("cs")
    assert "1A 叶轮断裂" not in _registered_options(cs)
    category = Category.objects.get(code="1A")
    url = reverse("admin:cases_category_change", args=[category.pk])
    held = refdata._cache  # what this process read before the edit
    response = superuser.post(url, {**_admin_form(superuser, url), "name": "叶轮断裂"})
    assert response.status_code == 302
    refdata._cache = held  # as another process would still hold it
    assert "1A 叶轮断裂" in _registered_options(cs)


def test_an_extra_field_added_in_the_admin_is_asked_for_by_the_next_registration(
    users: dict[str, User], client_for: Any, superuser: Client
) -> None:
    cs = client_for("cs")
    assert "extra__site" not in _registered_options(cs)
    response = superuser.post(
        reverse("admin:cases_extrafield_add"),
        {
            "kind": "complaint",
            "code": "site",
            "label": "安装地点",
            "field_type": "text",
            "required": "on",
            "order": "1",
            "is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content
    assert ExtraField.objects.filter(code="site").exists()
    assert "extra__site" in _registered_options(cs)


def test_a_deadline_changed_in_the_admin_holds_for_the_next_registration(
    users: dict[str, User], superuser: Client, make_case: Any
) -> None:
    make_case()  # this process now holds the definition
    definition = ClockDefinition.objects.get(process="complaint", name=ClockName.CUSTOMER_ANSWER)
    url = reverse("admin:process_clockdefinition_change", args=[definition.pk])
    data = _admin_form(superuser, url)
    response = superuser.post(url, {**data, "amount": "3", "unit": "days"})
    assert response.status_code == 302, _errors(response)
    case = make_case()
    clock = Clock.objects.get(case=case, name=ClockName.CUSTOMER_ANSWER)
    assert clock.due_at - clock.started_at == dt.timedelta(days=3)


def test_a_ladder_step_deleted_in_the_admin_is_gone_from_the_next_plan(
    users: dict[str, User], superuser: Client, make_case: Any
) -> None:
    definition = definition_for("complaint", ClockName.CUSTOMER_ANSWER)
    rungs = len(definition.ladder.all())
    assert rungs >= 1
    url = reverse("admin:process_clockdefinition_change", args=[definition.pk])
    data = _admin_form(superuser, url)
    data["ladder-0-DELETE"] = "on"
    assert superuser.post(url, data).status_code == 302
    assert len(definition_for("complaint", ClockName.CUSTOMER_ANSWER).ladder.all()) == rungs - 1


def _reminders_and_escalations(clock: Clock) -> tuple[int, int]:
    steps = [step["type"] for step in clock.schedule]
    return steps.count("reminder"), len(steps) - steps.count("reminder")


def test_the_next_clock_planned_follows_an_edited_ladder_and_reminders(
    users: dict[str, User], superuser: Client, make_case: Any
) -> None:
    """The ladder and reminders a clock's plan reads are kept with the reference data: a
    process that planned a clock before the edit plans the next one with the edited ones."""
    first = Clock.objects.get(case=make_case(), name=ClockName.CUSTOMER_ANSWER)
    reminders, rungs = _reminders_and_escalations(first)
    assert rungs >= 1
    definition = definition_for("complaint", ClockName.CUSTOMER_ANSWER)
    url = reverse("admin:process_clockdefinition_change", args=[definition.pk])
    held = refdata._cache  # what this process read before the edit
    data = _admin_form(superuser, url)
    data["ladder-0-DELETE"] = "on"
    data["reminders"] = "10%, 20%, 30%, 40%, 50%, 60%"
    response = superuser.post(url, data)
    assert response.status_code == 302, _errors(response)
    refdata._cache = held  # as another process would still hold it
    after = Clock.objects.get(case=make_case(), name=ClockName.CUSTOMER_ANSWER)
    assert _reminders_and_escalations(after) == (6, rungs - 1)
    assert reminders != 6


def test_a_profile_switched_off_refuses_the_next_registration(
    users: dict[str, User], client_for: Any
) -> None:
    from qloop.cases.actions import register_case
    from tests.conftest import registration

    register_case(registration(), actor=users["cs"])
    org = Organisation.current()
    org.profiles = [Profile.PHARMACY]
    org.save()
    with pytest.raises(ValidationError) as refused:
        register_case(registration(), actor=users["cs"])
    assert list(refused.value.message_dict) == ["kind"]


def test_an_edit_rolled_back_is_never_read(users: dict[str, User]) -> None:
    """The token is a new random one each time, so nothing read under a rolled-back edit's
    token is read again, and the next edit that commits is."""

    def names() -> set[str]:
        return {c.name for c in refdata.cached("test-categories", _categories)}

    assert "不会保存" not in names()
    with pytest.raises(RuntimeError), transaction.atomic():
        category = Category.objects.get(code="1A")
        category.name = "不会保存"
        category.save()
        assert "不会保存" in names()
        raise RuntimeError
    assert "不会保存" not in names()
    category = Category.objects.get(code="1A")
    category.name = "真的保存"
    category.save()
    assert "真的保存" in names()


def _categories() -> tuple[Category, ...]:
    return tuple(Category.objects.all())


def test_writes_that_send_no_signal_are_seen_too(users: dict[str, User], make_case: Any) -> None:
    """``update()`` (a script, a data fix) replaces the token as a save does."""
    from qloop.org.models import Department

    assert make_case().department.code == "CS"  # this process now holds the intake
    Department.objects.filter(code="CS").update(intake_kinds=[])
    Department.objects.filter(code="QA").update(intake_kinds=["complaint"])
    assert make_case().department.code == "QA"
    Category.objects.filter(code="1A").update(is_active=False)
    with pytest.raises(ValidationError) as refused:
        make_case(category_code="1A")
    assert list(refused.value.message_dict) == ["category"]


def test_the_feedback_intake_moved_moves_who_runs_the_surveys(
    users: dict[str, User], client_for: Any
) -> None:
    """Who runs the surveys is whoever is in the department that takes in customer feedback
    (R2.1); that department is kept by every process (``Department.intake_for``), and a move
    made anywhere holds from the next request on."""
    from qloop.org.models import Department

    sales = client_for("sales")
    assert sales.get(reverse("survey-home")).status_code == 200
    Department.objects.filter(code="SALES").update(intake_kinds=[])
    Department.objects.filter(code="QA").update(intake_kinds=["feedback"])
    assert sales.get(reverse("survey-home")).status_code == 403
    department = Department.objects.get(code="SALES")
    department.intake_kinds = ["feedback"]
    department.save()
    Department.objects.filter(code="QA").update(intake_kinds=[])
    assert sales.get(reverse("survey-home")).status_code == 200
