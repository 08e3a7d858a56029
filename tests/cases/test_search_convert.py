"""The search text's Traditional → Simplified step skips texts the dictionaries have nothing
for (issue 14): the text it gives is the converter's, for every key of its dictionaries and
for the demo's texts."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from qloop.cases import search


def converted(text: str) -> str:
    """``normalise`` as it was: the converter on every text with a CJK character."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if search._has_cjk(text):
        text = search._converter().convert(text)
    return " ".join(text.split())


def demo_texts() -> list[str]:
    import qloop.demo

    found: list[str] = []
    for path in Path(qloop.demo.__file__).parent.glob("*.py"):
        found.extend(
            line.strip().strip("\\\"',")
            for line in path.read_text(encoding="utf-8").splitlines()
            if search._has_cjk(line)
        )
    return found


def test_every_key_of_the_dictionaries_is_converted() -> None:
    singles, _lengths, longer = search._dictionary_keys()
    assert len(singles) > 1000 and len(longer) > 100
    for key in sorted(longer) + sorted(singles):
        for text in (key, f"泵体{key}异响", f"QL-{key}，已停机"):
            assert search.normalise(text) == converted(text), text


def test_the_demo_s_texts_and_mixtures_come_out_as_the_converter_gives_them() -> None:
    texts = demo_texts()
    assert len(texts) > 50
    singles, _lengths, longer = search._dictionary_keys()
    keys = sorted(singles) + sorted(longer)
    rng = random.Random(14)
    mixed = []
    for text in texts:
        at = rng.randrange(len(text) + 1)
        mixed.append(text[:at] + rng.choice(keys) + text[at:])
        # A phrase cut by a separator is not one the converter finds.
        phrase = rng.choice(sorted(longer))
        mixed.append(f"{text}{phrase[:1]}，{phrase[1:]}")
    for text in texts + mixed + ["", "ABC 123", "泵體異響，振動明顯。", "乾燥 干燥 幹部"]:
        assert search.normalise(text) == converted(text), text
    skipped = sum(search._nothing_to_convert(unicodedata.normalize("NFKC", t)) for t in texts)
    assert skipped > len(texts) // 2  # the point: most Simplified texts skip the converter


@pytest.mark.parametrize("text", ["泵體異響", "後來", "發現", "瞭解"])
def test_traditional_text_is_still_converted(text: str) -> None:
    assert search.normalise(text) != text
    assert search.normalise(text) == converted(text)
