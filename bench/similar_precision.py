"""How often the category suggested while registering is the real one, on the demo data
(issue 13, "recurring problems"; R2.10 categories).

Leave-one-out: for each demo complaint with a category, ``similar_cases()`` is asked with its
problem text and product model as if it were being registered, with the case itself left out;
top-1 counts the suggested category (none suggested is a miss), top-3 whether the real category
is among the three best-voted categories of the five closest cases.

The demo draws its problem texts from a short list, so a left-out case nearly always has a twin
with the very same words. ``--unseen`` also leaves out every case with the same text: the
suggestion then has only other wordings to go on, which is closer to a new problem.

    .venv/bin/python bench/similar_precision.py --data-dir /tmp/qloop-similar [--cases 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_common_arguments, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--cases", type=int, default=300, help="demo complaints (default 300)")
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from qloop.cases.models import Case
    from qloop.cases.similar import ranked_categories, similar_cases
    from qloop.demo.loader import load_cases, load_organisation

    users = load_organisation()
    started = time.perf_counter()
    made = load_cases(args.cases, users)
    if made:
        print(f"loaded {made} demo complaints in {time.perf_counter() - started:.0f} s")
    user = users["qa_head"]
    rows = list(
        Case.objects.filter(kind="complaint", category__isnull=False, archived_at__isnull=True)
        .exclude(product__model="")
        .values_list("number", "product__model", "product__symptom", "category__code")
    )
    same_text: dict[str, list[str]] = defaultdict(list)
    for number, _model, symptom, _code in rows:
        same_text[symptom].append(number)
    print(f"{len(rows)} complaints with a category; {len(same_text)} distinct problem texts")
    for label, unseen in (("leave-one-out", False), ("unseen wording", True)):
        top1 = top3 = suggested_any = 0
        times = []
        for number, model, symptom, code in rows:
            leave = same_text[symptom] if unseen else [number]
            t0 = time.perf_counter()
            found, suggested = similar_cases(user, symptom, model=model, exclude=leave)
            times.append(time.perf_counter() - t0)
            ranked = [c for c, _w in ranked_categories(found)][:3]
            suggested_any += bool(suggested)
            top1 += suggested == code
            top3 += code in ranked
        n = len(rows) or 1
        times.sort()
        print(
            f"{label}: top-1 {top1 / n:.1%} ({top1}/{n}), top-3 {top3 / n:.1%}, "
            f"a category suggested {suggested_any / n:.1%}, "
            f"median {times[len(times) // 2] * 1000:.1f} ms per suggestion"
        )


if __name__ == "__main__":
    main()
