"""Reference data read on every result (departments, wards, doctors, the laboratory's rules),
kept per process for a few seconds: a hospital system sends hundreds of results a minute and
each would otherwise read them again. A change saved in this process is seen at once (the
cache is dropped on save); other processes see it within ``TTL`` seconds."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save

TTL = 5.0
_lock = threading.Lock()
_cache: dict[Any, tuple[float, Any]] = {}


def cached(key: Any, load: Any) -> Any:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    with _lock:
        _cache[key] = (now + TTL, value)
    return value


def forget(**kwargs: Any) -> None:
    with _lock:
        _cache.clear()


def department(code: str) -> Any:
    from qloop.org.models import Department

    return cached(
        ("dept", code), lambda: Department.objects.filter(code=code, is_active=True).first()
    )


def ward(code: str) -> Any:
    from qloop.clinical.models import Ward

    return cached(
        ("ward", code), lambda: Ward.objects.filter(code=code).select_related("department").first()
    )


def user(username: str) -> Any:
    from qloop.org.models import User

    return cached(
        ("user", username),
        lambda: User.objects.filter(username=username, is_active=True).first(),
    )


def rules(register_id: int) -> list[Any]:
    from qloop.clinical.models import FindingRule

    return cached(
        ("rules", register_id),
        lambda: list(
            FindingRule.objects.filter(register_id=register_id, is_active=True)
            .select_related("disease")
            .order_by("id")
        ),
    )


def registers() -> list[Any]:
    from qloop.clinical.models import ClinicalRegister

    return cached(
        ("registers",),
        lambda: list(
            ClinicalRegister.objects.filter(is_active=True)
            .select_related("department")
            .order_by("id")
        ),
    )


def connect() -> None:
    """Drop the cache whenever reference data is saved in this process."""
    from qloop.clinical.models import ClinicalRegister, FindingRule, Ward
    from qloop.org.models import Department, Membership, User

    for model in (ClinicalRegister, FindingRule, Ward, Department, User, Membership):
        post_save.connect(
            forget, sender=model, weak=False, dispatch_uid=f"clinical-{model.__name__}"
        )
        post_delete.connect(
            forget, sender=model, weak=False, dispatch_uid=f"clinical-d-{model.__name__}"
        )
