"""The similar-case search's own index (issue 13): each complaint's and feedback's Chinese text
(``SimilarDoc``) and, per kind and product model, in how many cases each character bigram
occurs (``SimilarGram``), kept as cases are registered and changed.

A suggestion then reads a bounded number of rows — the latest ``POOL`` cases of the model, one
index range, and the statistics of the bigrams they and the query contain — instead of scanning
and weighing every case of the model (at 1,000,000 cases a model has tens of thousands).

``index_case`` is called by the domain actions that change a case's text, model or time
received (``update_case``, a contact's change), inside their transaction. Registration calls
``index_new_case``: it writes the new case's text only, marked not yet counted, and the worker
adds its bigrams to the statistics after the commit (``fold_pending``, issue 14: the counting
was a tenth of a registration). Until then ``statistics`` adds the pending texts itself, so a
case registered a moment ago is found and weighed like any other.
``rebuild`` recounts everything after a bulk load (``qloop manage rebuild_case_counts``).
Archived cases stay in the statistics (they are still the organisation's experience) but are
never shown. The statistics of the empty model key count the cases without a model; "*"
counts every case of the kind (a search without a model).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from qloop import inserts
from qloop.cases.search import normalise

SIMILAR_KINDS = frozenset({"complaint", "feedback"})
ALL_MODELS = "*"
_NOT_CJK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

if TYPE_CHECKING:
    from qloop.cases.models import Case

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


def index_new_case(case: Case, model: str) -> None:
    """Index a case registered in this transaction (so it has no text indexed yet) from the
    values registration has at hand: its text now, its bigram statistics by the worker once
    the transaction commits (the row says so durably: ``counted`` is false until then).
    The caller queues ``qloop.cases.jobs.after_registration`` after its commit."""
    if case.kind not in SIMILAR_KINDS:
        return
    from qloop.cases.models import SimilarDoc

    inserts.save_new(
        SimilarDoc(
            case=case,
            kind=case.kind,
            model_key=model_key(model),
            received_at=case.received_at,
            text=clean_text(case.search_text, case.title),
            counted=False,
        )
    )


def index_case(case_id: int) -> None:
    """Bring one case's text and the statistics it counts in up to date (call inside the
    transaction that changed it); a no-op when nothing the search reads changed."""
    from qloop.cases.models import Case, SimilarDoc

    row = (
        Case.objects.filter(pk=case_id)
        .values_list("kind", "received_at", "search_text", "title", "product__model")
        .first()
    )
    # Locked: the worker folding this text in at the same moment would count the old one.
    old = SimilarDoc.objects.select_for_update().filter(pk=case_id).first()
    delta: Counter[StatKey] = Counter()
    if old is not None and old.counted:
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
    if old is None:
        SimilarDoc.objects.create(case_id=case_id, **doc)
    else:
        # A text still waiting for the worker stays waiting: the worker counts the new one.
        SimilarDoc.objects.filter(pk=case_id).update(**doc)
    if old is None or old.counted:
        delta.update(_stat_rows(kind, key, text))
        _apply(delta)


def fold_pending(batch: int = 500) -> int:
    """Add the bigrams of the texts registration left uncounted to the statistics (the
    worker, after each registration's commit, and every few minutes in case a queued task was
    lost); returns how many texts were folded in."""
    from qloop.cases.models import SimilarDoc

    done = 0
    while True:
        with transaction.atomic():
            docs = list(
                SimilarDoc.objects.select_for_update()
                .filter(counted=False)
                .order_by("pk")
                .values_list("pk", "kind", "model_key", "text")[:batch]
            )
            if not docs:
                return done
            delta: Counter[StatKey] = Counter()
            for _pk, kind, key, text in docs:
                delta.update(_stat_rows(kind, key, text))
            _apply(delta)
            SimilarDoc.objects.filter(pk__in=[d[0] for d in docs]).update(counted=True)
        done += len(docs)


def statistics(kind: str, key: str, grams: set[str]) -> tuple[int, dict[str, int]]:
    """The number of cases of the kind and model (every model for ""), and the document
    frequency of each of these bigrams among them."""
    from qloop.cases.models import SimilarDoc, SimilarGram

    rows = Counter(
        dict(
            SimilarGram.objects.filter(
                kind=kind, model_key=key or ALL_MODELS, gram__in=sorted(grams | {""})
            ).values_list("gram", "df")
        )
    )
    # The texts registered a moment ago that the worker has not counted yet (a handful).
    pending = SimilarDoc.objects.filter(counted=False, kind=kind)
    if key:
        pending = pending.filter(model_key=key)
    for text in pending.values_list("text", flat=True):
        rows[""] += 1
        rows.update(g for g in clean_grams(text) if g in grams)
    return rows.pop("", 0), dict(rows)


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
