"""Writes that name no version are retried, not refused, when others write at once
(issue 14, point 3): on PostgreSQL transactions run side by side and the loser of
a race used to get a ConflictError (409) though it had no version to defend."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from isotrack.clinical.state.commands import RecordWeight
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute, read_record, verify_audit
from tests.store.helpers import NOW, TODAY, enrol, start_course

WRITERS = 4


def test_concurrent_unversioned_writes_are_all_stored(database: Engine, kb: KnowledgeBase) -> None:
    execute(database, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    execute(database, "P-001", start_course("C-1"), actor="ann", now=NOW, kb=kb)
    start = threading.Barrier(WRITERS)

    def save(n: int) -> int:
        start.wait()
        command = RecordWeight(on=TODAY, value=60.0 + n)
        _, version = execute(database, "P-001", command, actor=f"user-{n}", now=NOW, kb=kb)
        return version

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        versions = sorted(pool.map(save, range(WRITERS)))
    assert versions == list(range(3, 3 + WRITERS))
    _, version = read_record(database, "P-001", actor="ann", now=NOW, kb=kb)
    assert version == 2 + WRITERS
    assert verify_audit(database).ok
