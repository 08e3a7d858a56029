"""The real URLs plus one page that fails, for the tests of what an error shows."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from qloop.urls import urlpatterns as qloop_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    """Fails with secrets in its local variables, as a failing delivery to a robot would (the
    robot as the test configures it: secrets come from the database, never from the code)."""
    robot = settings.TEST_ROBOT
    robot_url, secret = robot["url"], robot["secret"]
    raise RuntimeError(f"the robot did not answer ({len(robot_url) + len(secret)})")


urlpatterns = [path("broken/", broken), *qloop_urlpatterns]
