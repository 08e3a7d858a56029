"""What an error may show: Django's debug page (only with DEBUG on) without any secret."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

# An address with a password in it: smtps://user:password@host, redis://:password@host/0.
_CREDENTIALS_IN_ADDRESS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:[^/@\s]*@", re.IGNORECASE)


class SecretsFilter(SafeExceptionReporterFilter):
    """Django's filter hides names with API, AUTH, TOKEN, KEY, SECRET, PASS or SIGNATURE; QLoop's
    secrets also live in addresses (``EMAIL_URL``, ``DATABASE_URL``, ``REDIS_URL``, a robot's
    ``url`` with its key) and in credentials, so those names are hidden too — in settings, in
    the request's headers and environment, and in the local variables of every frame — and so
    is any value that is an address with a password in it, whatever its name (``CACHES``'s
    ``LOCATION``)."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|URL|DSN|CREDENTIAL|PRIVATE|COOKIE|SIGN",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        # str() too: a lazy object (axes' AXES_USERNAME_FORM_FIELD) passes for a str.
        if isinstance(cleansed, str) and _CREDENTIALS_IN_ADDRESS.match(str(cleansed)):
            return self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleanse_setting(name, value)) for name, value in variables]
