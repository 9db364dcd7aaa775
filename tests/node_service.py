"""Test peers that run as Node.js scripts from npm packages (the OpenID Provider and
the SMART authorization server of tests/oidc, the FHIR server of tests/fhir_server):
the package installed when missing, the script started on a free port, awaited until
it answers, and stopped when the block ends (each script stops when its stdin closes).
Without node or npm the test is skipped, saying why."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_node_package(folder: Path, package: str, *, why: str) -> str:
    """The node executable, once ``package`` is installed in ``folder`` (npm ci when
    missing); skips the test, saying ``why`` node is needed, without node or npm."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"node is missing: {why}")
    if not (folder / "node_modules" / package / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"npm is missing: run npm ci --prefix {folder} to install {package}")
        installed = subprocess.run(
            [npm, "ci", "--prefix", str(folder), "--no-audit", "--no-fund"],
            check=False,
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            pytest.skip(f"npm ci --prefix {folder} failed: {installed.stderr.strip()[-300:]}")
    return node


@contextmanager
def running_node_script(
    node: str,
    script: Path,
    *,
    env: dict[str, str],
    name: str,
    answers: Callable[[], bool],
    start_seconds: float,
) -> Iterator[None]:
    """``script`` running under ``node`` (in its folder, with ``env`` and node's folder
    on PATH) until the block ends; the block starts once ``answers()`` is true, and the
    test fails with the script's log when it exits or does not answer in time."""
    with tempfile.TemporaryDirectory(prefix="isotrack-node-") as folder:
        log = Path(folder) / f"{script.stem}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [node, str(script)],
                cwd=script.parent,
                env={"PATH": str(Path(node).parent), **env},
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=output,
            )
            try:
                _wait_until_up(process, log, name=name, answers=answers, seconds=start_seconds)
                yield
            finally:
                if process.stdin is not None:
                    process.stdin.close()  # the script stops when its stdin closes
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_up(
    process: subprocess.Popen[bytes],
    log: Path,
    *,
    name: str,
    answers: Callable[[], bool],
    seconds: float,
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if answers():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{name} did not answer in {seconds} s:\n{log.read_text()}")
