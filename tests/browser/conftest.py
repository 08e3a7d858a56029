"""Browser tests: Playwright driving Debian's headless Chromium against a live server.

Chromium is looked up in ``QLOOP_CHROMIUM``, then ``/usr/bin/chromium``, then on ``PATH``.
Without it the tests skip on a developer's machine and fail in CI (``CI=true``), where they
are mandatory. Playwright never downloads a browser of its own here.

Screenshots of every step land in ``test-output/screenshots/`` at the repository root, named
after the test, so a person can look at what the browser saw.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_MESSAGE = (
    "Browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk "
    "(or set QLOOP_CHROMIUM)"
)
PDFTOPPM_MESSAGE = (
    "Printed pages are turned into pictures by pdftoppm: apt-get install poppler-utils"
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_chromium() -> str | None:
    """The Chromium executable to drive, or None when there is none on this machine."""
    configured = os.environ.get("QLOOP_CHROMIUM", "").strip()
    if configured:
        path = Path(configured)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    default = Path("/usr/bin/chromium")
    if default.is_file() and os.access(default, os.X_OK):
        return str(default)
    return shutil.which("chromium")


def pdf_to_png(pdf: Path, *, resolution: int = 70, first_page_only: bool = False) -> list[Path]:
    """The printed pages as PNG pictures beside the PDF (``<stem>-pdf-N.png``), for a person to
    look at. Needs poppler's ``pdftoppm``: mandatory in CI, skipped with a warning elsewhere."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if in_ci():
            pytest.fail(f"pdftoppm is mandatory in CI. {PDFTOPPM_MESSAGE}", pytrace=False)
        warnings.warn(PDFTOPPM_MESSAGE, stacklevel=2)
        return []
    prefix = f"{pdf.with_suffix('')}-pdf"
    pages = ["-f", "1", "-l", "1"] if first_page_only else []
    subprocess.run([pdftoppm, "-png", "-r", str(resolution), *pages, str(pdf), prefix], check=True)
    return sorted(pdf.parent.glob(f"{Path(prefix).name}*.png"))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        configured = os.environ.get("QLOOP_CHROMIUM", "").strip()
        where = f"QLOOP_CHROMIUM={configured!r} is not an executable" if configured else ""
        if in_ci():
            pytest.fail(
                f"Browser tests are mandatory in CI (CI=true) but Chromium was not found"
                f"{': ' + where if where else ''}. {SKIP_MESSAGE}",
                pytrace=False,
            )
        pytest.skip(SKIP_MESSAGE + (f" [{where}]" if where else ""))
    return path


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for all browser tests; closed when they are done."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        if in_ci():
            pytest.fail("Browser tests need the playwright package: pip install -e .[dev]")
        pytest.skip("Browser tests need the playwright package: pip install -e .[dev]")
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as pw:
        # Playwright's sync API keeps an asyncio loop running in the test thread; Django then
        # refuses ORM calls made by the test itself (setting up data, checking results). The
        # live server answers from its own thread, so allowing them is safe here, and only
        # for as long as the browser runs.
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def demo_org(transactional_db: Any, live_server: Any, settings: Any) -> dict[str, Any]:
    """The demo personas in the database the live server reads (no cases yet)."""
    from qloop.demo.loader import load_organisation

    # Hashing eight demo passwords the production way takes seconds per test; the server
    # reads the same settings, so logging in through the form still checks the password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return load_organisation()


@dataclass
class PageWatch:
    """What the page did behind the scenes: every request, failures, script errors."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("request", lambda r: self.requests.append(r.url))
        page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on("requestfailed", self._request_failed)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )

    def _request_failed(self, request: Any) -> None:
        # Leaving a page cancels what it still had in flight (say, a search fired when the
        # search box lost focus to the clicked result): that is not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.failure} {request.url}")


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember a failed test, so that its page is photographed before the tab closes."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[CALL_FAILED] = True
    return report


def _open_page(
    request: pytest.FixtureRequest,
    browser: Any,
    live_server: Any,
    watch: PageWatch,
    viewport: dict[str, int],
    **kw: Any,
) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="zh-CN", **kw)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch.attach(page)
    yield page
    if request.node.stash.get(CALL_FAILED, False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{_slug(request.node.name)}-FAILED.png"))
    context.close()


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Any,
    live_server: Any,
    demo_org: Any,
    watch: PageWatch,
) -> Iterator[Any]:
    """A fresh browser tab (own cookies) on a desktop-sized window."""
    yield from _open_page(request, browser, live_server, watch, DESKTOP)


@pytest.fixture
def phone_page(
    request: pytest.FixtureRequest,
    browser: Any,
    live_server: Any,
    demo_org: Any,
    watch: PageWatch,
) -> Iterator[Any]:
    """A fresh browser tab the size of a phone (390×844), with touch."""
    yield from _open_page(
        request,
        browser,
        live_server,
        watch,
        PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_")


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``screenshot(page, "step")`` saves test-output/screenshots/<test>-<nn>-<step>.png.

    A failed test's page is also kept, as <test>-FAILED.png."""
    name = _slug(request.node.name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in [*SCREENSHOTS.glob(f"{name}-[0-9][0-9]-*.png"), SCREENSHOTS / f"{name}-FAILED.png"]:
        old.unlink(missing_ok=True)
    counter = iter(range(1, 100))

    def take(page: Any, step: str) -> Path:
        path = SCREENSHOTS / f"{name}-{next(counter):02d}-{_slug(step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person would."""
    from django.urls import reverse

    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("form button").click()
    assert "/login/" not in page.url, f"{username} could not log in"
