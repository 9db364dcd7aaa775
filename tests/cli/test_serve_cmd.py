"""``isotrack serve``: refuses a database not at the newest schema; ``--demo``
migrates, loads the demo clinic and users, prints the URL and the passwords once
and serves the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import isotrack.cli.serve_cmd  # noqa: F401  # registers `serve` until cli/app.py does
from tests.cli.storage_cli import invoke, one_error_line, sqlite_url

STARTUP_TIMEOUT_S = 60.0
SERVE = (
    "import sys, isotrack.cli.serve_cmd; from isotrack.cli.app import main; "
    "sys.argv[0] = 'isotrack'; main()"
)


def test_serve_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    result = invoke("serve", "--database", sqlite_url(tmp_path / "blank.db"))
    assert result.exit_code == 1
    assert "isotrack db upgrade" in one_error_line(result)


def test_serve_demo_is_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOTRACK_ENV", "production")
    result = invoke("serve", "--demo", "--database", sqlite_url(tmp_path / "demo.db"))
    assert result.exit_code == 1
    assert "--demo" in one_error_line(result)
    assert not (tmp_path / "demo.db").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(tmp_path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "ISOTRACK_ENV": "development", "PYTHONUNBUFFERED": "1"}
    arguments = ["serve", "--demo", "--port", str(port)]
    arguments += ["--database", sqlite_url(tmp_path / "demo.db")]
    with log.open("wb") as output:
        return subprocess.Popen(  # our own interpreter and arguments
            [sys.executable, "-c", SERVE, *arguments],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=tmp_path,
        )


def _wait_until_up(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"isotrack serve exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"isotrack serve did not answer in {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port, log = _free_port(), tmp_path / "serve.log"
    process = _serve(tmp_path, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base, log)
        yield base, log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_demo_loads_the_clinic_prints_the_url_and_users_and_answers(
    demo_server: tuple[str, Path],
) -> None:
    base, log = demo_server
    assert httpx.get(f"{base}/ready", timeout=5).status_code == 200
    assert httpx.get(f"{base}/api/v1/openapi.json", timeout=5).status_code == 200
    printed = log.read_text()
    assert base in printed
    for role in ("admin", "prescriber", "nurse", "pharmacist", "patient"):
        assert f"demo-{role}" in printed
    assert "password" in printed
    assert "demo-ana" in printed
