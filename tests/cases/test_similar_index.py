"""The similar-case search's own index (issue 13): each complaint's Chinese text and, per
product model, how many cases each character bigram occurs in, kept as cases are registered
and changed, so that a suggestion reads the latest cases of the model and the statistics of the
bigrams at hand instead of weighing every case. The kept statistics, once the worker has folded
in the texts registration left for it (issue 14), always equal a recount."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from qloop.cases.actions import ContactData, ProductData, archive_case, update_case
from qloop.cases.models import Case, SimilarDoc, SimilarGram
from qloop.cases.similar import similar_cases
from qloop.cases.similar_index import fold_pending, rebuild, statistics

pytestmark = pytest.mark.django_db


def _kept() -> tuple[dict[int, tuple[Any, ...]], dict[tuple[str, str, str], int]]:
    fold_pending()  # what the worker does after each registration's commit
    docs = {
        d.case_id: (d.kind, d.model_key, d.received_at, d.text) for d in SimilarDoc.objects.all()
    }
    grams = {(g.kind, g.model_key, g.gram): g.df for g in SimilarGram.objects.all() if g.df}
    return docs, grams


def test_the_index_follows_every_change_and_equals_a_rebuild(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    first = make_case(
        symptom="机械密封处漏水，每分钟滴水二十滴。", product=ProductData(model="QL-CP50")
    )
    second = make_case(
        symptom="电机运行噪音大，轴承有异响。", product=ProductData(model="ql-cp50 ")
    )
    make_case(
        symptom="机械密封漏水。",
        product=ProductData(model=""),
        contact=ContactData(name="陈先生", phone="13900001111"),
    )
    qa = users["qa_head"]
    update_case(first, {"product.symptom": "泵体裂纹，出口法兰处渗水。"}, actor=qa)
    update_case(second, {"product.model": "QL-CP65"}, actor=qa)
    archive_case(second, "重复登记", actor=qa)

    docs, grams = _kept()
    assert docs[first.pk][1] == "QL-CP50" and "裂纹" in docs[first.pk][3]
    assert docs[second.pk][1] == "QL-CP65"
    assert grams[("complaint", "QL-CP50", "")] == 1  # the second case moved to another model
    assert grams[("complaint", "*", "")] == 3
    assert grams[("complaint", "QL-CP50", "裂纹")] == 1  # the first case's new text
    assert rebuild() == (3, len(grams))
    assert _kept() == (docs, grams)


def test_the_model_is_compared_without_case_and_archived_cases_are_not_shown(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    leak = make_case(symptom="机械密封处漏水，地面积水。", product=ProductData(model="QL-CP50"))
    found, _ = similar_cases(users["cs"], "机械密封漏水", model="ql-cp50")
    assert [s.number for s in found] == [leak.number]
    archive_case(leak, "误登记", actor=users["qa_head"])
    assert similar_cases(users["cs"], "机械密封漏水", model="QL-CP50") == ([], "")
    assert Case.objects.filter(pk=leak.pk, similar_doc__isnull=False).exists()


def test_the_worker_folds_in_a_registration_whichever_comes_first(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """Registration leaves the bigram statistics to the worker; an edit before or after the
    worker's turn counts the text once, so the statistics still equal a recount."""
    qa = users["qa_head"]
    early = make_case(symptom="机械密封处漏水。", product=ProductData(model="QL-CP50"))
    assert SimilarDoc.objects.get(pk=early.pk).counted is False
    assert not SimilarGram.objects.exists()
    update_case(early, {"product.symptom": "叶轮磨损，流量下降。"}, actor=qa)  # before the worker
    assert fold_pending() == 1
    late = make_case(symptom="电机过热，跳闸。", product=ProductData(model="QL-CP50"))
    assert fold_pending() == 1
    update_case(late, {"product.symptom": "电机过热，轴承异响。"}, actor=qa)  # after it
    assert fold_pending() == 0
    docs, grams = _kept()
    assert grams[("complaint", "QL-CP50", "")] == 2
    assert grams[("complaint", "QL-CP50", "磨损")] == 1  # the early case's edited text
    assert grams[("complaint", "QL-CP50", "异响")] == 1
    assert rebuild() == (2, len(grams))
    assert _kept() == (docs, grams)


def test_a_case_registered_a_moment_ago_is_suggested_before_the_worker_counts_it(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    old = make_case(symptom="电机运行噪音大。", product=ProductData(model="QL-CP50"))
    fold_pending()
    new = make_case(symptom="机械密封处漏水，地面积水。", product=ProductData(model="QL-CP50"))
    # The statistics the suggestion reads already count the new case's text …
    assert statistics("complaint", "QL-CP50", {"漏水", "噪音"}) == (2, {"漏水": 1, "噪音": 1})
    assert statistics("complaint", "", {"漏水"}) == (2, {"漏水": 1})
    # … and it is suggested, as it will be once the worker has counted it.
    found, _ = similar_cases(users["cs"], "机械密封漏水", model="QL-CP50")
    assert [s.number for s in found] == [new.number]
    fold_pending()
    assert similar_cases(users["cs"], "机械密封漏水", model="QL-CP50")[0] == found
    assert old.number not in [s.number for s in found]


def test_registration_queues_the_worker_after_its_commit(
    make_case: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(symptom="泵体裂纹。", product=ProductData(model="QL-CP50"))
    assert SimilarDoc.objects.get(pk=case.pk).counted is True
    assert SimilarGram.objects.get(kind="complaint", model_key="QL-CP50", gram="裂纹").df == 1
