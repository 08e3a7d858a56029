"""Shared fixtures: the demo organisation's personas, logged-in clients, sample photos."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from PIL import Image

PASSWORD = "Test-pass-2026"
PERSONAS = ["cs", "cs_head", "qe", "qa_head", "prod", "sales", "gm", "admin"]


@pytest.fixture(autouse=True)
def _isolated_files(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploads go to a fresh folder per test, never into ./var."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    settings.QLOOP_DEMO_PASSWORD = PASSWORD
    # Password hashing is slow on purpose; the tests sign and log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request made with the test client runs in
    the test's own thread, where the person's language it activates would stay for the next
    test (a page then shows 品质部 while the test expects "Quality department")."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_profiles() -> Iterator[None]:
    """Each test reads the profiles of its own organisation, not the last test's (a test's
    rollback never passes through Organisation.save, which forgets them)."""
    from qloop.org import refdata
    from qloop.org.models import _PROFILES_SEEN

    # Nor the reference data another test read: a test's rollback brings back an older token.
    _PROFILES_SEEN.clear()
    refdata.forget()
    yield
    _PROFILES_SEEN.clear()
    refdata.forget()


@pytest.fixture(autouse=True)
def _fresh_kept_figures() -> None:
    """Nothing kept by an earlier test is read (``qloop.freshness``): a test's rollback never
    commits, so it never moves the data version, and the next test's people reuse ids."""
    from qloop.freshness import changed

    changed()


@pytest.fixture(autouse=True)
def _immediate_queue() -> Iterator[None]:
    """Jobs run inline in tests unless a test starts a real worker (marked ``worker``)."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


@pytest.fixture
def org(db: Any) -> dict[str, Any]:
    """The demo organisation without cases: departments, roles, one user per persona."""
    from qloop.demo.loader import load_organisation

    return load_organisation()


@pytest.fixture
def users(org: dict[str, Any]) -> dict[str, Any]:
    return org


@pytest.fixture
def client_for(users: dict[str, Any]) -> Callable[[str], Client]:
    """A Django test client logged in as the named persona."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(users[username])
        return client

    return make


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def photo() -> Callable[..., Any]:
    """An uploaded JPEG (or other format) file for forms and actions."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def make(
        name: str = "photo.jpg",
        fmt: str = "JPEG",
        content_type: str = "image/jpeg",
        data: bytes | None = None,
    ) -> SimpleUploadedFile:
        return SimpleUploadedFile(
            name, data if data is not None else image_bytes(fmt), content_type
        )

    return make


def registration(**overrides: Any) -> Any:
    """A valid complaint registration; override any field."""
    from qloop.cases.actions import ContactData, ProductData, Registration

    fields: dict[str, Any] = {
        "kind": "complaint",
        "channel": "phone",
        "contact": ContactData(
            name="王芳",
            gender="female",
            phone="13800138000",
            email="wangfang@example.cn",
            organisation="苏州恒通水务有限公司",
        ),
        "product": ProductData(
            specification="50-160, 7.5kW",
            model="QL-CP50",
            quantity=2,
            serial_number="CP50-2611-00001",
        ),
        "symptom": "机械密封处漏水，每分钟约滴水二十滴。",
        "current_status": "降负荷运行。",
    }
    fields.update(overrides)
    return Registration(**fields)


@pytest.fixture
def superuser(users: dict[str, Any]) -> Client:
    """A client logged in as a superuser (the admin's pages)."""
    from qloop.org.models import User

    root = User.objects.create_superuser("root", "root@example.cn", "Root-pass-2026")
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def make_case(users: dict[str, Any]) -> Callable[..., Any]:
    """Register a complaint through the real action, as ``actor`` (default: cs)."""
    from qloop.cases.actions import register_case

    def make(actor: str = "cs", photos: list[Any] | None = None, **overrides: Any) -> Any:
        return register_case(registration(**overrides), actor=users[actor], photos=photos or [])

    return make


@pytest.fixture
def at() -> Iterator[Callable[[dt.datetime], None]]:
    """Move the wall clock to a given moment (and keep it there)."""
    import time_machine

    traveller: Any = None

    def go(moment: dt.datetime) -> None:
        nonlocal traveller
        if traveller is not None:
            traveller.stop()
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()

    yield go
    if traveller is not None:
        traveller.stop()


@pytest.fixture
def calendar_days(settings: Any) -> Iterator[None]:
    """The 2-day answer in calendar days (the default), whatever the environment says, on
    freshly read calendars."""
    from qloop.org import calendars

    settings.QLOOP_ANSWER_DAYS = 2
    settings.QLOOP_ANSWER_WORKING_DAYS = False
    calendars.forget_calendars()
    yield
    calendars.forget_calendars()


@pytest.fixture
def complaint(
    make_case: Callable[..., Any], users: dict[str, Any], at: Callable[[dt.datetime], None]
) -> Any:
    """A complaint received on Monday 2 March 2026 at 09:00 (``tests.clocktime.T0``) and
    handled by the CS clerk (``cs``)."""
    from qloop.process.engine import take_transition
    from tests.clocktime import T0

    at(T0)
    case = make_case(received_at=T0)
    return take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    tmp_path_factory: pytest.TempPathFactory,
    django_db_modify_db_settings_parallel_suffix: None,
) -> None:
    """On SQLite the test database is a file, as in production (WAL, busy timeout), not the
    shared-cache in-memory database, whose table locks fail at once instead of waiting: tests
    that register from many threads at once must see the same locking as a real server."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not db.get("TEST", {}).get("NAME"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
