"""A password hasher that counts how many passwords it checked, for the attempt-limit tests.

Not a mock: it is Django's MD5 hasher (the one the tests use for speed), checking for real;
it only also counts, across the live server's threads.
"""

from __future__ import annotations

import threading
from typing import Any

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingMD5Hasher(MD5PasswordHasher):
    checked = 0
    _lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with CountingMD5Hasher._lock:
            CountingMD5Hasher.checked += 1
        return bool(super().verify(password, encoded))

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.checked = 0


HASHERS: list[Any] = ["tests.hashers.CountingMD5Hasher"]
