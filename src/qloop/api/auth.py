from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from qloop.org.models import ApiToken


class BearerToken(HttpBearer):
    """``Authorization: Bearer TOKEN`` with a personal token (stored hashed)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


# The browser's own pages may call the API with the session (and its CSRF token).
api_auth = [BearerToken(), SessionAuth()]
