"""Which results are findings: the laboratory's rules as data, and the flags of the sending
system (R5.5, R5.8). Plain functions over a register entry; no writes here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from qloop.cases.search import normalise
from qloop.clinical.models import (
    CRITICAL_FLAGS,
    FindingKind,
    FindingRule,
    ResultEntry,
)


@dataclass(frozen=True)
class Match:
    """A reason to open a finding on a result."""

    kind: str
    reason: str
    rule: FindingRule | None = None


def as_number(text: str) -> Decimal | None:
    """The number in a result ("2.5", "<0.01", "1.2E3"), or None for a text result."""
    cleaned = text.strip().lstrip("<>=≤≥ ").replace(",", "")
    try:
        value = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _words(text: str) -> list[str]:
    return [normalise(w) for w in text.replace("，", ",").split(",") if w.strip()]


def says(result: str, positive: str, negative: str) -> bool:
    """Whether a text result says one of the positive words and none of the negative ones
    ("Not isolated" is not "Isolated")."""
    value = normalise(result)
    if any(word in value for word in _words(negative)):
        return False
    return any(word in value for word in _words(positive))


def rule_applies(rule: FindingRule, entry: ResultEntry) -> bool:
    if rule.test_code.strip().casefold() != entry.test_code.strip().casefold():
        return False
    if rule.kind == FindingKind.INFECTIOUS:
        return says(entry.result_value, rule.positive_words, rule.negative_words)
    if rule.sex and entry.sex != rule.sex:
        return False
    age = entry.age_years
    if rule.age_min_years is not None and (age is None or age < rule.age_min_years):
        return False
    if rule.age_max_years is not None and (age is None or age >= rule.age_max_years):
        return False
    value = entry.result_numeric
    if value is None:
        return False
    return (rule.low_limit is not None and value < rule.low_limit) or (
        rule.high_limit is not None and value > rule.high_limit
    )


def matches(entry: ResultEntry, rules: list[FindingRule] | None = None) -> list[Match]:
    """Every reason this result is a finding: at most one critical and one infectious (the
    first rule of each kind that applies; the sender's critical flag when no rule does)."""
    if rules is None:
        rules = list(
            FindingRule.objects.filter(register_id=entry.register_id, is_active=True).order_by("id")
        )
    found: dict[str, Match] = {}
    for rule in rules:
        if rule.kind not in found and rule_applies(rule, entry):
            found[rule.kind] = Match(rule.kind, rule.name, rule)
    if FindingKind.CRITICAL not in found and entry.abnormal_flag in CRITICAL_FLAGS:
        found[FindingKind.CRITICAL] = Match(
            FindingKind.CRITICAL,
            _("Flagged %(flag)s by the sending system") % {"flag": entry.abnormal_flag},
        )
    return [found[k] for k in (FindingKind.CRITICAL, FindingKind.INFECTIOUS) if k in found]
