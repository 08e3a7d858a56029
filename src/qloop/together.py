"""Statements sent to PostgreSQL together, answered in one wait (issue 11).

The HL7 listener's batch on PostgreSQL waited for the server ten times: each statement was
sent, then its answer awaited, before the next was sent, even where the next did not need
that answer (the messages' insert and the numbers; the entries' insert and the trail's head).
Inside ``sent_together`` the statements are queued in psycopg's pipeline mode and sent at
once; the server runs them in order, as before, and the block's end waits for all their
answers together. Each cursor's rows are read **after** the block: reading inside it works
but waits there (one more wait, not one fewer).

A statement that fails makes the server skip the rest of the block; the error is raised at
the block's end as Django raises it (``IntegrityError`` and so on), and the caller's
``atomic`` rolls back as for any failed statement. Only statements whose answer nobody reads
before the block ends belong inside (not Django's ``update``/``save``, which read the row
count at once). On SQLite, or with no pipeline support in libpq, the block is a plain one:
every statement runs when executed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections


def available(using: str = "default") -> bool:
    """Whether statements can be sent together on this database."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


@contextmanager
def sent_together(using: str = "default") -> Iterator[None]:
    """Send the block's statements at once and wait once, at its end (see the module)."""
    if not available(using):
        yield
        return
    connection = connections[using]
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield
