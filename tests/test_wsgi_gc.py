"""The web process's garbage collector is tuned at start (qloop/wsgi.py, issue 14)."""

from __future__ import annotations

import gc

from django.test import override_settings


def test_the_web_process_collects_less_often_and_freezes_its_start() -> None:
    from qloop import wsgi

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        wsgi.tune_garbage_collection(0)  # QLOOP_WEB_GC_THRESHOLD=0: Python's own
        assert gc.get_threshold() == (700, 10, 10)
        wsgi.tune_garbage_collection(50_000)
        assert gc.get_threshold() == (50_000, 20, 20)
        assert gc.get_freeze_count() > 0
        with override_settings(QLOOP_WEB_GC_THRESHOLD=12_345):
            wsgi._tune()
        assert gc.get_threshold()[0] == 12_345
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
