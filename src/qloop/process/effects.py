"""The registry of step effects: what a transition writes besides the state.

Process definitions name an effect (``Transition.effect``); the app that owns the records it
writes registers the function here in its ``AppConfig.ready`` (capa the investigation and
corrective action, cases the feedback record, each profile its own). The engine looks effects
up here, so ``process`` never imports the apps that build on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import User

# (locked case, cleaned inputs, actor, when) inside the step's transaction.
Effect = Callable[["Case", dict[str, Any], "User", dt.datetime], None]

EFFECTS: dict[str, Effect] = {}


def register_effects(effects: Iterable[Effect]) -> None:
    """Register functions under their own names; one name, one function."""
    for effect in effects:
        name = effect.__name__
        if name in EFFECTS and EFFECTS[name] is not effect:
            raise ImproperlyConfigured(f"Two step effects are called {name!r}")
        EFFECTS[name] = effect
