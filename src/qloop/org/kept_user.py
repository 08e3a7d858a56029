"""The logged-in person, kept between requests while no write has happened (issue 14).

Every page read the person (``org_user``) and their memberships with roles and departments:
two queries, about 0.55 ms of CPU on a page that costs 4 ms. Here both are kept in the cache
under ``qloop.freshness``'s people version, which moves after every committed write to the
tables they are read from (``freshness.PEOPLE_TABLES``: people, memberships, roles,
departments) or of a statement whose table it cannot tell; a write to any other table (a
registration, an edit of a case) leaves the kept person in place. So a deactivated person, a
changed password, a removed membership or a changed role takes effect on the very next
request, exactly as when both were read afresh.

What is kept is only what the request needs to show and decide: the person's columns but the
password hash and ``last_login`` (left deferred: read from the database if anything asks), the
session hash Django checks the session against (an HMAC of the password under the secret key,
which the session itself already holds) and the role flags of ``User._role_flags``.

Only the plain case is answered here: a session of ``ModelBackend`` whose stored hash equals
the kept one. Anything else (no session, another backend, an unknown or inactive person, a hash
that differs, a secret-key rotation) goes through Django's own ``auth.get_user`` unchanged,
which refuses, flushes or re-keys the session as it always did.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import SimpleLazyObject

from qloop.freshness import PEOPLE_VERSION_KEY, ReadAhead, kept

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Read from the database when asked for, never kept: the hash, and the one column a login
# updates without moving the data version (freshness.QUIET_STATEMENTS).
NOT_KEPT = frozenset({"password", "last_login"})


@functools.lru_cache(maxsize=4)
def _secret_tag(secret: str) -> str:
    """Part of the key: a hash kept under one secret key is never compared under another."""
    return salted_hmac("qloop.org.kept_user", "tag", secret=secret).hexdigest()[:16]


def kept_names(model: Any) -> list[str]:
    """The columns kept, in the model's order (``from_db`` pairs values with them by order)."""
    return [f.attname for f in model._meta.concrete_fields if f.attname not in NOT_KEPT]


def _snapshot(user_id: Any) -> tuple[list[str], list[Any], str, dict[str, Any]] | None:
    """What is kept for one person, read afresh; None for nobody or an inactive person."""
    from django.contrib.auth.backends import ModelBackend

    user = ModelBackend().get_user(user_id)
    if user is None:
        return None
    names = kept_names(type(user))
    values = [getattr(user, name) for name in names]
    return names, values, user.get_session_auth_hash(), user._role_flags()


def kept_user(request: HttpRequest) -> Any:
    """The person of this request's session if the kept copy verifies it, else None."""
    session = request.session  # type: ignore[attr-defined]
    try:
        user_id = auth._get_user_session_key(request)  # type: ignore[attr-defined]
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    if backend_path != MODEL_BACKEND or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    if not session_hash:
        return None
    from qloop.org.models import Organisation
    from qloop.web.context_processors import badge_key

    # "person", not "user" as when it was kept under the data version: a release before this
    # one, running beside it (a rolling restart), keeps its own entry instead of each
    # overwriting the other's under a token the other never matches.
    key = f"qloop:person:{user_id}:{_secret_tag(settings.SECRET_KEY)}"
    # The navigation's badge comes with the person: one cache round trip for both.
    ahead = ReadAhead([key, badge_key(user_id, Organisation.current_profiles())])
    request.qloop_read_ahead = ahead  # type: ignore[attr-defined]
    entry = kept(key, lambda: _snapshot(user_id), ahead, version_key=PEOPLE_VERSION_KEY)
    if entry is None:
        return None
    names, values, auth_hash, roles = entry
    model = auth.get_user_model()
    if names != kept_names(model):
        return None  # kept by a release with other columns: read afresh
    if not constant_time_compare(session_hash, auth_hash):
        return None
    user = model.from_db(model._default_manager.db, names, values)
    user._qloop_roles = roles  # type: ignore[attr-defined]
    return user


def get_user(request: HttpRequest) -> Any:
    """``django.contrib.auth.middleware.get_user`` with the kept copy tried first."""
    if not hasattr(request, "_cached_user"):
        request._cached_user = kept_user(request) or auth.get_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


def person(request: HttpRequest) -> Any:
    """The request's person itself (a ``User`` or ``AnonymousUser``), not ``request.user``'s
    lazy stand-in, whose every attribute read is a Python call of its own: an action given the
    stand-in as its actor read it some hundred times on registering (foreign keys set and
    checked, the event's actor), about 3 % of the request (issue 14). A ``request.user`` set
    otherwise (a test's request made without the middleware) is given back as it is."""
    user = request.user
    if type(user) is SimpleLazyObject:  # the stand-in this middleware set
        return get_user(request)
    return user


class KeptUserAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's authentication middleware, reading the person through ``kept_user``."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))  # type: ignore[assignment]
