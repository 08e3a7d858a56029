"""Wrong passwords, counted once for every place a password is typed: ``/login/``,
``/admin/login/`` and e-signatures (issue 9 point 5).

The count is django-axes': its ``AccessAttempt`` rows, by user name AND client address together,
so a stranger elsewhere cannot lock the real user out, and an administrator sees and clears
them in the administration pages. Axes itself reads the count, checks the password, then adds
one; forty requests at once all read "below the limit" and all get checked. Here an attempt is
counted *before* its password is checked, in one transaction that no other attempt of the same
user name and address can enter (a PostgreSQL advisory lock; SQLite's write lock), so at most
``QLOOP_LOGIN_ATTEMPTS`` passwords are ever checked however many arrive at once. A right
password forgets the count; a wrong one keeps it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_client_username, get_query_str
from axes.models import AccessAttempt, AccessFailureLog
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from qloop.org.models import User

# The request being answered, for checks made deep inside actions (e-signatures): they count
# against the same user name and address as the login pages. Set by CurrentRequestMiddleware.
current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "current_request", default=None
)


def failure_limit(request: HttpRequest | None = None, credentials: Any = None) -> int:
    """AXES_FAILURE_LIMIT, read when used, so QLOOP_LOGIN_ATTEMPTS is the one setting."""
    return int(settings.QLOOP_LOGIN_ATTEMPTS)


def cool_off(request: HttpRequest | None = None) -> dt.timedelta:
    """AXES_COOLOFF_TIME: how long a lock-out lasts after the attempt that caused it."""
    return dt.timedelta(minutes=int(settings.QLOOP_LOGIN_LOCK_MINUTES))


def client_address(request: HttpRequest) -> str | None:
    """The client's address as the attempt limits see it (the trusted proxy's header only
    behind QLOOP_BEHIND_TLS_PROXY); other per-address limits should use the same."""
    return get_client_ip_address(request)


def _lock_key(username: str | None, address: str | None) -> int:
    digest = hashlib.sha256(f"qloop-attempts\0{username}\0{address}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _serialise(username: str | None, address: str | None) -> None:
    """Let no other attempt for this user name and address into the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(username, address)])
    # SQLite: settings open every transaction with BEGIN IMMEDIATE, which takes the database's
    # one write lock at once, so attempts (and every other write) already go one at a time.


class AtomicAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler that counts an attempt before its password is checked."""

    def is_allowed(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        if credentials is None:  # a look without an attempt (axes' decorators): only look
            return bool(super().is_allowed(request, credentials))
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        return self._count_attempt(request, credentials)

    def _count_attempt(self, request: HttpRequest, credentials: dict[str, Any]) -> bool:
        """Add this attempt to the count, unless the count is already at the limit."""
        username = get_client_username(request, credentials)
        address = request.axes_ip_address  # type: ignore[attr-defined]
        with transaction.atomic():
            _serialise(username, address)
            self.clean_expired_user_attempts(request, credentials)
            if self.get_failures(request, credentials) >= failure_limit():
                request.axes_locked_out = True  # type: ignore[attr-defined]
                request.qloop_locked_until = self.locked_until(request, credentials)  # type: ignore[attr-defined]
                return False
            attempt, created = AccessAttempt.objects.get_or_create(
                username=username,
                ip_address=address,
                user_agent=request.axes_user_agent,  # type: ignore[attr-defined]
                defaults={
                    "get_data": get_query_str(request.GET).replace("\0", "0x00"),
                    "post_data": get_query_str(request.POST).replace("\0", "0x00"),
                    "http_accept": request.axes_http_accept,  # type: ignore[attr-defined]
                    "path_info": request.axes_path_info,  # type: ignore[attr-defined]
                    "failures_since_start": 1,
                    "attempt_time": request.axes_attempt_time,  # type: ignore[attr-defined]
                },
            )
            if not created:
                attempt.failures_since_start += 1
                attempt.attempt_time = request.axes_attempt_time  # type: ignore[attr-defined]
                attempt.path_info = request.axes_path_info  # type: ignore[attr-defined]
                attempt.save(update_fields=["failures_since_start", "attempt_time", "path_info"])
        request.qloop_attempt_counted = True  # type: ignore[attr-defined]
        return True

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        if request is None or not getattr(request, "qloop_attempt_counted", False):
            # Refused while locked out (axes records nothing then), or no request at all.
            super().user_login_failed(sender, credentials, request, **kwargs)
            return
        # Counted when it began; what is left is to say whether it locked the door.
        username = get_client_username(request, credentials)
        locked = self.get_failures(request, credentials) >= failure_limit()
        if locked:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            request.qloop_locked_until = self.locked_until(request, credentials)
            user_locked_out.send(
                "axes", request=request, username=username, ip_address=request.axes_ip_address
            )
        if settings.AXES_ENABLE_ACCESS_FAILURE_LOG:
            AccessFailureLog.objects.create(
                username=username,
                ip_address=request.axes_ip_address,
                user_agent=request.axes_user_agent,
                http_accept=request.axes_http_accept,
                path_info=request.axes_path_info,
                attempt_time=request.axes_attempt_time,
                locked_out=locked,
            )
            self.remove_out_of_limit_failure_logs(username=username)

    def clean_expired_user_attempts(
        self, request: HttpRequest | None = None, credentials: dict[str, Any] | None = None
    ) -> int:
        """Only this user name and address's expired rows: deleting everyone's from inside
        each attempt's transaction would make concurrent attempts wait on (and deadlock over)
        each other's rows. Without a request (the administrators' action), all of them."""
        if request is None:
            return int(super().clean_expired_user_attempts(request, credentials))
        expired = self.filter_user_attempts(request, credentials)
        threshold = timezone.now() - cool_off()
        return sum(rows.filter(attempt_time__lte=threshold).delete()[0] for rows in expired)

    def locked_until(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> dt.datetime | None:
        """When this user name may try again from this address (None: it may now)."""
        last = None
        for attempts in self.get_user_attempts(request, credentials):
            counted = attempts.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
            if (counted["n"] or 0) >= failure_limit() and counted["last"] is not None:
                last = max(last, counted["last"]) if last else counted["last"]
        return last + cool_off() if last else None


def lockout_message(until: dt.datetime | None) -> str:
    """In the reader's language, with when to try again."""
    if until is None:
        return _("Too many wrong passwords for this user name from this address.")
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return ngettext(
        "Too many wrong passwords for this user name from this address. Try again after "
        "%(time)s (in %(minutes)s minute), or ask an administrator to clear the lock-out.",
        "Too many wrong passwords for this user name from this address. Try again after "
        "%(time)s (in %(minutes)s minutes), or ask an administrator to clear the lock-out.",
        minutes,
    ) % {
        "time": formats.time_format(timezone.localtime(until), "H:i"),
        "minutes": minutes,
    }


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page the person was on (its form says why and until
    when, see ``LockOutMessage``), answered 429 with Retry-After."""
    until = getattr(request, "qloop_locked_until", None)
    response = original_response or HttpResponse(lockout_message(until))
    response.status_code = 429
    if until is not None:
        seconds = math.ceil((until - timezone.now()).total_seconds())
        response["Retry-After"] = str(max(seconds, 1))
    return response


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of a counted password check."""

    right: bool
    locked_until: dt.datetime | None = None  # set when refused unchecked: locked out

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def check_password(user: User, password: str) -> PasswordCheck:
    """Check a password typed again (an e-signature), counted with the login pages' attempts.

    It goes through Django's ``authenticate`` like a login (so axes counts it), on a request of
    its own that carries only the current request's address headers: axes marks that request,
    never the page's or the API's answer.
    """
    request = HttpRequest()
    source = current_request.get()
    if source is not None:
        for name in ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT", "PATH_INFO"):
            if name in source.META:
                request.META[name] = source.META[name]
        request.path = request.path_info = source.path
    request.method = "POST"
    username = user.get_username()
    found = authenticate(request, username=username, password=password)
    if found is not None and found.pk == user.pk:
        AxesProxyHandler.get_implementation().reset_user_attempts(request, {"username": username})
        return PasswordCheck(right=True)
    counted = getattr(request, "qloop_attempt_counted", False)
    return PasswordCheck(
        right=False, locked_until=None if counted else getattr(request, "qloop_locked_until", None)
    )
