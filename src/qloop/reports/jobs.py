"""Periodic jobs of the reports app, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from qloop.reports.review import prepare_due_reviews


@db_periodic_task(crontab(minute="20"))
def prepare_review_summaries() -> int:
    """Prepare each management review's summary a month before it (R2.7); once per review.

    Hourly, so that a worker that was down at the hour still prepares it the same day.
    """
    return prepare_due_reviews()


@db_task()
def run_export(job_id: int) -> None:
    """Write one asked-for export (X4); a job already claimed is left alone."""
    from qloop.reports.exports import write_job

    write_job(job_id)


@db_periodic_task(crontab(minute="41", hour="3"))
def remove_old_exports() -> int:
    """Nightly: export files older than a week are removed (the job stays as a record)."""
    from qloop.reports.exports import remove_old_exports as remove

    return remove()


@db_periodic_task(crontab(minute="35", hour="*/6"))
def produce_period_summaries() -> int:
    """The monthly, quarterly and yearly summaries of the periods just ended (X5), once each.

    Every six hours, so that a worker down on the first of the month still makes them that
    day; a summary already made is left as it is.
    """
    from qloop.reports.period_summaries import keep_missing_files, produce_due

    made = len(produce_due())
    keep_missing_files()
    return made


@db_task()
def keep_period_summary_files(summary_id: int, language: str) -> None:
    """Render a signed-off summary as PDF and .xlsx and keep both, once (X5, R3.2)."""
    from qloop.reports.period_summaries import keep_files

    keep_files(summary_id, language)
