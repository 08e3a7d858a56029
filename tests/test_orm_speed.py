"""qloop.orm_speed gives Django's columns the identity Django itself would compute (issue 14):
the same tuples, so every comparison and hash of a column is unchanged."""

from __future__ import annotations

from django.apps import apps
from django.db.models.expressions import Col, Expression

from qloop.cases.models import Case
from qloop.orm_speed import col_identity


def generic(col: Col) -> tuple[object, ...]:
    return Expression.identity.func(col)  # type: ignore[attr-defined,no-any-return]


def test_the_direct_identity_is_djangos_for_every_column_of_every_model() -> None:
    checked = 0
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields]
        for field in fields:
            for col in (
                Col("T1", field),
                Col(None, field),  # type: ignore[arg-type]  # Django makes these too
                Col("T2", field, fields[0]),
                Col(alias="T3", target=field, output_field=field),
                field.get_col("T4"),
            ):
                assert col_identity(col) == generic(col), (model, field)
                checked += 1
    assert checked > 1000


def test_columns_compare_as_before() -> None:
    field = Case._meta.get_field("number")
    other = Case._meta.get_field("title")
    assert Col("T1", field) == Col("T1", field)
    assert hash(Col("T1", field)) == hash(Col("T1", field))
    assert Col("T1", field) != Col("T2", field)
    assert Col("T1", field) != Col("T1", other)
    assert Col("T1", field) != Col("T1", field, other)
    assert Col("T1", field).identity == generic(Col("T1", field))  # the installed one


def test_ordered_queries_compile_as_before() -> None:
    query = (
        Case.objects.select_related("contact", "category", "handler")
        .filter(number="QC-1")
        .order_by("number", "-received_at")
    )
    sql = str(query.query)
    assert 'ORDER BY "cases_case"."number" ASC, "cases_case"."received_at" DESC' in sql


def test_every_choice_display_is_djangos_in_every_language() -> None:
    """``get_FOO_display()`` of every field with choices, for each choice and for a value that
    is none of them, gives what Django's own ``_get_FIELD_display`` gives (issue 14)."""
    from django.db.models import Model
    from django.utils import translation

    from qloop.orm_speed import display_value

    checked = 0
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            values = [v for v, _label in field.flatchoices] + ["not-a-choice", None]
            for language in ("zh-hans", "zh-hant", "en"):
                with translation.override(language):
                    for value in values:
                        row = model()
                        setattr(row, field.attname, value)
                        expected = Model._get_FIELD_display(row, field)  # type: ignore[attr-defined]
                        assert display_value(row, field) == expected, (model, field, value)
                        assert getattr(row, f"get_{field.name}_display")() == expected
                        checked += 1
    assert checked > 500


def test_choice_display_is_installed_and_follows_the_language() -> None:
    from django.utils import translation

    from qloop.orm_speed import display_value
    from qloop.process.models import Clock

    assert Case.__dict__["get_severity_display"].func is display_value
    case = Case(severity="critical", channel="phone", kind="complaint")
    with translation.override("en"):
        english = (case.get_severity_display(), case.get_channel_display())
    with translation.override("zh-hans"):
        chinese = (case.get_severity_display(), case.get_channel_display())
    assert english == ("Critical", "Phone")
    assert chinese != english and all(chinese)
    assert Clock(unit="working_days").get_unit_display()


def test_sqlite_statements_are_converted_as_django_converts_them() -> None:
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX, SQLiteCursorWrapper

    from qloop.orm_speed import _convert_query, qmark

    assert SQLiteCursorWrapper.convert_query is _convert_query  # type: ignore[attr-defined]
    for sql in (
        'SELECT "a" FROM "t" WHERE "b" = %s AND "c" IN (%s, %s)',
        "SELECT '100%%' WHERE x LIKE %s ESCAPE '\\'",
        "SELECT 1",
        "UPDATE t SET p = %s WHERE q = %%s",
    ):
        expected = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
        assert qmark(sql) == expected
        assert _convert_query(None, sql) == expected
    assert _convert_query(None, "SELECT %(a)s", param_names=["a"]) == "SELECT :a"


def test_a_callable_choice_list_keeps_djangos_answer_for_repeats_and_groups() -> None:
    """Choices from a callable are scanned from the end (Django's dictionary keeps the last
    label of a repeated value); groups and enumerations go through Django's own path."""
    from django.db import models
    from django.db.models import Model

    from qloop.orm_speed import display_value

    for asked in (
        [("a", "first"), ("b", "bee"), ("a", "last")],
        [("group", [("a", "grouped a"), ("b", "grouped b")]), ("c", "see")],
        [],
    ):
        field = models.CharField(max_length=10, choices=lambda asked=asked: asked)
        field.set_attributes_from_name("letter")
        field.model = Case  # only read for its name in messages
        for value in ("a", "b", "c", "z"):
            row = Case()
            row.__dict__["letter"] = value
            expected = Model._get_FIELD_display(row, field)  # type: ignore[attr-defined]
            assert display_value(row, field) == expected, (asked, value)


def test_instances_from_rows_are_djangos_for_every_model() -> None:
    """``Model.from_db`` (installed: ``orm_speed.from_db``) makes the instance Django's makes,
    with every column read and with some deferred, for every model whose attributes are plain;
    a listener of ``post_init`` sends every model back through Django's path."""
    from django.db.models import Model
    from django.db.models.signals import post_init

    from qloop import orm_speed

    assert getattr(Model.from_db, "__func__", None) is orm_speed.from_db

    def django_made(model: type[Model], names: set[str], values: list[object]) -> Model:
        return orm_speed._DJANGO_FROM_DB(model, "default", names, values)  # type: ignore[no-any-return]

    def same(one: Model, other: Model) -> None:
        assert type(one) is type(other)
        state, other_state = one.__dict__.pop("_state"), other.__dict__.pop("_state")
        assert (
            (state.db, state.adding) == (other_state.db, other_state.adding) == ("default", False)
        )
        assert list(one.__dict__.items()) == list(other.__dict__.items())

    fast = 0
    for model in apps.get_models(include_auto_created=True):
        fields = model._meta.concrete_fields
        values: list[object] = [f"v{i}" for i in range(len(fields))]
        every = {f.attname for f in fields}
        some = {f.attname for i, f in enumerate(fields) if i % 2 == 0}
        fast += bool(orm_speed._from_db_plan(model))
        same(model.from_db("default", every, values), django_made(model, every, values))
        part = [v for f, v in zip(fields, values, strict=True) if f.attname in some]
        made = model.from_db("default", some, part)
        same(made, django_made(model, some, part))
        assert made.get_deferred_fields() == every - some
    assert fast > 50

    seen: list[Model] = []

    def listen(instance: Model, **_kwargs: object) -> None:
        seen.append(instance)

    post_init.connect(listen, sender=Case)
    try:
        fields = Case._meta.concrete_fields
        Case.from_db("default", {f.attname for f in fields}, [None] * len(fields))
    finally:
        post_init.disconnect(listen, sender=Case)
    assert len(seen) == 1
