"""A sketch for the pharmacy summaries at 1,000,000 cases (#10), not used by QLoop: the
figures of ``qloop.pharmacy.summaries.figures`` as four statements with GROUPING SETS instead
of twelve queries, timed beside ``figures()`` on the same database, and checked to agree.

    nice -n 10 .venv/bin/python bench/pharmacy_summary_sketch.py \
        --database-url postgres://postgres@127.0.0.1:5432/qloop_pharmscale_1m \
        --data-dir /tmp/pharmscale-bench/data

PostgreSQL only (GROUPING). See bench/RESULTS-pharmacy.md.
"""

# ruff: noqa
import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_common_arguments, setup_django

parser = argparse.ArgumentParser(description=__doc__)
add_common_arguments(parser)
args = parser.parse_args()
setup_django(args.database_url, args.data_dir)
from django.db import connection
from django.utils import timezone

from qloop.pharmacy.summaries import _moment, figures, period_bounds

FEED = """SELECT GROUPING(f.problem), GROUPING(d.generic_name), GROUPING(b.batch_number), GROUPING(f.major),
 f.problem, d.generic_name, b.batch_number, f.major, COUNT(*)
FROM pharmacy_drugfeedback f JOIN cases_case c ON c.id = f.case_id
LEFT JOIN pharmacy_drug d ON d.id = f.drug_id LEFT JOIN pharmacy_drugbatch b ON b.id = f.batch_id
WHERE c.received_at >= %s AND c.received_at < %s AND c.archived_at IS NULL
GROUP BY GROUPING SETS ((f.problem), (d.generic_name), (b.batch_number), (f.major), ())"""
ADR = """SELECT GROUPING(r.seriousness), GROUPING(r.outcome), GROUPING(dep.name), r.seriousness, r.outcome, dep.name, COUNT(*)
FROM pharmacy_adrreport r JOIN cases_case c ON c.id = r.case_id LEFT JOIN org_department dep ON dep.id = r.department_id
WHERE r.aware_at >= %s AND r.aware_at < %s AND c.archived_at IS NULL
GROUP BY GROUPING SETS ((r.seriousness), (r.outcome), (dep.name), ())"""
DRUG = """SELECT d.generic_name, COUNT(DISTINCT d.report_id) FROM pharmacy_adrdrug d
JOIN pharmacy_adrreport r ON r.case_id = d.report_id JOIN cases_case c ON c.id = r.case_id
WHERE d.role = 'suspect' AND r.aware_at >= %s AND r.aware_at < %s AND c.archived_at IS NULL
GROUP BY d.generic_name ORDER BY 2 DESC, 1 LIMIT 20"""
KINDS = """SELECT kind, COUNT(*) FROM cases_case WHERE kind IN ('counterfeit', 'adr_group')
AND received_at >= %s AND received_at < %s GROUP BY kind"""


def proto(start, end):
    a, b = _moment(start), _moment(end)
    out = []
    with connection.cursor() as cur:
        for sql in (FEED, ADR, DRUG, KINDS):
            cur.execute(sql, [a, b])
            out.append(cur.fetchall())
    return out


def both(fn, kind, back):
    start, end = period_bounds(kind, timezone.localdate() - dt.timedelta(days=back))
    before, _s = period_bounds(kind, start - dt.timedelta(days=1))
    return fn(start, end), fn(before, start)


for kind, back in (("month", 40), ("quarter", 100)):
    for name, fn in (("figures()", figures), ("prototype", proto)):
        both(fn, kind, back)
        t = time.perf_counter()
        both(fn, kind, back)
        print(
            f"{kind} with the one before, {name}: {time.perf_counter() - t:.2f} s",
            "load %.1f %.1f %.1f" % os.getloadavg(),
        )
# the prototype's numbers agree with figures()
start, end = period_bounds("quarter", timezone.localdate() - dt.timedelta(days=100))
f = figures(start, end)
p = proto(start, end)
total = [r for r in p[0] if r[0] and r[1] and r[2] and r[3]][0][-1]
major = sum(r[-1] for r in p[0] if r[0] and r[1] and r[2] and not r[3] and r[7])
adr = [r for r in p[1] if r[0] and r[1] and r[2]][0][-1]
print(
    "agree:",
    total == f["feedback"],
    major == f["major"],
    adr == f["adr"],
    [list(x) for x in p[2]] == f["adr_by_drug"],
)
