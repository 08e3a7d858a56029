"""The worker's queue on SQLite (no Redis): Huey's SQLite queue, written like QLoop's own
database (WAL with ``synchronous=NORMAL``).

Huey's default waits for the disk (``fsync``) on every task queued, so each registration, each
message kicked and each export paid one flush of the queue file on top of the database's own
commit: the largest wait of a registration on a loaded machine (issue 14). With WAL and
``NORMAL`` a task queued survives a crash of any process; only a power cut may lose the last
tasks queued, never corrupt the file — as for the database itself. Nothing depends on such a
task alone: every task queued after a commit has a periodic job behind it (the outbox every
minute, the similar-case statistics every five minutes, the recurring problems daily).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from huey import api, storage


class SqliteStorage(storage.SqliteStorage):
    """Huey's SQLite storage with the database's durability setting."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        if self._fsync is None:  # not set explicitly in HUEY
            conn.execute("pragma synchronous=NORMAL")
        return conn


class SqliteHuey(api.SqliteHuey):  # type: ignore[misc]
    """``huey.SqliteHuey`` on the storage above (same name: ``qloop worker`` reports it)."""

    storage_class: Any = SqliteStorage
