"""Periodic summaries (R3.2) as recipient sets of the one period-summary mechanism (X5,
``qloop.reports.period_summaries``): monthly and quarterly counts of drug quality feedback and
ADR reports — by drug, batch, problem, ADR report type and seriousness, outcome and department
— beside the period before and the same period last year, made by the worker, signed off by the
head of pharmacy, kept unchanged as PDF and .xlsx, and sent to the drug regulator or the
Pharmacy and Therapeutics Committee (the setting says which, or both).

The summaries the older mechanism made (``pharmacy.Summary``) were copied into period
summaries by migration ``pharmacy 0006``; its rows are kept as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.reports.models import SummaryPeriod
from qloop.reports.period_summaries import RecipientSet, local_start, register_recipients

if TYPE_CHECKING:
    from qloop.org.models import User
    from qloop.reports.models import PeriodSummary

TOP = 20
REGULATOR = "pharmacy_regulator"
COMMITTEE = "pharmacy_committee"


# The figures of one period as one statement (issue 10: under 2 s at 1,000,000 cases). Each
# row is (section, key, count, rank); the ranks keep the ORM's "largest first, then by name"
# with the database's own collation and NULL order. Nothing is read by a pass over a whole
# table (bench/RESULTS-pharmacy.md has the plans and times; indexes of migration 0009):
# - feedback rows have no time of their own: they are read through the period's live drug
#   quality cases (only those cases have them: ``create_drug_feedback``; index
#   ``pharmacy_live_feedback_case``), one index-only probe each (``dq_case_counted``). On
#   PostgreSQL a LATERAL ... OFFSET 0 keeps the planner from hashing the whole table instead,
#   and probing in id order reads each index page once (three times faster than in time order);
# - ADR reports by awareness (``adr_aware_counted``, index-only), the few archived cases left
#   out by an anti-join (``pharmacy_archived_case``) rather than a probe per report;
# - their suspect drugs, a probe per report in id order (``adr_drug_suspect``).
_FEEDBACK_PG = """
    SELECT f.problem, f.drug_id, f.batch_id, f.major
    FROM (
        SELECT id FROM cases_case WHERE kind = 'drug_feedback' AND received_at >= %(since)s
            AND received_at < %(until)s AND archived_at IS NULL ORDER BY id) c
    CROSS JOIN LATERAL (
        SELECT problem, drug_id, batch_id, major FROM pharmacy_drugfeedback
        WHERE case_id = c.id OFFSET 0) f"""
_FEEDBACK = """
    SELECT f.problem, f.drug_id, f.batch_id, f.major
    FROM cases_case c JOIN pharmacy_drugfeedback f ON f.case_id = c.id
    WHERE c.kind = 'drug_feedback' AND c.received_at >= %(since)s AND c.received_at < %(until)s
        AND c.archived_at IS NULL"""
_REPORTS = """
    SELECT r.case_id, r.report_type, r.seriousness, r.outcome, r.department_id
    FROM pharmacy_adrreport r
    WHERE r.aware_at >= %(since)s AND r.aware_at < %(until)s AND NOT EXISTS (
        SELECT 1 FROM cases_case c WHERE c.id = r.case_id AND c.archived_at IS NOT NULL)
    ORDER BY r.case_id"""
_SUSPECTS_PG = """
    SELECT s.generic_name, COUNT(DISTINCT s.report_id) AS n
    FROM r CROSS JOIN LATERAL (
        SELECT generic_name, report_id FROM pharmacy_adrdrug
        WHERE report_id = r.case_id AND role = 'suspect' OFFSET 0) s
    GROUP BY s.generic_name"""
_SUSPECTS = """
    SELECT s.generic_name, COUNT(DISTINCT s.report_id) AS n
    FROM r JOIN pharmacy_adrdrug s ON s.report_id = r.case_id AND s.role = 'suspect'
    GROUP BY s.generic_name"""
_FIGURES = """
WITH f AS MATERIALIZED ({feedback}),
r AS MATERIALIZED ({reports}),
g AS (
    SELECT 'by_problem' AS s, problem AS k, CAST(NULL AS BIGINT) AS i, COUNT(*) AS n FROM f GROUP BY problem
    UNION ALL SELECT 'by_drug', NULL, drug_id, COUNT(*) FROM f GROUP BY drug_id
    UNION ALL SELECT 'by_batch', NULL, batch_id, COUNT(*) FROM f
        WHERE batch_id IS NOT NULL GROUP BY batch_id
    UNION ALL SELECT 'feedback', NULL, NULL, COUNT(*) FROM f
    UNION ALL SELECT 'major', NULL, NULL, COUNT(*) FROM f WHERE major
    UNION ALL SELECT 'adr', NULL, NULL, COUNT(*) FROM r
    UNION ALL SELECT 'adr_by_type', report_type, NULL, COUNT(*) FROM r GROUP BY report_type
    UNION ALL SELECT 'adr_by_seriousness', seriousness, NULL, COUNT(*) FROM r
        GROUP BY seriousness
    UNION ALL SELECT 'adr_by_outcome', outcome, NULL, COUNT(*) FROM r GROUP BY outcome
    UNION ALL SELECT 'adr_by_department', NULL, department_id, COUNT(*) FROM r
        GROUP BY department_id
    UNION ALL SELECT 'adr_by_drug', generic_name, NULL, n FROM ({suspects}) s
    UNION ALL SELECT kind, NULL, NULL, COUNT(*) FROM cases_case
        WHERE kind IN ('counterfeit', 'adr_group') AND received_at >= %(since)s
        AND received_at < %(until)s AND archived_at IS NULL GROUP BY kind),
