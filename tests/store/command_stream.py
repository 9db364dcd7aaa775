"""Run by test_crash.py as a child process: stream commands into a database.

    python -m tests.store.command_stream DATABASE_URL COUNT

Enrols patient P-001, then records measurements through the service until COUNT
commands are stored, printing ``committed N`` after each commit (N = the new
version), so the parent knows what was committed when it kills this process.
"""

from __future__ import annotations

import sys

from isotrack.knowledge import default_knowledge
from isotrack.store import create_engine_for, execute
from tests.store.helpers import NOW, enrol, measurement

PATIENT = "P-001"


def stream(url: str, count: int) -> None:
    engine = create_engine_for(url)
    kb = default_knowledge()
    _, version = execute(engine, PATIENT, enrol(PATIENT), actor="stream", now=NOW, kb=kb)
    print(f"committed {version}", flush=True)
    while version < count:
        _, version = execute(engine, PATIENT, measurement(version), actor="stream", now=NOW, kb=kb)
        print(f"committed {version}", flush=True)


if __name__ == "__main__":
    stream(sys.argv[1], int(sys.argv[2]))
