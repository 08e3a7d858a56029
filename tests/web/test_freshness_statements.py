"""Which statements make kept figures stale (``qloop.freshness``): every write but those to the
few tables that move no figure; reads never."""

from __future__ import annotations

import pytest

from qloop.freshness import _moves


@pytest.mark.parametrize(
    ("sql", "moves"),
    [
        ('SELECT COUNT(*) FROM "cases_case"', False),
        ('  select 1 from "cases_case"', False),
        ('SAVEPOINT "s1_x1"', False),
        ('INSERT INTO "cases_case" ("number") VALUES (%s)', True),
        ('UPDATE "process_task" SET "done_at" = %s WHERE "id" = %s', True),
        ('DELETE FROM "org_membership" WHERE "id" IN (%s)', True),
        ("update cases_case set archived_at = null where id = %s", True),
        ('INSERT OR IGNORE INTO "cases_similargram" ("gram") VALUES (%s)', False),
        ('UPDATE "django_session" SET "session_data" = %s', False),
        ('UPDATE "org_user" SET "last_login" = %s WHERE "org_user"."id" = %s', False),
        ('UPDATE "org_user" SET "is_active" = %s WHERE "org_user"."id" = %s', True),
        ('ALTER TABLE "cases_case" ADD COLUMN "x" integer', True),
    ],
)
def test_statements(sql: str, moves: bool) -> None:
    assert _moves(sql)[0] is moves


@pytest.mark.parametrize(
    ("sql", "people"),
    [
        ('SELECT * FROM "org_user"', False),
        ('INSERT INTO "cases_case" ("number") VALUES (%s)', False),
        ('UPDATE "org_trailhead" SET "seq" = %s', False),
        ('UPDATE "org_user" SET "is_active" = %s WHERE "org_user"."id" = %s', True),
        ('UPDATE "org_user" SET "last_login" = %s WHERE "org_user"."id" = %s', False),
        ('DELETE FROM "org_membership" WHERE "id" IN (%s)', True),
        ('UPDATE "org_role" SET "manages_cases" = %s', True),
        ('UPDATE "org_department" SET "code" = %s', True),
        ('ALTER TABLE "org_user" ADD COLUMN "x" integer', True),
        ("WITH x AS (SELECT 1) UPDATE org_user SET is_active = false", True),
    ],
)
def test_statements_that_move_the_kept_people(sql: str, people: bool) -> None:
    assert _moves(sql)[1] is people


def test_answers_kept_by_statement_are_the_answers_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_moves`` keeps its answers by statement: asked again, or after the kept answers were
    emptied for being too many, it answers as reading the statement does."""
    from qloop import freshness

    monkeypatch.setattr(freshness, "_moves_by_sql", {})
    monkeypatch.setattr(freshness, "_MOVES_KEPT", 3)
    statements = [
        'SELECT 1 FROM "cases_case"',
        'INSERT INTO "cases_case" ("number") VALUES (%s)',
        'UPDATE "org_user" SET "is_active" = %s',
        'INSERT INTO "cases_casedaycount" ("n") VALUES (%s)',
        "ALTER TABLE cases_case ADD COLUMN x integer",
    ]
    for _ in range(2):
        for sql in statements:
            assert _moves(sql) == freshness._read_moves(sql)
            assert len(freshness._moves_by_sql) <= 3
