"""Full-text search that works for Chinese, and finds Simplified and Traditional spellings alike.

Text is normalised once when a case is saved (Traditional → Simplified, full-width → half-width,
case folded) into ``Case.search_text``. On PostgreSQL a GIN index over ``search_tokens`` (CJK
characters and their bigrams, and ASCII words) finds candidates; the normalised text then
confirms the exact phrase. On SQLite the normalised text is scanned.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(f"[{_CJK}]+|[0-9a-z]+")


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _has_cjk(text: str) -> bool:
    return _CJK_RUN.search(text) is not None


def normalise(text: str) -> str:
    """Fold a text so that spellings a person would call the same compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if _has_cjk(text):
        text = _converter().convert(text)
    return " ".join(text.split())


def tokens(normalised: str) -> list[str]:
    """Index terms of a normalised text: each CJK character, each CJK bigram, each ASCII word."""
    out: list[str] = []
    for run in _WORD.findall(normalised):
        if _CJK_RUN.fullmatch(run):
            out.extend(run)
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.append(run)
    return out


def tsquery(query: str) -> str:
    """A PostgreSQL ``to_tsquery('simple', …)`` expression that finds candidates for ``query``.

    A CJK run must contain all its bigrams (or its one character); an ASCII word matches any
    word it begins, so that part of a phone number or model finds the whole.
    """
    terms: list[str] = []
    for run in _WORD.findall(normalise(query)):
        if _CJK_RUN.fullmatch(run):
            grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
            terms.extend(grams)
        else:
            terms.append(f"{run}:*")
    # Each term is [0-9a-z] or CJK only, so nothing in it can break out of the tsquery syntax.
    return " & ".join(dict.fromkeys(terms))
