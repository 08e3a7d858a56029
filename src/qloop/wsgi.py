import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qloop.settings")
application = get_wsgi_application()


def tune_garbage_collection(threshold: int) -> None:
    """A web process keeps what it loaded at start for its whole life, and every request makes
    and drops tens of thousands of objects, nearly all freed by their reference counts. With
    Python's defaults (a collection per 700 new objects, the loaded modules, templates and
    URL patterns walked again by every older-generation pass) the collector took 7-13 % of a
    page's CPU (issue 14, bench/RESULTS-pages.md section 16): the start-up objects are frozen
    out of collections (``gc.freeze``; also kept from being written to, so forked workers
    share their pages) and the young generation is collected less often."""
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(threshold, max(gen1, 20), max(gen2, 20))


def _tune() -> None:
    from django.conf import settings

    tune_garbage_collection(settings.QLOOP_WEB_GC_THRESHOLD)


_tune()