named AS (
    SELECT g.s, CASE g.s WHEN 'by_drug' THEN d.generic_name WHEN 'by_batch' THEN b.batch_number
        WHEN 'adr_by_department' THEN dep.name ELSE g.k END AS k, SUM(g.n) AS n
    FROM g
    LEFT JOIN pharmacy_drug d ON g.s = 'by_drug' AND d.id = g.i
    LEFT JOIN pharmacy_drugbatch b ON g.s = 'by_batch' AND b.id = g.i
    LEFT JOIN org_department dep ON g.s = 'adr_by_department' AND dep.id = g.i
    GROUP BY 1, 2)
SELECT s, k, n, ROW_NUMBER() OVER (PARTITION BY s ORDER BY n DESC, k) AS rank FROM named
"""


LISTS = (
    "by_problem",
    "by_drug",
    "by_batch",
    "adr_by_type",
    "adr_by_seriousness",
    "adr_by_outcome",
    "adr_by_department",
    "adr_by_drug",
)


def figures(start: dt.date, end: dt.date) -> dict[str, Any]:
    """The days from ``start`` to before ``end``, counted by the database in one statement
    (R3.2): the same figures as counting each table with the ORM, checked so by
    tests/pharmacy/test_summary_figures.py."""
    postgres = connection.vendor == "postgresql"
    sql = _FIGURES.format(
        feedback=_FEEDBACK_PG if postgres else _FEEDBACK,
        reports=_REPORTS,
        suspects=_SUSPECTS_PG if postgres else _SUSPECTS,
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = {"since": adapt(local_start(start)), "until": adapt(local_start(end))}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    totals = {"feedback": 0, "major": 0, "counterfeit": 0, "adr": 0, "adr_group": 0}
    lists: dict[str, list[tuple[int, str | None, int]]] = {key: [] for key in LISTS}
    for section, key, n, rank in rows:
        if section in totals:
            totals[section] = int(n)
        elif rank <= TOP:
            lists[section].append((rank, key, int(n)))
    out: dict[str, Any] = {
        "feedback": totals["feedback"],
        "major": totals["major"],
        "counterfeit": totals["counterfeit"],
        "adr": totals["adr"],
        "groups": totals["adr_group"],
    }
    for section in LISTS:
        ranked = sorted(lists[section])
        if section == "adr_by_drug":
            out[section] = [[key, n] for _rank, key, n in ranked]
        else:
            out[section] = [[str(key or "—"), n] for _rank, key, n in ranked]
    return out


SECTIONS = [
    ("by_problem", gettext_lazy("Drug quality feedback by problem")),
    ("by_drug", gettext_lazy("Drug quality feedback by drug")),
    ("by_batch", gettext_lazy("Drug quality feedback by batch")),
    ("adr_by_type", gettext_lazy("ADR reports by report type")),
    ("adr_by_seriousness", gettext_lazy("ADR reports by seriousness")),
    ("adr_by_outcome", gettext_lazy("ADR reports by outcome")),
    ("adr_by_department", gettext_lazy("ADR reports by department")),
    ("adr_by_drug", gettext_lazy("ADR reports by suspect drug")),
]

TOTALS = [
    ("feedback", gettext_lazy("Drug quality feedback")),
    ("major", gettext_lazy("major problem")),
    ("counterfeit", gettext_lazy("Counterfeit or substandard drug")),
    ("adr", gettext_lazy("Adverse drug reaction report")),
    ("groups", gettext_lazy("Group adverse drug event")),
]


def _labels() -> dict[str, dict[str, str]]:
    """Codes kept in the figures, shown by their names in the reader's language."""
    from qloop.pharmacy.models import Outcome, ProblemType, ReportType, Seriousness

    return {
        "by_problem": {str(k): str(v) for k, v in ProblemType.choices},
        "adr_by_type": {str(k): str(v) for k, v in ReportType.choices},
        "adr_by_seriousness": {str(k): str(v) for k, v in Seriousness.choices},
        "adr_by_outcome": {str(k): str(v) for k, v in Outcome.choices},
    }


