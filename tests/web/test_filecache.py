"""The embedded default's file cache culls as Django's does, only not on every write
(issue 14: ``qloop.filecache``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qloop import filecache


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> filecache.FileCache:
    monkeypatch.setattr(filecache, "_next_look", 0.0)
    return filecache.FileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10}})


def entries(cache: filecache.FileCache) -> int:
    return len(cache._list_cache_files())


def test_between_two_looks_the_cache_keeps_every_entry(cache: filecache.FileCache) -> None:
    for i in range(30):
        cache.set(f"k{i}", i)
    assert entries(cache) == 30  # one look, at the first write, found the folder empty
    assert all(cache.get(f"k{i}") == i for i in range(30))


def test_the_next_look_culls_the_folder_as_django_does(
    cache: filecache.FileCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        cache.set(f"k{i}", i)
    monkeypatch.setattr(filecache, "_next_look", 0.0)  # a minute has passed
    cache.set("last", 1)
    # Django removes a third (CULL_FREQUENCY 3) of the 30 files, then writes the new one.
    assert entries(cache) == 21
    assert cache.get("last") == 1
