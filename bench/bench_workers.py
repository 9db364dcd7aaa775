"""Many workers, one truth (issue 14 point 6): ``isotrack serve --workers 4`` on PostgreSQL.

Never part of the tests; it prints what it measured and says which checks held.
Bounded: every wait has a deadline; the whole run takes about three minutes.

1. CDS load: ``isotretinoin-order-sign`` from one signed issuer (RS384, a fresh
   token per request, all from 127.0.0.1) at ``--rate`` requests a second (50) for
   ``--seconds`` (60), open loop (each request leaves on schedule, whatever the
   previous ones do), with the default rate limits: non-2xx answers, p50, p99.
2. Replay on another worker: ``--replays`` (40) tokens of the load, each sent
   again on a new connection (the kernel hands connections to any of the 4
   workers): every one must be refused (401).
3. Replay after a restart: the server is stopped and started again; the same
   tokens are sent once more: every one must be refused.
4. kill -9 during writes: one prescriber creates ``--writes`` (1,000) patients
   over 8 connections; after a third of them, one worker is killed with SIGKILL
   (uvicorn starts another). Every acknowledged write (201) must be in the
   database afterwards, and ``isotrack audit verify`` must pass. For this phase
   the per-user rate limit is raised (one user writing 1,000 records in seconds is
   the test, not a clinic).

    .venv/bin/python bench/bench_workers.py              # PostgreSQL only
    .venv/bin/python bench/bench_workers.py --redis      # limits in Redis as well

The database is ``isotrack_bench_workers`` on ISOTRACK_BENCH_POSTGRESQL_URL (default
``postgresql://postgres@127.0.0.1:5432/postgres``, the maintenance database used to
create it), dropped and created again at the start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cds import ISSUER, Signer, free_port  # bench/ is not a package

from isotrack.http.passwords import create_user
from isotrack.store import create_engine_for, upgrade

ADMIN_URL = os.environ.get(
    "ISOTRACK_BENCH_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "isotrack_bench_workers"
PUBLIC_URL = "https://isotrack.example.org"
ORDER_SIGN = "/cds-services/isotretinoin-order-sign"
REDIS_URL = "redis://127.0.0.1:6379/14"
WORKERS = 4
WRITERS = 8
STARTUP_TIMEOUT_S = 120
ISOTRACK = str(Path(sys.executable).with_name("isotrack"))


def order_sign_body() -> bytes:
    """A small order-sign call: a patient and an isotretinoin draft order, empty searches."""
    patient = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1998-04-02"}
    order = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "197844",
                    "display": "isotretinoin 20 MG Oral Capsule",
                }
            ]
        },
    }
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    searches = ("medications", "conditions", "observations", "allergies", "procedures")
    return json.dumps(
        {
            "hook": "order-sign",
            "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {
                "userId": "Practitioner/7",
                "patientId": "p1",
                "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
            },
            "prefetch": {"patient": patient, **dict.fromkeys(searches, empty)},
        }
    ).encode()


# --- the database and the server ---------------------------------------------


def fresh_database() -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE
    engine = create_engine_for(url)
    upgrade(engine)
    engine.dispose()
    return url


@dataclass
class Server:
    environment: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603  # our own CLI, fixed arguments
                [ISOTRACK, "serve", "--port", str(self.port), "--workers", str(WORKERS)],
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while len(self.workers()) < WORKERS or not self._answers():
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped: see {self.log}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not start in {STARTUP_TIMEOUT_S} s")
            time.sleep(0.3)

    def _answers(self) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(self.base + "/ready", timeout=2).status_code == 200
        return False

    def workers(self) -> list[int]:
        """The process ids of the worker processes (children of the server)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            pids = [int(pid) for pid in children.read_text().split()]
            return [pid for pid in pids if "spawn_main" in _command_line(pid)]
        return []

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def _command_line(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- phase 1: CDS load --------------------------------------------------------


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


async def cds_load(base: str, tokens: list[str], rate: float) -> Load:
    body, load = order_sign_body(), Load()
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def one(token: str) -> None:
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            started = time.perf_counter()
            try:
                status = str(
                    (await client.post(ORDER_SIGN, content=body, headers=headers)).status_code
                )
            except httpx.HTTPError as error:
                status = type(error).__name__
            load.latencies.append(time.perf_counter() - started)
            load.statuses[status] = load.statuses.get(status, 0) + 1

        loop = asyncio.get_running_loop()
        start, tasks = loop.time(), []
        for number, token in enumerate(tokens):
            await asyncio.sleep(max(0.0, start + number / rate - loop.time()))
            tasks.append(asyncio.create_task(one(token)))
        await asyncio.gather(*tasks)
        load.seconds = loop.time() - start
    return load


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- phases 2 and 3: replays --------------------------------------------------


def replays_refused(base: str, tokens: list[str]) -> tuple[int, int]:
    """(refused as replayed, sent): each token on a new connection."""
    body, refused = order_sign_body(), 0
    for token in tokens:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=30) as client:
            answer = client.post(ORDER_SIGN, content=body, headers=headers)
        refused += answer.status_code == 401 and "replayed" in answer.json().get("detail", "")
    return refused, len(tokens)


# --- phase 4: kill -9 during writes -------------------------------------------


@dataclass
class Writes:
    acknowledged: list[str] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=dict)
    killed: int | None = None


