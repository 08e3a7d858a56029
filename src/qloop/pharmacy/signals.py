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
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.org.models import User
from qloop.pharmacy.access import in_pharmacy
from qloop.pharmacy.counts import month_of
from qloop.pharmacy.models import SignalPairMonth, SignalReview

MIN_REPORTS = 3
RECENT_DAYS = 90
MONTHS = 12
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
    # Reports per month over the last MONTHS months, oldest first (months without any: 0).
    months: list[tuple[dt.date, int]] = field(default_factory=list)

    @property
    def over_threshold(self) -> bool:
        return self.ror_low is not None and self.ror_low > 1


# One statement over the pre-counted months (qloop.pharmacy.counts: a few rows per pair and
# month, not a row per report): the pair counts, the totals per drug, per reaction and
# overall, and the ratios with their intervals. The "recent" column (the last 90 days) adds
# the whole months after the window's first month, from the counts, to the reports of the
# rest of that first month, read from the reports (at most a month of them).
SIGNAL_SQL = """
WITH pm AS (
    SELECT generic_name, reaction, SUM(reports) AS a,
           MIN(first_at) AS first_at, MAX(last_at) AS last_at
    FROM pharmacy_signalpairmonth GROUP BY generic_name, reaction
), n AS (SELECT COALESCE(SUM(reports), 0) * 1.0 AS total FROM pharmacy_signalreactionmonth),
dn AS (SELECT generic_name, SUM(a) * 1.0 AS drug_n FROM pm GROUP BY generic_name),
rn AS (
    SELECT reaction, SUM(reports) * 1.0 AS reaction_n
    FROM pharmacy_signalreactionmonth GROUP BY reaction
), rm AS (
    SELECT generic_name, reaction, SUM(reports) AS recent
    FROM pharmacy_signalpairmonth WHERE month >= %s GROUP BY generic_name, reaction
), rc AS (
    SELECT d.generic_name, ar.reaction, COUNT(DISTINCT ar.case_id) AS recent
    FROM pharmacy_adrreport ar
    JOIN cases_case c ON c.id = ar.case_id
    JOIN pharmacy_adrdrug d ON d.report_id = ar.case_id AND d.role = 'suspect'
    WHERE ar.aware_at >= %s AND ar.aware_at < %s AND ar.report_type = 'first'
      AND c.archived_at IS NULL AND ar.reaction <> ''
    GROUP BY d.generic_name, ar.reaction
), p AS (
    SELECT pm.*, COALESCE(rm.recent, 0) + COALESCE(rc.recent, 0) AS recent
    FROM pm
    LEFT JOIN rm ON rm.generic_name = pm.generic_name AND rm.reaction = pm.reaction
    LEFT JOIN rc ON rc.generic_name = pm.generic_name AND rc.reaction = pm.reaction
    WHERE pm.a >= %s
), c AS (
    SELECT p.*, p.a * 1.0 AS fa, dn.drug_n - p.a AS fb, rn.reaction_n - p.a AS fc,
           n.total - dn.drug_n - rn.reaction_n + p.a AS fd
    FROM p JOIN dn ON dn.generic_name = p.generic_name
           JOIN rn ON rn.reaction = p.reaction CROSS JOIN n
), q AS (
    SELECT c.*,
      (fa / (fa + fb)) / NULLIF(fc / NULLIF(fc + fd, 0), 0) AS prr,
      (fa * fd) / NULLIF(fb * fc, 0) AS ror,
      CASE WHEN fc > 0 AND fc + fd > 0
           THEN SQRT(1 / fa - 1 / (fa + fb) + 1 / fc - 1 / (fc + fd)) END AS se_prr,
      CASE WHEN fb > 0 AND fc > 0 AND fd > 0
           THEN SQRT(1 / fa + 1 / fb + 1 / fc + 1 / fd) END AS se_ror
    FROM c
)
SELECT generic_name, reaction, a, fb, fc, fd, recent, first_at, last_at, prr, ror,
       CASE WHEN prr > 0 THEN EXP(LN(prr) - %s * se_prr) END,
       CASE WHEN prr > 0 THEN EXP(LN(prr) + %s * se_prr) END,
       CASE WHEN ror > 0 THEN EXP(LN(ror) - %s * se_ror) END,
       CASE WHEN ror > 0 THEN EXP(LN(ror) + %s * se_ror) END
FROM q
ORDER BY 14 DESC, a DESC
"""


def signal_table(*, min_reports: int = MIN_REPORTS, now: dt.datetime | None = None) -> list[Pair]:
    """Every pair with at least ``min_reports`` reports, most disproportionate first."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=RECENT_DAYS)
    next_month = (month_of(since) + dt.timedelta(days=32)).replace(day=1)
    until = dt.datetime.combine(next_month, dt.time(), tzinfo=timezone.get_current_timezone())
    with connection.cursor() as cursor:
        cursor.execute(SIGNAL_SQL, [next_month, since, until, min_reports, Z, Z, Z, Z])
        rows = cursor.fetchall()
    reviews: dict[tuple[str, str], SignalReview] = {}
    for review in SignalReview.objects.select_related("closed_by").order_by("closed_at"):
        reviews[(review.generic_name, review.reaction)] = review
    out = []
    for (
        generic,
        reaction,
        a,
        b,
        c,
        d,
        recent,
        first_at,
        last_at,
        prr,
        ror,
        prr_low,
        prr_high,
        ror_low,
        ror_high,
    ) in rows:
        out.append(
            Pair(
                generic_name=generic,
                reaction=reaction,
                a=int(a),
                b=int(b),
                c=int(c),
                d=int(d),
                prr=_float(prr),
                prr_low=_float(prr_low),
                prr_high=_float(prr_high),
                ror=_float(ror),
                ror_low=_float(ror_low),
                ror_high=_float(ror_high),
                recent=int(recent or 0),
                first_at=_moment(first_at),
                last_at=_moment(last_at),
                review=reviews.get((generic, reaction)),
            )
        )
    _add_months(out, month_of(now))
    # NULLs (no ROR) last, whatever the database's ordering of NULLs.
    out.sort(key=lambda p: (p.ror_low is None, -(p.ror_low or 0), -p.a))
    return out


def _add_months(pairs: list[Pair], this_month: dt.date) -> None:
    """Counts over time: each pair's reports in each of the last MONTHS months, from the
    counts (one query for every pair)."""
    months = [this_month]
    while len(months) < MONTHS:
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    months.reverse()
    found: dict[tuple[str, str, dt.date], int] = {}
    if pairs:
        for generic, reaction, month, n in SignalPairMonth.objects.filter(
            month__gte=months[0]
        ).values_list("generic_name", "reaction", "month", "reports"):
            found[(generic, reaction, month)] = n
    for p in pairs:
        p.months = [(m, found.get((p.generic_name, p.reaction, m), 0)) for m in months]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite gives the text it stored
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


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
