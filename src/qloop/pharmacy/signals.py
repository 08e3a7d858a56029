"""Signals (beyond the seed): for each drug–reaction pair with at least 3 reports, the
disproportionality of its reports — PRR and ROR with their 95 % confidence intervals —
computed by the database over the first reports of suspected ADRs; pairs over the threshold
(the lower bound of the ROR's interval above 1) wait for a pharmacist to review and close them
with a reason.

With a = reports of the drug with the reaction, b = of the drug with other reactions, c = of
other drugs with the reaction, d = the rest:
PRR = (a/(a+b)) / (c/(c+d)), ROR = ad/bc, and the intervals exp(ln x ± 1.96·SE) with
SE(ln PRR) = √(1/a − 1/(a+b) + 1/c − 1/(c+d)), SE(ln ROR) = √(1/a + 1/b + 1/c + 1/d).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Exp, Ln, NullIf, Sqrt
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.org.models import User
from qloop.pharmacy.access import in_pharmacy
from qloop.pharmacy.models import AdrDrug, AdrReport, DrugRole, ReportType, SignalReview

MIN_REPORTS = 3
Z = 1.959964


@dataclass
class Pair:
    generic_name: str
    reaction: str
    a: int
    b: int
    c: int
    d: int
    prr: float | None
    prr_low: float | None
    prr_high: float | None
    ror: float | None
    ror_low: float | None
    ror_high: float | None
    recent: int
    first_at: dt.datetime
    last_at: dt.datetime
    review: SignalReview | None = None

    @property
    def over_threshold(self) -> bool:
        return self.ror_low is not None and self.ror_low > 1


def _reports() -> Any:
    return AdrReport.objects.filter(
        report_type=ReportType.FIRST, case__archived_at__isnull=True
    ).exclude(reaction="")


def _f(expr: Any) -> Any:
    return Cast(expr, FloatField())


def signal_table(*, min_reports: int = MIN_REPORTS, now: dt.datetime | None = None) -> list[Pair]:
    """Every pair with at least ``min_reports`` reports, most disproportionate first."""
    now = now or timezone.now()
    reports = _reports()
    total = reports.count()
    suspects = AdrDrug.objects.filter(role=DrugRole.SUSPECT, report__in=reports)
    drug_total = (
        suspects.filter(generic_name=OuterRef("generic_name"))
        .values("generic_name")
        .annotate(n=Count("report", distinct=True))
        .values("n")
    )
    reaction_total = (
        reports.filter(reaction=OuterRef("report__reaction"))
        .values("reaction")
        .annotate(n=Count("pk"))
        .values("n")
    )
    a = _f(F("a"))
    b = _f(F("drug_n") - F("a"))
    c = _f(F("reaction_n") - F("a"))
    d = _f(Value(total) - F("drug_n") - F("reaction_n") + F("a"))
    prr = ExpressionWrapper(
        (a / _f(F("drug_n"))) / NullIf(c / NullIf(_f(Value(total) - F("drug_n")), 0.0), 0.0),
        output_field=FloatField(),
    )
    ror = ExpressionWrapper((a * d) / NullIf(b * c, 0.0), output_field=FloatField())
    se_prr = Sqrt(
        Value(1.0) / a
        - Value(1.0) / _f(F("drug_n"))
        + Value(1.0) / NullIf(c, 0.0)
        - Value(1.0) / NullIf(_f(Value(total) - F("drug_n")), 0.0)
    )
    se_ror = Sqrt(
        Value(1.0) / a
        + Value(1.0) / NullIf(b, 0.0)
        + Value(1.0) / NullIf(c, 0.0)
        + Value(1.0) / NullIf(d, 0.0)
    )
    rows = (
        suspects.values("generic_name", "report__reaction")
        .annotate(
            a=Count("report", distinct=True),
            recent=Count(
                "report",
                distinct=True,
                filter=Q(report__aware_at__gte=now - dt.timedelta(days=90)),
            ),
            first_at=Min("report__aware_at"),
            last_at=Max("report__aware_at"),
        )
        .filter(a__gte=min_reports)
        .annotate(
            drug_n=Subquery(drug_total),
            reaction_n=Subquery(reaction_total),
        )
        .annotate(prr=prr, ror=ror, se_prr=se_prr, se_ror=se_ror)
        .annotate(
            prr_low=Exp(Ln(NullIf(F("prr"), 0.0)) - Z * F("se_prr")),
            prr_high=Exp(Ln(NullIf(F("prr"), 0.0)) + Z * F("se_prr")),
            ror_low=Exp(Ln(NullIf(F("ror"), 0.0)) - Z * F("se_ror")),
            ror_high=Exp(Ln(NullIf(F("ror"), 0.0)) + Z * F("se_ror")),
        )
        .order_by(Coalesce("ror_low", 0.0).desc(), "-a")
    )
    reviews: dict[tuple[str, str], SignalReview] = {}
    for review in SignalReview.objects.select_related("closed_by").order_by("closed_at"):
        reviews[(review.generic_name, review.reaction)] = review
    out = []
    for row in rows:
        key = (row["generic_name"], row["report__reaction"])
        drug_n, reaction_n = row["drug_n"] or 0, row["reaction_n"] or 0
        out.append(
            Pair(
                generic_name=key[0],
                reaction=key[1],
                a=row["a"],
                b=drug_n - row["a"],
                c=reaction_n - row["a"],
                d=total - drug_n - reaction_n + row["a"],
                prr=row["prr"],
                prr_low=row["prr_low"],
                prr_high=row["prr_high"],
                ror=row["ror"],
                ror_low=row["ror_low"],
                ror_high=row["ror_high"],
                recent=row["recent"],
                first_at=row["first_at"],
                last_at=row["last_at"],
                review=reviews.get(key),
            )
        )
    return out


def close_signal(generic_name: str, reaction: str, reason: str, *, actor: User) -> SignalReview:
    """A pharmacist closes a pair after review, with a reason; the pair stays in the table
    with its review (a later review is a new row)."""
    if not in_pharmacy(actor):
        raise PermissionDenied
    inputs.check_texts({"reason": reason, "generic_name": generic_name, "reaction": reaction})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the signal is closed.")]})
    pair = next(
        (p for p in signal_table() if (p.generic_name, p.reaction) == (generic_name, reaction)),
        None,
    )
    if pair is None:
        raise ValidationError({"reaction": [_("There is no such drug–reaction pair.")]})
    with transaction.atomic():
        return SignalReview.objects.create(
            generic_name=generic_name,
            reaction=reaction,
            reason=reason,
            reports=pair.a,
            ror=pair.ror,
            closed_by=actor,
        )
