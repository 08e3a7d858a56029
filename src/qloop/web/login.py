"""The two login forms, QLoop's and the administration's, saying why a login was refused."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from qloop.org.attempts import lockout_message


class LockOutMessage:
    """A login refused because of too many wrong passwords says so, and until when.

    django-axes refuses such a login inside ``authenticate`` (counted in
    ``qloop.org.attempts``), which to the form looks like a wrong password; the marks axes
    leaves on the request tell the two apart.
    """

    request: Any

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc, no-any-return]
        except ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                until = getattr(self.request, "qloop_locked_until", None)
                raise ValidationError(lockout_message(until), code="locked_out") from None
            raise


class LoginForm(LockOutMessage, AuthenticationForm):
    pass


class AdminLoginForm(LockOutMessage, AdminAuthenticationForm):
    pass
