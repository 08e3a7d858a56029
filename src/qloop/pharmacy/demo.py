"""The pharmacy part of the demo (placeholder replaced below)."""
from __future__ import annotations

from typing import Any

from qloop.demo.registry import DemoPart
from qloop.org.models import Profile


def load(options: dict[str, Any]) -> dict[str, int]:
    return {}


DEMO_PART = DemoPart(Profile.PHARMACY, load, logins=(), order=20)
