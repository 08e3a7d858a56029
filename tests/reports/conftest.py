"""The browser fixtures (tests/browser/conftest.py) for the printed-report tests here."""

from tests.browser.conftest import (  # noqa: F401 - fixtures
    browser,
    chromium_path,
    demo_org,
    page,
    watch,
)
