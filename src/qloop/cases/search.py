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


@lru_cache(maxsize=1)
def _dictionary_keys() -> tuple[frozenset[str], dict[str, tuple[int, ...]], frozenset[str]]:
    """Every key of the converter's dictionaries: those of one character, the lengths of the
    longer ones by their first character, and the longer ones."""
    converter = _converter()
    converter.convert("")  # reads its dictionaries
    keys: set[str] = set()
    for level in converter._dict_chain_data:  # [(longest, shortest, {key: value}), …] each
        for _longest, _shortest, mapping in level if isinstance(level, list) else [level]:
            keys.update(mapping)
    lengths: dict[str, set[int]] = {}
    for key in keys:
        if len(key) > 1:
            lengths.setdefault(key[0], set()).add(len(key))
    return (
        frozenset(k for k in keys if len(k) == 1),
        {first: tuple(sorted(n)) for first, n in lengths.items()},
        frozenset(k for k in keys if len(k) > 1),
    )


def _nothing_to_convert(text: str) -> bool:
    """Whether no key of the converter's dictionaries occurs in ``text``, so that converting it
    gives it back unchanged (the converter only ever replaces a key it finds; it finds one only
    within the pieces between separators, so a key found here across one is merely a slower
    path). Most Simplified text has none: the dictionaries hold Traditional spellings."""
    singles, lengths, longer = _dictionary_keys()
    if not singles.isdisjoint(text):
        return False
    for i, char in enumerate(text):
        for n in lengths.get(char, ()):
            if text[i : i + n] in longer:
                return False
    return True


def normalise(text: str) -> str:
    """Fold a text so that spellings a person would call the same compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # Traditional → Simplified (pure Python, about 0.35 ms for a case's text): only where the
    # dictionaries have something to replace (issue 14).
    if _has_cjk(text) and not _nothing_to_convert(text):
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
