"""qloop.prepared: a read compiled once gives the same rows as the queryset it was built from,
for every value it is called with (issue 14)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models.sql import compiler as sql_compiler

from qloop.cases.models import Case, Comment, Event
from qloop.prepared import Prepared


def fields(item: Any) -> dict[str, Any]:
    return {f.attname: getattr(item, f.attname) for f in item._meta.concrete_fields}


@pytest.fixture
def cases(make_case: Callable[..., Any], users: dict[str, Any]) -> list[Case]:
    from qloop.cases.actions import add_comment

    made = [make_case(), make_case(actor="cs_head"), make_case()]
    add_comment(made[0], "第一条", actor=users["cs"])
    add_comment(made[0], "第二条", actor=users["qe"])
    add_comment(made[2], "另一案", actor=users["cs"])
    return made


@pytest.fixture
def compiles(monkeypatch: Any) -> list[str]:
    """The models of the queries Django compiles from now on."""
    seen: list[str] = []
    original = sql_compiler.SQLCompiler.as_sql

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(self.query.model.__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sql_compiler.SQLCompiler, "as_sql", counting)
    return seen


EVENTS: Prepared[Event] = Prepared(
    lambda case: Event.objects.filter(case=case).select_related("actor").order_by("-at", "-id"),
    case=int,
)
COMMENTS: Prepared[Comment] = Prepared(
    lambda case: Comment.objects.filter(case=case).select_related("author"), case=int
)
BY_NUMBER: Prepared[Case] = Prepared(
    lambda number: Case.objects.select_related("contact", "handler").filter(number=number),
    number=str,
)
NUMBERS: Prepared[tuple[str, str]] = Prepared(
    lambda handler: (
        Case.objects.filter(handler=handler).order_by("number").values_list("number", "state")
    ),
    handler=int,
)


@pytest.mark.django_db
def test_the_same_rows_as_the_queryset_for_each_value(cases: list[Case]) -> None:
    for case in cases:
        prepared = COMMENTS(case=case.pk)
        plain = list(Comment.objects.filter(case=case).select_related("author"))
        assert [fields(c) for c in prepared] == [fields(c) for c in plain]
        # The related object came with the row, as select_related gives it: no query.
        assert [c.author.username for c in prepared] == [c.author.username for c in plain]
        events = EVENTS(case=case.pk)
        assert [e.pk for e in events] == [
            e.pk for e in Event.objects.filter(case=case).order_by("-at", "-id")
        ]
    assert [c.body for c in COMMENTS(case=cases[0].pk)] == ["第一条", "第二条"]
    assert COMMENTS(case=cases[1].pk) == []
    found = BY_NUMBER(number=cases[1].number)
    assert [c.pk for c in found] == [cases[1].pk]
    assert found[0].contact is not None and found[0].contact.name == "王芳"
    assert BY_NUMBER(number="QC-1900-000001") == []
    handler = cases[0].handler_id
    if handler is not None:
        assert NUMBERS(handler=handler) == list(
            Case.objects.filter(handler=handler).order_by("number").values_list("number", "state")
        )


@pytest.mark.django_db
def test_compiled_once_then_only_run(cases: list[Case], compiles: list[str]) -> None:
    read: Prepared[Comment] = Prepared(
        lambda case: Comment.objects.filter(case=case).order_by("id"), case=int
    )
    bodies = [[c.body for c in read(case=case.pk)] for case in cases]
    assert bodies == [["第一条", "第二条"], [], ["另一案"]]
    assert compiles == ["Comment"]


@pytest.mark.django_db
def test_instances_save_like_any_other(cases: list[Case], users: dict[str, Any]) -> None:
    comment = COMMENTS(case=cases[2].pk)[0]
    comment.body = "改过"
    comment.save(update_fields=["body"])
    assert Comment.objects.get(pk=comment.pk).body == "改过"


def test_a_value_the_lookup_transforms_is_refused_at_the_first_call(db: Any) -> None:
    read: Prepared[Case] = Prepared(
        lambda text: Case.objects.filter(title__contains=text), text=str
    )
    with pytest.raises(ValueError, match="did not reach the SQL unchanged"):
        read(text="泵")


def test_arguments_are_checked() -> None:
    with pytest.raises(TypeError):
        Prepared(lambda when: Case.objects.filter(received_at=when), when=object)
    with pytest.raises(TypeError):
        COMMENTS(case="1")
    with pytest.raises(TypeError):
        COMMENTS(number=1)


@pytest.mark.django_db(transaction=True)
def test_another_thread_reads_through_its_own_connection_handler(cases: list[Case]) -> None:
    """The compiled reader keeps no connection: each call uses the calling thread's (on
    PostgreSQL a different one; Django's in-memory SQLite test database shares one)."""
    assert [c.body for c in COMMENTS(case=cases[0].pk)] == ["第一条", "第二条"]
    seen: dict[str, Any] = {}

    def other() -> None:
        from django.db import connection as theirs

        try:
            seen["bodies"] = [c.body for c in COMMENTS(case=cases[2].pk)]
        finally:
            theirs.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == {"bodies": ["另一案"]}


@pytest.mark.django_db
def test_a_list_of_ids_is_compiled_once_per_length(cases: list[Case], compiles: list[str]) -> None:
    read: Prepared[Case] = Prepared(
        lambda ids: Case.objects.filter(pk__in=ids).select_related("contact"), ids=list
    )
    a, b, c = (case.pk for case in cases)
    assert {x.pk for x in read(ids=[a, b])} == {a, b}
    assert {x.pk for x in read(ids=[c, a])} == {a, c}
    assert {x.pk for x in read(ids=[b, c, a])} == {a, b, c}
    assert {x.pk for x in read(ids=[c, c])} == {c}
    assert compiles == ["Case", "Case"]  # two lengths
    with pytest.raises(TypeError):
        read(ids=[])
    with pytest.raises(TypeError):
        read(ids=[str(a)])


@pytest.mark.django_db
def test_a_register_page_reads_the_same_rows(cases: list[Case]) -> None:
    from qloop.cases.filters import rows_by_id

    qs = Case.objects.select_related("contact", "category", "handler").prefetch_related("clocks")
    ids = [cases[2].pk, cases[0].pk, cases[1].pk]
    for _ in range(2):
        rows = rows_by_id(qs, ids)
        assert [r.pk for r in rows] == ids
        assert [fields(r) for r in rows] == [fields(Case.objects.get(pk=i)) for i in ids]
        assert [len(r.clocks.all()) for r in rows] == [
            Case.objects.get(pk=i).clocks.count() for i in ids
        ]


def test_reads_made_and_dropped_one_after_another_each_get_their_own_columns(
    cases: list[Case],
) -> None:
    """Reads made while the program runs (``access.personal_rows``) are dropped again when
    their dictionary is cleared; a new read made after one was dropped may sit at the same
    address. Each must still convert its own columns, never the dropped one's (a count read
    after a case read failed with IndexError on PostgreSQL, or could convert a value with
    another column's converter)."""
    import gc

    from qloop.prepared import counted

    expected_cases = [fields(c) for c in Case.objects.select_related("contact").order_by("id")]
    for turn in range(60):
        if turn % 2:
            read: Prepared[Any] = Prepared(lambda: counted(Case.objects.all()))
            assert read() == [len(cases)], turn
        else:
            read = Prepared(lambda: Case.objects.select_related("contact").order_by("id"))
            assert [fields(c) for c in read()] == expected_cases, turn
        del read
        gc.collect()
