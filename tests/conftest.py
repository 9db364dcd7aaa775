"""Shared fixtures: the knowledge base and the third-party sample data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from isotrack.knowledge import KnowledgeBase, default_knowledge

# Property tests assert behaviour, never speed: Hypothesis's per-example deadline (200 ms)
# turns a loaded CI machine into failures ("Unreliable test timings"), so it is off for the
# whole suite. Speed is measured in bench/.
settings.register_profile("isotrack", deadline=None)
settings.load_profile("isotrack")

REPO = Path(__file__).resolve().parent.parent

# Prints how many storage tests ran on SQLite and on PostgreSQL (loaded here so the
# xdist controller has it too).
# Every response under /cds-services is checked against the CDS Hooks 2.0.1 schema.
pytest_plugins = [
    "tests.store.backend_summary",
    "tests.cds.schema.plugin",
    "tests.fhir_server.harness",  # the fhir_server fixture: a real FHIR R4 server
]


def shared_dir() -> Path:
    """``shared/`` beside the checkout (CI puts it there); ISOTRACK_SHARED overrides."""
    override = os.environ.get("ISOTRACK_SHARED")
    return Path(override) if override else REPO.parent / "shared"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()


@pytest.fixture(scope="session")
def synthea_dir() -> Path:
    folder = shared_dir() / "data" / "synthea-r4"
    if not folder.is_dir():
        pytest.skip(f"Synthea sample data not found at {folder} (set ISOTRACK_SHARED)")
    return folder


@pytest.fixture(scope="session")
def bulk_dir() -> Path:
    folder = shared_dir() / "data" / "bulk-ndjson-10"
    if not folder.is_dir():
        pytest.skip(f"Bulk FHIR sample data not found at {folder} (set ISOTRACK_SHARED)")
    return folder


_SCHEMATHESIS_REQUESTS: list[int] = []
_CDS_RESPONSES_CHECKED: list[int] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the request counts the Schemathesis test reports, and the CDS responses each
    test had checked against the CDS Hooks schema (also from xdist workers)."""
    if report.when == "call":
        for name, value in report.user_properties:
            if name == "schemathesis_requests":
                _SCHEMATHESIS_REQUESTS.append(int(value))
    if report.when == "teardown":
        for name, value in report.user_properties:
            if name == "cds_responses_checked":
                _CDS_RESPONSES_CHECKED.append(int(value))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _CDS_RESPONSES_CHECKED:
        terminalreporter.write_sep("-", "cds hooks 2.0.1")
        terminalreporter.write_line(
            f"{sum(_CDS_RESPONSES_CHECKED)} CDS Hooks responses in "
            f"{len(_CDS_RESPONSES_CHECKED)} test(s) checked against tests/cds/schema"
        )
    if _SCHEMATHESIS_REQUESTS:
        terminalreporter.write_sep("-", "schemathesis")
        terminalreporter.write_line(
            f"schemathesis: {sum(_SCHEMATHESIS_REQUESTS)} requests over "
            f"{len(_SCHEMATHESIS_REQUESTS)} run(s); no 5xx, every response in its schema"
        )
