"""Similar past cases while a case is being registered (issue 13, "recurring problems"):
Chinese text compared on character bigrams, weighted by how rare each bigram is among the
organisation's own cases of the same product model (learned from them, offline, no outside
service).

The candidates are the most recent live cases of the same kind and model this person may see,
at most ``POOL`` of them, read from the search's own index (``SimilarDoc``: kind, model, time
received — one index range, however many cases the model has); the bigram weights come from
the statistics kept per model as cases are registered (``SimilarGram``, see
``qloop.cases.similar_index``), read only for the bigrams at hand. The five closest come back
with their outcome, and the category most of them share is suggested.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qloop.cases.models import Case
from qloop.cases.search import normalise
from qloop.cases.similar_index import clean_grams, model_key, statistics

if TYPE_CHECKING:
    from qloop.org.models import User

POOL = 400
THRESHOLD = 0.2  # cosine similarity below which a case is not shown


@dataclass(frozen=True)
class Similar:
    number: str
    title: str
    state: str
    category: str
    score: float
    outcome: str


_NOT_CJK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def grams(text: str, *, normalised: bool = False) -> Counter[str]:
    """Character bigrams of the Chinese in the normalised text: numbers, names written in
    Latin letters and punctuation say little about the problem."""
    clean = _NOT_CJK.sub("", text if normalised else normalise(text))
    if len(clean) < 2:
        return Counter(clean)
    return Counter(clean[i : i + 2] for i in range(len(clean) - 1))


def _vector(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vec = {g: n * idf.get(g, 1.0) for g, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {g: v / norm for g, v in vec.items()}


def similar_cases(
    user: User,
    text: str,
    *,
    model: str = "",
    kind: str = "complaint",
    limit: int = 5,
    exclude: Collection[str] = (),
) -> tuple[list[Similar], str]:
    """The closest past cases this person may see, and a suggested category code ("" if none).
    ``exclude``: case numbers left out (the case being measured, in bench/)."""
    query = grams(text)
    if sum(query.values()) < 3:
        return [], ""
    key = model_key(model)
    pool = Case.objects.for_user(user).live().filter(similar_doc__kind=kind)
    if key:
        pool = pool.filter(similar_doc__model_key=key)
    if exclude:
        pool = pool.exclude(number__in=list(exclude))
    rows = list(
        pool.order_by("-similar_doc__received_at").values_list(
            "number",
            "title",
            "state",
            "category__code",
            "similar_doc__text",
            "investigation__root_cause",
            "investigation__answer",
        )[:POOL]
    )
    if not rows:
        return [], ""
    # Only the candidates sharing a bigram with the query can score; the statistics are read
    # for the bigrams of those and of the query.
    candidates = []
    wanted: set[str] = set(query)
    asked = query.keys()
    for row in rows:
        text = row[4] or ""
        # The bigrams as a set first (cheap); counted only for the few that share one.
        if len(text) >= 2 and asked.isdisjoint(map(str.__add__, text, text[1:])):
            continue
        doc = clean_grams(text)
        if doc.keys() & asked:
            candidates.append((row, doc))
            wanted.update(doc)
    if not candidates:
        return [], ""
    n, df = statistics(kind, key, wanted)
    n = max(n, len(rows))
    # A bigram no case of the model has weighs as one every case has (as when the weights
    # were taken from the candidates alone).
    idf = {g: math.log((1 + n) / (1 + c)) + 1 for g, c in df.items() if c}
    q = _vector(query, idf)
    scored = []
    for row, doc in candidates:
        d = _vector(doc, idf)
        score = sum(v * d.get(g, 0.0) for g, v in q.items())
        if score >= THRESHOLD:
            scored.append((score, row))
    scored.sort(key=lambda item: -item[0])
    from qloop.process.definitions import state_label

    top = [
        Similar(
            number=row[0],
            title=row[1],
            state=str(state_label(kind, row[2])),
            category=row[3] or "",
            score=round(score, 2),
            outcome=(row[5] or row[6] or "")[:120],
        )
        for score, row in scored[:limit]
    ]
    ranked = ranked_categories(top)
    suggested = ""
    if ranked and ranked[0][1] >= sum(i.score for i in top) / 2:
        suggested = ranked[0][0]
    return top, suggested


def ranked_categories(top: list[Similar]) -> list[tuple[str, float]]:
    """The categories of the closest cases, by the sum of their similarity, highest first."""
    votes: dict[str, float] = {}
    for item in top:
        if item.category:
            votes[item.category] = votes.get(item.category, 0.0) + item.score
    return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
