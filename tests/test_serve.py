"""`qloop serve` as a person starts it (issue 9 point 8): on every computer of the network with
`--host 0.0.0.0`, DEBUG is off, and the site still works — its own error pages, its static
files, and the machine's names (only those) as host names."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The test run's own settings that the default set-up does not have.
NOT_IN_THE_DEFAULT_SETUP = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "QLOOP_HTTPS",
    "QLOOP_STATIC_MANIFEST",
    "QLOOP_CACHE",
    "DJANGO_SETTINGS_MODULE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, host: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host or f"127.0.0.1:{port}"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.fixture
def served_on_the_network(tmp_path: Path) -> Iterator[int]:
    """`qloop serve --host 0.0.0.0` on a fresh data folder, as after installing (no demo, to
    start faster); its port once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_IN_THE_DEFAULT_SETUP}
    env |= {"QLOOP_DATA_DIR": str(tmp_path / "var"), "QLOOP_NO_DEMO": "1"}
    log = (tmp_path / "serve.log").open("wb")
    every_address = "0.0.0.0"  # noqa: S104 - the point: reachable from the network, no DEBUG
    server = subprocess.Popen(
        [sys.executable, "-m", "qloop.cli", "serve", "--host", every_address, "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                pytest.fail(f"qloop serve stopped:\n{(tmp_path / 'serve.log').read_text()}")
            try:
                get(port, "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no answer:\n{(tmp_path / 'serve.log').read_text()}")
                time.sleep(0.5)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def test_serve_on_every_address_runs_without_debug_and_still_works(
    served_on_the_network: int,
) -> None:
    port = served_on_the_network

    status, page = get(port, "/no-such-page/")
    assert status == 404
    assert "URLconf" not in page and "Traceback" not in page  # not DEBUG's page
    assert "<nav" in page  # QLoop's own

    status, page = get(port, "/login/")
    assert status == 200
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page)
    assert stylesheets
    for href in stylesheets:
        # Hashed names from collectstatic, served by WhiteNoise without DEBUG.
        assert re.search(r"\.[0-9a-f]{12}\.css$", href), href
        assert get(port, href)[0] == 200, href

    # Reached by this machine's name from another computer: answered.
    assert get(port, "/login/", host=f"{socket.gethostname()}:{port}")[0] == 200
    # A name that is not this machine's (a forged Host header): refused.
    assert get(port, "/login/", host="evil.example")[0] == 400


@pytest.fixture
def served_locally(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """`qloop serve --port P` as started from a shell with nothing set (no SITE_URL, no
    EMAIL_URL, no demo to start faster); its port and output once the login page answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_IN_THE_DEFAULT_SETUP}
    env |= {"QLOOP_DATA_DIR": str(tmp_path / "var"), "QLOOP_NO_DEMO": "1"}
    env.pop("EMAIL_URL", None)
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "qloop.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while "Open http" not in log_path.read_text(errors="replace"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no banner:\n{log_path.read_text()}")
            time.sleep(0.5)
        assert get(port, "/login/")[0] == 200
        time.sleep(1.5)  # what the worker or the server might print after the banner
        yield port, log_path
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def test_the_banner_is_the_last_thing_printed_and_links_use_the_served_address(
    served_locally: tuple[int, Path],
) -> None:
    """Issue 12.19 and 12.20: the address and logins are not buried; without SITE_URL, links
    in messages use the host and port served on, not 8000; e-mails go to files."""
    port, log_path = served_locally
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    url = f"http://127.0.0.1:{port}/"

    assert lines[-1].startswith("====")
    assert lines[-2] == f"Open {url} in a browser."
    banner = lines[lines.index(f"QLoop is running at {url}") :]
    assert f"Links in messages: http://127.0.0.1:{port}" in banner
    assert any("var/mail" in line and "EMAIL_URL" in line for line in banner)
    assert ":8000" not in "\n".join(lines)


def test_links_use_the_address_served_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from qloop import cli

    assert cli._site_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert cli._site_url("::1", 8123) == "http://[::1]:8123"
    monkeypatch.setattr(
        cli, "_names_of", lambda host: ["localhost", "127.0.0.1", "pc1", "10.1.2.3"]
    )
    # On every address, the machine's address a phone on the network can open.
    assert cli._site_url("0.0.0.0", 9000) == "http://10.1.2.3:9000"  # noqa: S104


def test_dev_py_and_qloop_describe_their_commands_and_flags() -> None:
    root = Path(__file__).resolve().parent.parent
    dev = subprocess.run(
        [sys.executable, "dev.py", "--help"], cwd=root, capture_output=True, text=True
    )
    assert dev.returncode == 0
    for word in ("serve", "test", "lint", "--host", "--port", "--workers", "--debug"):
        assert word in dev.stdout, word
    serve = subprocess.run(
        [sys.executable, "-m", "qloop.cli", "serve", "--help"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert serve.returncode == 0
    for flag in ("--host", "--port", "--workers", "--debug"):
        line = next(line for line in serve.stdout.splitlines() if line.strip().startswith(flag))
        described = serve.stdout.split(line, 1)[1].split("\n  --", 1)[0] + line
        assert len(described.split()) > 4, (flag, described)
