"""Web pages benchmark: the server time of each role's main pages on the demo clinic.

Run from the checkout (not part of the tests; nothing is asserted)::

    .venv/bin/python bench/bench_web_pages.py            # 20 requests a page
    .venv/bin/python bench/bench_web_pages.py --repeat 50

It builds the app of ``isotrack serve`` in this process (``create_app``) on a
temporary SQLite database holding the demo clinic as of today and one user per
role, signs each user in through the login form, and times ``GET`` of each page
with Starlette's in-process client: the time from the request to the whole
response, which is the server time (no network, no browser). Every page reads
what a real request reads: the session, the records (each read audited), the
engine's findings. The target (issue 7) is under 300 ms a page.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # bench/ is not a package

from isotrack.demo.clinic import demo_clinic
from isotrack.http.authz import Role
from isotrack.http.passwords import DEMO_PATIENT_ID, create_user
from isotrack.knowledge import default_knowledge
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for, execute, upgrade

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TARGET_MS = 300
PAGES: dict[Role, list[str]] = {
    Role.PRESCRIBER: [
        "/clinic",
        "/clinic?need=mood&sort=name",
        "/clinic/patients/demo-luca",
        "/clinic/patients/demo-ana",
        "/clinic/patients/demo-iris/prescribe",
        "/clinic/patients/new",
    ],
    Role.PHARMACIST: ["/pharmacy", "/pharmacy/patients/demo-kara"],
    Role.PATIENT: ["/me", "/me/symptoms", "/me/mood"],
    Role.NURSE: ["/knowledge/rules", "/knowledge/claims"],
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def build(folder: Path) -> TestClient:
    """The app on a database holding the demo clinic and users ``bench-<role>``."""
    url = f"sqlite:///{folder / 'isotrack.db'}"
    engine = create_engine_for(url)
    upgrade(engine)
    kb = default_knowledge()
    now = datetime.now(UTC).astimezone()
    for patient in demo_clinic(now.date(), kb):
        for command, recorded in patient.commands:
            at = datetime.combine(recorded, now.timetz())
            execute(engine, patient.patient_id, command, actor="demo", now=at, kb=kb)
    for role in PAGES:
        create_user(
            engine, f"bench-{role}", role, now=now, actor="bench",
            patient_id=DEMO_PATIENT_ID if role is Role.PATIENT else None,
            password=f"{role}-bench-passphrase-42",
        )  # fmt: skip
    settings = Settings(
        env="test", database_url=url, rate_limit_per_minute=10**6, rate_limit_burst=10**6
    )
    app = create_app(settings, engine=engine, kb=kb)
    return TestClient(app, headers={"Accept": "text/html"}, follow_redirects=False)


def sign_in(client: TestClient, role: Role) -> None:
    client.cookies.clear()
    token = _CSRF.search(client.get("/login").text)
    assert token is not None
    form = {
        "username": f"bench-{role}",
        "password": f"{role}-bench-passphrase-42",
        "csrf_token": token.group(1),
    }
    response = client.post("/login", data=form)
    if response.status_code != 303:
        sys.exit(f"sign-in as {role} failed: {response.status_code}")


def time_page(client: TestClient, path: str, repeat: int) -> tuple[int, list[float]]:
    status = client.get(path).status_code  # warm-up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(path)
        runs.append((time.perf_counter() - start) * 1000)
    return status, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="requests per page")
    args = parser.parse_args()
    print(machine())
    print(f"{'role':11} {'page':42} {'status':>6} {'median ms':>9} {'p95 ms':>7} {'max ms':>7}")
    with (
        tempfile.TemporaryDirectory(prefix="isotrack-bench-web-") as folder,
        build(Path(folder)) as client,
    ):
        worst = 0.0
        for role, paths in PAGES.items():
            sign_in(client, role)
            for path in paths:
                status, runs = time_page(client, path, args.repeat)
                runs.sort()
                p95 = runs[max(0, round(0.95 * len(runs)) - 1)]
                median = statistics.median(runs)
                worst = max(worst, median)
                print(
                    f"{role:11} {path:42} {status:>6} {median:>9.1f} {p95:>7.1f} {runs[-1]:>7.1f}"
                )
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(f"slowest median {worst:.1f} ms; target < {TARGET_MS} ms a page: {verdict}")


if __name__ == "__main__":
    main()
