"""``isotrack serve --workers N`` (issue 14 point 6): refused on SQLite; on PostgreSQL
N real worker processes share the CDS replay cache — a token used once is refused
on every connection, whichever worker takes it, and after a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

import isotrack.cli.serve_cmd  # noqa: F401  # registers `serve` until cli/app.py does
from isotrack.store import create_engine_for, upgrade
from tests.cds.ehr_keys import ISSUER, Ehr, rsa_key
from tests.cds.test_jwt_http import BODY, ORDER_SIGN
from tests.cli.storage_cli import invoke, one_error_line, sqlite_url
from tests.cli.test_serve_cmd import SERVE, _free_port
from tests.store import conftest as store_fixtures

EHR = Ehr(rsa_key())
WORKERS = 2
STARTUP_TIMEOUT_S = 240.0
"""Starting a worker imports isotrack and loads the knowledge base: slow on a busy machine."""


def test_more_than_one_worker_on_sqlite_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOTRACK_ENV", "test")
    url = sqlite_url(tmp_path / "one.db")
    engine = create_engine_for(url)
    upgrade(engine)
    engine.dispose()
    result = invoke("serve", "--workers", "2", "--database", url)
    assert result.exit_code == 1
    assert "PostgreSQL" in one_error_line(result)


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    for url in store_fixtures._postgresql_database(f"isotrack_workers_{os.getpid()}"):
        engine = create_engine_for(url)
        upgrade(engine)
        engine.dispose()
        yield URL.render_as_string(url, hide_password=False)


def _serve(tmp_path: Path, database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    jwks = tmp_path / "ehr-jwks.json"
    jwks.write_text(json.dumps(EHR.jwks))
    environment = {
        **os.environ,
        "ISOTRACK_ENV": "test",
        "ISOTRACK_CDS_ISSUERS": json.dumps({ISSUER: str(jwks)}),
        "ISOTRACK_CDS_PUBLIC_URL": "https://isotrack.example.org",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("ISOTRACK_REDIS_URL", None)
    arguments = ["serve", "--port", str(port), "--workers", str(WORKERS)]
    with log.open("ab") as output:
        return subprocess.Popen(  # our own interpreter and arguments
            [sys.executable, "-c", SERVE, *arguments, "--database", database_url],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=tmp_path,
        )


def _wait_until_up(process: subprocess.Popen[bytes], base: str, log: Path, starts: int) -> None:
    """Until ``starts`` worker starts are in the log and the server answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"isotrack serve exited {process.returncode}:\n{log.read_text()}")
        if log.read_text().count("Application startup complete") >= starts:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.3)
    pytest.fail(f"isotrack serve did not start in {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _call(base: str, token: str) -> int | str:
    """The status of an order-sign call with ``token``; ``replayed`` for a 401 saying so."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=30) as client:  # a new connection: any worker may take it
        answer = client.post(base + ORDER_SIGN, content=BODY, headers=headers)
    if answer.status_code == 401 and "replayed" in answer.json()["detail"]:
        return "replayed"
    return answer.status_code


def test_workers_share_the_replay_cache_and_keep_it_over_a_restart(
    tmp_path: Path, postgresql_url: str
) -> None:
    port, log = _free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    aud = "https://isotrack.example.org" + ORDER_SIGN
    tokens = [EHR.token(now=time.time(), aud=aud) for _ in range(12)]
    server = _serve(tmp_path, postgresql_url, port, log)
    try:
        _wait_until_up(server, base, log, WORKERS)
        assert [_call(base, token) for token in tokens] == [200] * len(tokens)
        assert [_call(base, token) for token in tokens] == ["replayed"] * len(tokens)
    finally:
        _stop(server)
    server = _serve(tmp_path, postgresql_url, port, log)
    try:
        _wait_until_up(server, base, log, 2 * WORKERS)
        assert _call(base, tokens[0]) == "replayed"
        assert _call(base, EHR.token(now=time.time(), aud=aud)) == 200
    finally:
        _stop(server)
