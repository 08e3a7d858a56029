from __future__ import annotations


class Conflict(Exception):
    """The case's state (or a pending approval) does not allow this now: HTTP 409."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
