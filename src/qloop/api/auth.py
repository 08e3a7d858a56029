from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import HttpError
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


class BrowserSession(SessionAuth):
    """The browser's own logged-in session; its writes need the CSRF token, as a form's do.

    Ninja's ``SessionAuth`` checks CSRF before it looks for a session, so a client with no
    session, or with a wrong or revoked token, got 403 "CSRF check Failed" instead of 401. The
    check belongs to a request that a session would authenticate: one with a logged-in session
    and no ``Authorization`` header (a token sent is the only thing that decides).
    """

    def __call__(self, request: HttpRequest) -> Any:
        if "authorization" in request.headers or not request.user.is_authenticated:
            return None
        try:
            return super().__call__(request)
        except HttpError as exc:  # ninja's "CSRF check Failed", said in the person's words
            raise HttpError(
                403,
                _("The page's security token is missing or old: reload the page and try again."),
            ) from exc


api_auth = [BearerToken(), BrowserSession()]
