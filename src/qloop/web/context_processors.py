from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def qloop(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    my_work = 0
    if user is not None and user.is_authenticated:
        from qloop.cases.queues import my_work_queryset

        my_work = my_work_queryset(user).count()
    return {"QLOOP_DEBUG": settings.DEBUG, "my_work_count": my_work}