def pharmacy_rows(summary: PeriodSummary, language: str) -> list[dict[str, Any]]:
    """The totals, then each table: every item counted in any of the three periods, this
    period's largest first. A summary copied from the old mechanism has no last year (—)."""
    f = summary.figures
    periods = [f.get("current") or {}, f.get("previous") or {}, f.get("last_year")]
    labels = _labels()
    rows: list[dict[str, Any]] = [{"heading": _("Totals")}]
    for key, title in TOTALS:
        values = [None if d is None else d.get(key, 0) for d in periods]
        rows.append({"label": str(title), "section": "totals", "values": values})
    for key, title in SECTIONS:
        rows.append({"heading": str(title), "key": key})
        counted = [None if d is None else dict(d.get(key, [])) for d in periods]
        items: list[str] = []
        for d in counted:
            for item in d or {}:
                if item not in items:
                    items.append(item)
        for item in items:
            rows.append(
                {
                    "label": labels.get(key, {}).get(item, item),
                    "section": key,
                    "values": [None if d is None else d.get(item, 0) for d in counted],
                }
            )
        if not items:
            rows.append({"label": "—", "section": key, "values": [0, 0, 0]})
    return rows


def _applies(recipient: str) -> Callable[[], bool]:
    def applies() -> bool:
        from qloop.pharmacy.models import PharmacySettings

        return recipient in PharmacySettings.current().summary_recipients()

    return applies


def _wanted(kind: str) -> bool:
    """Monthly and quarterly, as the settings ask (R3.2)."""
    from qloop.pharmacy.models import PharmacySettings

    settings = PharmacySettings.current()
    wanted: dict[str, bool] = {
        SummaryPeriod.MONTH: settings.monthly_summary,
        SummaryPeriod.QUARTER: settings.quarterly_summary,
    }
    return wanted.get(kind, False)


def _readers(user: User) -> bool:
    """The pharmacy: its pharmacists, head and ADR monitoring officer."""
    from qloop.pharmacy.access import in_pharmacy

    return in_pharmacy(user)


def _signers(user: User) -> bool:
    """The head of pharmacy signs it off (R3.2)."""
    from qloop.pharmacy.processes import PHARMACY_HEAD

    return user.is_superuser or user.has_role(*PHARMACY_HEAD)


def _told() -> list[User]:
    from qloop.notify.actions import people_with_role
    from qloop.pharmacy.processes import PHARMACY_HEAD

    return list(people_with_role(*PHARMACY_HEAD))


def _channels() -> list[tuple[str, Any]]:
    from qloop.pharmacy.models import SendingChannel

    return list(SendingChannel.choices)


def register() -> None:
    """Called by the pharmacy profile's ``ready``: the core never imports the profile."""
    common: dict[str, Any] = {
        "profile": "pharmacy",
        "periods": (SummaryPeriod.MONTH, SummaryPeriod.QUARTER),
        "compute": figures,
        "readers": _readers,
        "signers": _signers,
        # The pharmacists and the ADR officer record the sending, as for case reports.
        "senders": _readers,
        "rows": pharmacy_rows,
        "told": _told,
        "wanted": _wanted,
        "channels": _channels,
        "paper_title": gettext_lazy("Drug quality and ADR periodic summary"),
        "charted": True,  # R3.2: "with charts"
    }
    register_recipients(
        RecipientSet(
            code=REGULATOR,
            title=gettext_lazy("Drug regulatory authority"),
            sent_to=gettext_lazy("Drug regulatory authority"),
            order=40,
            applies=_applies("regulator"),
            **common,
        ),
        RecipientSet(
            code=COMMITTEE,
            title=gettext_lazy("Pharmacy and Therapeutics Committee"),
            sent_to=gettext_lazy("Pharmacy and Therapeutics Committee"),
            order=41,
            applies=_applies("committee"),
            **common,
        ),
    )
