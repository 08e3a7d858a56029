"""The embedded default's cache: Django's file cache, culled now and then instead of on every
write (issue 14).

``FileBasedCache.set`` lists the whole cache folder before each write to decide whether to
cull. With a badge and counts kept per person (``qloop.freshness``) the folder holds
thousands of entries, and that listing cost 7.5 ms a write at 2,000 entries and 22 ms at
8,000 on the 2-core bench machine — paid by every request that commits a change. Here each
process looks at most once a minute; between looks the folder may run over ``MAX_ENTRIES`` by
what a minute writes, and the next look culls it as Django would.
"""

from __future__ import annotations

import threading
import time

from django.core.cache.backends.filebased import FileBasedCache

CULL_INTERVAL = 60.0  # seconds between two looks at the folder's size, per process

_lock = threading.Lock()
_next_look = 0.0


class FileCache(FileBasedCache):
    def _cull(self) -> None:
        global _next_look
        now = time.monotonic()
        with _lock:
            if now < _next_look:
                return
            _next_look = now + CULL_INTERVAL
        super()._cull()  # type: ignore[misc]  # private in django-stubs, public enough here
