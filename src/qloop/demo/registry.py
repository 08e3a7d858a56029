"""The parts of the demo, one per profile: ``qloop demo`` loads each part that is registered.

The manufacturer's part is here; a profile app registers its own in ``AppConfig.ready`` (a
hospital's pharmacy, its laboratory and radiology). Every part is idempotent: running the demo
again adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qloop.org.models import Profile


@dataclass(frozen=True)
class DemoPart:
    """What one profile brings to the demo: a loader and the logins it makes."""

    profile: str
    # Loads the part (after the parts before it); returns what it made, e.g. {"complaints": 300}.
    load: Callable[[dict[str, Any]], dict[str, int]]
    # (user name, who that is), listed in the start-up banner and the README.
    logins: tuple[tuple[str, str], ...]
    order: int = 100


DEMO_PARTS: list[DemoPart] = []


def register_demo(part: DemoPart) -> None:
    if all(p.profile != part.profile for p in DEMO_PARTS):
        DEMO_PARTS.append(part)
        DEMO_PARTS.sort(key=lambda p: p.order)


def demo_logins() -> list[tuple[str, str]]:
    return [login for part in DEMO_PARTS for login in part.logins]


def _load_manufacturer(options: dict[str, Any]) -> dict[str, int]:
    from qloop.demo.aftersales import load_aftersales
    from qloop.demo.loader import load_cases, load_demo_holidays, load_organisation

    users = load_organisation()
    load_demo_holidays(users["admin"])
    made = load_cases(options.get("cases", 300), users)
    return {"people": len(users), "complaints": made, **load_aftersales(users)}


register_demo(
    DemoPart(
        Profile.MANUFACTURER,
        _load_manufacturer,
        logins=(
            ("cs", "客服专员 CS clerk"),
            ("cs_head", "客户服务部经理 CS head"),
            ("qe", "质量工程师 quality engineer"),
            ("qa_head", "品质部经理 quality head"),
            ("prod", "生产部 production"),
            ("sales", "供销部 supply and sales"),
            ("gm", "总经理 general manager"),
            ("admin", "系统管理员 administrator"),
        ),
        order=0,
    )
)
