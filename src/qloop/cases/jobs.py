"""Periodic jobs of the register, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_periodic_task(crontab(minute="47", hour="5"))
def find_recurring_problems() -> dict[str, int]:
    """Daily: raise recurring problems to Quality (issue 13); running twice raises nothing new."""
    from qloop.cases.recurring import find_groups

    return dict(find_groups())


@db_task()
def find_recurring_for_case(case_id: int) -> dict[str, int]:
    """After a registration: the cases about the same thing as the new one, looked at again."""
    from qloop.cases.recurring import find_for_case

    return dict(find_for_case(case_id))


@db_task()
def after_registration(case_id: int, look_for_recurring: bool) -> dict[str, int]:
    """After a registration's commit, one task: the new text's bigrams into the similar-case
    statistics (issue 14), then, if asked, the cases about the same thing looked at again."""
    from qloop.cases.recurring import find_for_case
    from qloop.cases.similar_index import fold_pending

    folded = fold_pending()
    found = dict(find_for_case(case_id)) if look_for_recurring else {}
    return {"folded": folded, **found}


@db_periodic_task(crontab(minute="*/5"))
def fold_similar_statistics_periodically() -> int:
    """Every five minutes, the texts whose queued task was lost (a queue emptied, say)."""
    from qloop.cases.similar_index import fold_pending

    return fold_pending()
