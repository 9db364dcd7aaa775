"""Sign-in beside readers: does one client signing in hold up everyone else's reads?

Issue 14 found that one client signing in (Argon2id, about 180 ms a check) held
SQLite's write lock for the whole check: another user's reads dropped from 250
in 15 s to 3 (p50 4 s, one "database is locked"). This script measures it:

1. makes a demo clinic in a new SQLite file (``isotrack demo load``) and two users
   (``isotrack user add``): a nurse for the readers, a prescriber to sign in as;
2. starts ``isotrack serve`` on 127.0.0.1 and a free port;
3. runs, for ``--seconds`` (15), ``--readers`` (20) threads each reading a
   patient's record (``GET /api/v1/patients/demo-ana``, an audited read: a write
   transaction) in a loop, first alone ("readers only"), then beside one thread
   signing in (``POST /api/v1/auth/token``, the right password) in a loop ("with a
   sign-in loop");
4. prints reads, reads/s, p50, p99 and max latency and the errors of each phase,
   and the ratio of the p99s.

``--source DIR`` runs the server (and the setup commands) from another checkout's
``src`` folder, e.g. the code before the fix, with this script's client: the
"before" and "after" rows of bench/README.md come from two runs. Bounded: two
phases of ``--seconds`` each plus setup; never part of the tests.

    .venv/bin/python bench/bench_signin_readers.py
    .venv/bin/python bench/bench_signin_readers.py --source ../main/src
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PATIENT = "demo-ana"
_PASSWORD = re.compile(r"Password \(shown once\): (\S+)")


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    sign_ins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


def _env(database: str, source: Path | None) -> dict[str, str]:
    env = {
        **os.environ,
        "ISOTRACK_ENV": "test",
        "ISOTRACK_DATABASE_URL": database,
        "ISOTRACK_RATE_LIMIT_PER_MINUTE": "1000000000",
        "ISOTRACK_RATE_LIMIT_BURST": "1000000000",
    }
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    return env


def _isotrack(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603  # our own CLI, fixed arguments
        [sys.executable, "-m", "isotrack", *args], env=env, check=True, capture_output=True
    )
    return done.stdout.decode()


def _password(output: str) -> str:
    found = _PASSWORD.search(output)
    if found is None:
        raise SystemExit(f"no password in the output of isotrack user add: {output!r}")
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    port = _free_port()
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603  # our own CLI, fixed arguments
            [sys.executable, "-m", "isotrack", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"the server stopped: see {log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not answer /health within 60 s")
                time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def _sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}, timeout=60
    )


def _run_phase(
    base: str, token: str, readers: int, seconds: float, signer: tuple[str, str] | None
) -> Phase:
    phase = Phase()
    stop = time.monotonic() + seconds

    def read_loop() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    response = client.get(f"/api/v1/patients/{PATIENT}")
                except httpx.HTTPError as error:
                    phase.error(type(error).__name__)
                    continue
                elapsed = time.perf_counter() - started
                if response.status_code == 200:
                    with phase.lock:
                        phase.latencies.append(elapsed)
                else:
                    phase.error(f"HTTP {response.status_code}")

    def sign_in_loop(username: str, password: str) -> None:
        # Right passwords only: wrong ones from one address are throttled after five
        # (429 without a hash check), which would end the load this phase is about.
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < stop:
                response = _sign_in(client, username, password)
                if response.status_code != 200:
                    phase.error(f"sign-in HTTP {response.status_code}")
                phase.sign_ins += 1

    threads = [threading.Thread(target=read_loop) for _ in range(readers)]
    if signer is not None:
        threads.append(threading.Thread(target=sign_in_loop, args=signer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return phase


def _row(name: str, phase: Phase, seconds: float) -> str:
    lat = sorted(phase.latencies)
    if not lat:
        return f"| {name} | 0 | 0 | - | - | - | {phase.sign_ins} | {phase.errors or 0} |"
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    return (
        f"| {name} | {len(lat)} | {len(lat) / seconds:.1f} | {p50 * 1000:.0f} | "
        f"{p99 * 1000:.0f} | {lat[-1] * 1000:.0f} | {phase.sign_ins} | {phase.errors or 0} |"
    )


def _p99(phase: Phase) -> float:
    lat = sorted(phase.latencies)
    return lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--source", type=Path, default=None, help="run the server from DIR")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="isotrack-bench-") as folder:
        env = _env(f"sqlite:///{Path(folder) / 'bench.db'}", args.source)
        _isotrack(env, "demo", "load")
        nurse = _password(_isotrack(env, "user", "add", "bench-nurse", "--role", "nurse"))
        prescriber = _password(
            _isotrack(env, "user", "add", "bench-prescriber", "--role", "prescriber")
        )
        with _server(env, Path(folder) / "server.log") as base:
            with httpx.Client(base_url=base) as client:
                token = _sign_in(client, "bench-nurse", nurse).json()["access_token"]
            alone = _run_phase(base, token, args.readers, args.seconds, None)
            beside = _run_phase(
                base, token, args.readers, args.seconds, ("bench-prescriber", prescriber)
            )
    source = args.source or "this checkout"
    print(f"server code: {source}; {args.readers} readers, {args.seconds:.0f} s a phase")
    print("| phase | reads | reads/s | p50 ms | p99 ms | max ms | sign-ins | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print(_row("readers only", alone, args.seconds))
    print(_row("with a sign-in loop", beside, args.seconds))
    print(f"p99 with the sign-in loop / p99 alone: {_p99(beside) / _p99(alone):.2f}")


if __name__ == "__main__":
    main()
