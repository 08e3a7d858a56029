"""The administration pages never write around an action (issue 9.3).

Walks every model registered in the admin site. A model that the process or an action owns
(anything not in ``CONFIGURATION`` below) must come out of a POST to its add, change and delete
pages, and of the bulk "delete selected" action, exactly as it went in. Configuration stays
editable. A model registered later fails ``test_every_registered_model_is_classified`` until
it is put in one list or the other, with a row to try in ``RECORDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qloop.cases.models import Contact
from qloop.org.models import ApiToken, User

# Configuration: edited by administrators in the admin, by design.
CONFIGURATION = {
    "auth.Group",
    "org.User",
    "org.Department",
    "org.WorkingCalendar",
    "org.Role",
    "org.Organisation",
    "cases.Category",
    "cases.ExtraField",
    "process.ClockDefinition",
    "notify.Robot",
    "notify.MessageTemplate",
    "reports.ManagementReview",
    "clinical.ClinicalRegister",
    "clinical.Ward",
    "clinical.FindingRule",
    "clinical.NotifiableDisease",
    "clinical.ReportingRule",
    "clinical.FeedbackSchedule",
    "pharmacy.Drug",
    "pharmacy.AdrDeadlineRule",
    "pharmacy.PharmacySettings",
}
# Deleting a wrong-password count is how an administrator lifts a lock-out (issue 9.5).
DELETABLE = {"axes.AccessAttempt"}


def _first(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name).choices[0][0]  # type: ignore[union-attr,index]


def _questionnaire(users: dict[str, User]) -> Any:
    from qloop.surveys.actions import create_from_template

    return create_from_template("csat", actor=users["sales"])


def _campaign(users: dict[str, User]) -> Any:
    from qloop.surveys.actions import create_campaign

    return create_campaign(_questionnaire(users), title="2026 年度", actor=users["sales"])


def _invitation(users: dict[str, User]) -> Any:
    from qloop.surveys.models import Invitation

    contact = Contact.objects.create(name="王芳", email="wf@example.cn")
    return Invitation.objects.create(
        campaign=_campaign(users), contact=contact, email="wf@example.cn"
    )


def _response(users: dict[str, User]) -> Any:
    from qloop.surveys.models import Response

    return Response.objects.create(campaign=_campaign(users), source=_first(Response, "source"))


def _customer(users: dict[str, User]) -> Any:
    from qloop.customers.actions import create_customer

    return create_customer(name="苏州恒通水务有限公司", kind="dealer", actor=users["sales"])


def _contact_record(users: dict[str, User]) -> Any:
    from qloop.customers.actions import add_contact_record

    return add_contact_record(
        _customer(users),
        date=timezone.localdate(),
        way="phone",
        summary="回访，客户满意",
        actor=users["sales"],
    )


def _message(users: dict[str, User]) -> Any:
    from qloop.notify.models import Message

    return Message.objects.create(
        channel=_first(Message, "channel"),
        kind="task_assigned",
        address="cs@example.cn",
        subject="新任务",
        body="请处理",
    )


def _preference(users: dict[str, User]) -> Any:
    from qloop.notify.models import MessagePreference

    return MessagePreference.objects.create(user=users["cs"])


def _hl7(users: dict[str, User]) -> Any:
    from qloop.clinical.models import HL7Message

    return HL7Message.objects.create(
        transport="http", raw=b"MSH|^~\\&|", status=_first(HL7Message, "status"), ack_code="AA"
    )


def _axes(model_name: str) -> Callable[[dict[str, User]], Any]:
    def make(users: dict[str, User]) -> Any:
        from axes import models as axes_models

        model = getattr(axes_models, model_name)
        fields = {"username": "cs", "ip_address": "10.0.0.9", "path_info": "/login/"}
        if model_name != "AccessLog":
            fields.update(user_agent="ua", http_accept="*/*")
        if model_name == "AccessAttempt":
            fields["failures_since_start"] = 3
        return model.objects.create(**fields)

    return make


# One row of each model that actions own.
def _statutory_notice(users: dict[str, User]) -> Any:
    from qloop.org.models import StatutoryNotice

    return StatutoryNotice.objects.create(
        year=2031,
        source="国务院办公厅关于2031年部分节假日安排的通知",
        holidays=[{"name": "元旦", "start": "2031-01-01", "end": "2031-01-01"}],
        entered_by=users["admin"],
    )


RECORDS: dict[str, Callable[[dict[str, User]], Any]] = {
    "org.StatutoryNotice": _statutory_notice,
    "org.ApiToken": lambda users: ApiToken.issue(users["cs"], "ERP")[0],
    "notify.Message": _message,
    "notify.MessagePreference": _preference,
    "customers.CustomerOrganisation": _customer,
    "customers.ContactRecord": _contact_record,
    "surveys.Questionnaire": _questionnaire,
    "surveys.Campaign": _campaign,
    "surveys.Invitation": _invitation,
    "surveys.Response": _response,
    "clinical.HL7Message": _hl7,
    "axes.AccessAttempt": _axes("AccessAttempt"),
    "axes.AccessFailureLog": _axes("AccessFailureLog"),
    "axes.AccessLog": _axes("AccessLog"),
}


def _registered() -> dict[str, Any]:
    return {model._meta.label: model_admin for model, model_admin in admin.site._registry.items()}


def test_every_registered_model_is_classified() -> None:
    labels = set(_registered())
    assert labels - CONFIGURATION == set(RECORDS), "new admin model: configuration or record?"
    assert labels >= CONFIGURATION


def _snapshot(obj: models.Model) -> dict[str, Any]:
    fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
    if fresh is None:
        return {}
    values = {}
    for f in fresh._meta.concrete_fields:
        value = getattr(fresh, f.attname)
        values[f.attname] = bytes(value) if isinstance(value, memoryview) else value
    return values


def _tampered(obj: models.Model) -> dict[str, Any]:
    """A change form's worth of different values for every field."""
    data: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if isinstance(f, models.DateTimeField):
            data[f"{f.name}_0"], data[f"{f.name}_1"] = "2020-01-01", "00:00:00"
        elif isinstance(f, models.DateField):
            data[f.name] = "2020-01-01"
        elif isinstance(f, models.BooleanField):
            data[f.name] = "" if getattr(obj, f.attname) else "on"
        elif isinstance(f, models.IntegerField | models.ForeignKey):
            data[f.name] = "1"
        else:
            data[f.name] = "tampered@example.cn"
    data["_save"] = "Save"
    return data


@pytest.mark.parametrize("label", sorted(RECORDS))
def test_an_action_owned_record_is_read_only_in_the_admin(
    label: str, users: dict[str, User], superuser: Client
) -> None:
    obj = RECORDS[label](users)
    model = type(obj)
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    before = _snapshot(obj)
    count = model._default_manager.count()

    # It can be read …
    assert superuser.get(reverse(f"{info}_changelist")).status_code == 200
    assert superuser.get(reverse(f"{info}_change", args=[obj.pk])).status_code == 200
    # … and nothing written through the admin sticks.
    add = superuser.post(reverse(f"{info}_add"), _tampered(obj))
    assert add.status_code == 403
    superuser.post(reverse(f"{info}_change", args=[obj.pk]), _tampered(obj))
    assert _snapshot(obj) == before
    if label not in DELETABLE:
        delete = superuser.post(reverse(f"{info}_delete", args=[obj.pk]), {"post": "yes"})
        assert delete.status_code == 403
        superuser.post(
            reverse(f"{info}_changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert _snapshot(obj) == before
    assert model._default_manager.count() == count


@pytest.mark.parametrize("label", sorted(CONFIGURATION))
def test_configuration_stays_editable_in_the_admin(label: str, superuser: Client) -> None:
    model_admin = _registered()[label]
    request = type("R", (), {"user": User.objects.get(username="root")})()
    assert model_admin.has_change_permission(request)


def test_an_administrator_revokes_a_token_through_its_action(
    users: dict[str, User], superuser: Client
) -> None:
    token, _raw = ApiToken.issue(users["cs"], "ERP")
    response = superuser.post(
        reverse("admin:org_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.user == users["cs"]
