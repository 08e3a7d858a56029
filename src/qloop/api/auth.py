from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja.security import HttpBearer, SessionAuth

from qloop.org.models import ApiToken


class BearerToken(HttpBearer):
    """``Authorization: Bearer TOKEN`` with a personal token (stored hashed)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
            # The language middleware ran before the token was read: speak the person's choice.
            if user.language in {code for code, _name in settings.LANGUAGES}:
                translation.activate(user.language)
        return user


# The browser's own pages may call the API with the session (and its CSRF token).
api_auth = [BearerToken(), SessionAuth()]
