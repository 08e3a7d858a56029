"""Periodic jobs of the pharmacy profile, run by the Huey worker.

The periodic summaries (R3.2) are made by the reports app's period-summary job with every
other recipient set (``qloop.reports.jobs.produce_period_summaries``).
"""
