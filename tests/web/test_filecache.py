"""The embedded default's file cache culls as Django's does, only not on every write
(issue 14: ``qloop.filecache``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# The freshness tokens, kept in slots of one file ------------------------------------------

TOKEN_A = "0123456789abcdef" * 2
TOKEN_B = "fedcba9876543210" * 2


def test_the_token_keys_are_freshness_s() -> None:
    from qloop import freshness

    assert filecache.TOKEN_KEYS == (freshness.VERSION_KEY, freshness.PEOPLE_VERSION_KEY)


def test_tokens_are_kept_in_place_and_read_as_cache_entries(
    cache: filecache.FileCache, tmp_path: Path
) -> None:
    data, people = filecache.TOKEN_KEYS
    assert cache.get(data) is None and not cache.has_key(data)
    assert cache.add(data, TOKEN_A, None) and not cache.add(data, TOKEN_B, None)
    cache.set("other", 1)
    assert cache.get_many([data, people, "other", "none"]) == {data: TOKEN_A, "other": 1}
    cache.set_many({people: TOKEN_B, data: TOKEN_B}, None)
    assert cache.get_many([people, data]) == {people: TOKEN_B, data: TOKEN_B}
    assert entries(cache) == 1  # "other": the tokens are no entries of their own
    assert (tmp_path / "tokens.bin").read_bytes() == (TOKEN_B + TOKEN_B).encode()
    assert cache.delete(people) and cache.get(people) is None and cache.get(data) == TOKEN_B
    cache.clear()
    assert cache.get(data) is None and not (tmp_path / "tokens.bin").exists()
    with pytest.raises(TypeError):
        cache.set(data, "not a token")


def test_a_token_written_after_the_file_or_folder_went_makes_them_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is opened as it is and made only when missing (after ``clear()`` or with the
    whole folder gone): a token written then is kept, never lost."""
    monkeypatch.setattr(filecache, "_next_look", 0.0)
    folder = tmp_path / "cache"
    cache = filecache.FileCache(str(folder), {})
    data, people = filecache.TOKEN_KEYS
    cache.set(data, TOKEN_A, None)
    cache.clear()
    cache.set(people, TOKEN_B, None)
    assert cache.get_many([data, people]) == {people: TOKEN_B}
    (folder / "tokens.bin").unlink()
    folder.rmdir()
    cache.set(data, TOKEN_B, None)
    assert cache.get(data) == TOKEN_B and (folder / "tokens.bin").exists()


def test_a_token_read_half_written_is_a_token_nothing_was_kept_under(
    cache: filecache.FileCache, tmp_path: Path
) -> None:
    data, people = filecache.TOKEN_KEYS
    cache.set(data, TOKEN_A, None)
    (tmp_path / "tokens.bin").write_bytes((TOKEN_A[:10] + TOKEN_B[10:]).encode())
    assert cache.get(data) not in (TOKEN_A, TOKEN_B, None)
    (tmp_path / "tokens.bin").write_bytes(b"\0" * 32 + TOKEN_A[:5].encode())
    assert cache.get_many([data, people]) == {}  # unwritten or short: missing


def test_a_release_keeping_the_data_version_as_an_entry_moves_the_tokens(
    cache: filecache.FileCache,
) -> None:
    """During a graceful restart a worker of the release before writes the data version as a
    file of Django's cache; the tokens read here change with it."""
    from django.core.cache.backends.filebased import FileBasedCache

    data, people = filecache.TOKEN_KEYS
    cache.set_many({data: TOKEN_A, people: TOKEN_B}, None)
    before = cache.get_many([data, people])
    FileBasedCache.set(cache, data, "an older release's token", None)
    after = cache.get_many([data, people])
    assert after[data] != before[data] and after[people] != before[people]
    assert after[data].startswith(TOKEN_A) and after[people].startswith(TOKEN_B)


def test_kept_figures_move_with_the_tokens_in_the_file(tmp_path: Path, settings: Any) -> None:
    from django.core.cache import caches

    from qloop import freshness

    settings.CACHES = {
        "default": {"BACKEND": "qloop.filecache.FileCache", "LOCATION": str(tmp_path)}
    }
    # (Django's own signal starts the cache handlers afresh when CACHES changes, and again
    # when the fixture puts it back.)
    assert isinstance(caches["default"], filecache.FileCache)
    assert freshness.kept("qloop:test-file", lambda: "first") == "first"
    assert freshness.kept("qloop:test-file", lambda: "again") == "first"
    person = freshness.kept(
        "qloop:test-person", lambda: "p", version_key=freshness.PEOPLE_VERSION_KEY
    )
    freshness._after_commit()  # a registration's commit: the data version only
    assert freshness.kept("qloop:test-file", lambda: "after") == "after"
    kept_person = freshness.kept(
        "qloop:test-person", lambda: "p2", version_key=freshness.PEOPLE_VERSION_KEY
    )
    assert person == kept_person == "p"
    freshness._after_people_commit()
    assert (
        freshness.kept("qloop:test-person", lambda: "p3", version_key=freshness.PEOPLE_VERSION_KEY)
        == "p3"
    )
