"""A pytest plugin: at the end of the run, how many storage tests ran on each database.

A test counts for a database when its parametrization id names it
(``test_x[sqlite]``, ``test_y[postgresql-3]``). Works under xdist: the
controller sees every worker's reports.
"""

from __future__ import annotations

from collections import Counter

import pytest

PLUGIN_NAME = "isotrack-storage-backends"
BACKENDS = ("sqlite", "postgresql")
OUTCOMES = ("passed", "failed", "skipped")

_outcome_by_test: dict[str, tuple[str, str]] = {}


def backend_in(nodeid: str) -> str | None:
    """The database a test id is parametrized with, if any.

    >>> backend_in("tests/store/test_audit.py::test_verify[postgresql]")
    'postgresql'
    >>> backend_in("tests/store/test_audit.py::test_verify[sqlite-2]")
    'sqlite'
    >>> backend_in("tests/clinical/test_x.py::test_y") is None
    True
    """
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    ids = nodeid[nodeid.rindex("[") + 1 : -1].split("-")
    return next((backend for backend in BACKENDS if backend in ids), None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend = backend_in(report.nodeid)
    if backend is None:
        return
    if report.when == "call":
        outcome = report.outcome
    elif report.failed:
        outcome = "failed"  # an error in setup or teardown
    elif report.when == "setup" and report.skipped:
        outcome = "skipped"
    else:
        return
    previous = _outcome_by_test.get(report.nodeid)
    if previous is None or previous[1] != "failed":
        _outcome_by_test[report.nodeid] = (backend, outcome)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _outcome_by_test:
        return
    counts = Counter(_outcome_by_test.values())
    terminalreporter.write_sep("-", "storage tests per database")
    for backend in BACKENDS:
        ran = ", ".join(f"{counts[(backend, outcome)]} {outcome}" for outcome in OUTCOMES)
        terminalreporter.write_line(f"{backend}: {ran}")
