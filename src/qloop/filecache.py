"""The embedded default's cache: Django's file cache, culled now and then instead of on every
write (issue 14).

``FileBasedCache.set`` lists the whole cache folder before each write to decide whether to
cull. With a badge and counts kept per person (``qloop.freshness``) the folder holds
thousands of entries, and that listing cost 7.5 ms a write at 2,000 entries and 22 ms at
8,000 on the 2-core bench machine — paid by every request that commits a change. Here each
process looks at most once a minute; between looks the folder may run over ``MAX_ENTRIES`` by
what a minute writes, and the next look culls it as Django would.

The two *tokens* of ``qloop.freshness`` (the data and people versions, 32 hexadecimal digits
each) are written on every committed change: through Django's file cache that is a new file
renamed over the old one, and on ext4 the rename cost a registration 1–1.5 ms of CPU (the
kernel's, flushing the replaced file). Here they live in one small file of fixed slots
(``tokens.bin``), written in place and read with one ``pread``. A token read while another
process writes it may mix old and new digits: a token that matches no kept figure, so they
are computed afresh, never a stale one. A missing or unwritten slot is a missing key (as an
entry culled away was before), ``clear()`` removes the file, and tokens never expire.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

CULL_INTERVAL = 60.0  # seconds between two looks at the folder's size, per process

_lock = threading.Lock()
_next_look = 0.0


# The keys kept in slots, in their order in the file, and a token's length.
TOKEN_KEYS = ("qloop:data-version", "qloop:people-version")
TOKEN_LENGTH = 32
_HEX = frozenset(b"0123456789abcdef")


class FileCache(FileBasedCache):
    def _tokens_file(self) -> str:
        return os.path.join(self._dir, "tokens.bin")  # type: ignore[attr-defined]

    def _read_tokens(self) -> dict[str, str]:
        try:
            fd = os.open(self._tokens_file(), os.O_RDONLY)
        except FileNotFoundError:
            return {}
        try:
            data = os.pread(fd, TOKEN_LENGTH * len(TOKEN_KEYS), 0)
        finally:
            os.close(fd)
        # A release before the slots kept the data version as an entry of its own, and moves
        # only that entry; while one runs beside this (a graceful restart), its writes must
        # move these tokens too: the entry's file, as it stands, is part of each.
        try:
            st = os.stat(self._key_to_file(TOKEN_KEYS[0]))  # type: ignore[attr-defined]
            legacy = f"-{st.st_ino}-{st.st_mtime_ns}"
        except FileNotFoundError:
            legacy = ""
        found = {}
        for slot, key in enumerate(TOKEN_KEYS):
            raw = data[slot * TOKEN_LENGTH : (slot + 1) * TOKEN_LENGTH]
            if len(raw) == TOKEN_LENGTH and _HEX.issuperset(raw):
                found[key] = raw.decode() + legacy
        return found

    def _write_token(self, key: str, value: Any) -> None:
        if not (
            isinstance(value, str)
            and len(value) == TOKEN_LENGTH
            and _HEX.issuperset(value.encode())
        ):
            raise TypeError(f"{key} holds {TOKEN_LENGTH} lower-case hexadecimal digits")
        path = self._tokens_file()
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            # Made once: making sure of the folder first (a failed ``mkdir``) and creating the
            # file if missing cost about 0.1 ms of kernel CPU on every committed write.
            self._createdir()  # type: ignore[attr-defined]
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, value.encode(), TOKEN_KEYS.index(key) * TOKEN_LENGTH)
        finally:
            os.close(fd)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        if key in TOKEN_KEYS and version is None:
            return self._read_tokens().get(key, default)
        return super().get(key, default, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        keys = list(keys)
        tokens = [k for k in keys if k in TOKEN_KEYS] if version is None else []
        found = self._read_tokens() if tokens else {}
        rest = super().get_many([k for k in keys if k not in tokens], version)
        return {k: found[k] if k in tokens else rest[k] for k in keys if k in found or k in rest}

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        if key in TOKEN_KEYS and version is None:
            self._write_token(key, value)
        else:
            super().set(key, value, timeout, version)

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        if key in TOKEN_KEYS and version is None:
            if key in self._read_tokens():
                return False
            self._write_token(key, value)
            return True
        return bool(super().add(key, value, timeout, version))

    def has_key(self, key: str, version: int | None = None) -> bool:
        if key in TOKEN_KEYS and version is None:
            return key in self._read_tokens()
        return bool(super().has_key(key, version))

    def delete(self, key: str, version: int | None = None) -> bool:
        if key in TOKEN_KEYS and version is None:
            if key not in self._read_tokens():
                return False
            fd = os.open(self._tokens_file(), os.O_WRONLY)
            try:
                os.pwrite(fd, b"\0" * TOKEN_LENGTH, TOKEN_KEYS.index(key) * TOKEN_LENGTH)
            finally:
                os.close(fd)
            return True
        return bool(super().delete(key, version))

    def clear(self) -> None:
        super().clear()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._tokens_file())

    def _cull(self) -> None:
        global _next_look
        now = time.monotonic()
        with _lock:
            if now < _next_look:
                return
            _next_look = now + CULL_INTERVAL
        super()._cull()  # type: ignore[misc]  # private in django-stubs, public enough here
