"""The benchmarks keep working (issue 14): the register generator writes a small register into
the test database exactly as it writes 100,000 cases, and one pass of every scenario answers.
A new non-null column that the generator does not fill, or a scenario URL that moved, fails
here instead of on the day somebody measures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench_modules() -> Any:
    """The scripts of bench/ import their neighbours as top-level modules."""
    sys.path.insert(0, str(BENCH))
    try:
        import generate
        import scenarios

        yield generate, scenarios
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.django_db(transaction=True)
def test_the_generator_and_one_pass_of_the_scenarios_run_at_a_small_size(
    bench_modules: Any, tmp_path: Path
) -> None:
    from django.db import connection

    from qloop.cases.models import Case, Contact, Event
    from qloop.process.models import Clock

    generate, scenarios = bench_modules
    people = generate.prepare(migrate=False)
    gen, *_times = generate.generate(
        people, 400, tmp_path / "dropped-indexes.json", years=1, batch=150, seed=3
    )
    assert Case.objects.count() == gen.stats.rows["cases_case"] == 400
    assert Clock.objects.count() == 400
    assert Event.objects.count() == gen.stats.rows["cases_event"] >= 3 * 400
    # Every index the generator dropped for the load is back.
    assert not (tmp_path / "dropped-indexes.json").exists()

    phone = Contact.objects.order_by("-id").values_list("phone", flat=True).first() or ""
    items = scenarios.scenarios(phone[:7], scenarios.newest_case_number())
    assert {"list", "my_work_qe", "case_page", "api_list", "api_case"} <= {s.name for s in items}
    results = scenarios.run_single(items, requests=1, warmup=0, max_seconds=10)
    assert [r.name for r in results] == [s.name for s in items]
    assert all(r.n == 1 and r.queries > 0 for r in results)
    # What the list pages found: the generated register, not an empty page.
    live = Case.objects.live().count()
    assert next(r for r in results if r.name == "api_list").note == f"{live} found"
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:  # the test database's planner forgets this register
            cur.execute("DELETE FROM sqlite_stat1")