async def write_patients(server: Server, token: str, count: int) -> Writes:
    writes, queue = Writes(), iter(range(count))
    kill_after = count // 3
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=30, headers=headers) as client:

        async def writer() -> None:
            for number in queue:
                body = {"name": f"Bench {number}", "birth_date": "1990-01-01", "sex": "male"}
                try:
                    response = await client.post("/api/v1/patients", json=body)
                except httpx.HTTPError as error:
                    name = type(error).__name__
                    writes.failed[name] = writes.failed.get(name, 0) + 1
                    continue
                if response.status_code == 201:
                    writes.acknowledged.append(response.headers["location"].rsplit("/", 1)[1])
                else:
                    name = str(response.status_code)
                    writes.failed[name] = writes.failed.get(name, 0) + 1
                if writes.killed is None and len(writes.acknowledged) >= kill_after:
                    writes.killed = server.workers()[0]
                    os.kill(writes.killed, signal.SIGKILL)

        await asyncio.gather(*(writer() for _ in range(WRITERS)))
    return writes


def sign_in(base: str, username: str, password: str) -> str:
    form = {"username": username, "password": password}
    response = httpx.post(base + "/api/v1/auth/token", data=form, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


# --- the run ------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--replays", type=int, default=40)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--redis", action="store_true", help="limits in Redis (db 14)")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    signer = Signer()
    jwks = folder / "ehr-jwks.json"
    jwks.write_text(json.dumps(signer.jwks()))
    url = fresh_database()
    environment = {
        **os.environ,
        "ISOTRACK_ENV": "production",
        "ISOTRACK_SECRET_KEY": secrets.token_urlsafe(48),
        "ISOTRACK_DATABASE_URL": url,
        "ISOTRACK_CDS_ISSUERS": json.dumps({ISSUER: str(jwks)}),
        "ISOTRACK_CDS_PUBLIC_URL": PUBLIC_URL,
    }
    if options.redis:
        import redis  # only for this option

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match="isotrack:*"):
            client.delete(key)
        environment["ISOTRACK_REDIS_URL"] = REDIS_URL
    else:
        environment.pop("ISOTRACK_REDIS_URL", None)
    server = Server(environment, free_port(), folder / "server.log")
    count = int(options.rate * options.seconds)
    print(f"isotrack serve --workers {WORKERS} on PostgreSQL{' + Redis' if options.redis else ''}")
    print(f"load average before: {os.getloadavg()}; nproc {os.cpu_count()}; log {server.log}")
    print(f"signing {count} tokens …", flush=True)
    tokens = signer.tokens(count, PUBLIC_URL + ORDER_SIGN)
    with running(server):
        print(f"workers: {server.workers()}", flush=True)
        load = asyncio.run(cds_load(server.base, tokens, options.rate))
        sample = tokens[:: max(1, count // options.replays)][: options.replays]
        other_worker = replays_refused(server.base, sample)
    non_2xx = sum(n for status, n in load.statuses.items() if not status.startswith("2"))
    print(
        f"CDS order-sign: {count} requests at {options.rate:g}/s for {load.seconds:.1f} s "
        f"({count / load.seconds:.1f}/s achieved): statuses {load.statuses}, non-2xx {non_2xx}, "
        f"p50 {percentile(load.latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(load.latencies, 0.99) * 1000:.1f} ms, "
        f"mean {statistics.fmean(load.latencies) * 1000:.1f} ms"
    )
    print(f"replayed on new connections (any worker): {other_worker[0]}/{other_worker[1]} refused")
    environment["ISOTRACK_RATE_LIMIT_PER_MINUTE"] = "1000000"
    environment["ISOTRACK_RATE_LIMIT_BURST"] = "1000000"
    engine = create_engine_for(url)
    user = create_user(
        engine, "bench-prescriber", "prescriber", now=datetime.now(UTC), actor="bench"
    )
    with running(server):
        after_restart = replays_refused(server.base, sample)
        print(
            f"replayed after a restart: {after_restart[0]}/{after_restart[1]} refused", flush=True
        )
        token = sign_in(server.base, user.username, user.password)
        started = time.perf_counter()
        writes = asyncio.run(write_patients(server, token, options.writes))
        elapsed = time.perf_counter() - started
        print(f"workers after the kill: {server.workers()} (killed {writes.killed})")
    with engine.connect() as connection:
        stored = {row[0] for row in connection.execute(text("SELECT id FROM patients"))}
    engine.dispose()
    lost = [patient for patient in writes.acknowledged if patient not in stored]
    verify = subprocess.run(  # noqa: S603  # our own CLI, fixed arguments
        [ISOTRACK, "audit", "verify", "--database", url],
        capture_output=True,
        text=True,
        check=False,
    )
    print(
        f"writes: {options.writes} in {elapsed:.1f} s over {WRITERS} connections, kill -9 of "
        f"worker {writes.killed} after {options.writes // 3} acknowledged: "
        f"{len(writes.acknowledged)} acknowledged, failed {writes.failed}, "
        f"{len(lost)} acknowledged but lost, {len(stored)} in the database"
    )
    print(f"isotrack audit verify: exit {verify.returncode}: {verify.stdout.strip()[-300:]}")
    print(f"load average after: {os.getloadavg()}")
    held = (
        non_2xx == 0
        and other_worker[0] == other_worker[1]
        and after_restart[0] == after_restart[1]
        and not lost
        and verify.returncode == 0
    )
    print("ALL CHECKS HELD" if held else "SOME CHECK FAILED")


if __name__ == "__main__":
    main()
