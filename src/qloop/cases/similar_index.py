"""The similar-case search's own index (issue 13): each complaint's and feedback's Chinese text
(``SimilarDoc``) and, per kind and product model, in how many cases each character bigram
occurs (``SimilarGram``), kept as cases are registered and changed.

A suggestion then reads a bounded number of rows — the latest ``POOL`` cases of the model, one
index range, and the statistics of the bigrams they and the query contain — instead of scanning
and weighing every case of the model (at 1,000,000 cases a model has tens of thousands).

``index_case`` is called by the domain actions that change a case's text, model or time
received (``register_case``, ``update_case``, a contact's change), inside their transaction.
``rebuild`` recounts everything after a bulk load (``qloop manage rebuild_case_counts``).
Archived cases stay in the statistics (they are still the organisation's experience) but are
never shown. The statistics of the empty model key count the cases without a model; "*"
counts every case of the kind (a search without a model).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import connection

from qloop.cases.search import normalise

SIMILAR_KINDS = frozenset({"complaint", "feedback"})
ALL_MODELS = "*"
_NOT_CJK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

StatKey = tuple[str, str, str]  # kind, model key, gram ("" = the number of cases)


def model_key(model: str) -> str:
    """A product model as compared: stripped, upper case (QL-vm4 is QL-VM4)."""
    return (model or "").strip().upper()[:100]


def clean_text(search_text: str, title: str = "") -> str:
    """The Chinese characters of a case's normalised search text: numbers, names in Latin
    letters and punctuation say little about the problem."""
    return _NOT_CJK.sub("", search_text or normalise(title))


def clean_grams(clean: str) -> Counter[str]:
    """Character bigrams of an already cleaned text (a single character counts as itself)."""
    if len(clean) < 2:
        return Counter(clean)
    return Counter(map(str.__add__, clean, clean[1:]))


def _stat_rows(kind: str, key: str, clean: str) -> Iterable[StatKey]:
    grams = [*clean_grams(clean).keys(), ""]
    for group in (key, ALL_MODELS):
        for gram in grams:
            yield (kind, group, gram)


def _apply(delta: Counter[StatKey]) -> None:
    # In one order for every writer, so two transactions never wait on each other's rows.
    changes = sorted((*k, n) for k, n in delta.items() if n)
    if not changes:
        return
    from qloop.cases.models import SimilarGram

    table = connection.ops.quote_name(SimilarGram._meta.db_table)
    sql = (
        f"INSERT INTO {table} (kind, model_key, gram, df) "  # noqa: S608
        "VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (kind, model_key, gram) DO UPDATE SET df = "
        f"{table}.df + excluded.df"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, changes)


def index_case(case_id: int, *, new: bool = False) -> None:
    """Bring one case's text and the statistics it counts in up to date (call inside the
    transaction that changed it); a no-op when nothing the search reads changed. ``new``: the
    case was registered in this transaction, so it has no text indexed yet."""
    from qloop.cases.models import Case, SimilarDoc

    row = (
        Case.objects.filter(pk=case_id)
        .values_list("kind", "received_at", "search_text", "title", "product__model")
        .first()
    )
    old = None if new else SimilarDoc.objects.filter(pk=case_id).first()
    delta: Counter[StatKey] = Counter()
    if old is not None:
        delta.subtract(_stat_rows(old.kind, old.model_key, old.text))
    if row is None or row[0] not in SIMILAR_KINDS:
        if old is not None:
            old.delete()
            _apply(delta)
        return
    kind, received_at, search_text, title, model = row
    key, text = model_key(model or ""), clean_text(search_text, title)
    doc: dict[str, Any] = {"kind": kind, "model_key": key, "received_at": received_at, "text": text}
    if old is not None and all(getattr(old, k) == v for k, v in doc.items()):
        return
    delta.update(_stat_rows(kind, key, text))
    if old is None:
        SimilarDoc.objects.create(case_id=case_id, **doc)
    else:
        SimilarDoc.objects.filter(pk=case_id).update(**doc)
    _apply(delta)


def statistics(kind: str, key: str, grams: set[str]) -> tuple[int, dict[str, int]]:
    """The number of cases of the kind and model (every model for ""), and the document
    frequency of each of these bigrams among them."""
    from qloop.cases.models import SimilarGram

    rows = dict(
        SimilarGram.objects.filter(
            kind=kind, model_key=key or ALL_MODELS, gram__in=sorted(grams | {""})
        ).values_list("gram", "df")
    )
    return rows.pop("", 0), rows


def rebuild(apps: Any = None, batch: int = 5000, out: Any = None) -> tuple[int, int]:
    """Index every complaint and piece of feedback again (after a bulk load); returns the
    cases and statistics rows written."""
    if apps is None:
        from django.apps import apps
    from django.db import transaction

    Case = apps.get_model("cases", "Case")
    SimilarDoc = apps.get_model("cases", "SimilarDoc")
    SimilarGram = apps.get_model("cases", "SimilarGram")
    stats: Counter[StatKey] = Counter()
    docs = 0
    with transaction.atomic():
        SimilarDoc.objects.all().delete()
        SimilarGram.objects.all().delete()
        last = 0
        while True:
            rows = list(
                Case.objects.filter(pk__gt=last, kind__in=sorted(SIMILAR_KINDS))
                .order_by("pk")
                .values_list("pk", "kind", "received_at", "search_text", "title", "product__model")[
                    :batch
                ]
            )
            if not rows:
                break
            last = rows[-1][0]
            made = []
            for pk, kind, received_at, search_text, title, model in rows:
                key, text = model_key(model or ""), clean_text(search_text, title)
                stats.update(_stat_rows(kind, key, text))
                made.append(
                    SimilarDoc(
                        case_id=pk, kind=kind, model_key=key, received_at=received_at, text=text
                    )
                )
            SimilarDoc.objects.bulk_create(made, batch_size=2000)
            docs += len(made)
            if out is not None:
                out(f"  {docs:,} cases indexed")
        SimilarGram.objects.bulk_create(
            (SimilarGram(kind=k, model_key=m, gram=g, df=n) for (k, m, g), n in stats.items()),
            batch_size=5000,
        )
    return docs, len(stats)
