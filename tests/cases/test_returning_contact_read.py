"""The returning contact registration matches (``access.returning_contact``) is the one the
queryset it replaced finds, for every rule of ``contacts_for`` and every way of matching
(issue 9.1; compiled once per process since issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from qloop.cases import access
from qloop.cases.actions import ContactData
from qloop.cases.models import Case, Contact
from qloop.org.models import User

pytestmark = pytest.mark.django_db


def queryset_answer(user: User | None, name: str, phone: str, email: str) -> Contact | None:
    """What registration read before, spelt as it was."""
    lookup = (
        access.contacts_for(user)
        .filter(name=name)
        .order_by("-created_at")
        .select_for_update(of=("self",))
    )
    return (lookup.filter(phone=phone).first() if phone else None) or (
        lookup.filter(email__iexact=email).first() if email else None
    )


PEOPLE = [
    ContactData(name="王芳", phone="13800138000", email="wang_fang@example.cn"),
    ContactData(name="王芳", phone="13800138001", email="WANGFANG@example.cn"),
    ContactData(name="李建国", phone="13912345678", email="ljg%@example.cn"),
    ContactData(name="李建国", phone="", email="lj.g@example.cn"),
    # Newer, and found only if "_" or "%" in what is asked were taken as wildcards:
    ContactData(name="王芳", phone="13800138003", email="wangxfang@example.cn"),
    ContactData(name="李建国", phone="13000000009", email="ljgabc@example.cn"),
]
ASKED = [
    ("王芳", "13800138000", ""),
    ("王芳", "13800138000", "nobody@example.cn"),
    ("王芳", "", "wang_fang@example.cn"),
    ("王芳", "", "WANG_FANG@EXAMPLE.CN"),
    ("王芳", "", "wangXfang@example.cn"),  # "_" is no wildcard
    ("王芳", "", "wangfang@example.cn"),
    ("王芳", "99999999", "wangfang@example.cn"),
    ("李建国", "", "ljgx@example.cn"),  # "%" is no wildcard
    ("李建国", "", "ljg%@example.cn"),
    ("李建国", "", "ljXg@example.cn"),
    ("李建国", "13912345678", ""),
    ("李四", "13912345678", "ljg%@example.cn"),
    ("王芳", "", ""),
]


@pytest.mark.parametrize("own_rule", [True, False], ids=["general", "all"])
def test_the_compiled_read_finds_what_the_queryset_found(
    users: dict[str, Any],
    make_case: Callable[..., Case],
    monkeypatch: pytest.MonkeyPatch,
    own_rule: bool,
) -> None:
    for n, person in enumerate(PEOPLE):
        make_case(actor="cs" if n % 2 else "qe", contact=person)
    # The newest 王芳 with that e-mail is known from feedback alone: "general" never finds her.
    only_feedback = make_case(
        actor="cs", kind="feedback", contact=ContactData(name="赵六", phone="13700000000")
    ).contact
    assert only_feedback is not None
    Contact.objects.filter(pk=only_feedback.pk).update(name="王芳", email="wang_fang@example.cn")
    Contact.objects.create(name="王芳", phone="13800138000", email="x@example.cn")  # no case
    # A kind with a personal-data rule of its own takes its contacts out of "all" ("general");
    # the reads compiled afresh for what this test sets.
    monkeypatch.setattr(access, "_own_rule_kinds", lambda: ["feedback"] if own_rule else [])
    monkeypatch.setattr(
        access, "_RETURNING", {k: access._returning_read(*k) for k in access._RETURNING}
    )
    shapes = set()
    for username in ["cs", "qe", "prod", "cs_head", None]:
        user = users[username] if username else None
        shapes.add(access._contacts_shape(user))
        for name, phone, email in ASKED:
            with transaction.atomic():
                expected = queryset_answer(user, name, phone, email)
                found = access.returning_contact(user, name, phone, email)
            assert found == expected, (username, name, phone, email)
            if found is not None:
                assert [getattr(found, f.attname) for f in Contact._meta.concrete_fields] == [
                    getattr(expected, f.attname) for f in Contact._meta.concrete_fields
                ]
    assert shapes == {None, "mine", "general" if own_rule else "all"}
    assert any(
        access.returning_contact(users["cs"], *asked) is not None for asked in ASKED
    )  # the questions find someone
