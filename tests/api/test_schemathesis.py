"""Schemathesis against the live OpenAPI document (issue 9.14): every operation, generated
valid and invalid requests, all of its checks. It proves that the document says what the server
does (statuses, bodies, enums, lengths) and that no request makes a server error.

A bounded number of examples per operation keeps it to about a minute; run with
``QLOOP_SCHEMATHESIS_EXAMPLES=200`` for a deeper search. The persona is ``admin``, who may take
every step, so the generated requests reach the actions rather than stop at a 403.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from qloop.org.models import ApiToken

EXAMPLES = int(os.environ.get("QLOOP_SCHEMATHESIS_EXAMPLES", "12"))

# A refusal the document cannot express is a 4xx the server may give to valid-looking data:
# a category code that does not exist, a contact with no way to reach them, a step the case's
# state does not allow (409), a case number that names no case (404).
ACCEPTABLE_FOR_VALID_DATA = ["2xx", "401", "403", "404", "409", "422", "429"]


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": ACCEPTABLE_FOR_VALID_DATA},
            },
            "generation": {"max-examples": EXAMPLES},
        }
    )


# The document as the running application serves it; the calls go through WSGI in-process, to
# the test's database.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=_config()
)


@pytest.fixture
def admin_token(users: dict[str, Any], make_case: Any) -> Iterator[str]:
    """A token of the administrator, and one case for the generated requests to find. The
    WSGI handler keeps the test's database connection open, as Django's test client does."""
    make_case()
    _token, raw = ApiToken.issue(users["admin"], "schemathesis")
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield raw
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    # The same examples on every run, so CI is never red by chance; raise
    # QLOOP_SCHEMATHESIS_EXAMPLES to search further.
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_does_what_its_document_says(case: schemathesis.Case, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"})
