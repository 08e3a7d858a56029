"""The recurring-problem pages in the generated permission matrix (tests/web/test_permissions.py):
those who see all cases and Quality read them; Quality links or dismisses; others get 404.
``recurring_routes(Route)`` takes the matrix's Route class to avoid a circular import."""

from __future__ import annotations

from typing import Any

from qloop.capa.models import CorrectiveAction
from qloop.cases import recurring
from qloop.cases.models import Case, RecurringGroup
from qloop.org.models import User

DONE = 302


def _group(case: Case, users: dict[str, User]) -> dict[str, Any]:
    CorrectiveAction.objects.create(case=case, plan="更换密封供应商")
    group = RecurringGroup.objects.create(kind=case.kind, key="ql-cp50", label="QL-CP50")
    group.cases.add(case)
    return {"group_id": group.pk}


def _decides(user: User, case: Case) -> int:
    group = RecurringGroup.objects.get()
    if recurring.can_decide(user, group):
        return DONE
    return 403 if recurring.can_see_groups(user) else 404


def _state(case: Case) -> str:
    return RecurringGroup.objects.get().state


def recurring_routes(route: Any) -> list[Any]:
    return [
        route(
            "recurring-list",
            "get",
            lambda user, case: 200 if recurring.can_see_groups(user) else 403,
        ),
        route(
            "recurring-link",
            "post",
            _decides,
            data=lambda p: {"case": Case.objects.get().number},
            probe=_state,
            prepare=_group,
        ),
        route(
            "recurring-dismiss",
            "post",
            _decides,
            data=lambda p: {"reason": "安装不当，非产品问题"},
            probe=_state,
            prepare=_group,
        ),
    ]
