"""How the browser tests find Chromium, and when they skip or fail without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import find_chromium, in_ci


def test_qloop_chromium_names_the_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = tmp_path / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("QLOOP_CHROMIUM", str(exe))
    assert find_chromium() == str(exe)


def test_a_wrong_qloop_chromium_is_not_silently_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_executable = tmp_path / "chromium"
    not_executable.write_text("")
    monkeypatch.setenv("QLOOP_CHROMIUM", str(not_executable))
    assert find_chromium() is None
    monkeypatch.setenv("QLOOP_CHROMIUM", str(tmp_path / "missing"))
    assert find_chromium() is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("", False), ("false", False)],
)
def test_ci_is_recognised(value: str, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected
