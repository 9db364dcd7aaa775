"""Two users editing one course: one wins, the other gets a conflict; nothing is lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, event

from isotrack.clinical.state.commands import AnyCommand, RecordWeight
from isotrack.errors import ConflictError
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, execute, read_record, verify_audit
from tests.store.helpers import NOW, TODAY, enrol, start_course

ROUNDS = 5


def _save_at_the_same_moment(
    database: Engine, kb: KnowledgeBase, edits: dict[str, AnyCommand], seen: int
) -> dict[str, int | ConflictError]:
    """Each user saves their edit of version ``seen`` in a thread, all released at once."""
    start = threading.Barrier(len(edits))

    def save(user: str) -> int | ConflictError:
        start.wait()
        try:
            _, version = execute(
                database, "P-001", edits[user], actor=user, now=NOW, kb=kb, expected_version=seen
            )
        except ConflictError as conflict:
            return conflict
        return version

    with ThreadPoolExecutor(max_workers=len(edits)) as pool:
        return dict(zip(edits, pool.map(save, edits), strict=True))


def test_two_concurrent_writers_one_succeeds_the_other_gets_a_conflict_naming_the_course(
    database: Engine, kb: KnowledgeBase
) -> None:
    execute(database, "P-001", enrol(), actor="ann", now=NOW, kb=kb)
    execute(database, "P-001", start_course("C-1"), actor="ann", now=NOW, kb=kb)
    saved: list[AnyCommand] = []
    for round_ in range(ROUNDS):
        # Both users open the record and see the same version ...
        _, seen = read_record(database, "P-001", actor="ann", now=NOW, kb=kb)
        _, seen_too = read_record(database, "P-001", actor="bob", now=NOW, kb=kb)
        assert seen == seen_too
        edits: dict[str, AnyCommand] = {
            "ann": RecordWeight(on=TODAY, value=70.0 + round_),
            "bob": RecordWeight(on=TODAY, value=80.0 + round_),
        }
        # ... and both save at the same moment.
        outcomes = _save_at_the_same_moment(database, kb, edits, seen)
        won = [user for user, outcome in outcomes.items() if outcome == seen + 1]
        lost = {u: o for u, o in outcomes.items() if isinstance(o, ConflictError)}
        assert len(won) == 1, outcomes
        assert len(lost) == 1, outcomes
        (conflict,) = lost.values()
        assert "patient P-001, course C-1" in str(conflict)
        assert f"read version {seen}, now version {seen + 1}" in str(conflict)
        saved.append(edits[won[0]])
        # The loser reloads and saves again: nothing is lost.
        (loser,) = lost
        _, current = read_record(database, "P-001", actor=loser, now=NOW, kb=kb)
        execute(
            database, "P-001", edits[loser], actor=loser, now=NOW, kb=kb, expected_version=current
        )
        saved.append(edits[loser])

    with UnitOfWork(database) as uow:
        history = [stored.command for stored in uow.patients.history("P-001")]
    assert history == [enrol(), start_course("C-1"), *saved]
    assert verify_audit(database).ok


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_writer_whose_version_moves_between_its_read_and_its_update_gets_a_conflict(
    database: Engine,
) -> None:
    """The compare-and-set itself: another user commits just before our UPDATE runs.
    (PostgreSQL only: on SQLite the other user waits for our whole transaction.)"""
    with UnitOfWork(database) as uow:
        uow.patients.append("P-001", enrol(), expected_version=0, actor="ann", recorded_at=NOW)
        uow.patients.append(
            "P-001", start_course("C-1"), expected_version=1, actor="ann", recorded_at=NOW
        )
    theirs, ours = RecordWeight(on=TODAY, value=70.0), RecordWeight(on=TODAY, value=80.0)
    interrupted: list[bool] = []

    def other_user_saves_first(*args: object) -> None:
        statement = str(args[2])
        if statement.startswith("UPDATE patients") and not interrupted:
            interrupted.append(True)
            with UnitOfWork(database) as other:
                other.patients.append(
                    "P-001", theirs, expected_version=2, actor="bob", recorded_at=NOW
                )

    event.listen(database, "before_cursor_execute", other_user_saves_first)
    try:
        with (
            pytest.raises(ConflictError, match=r"course C-1.*read version 2, now version 3"),
            UnitOfWork(database) as uow,
        ):
            uow.patients.append("P-001", ours, expected_version=2, actor="ann", recorded_at=NOW)
    finally:
        event.remove(database, "before_cursor_execute", other_user_saves_first)
    assert interrupted
    with UnitOfWork(database) as uow:
        history = [stored.command for stored in uow.patients.history("P-001")]
    assert history == [enrol(), start_course("C-1"), theirs]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_clerks_enrolling_the_same_patient_id_at_once_one_gets_a_conflict(
    database: Engine,
) -> None:
    """The other clerk's enrolment commits just before our INSERT runs (PostgreSQL)."""
    interrupted: list[bool] = []

    def other_clerk_enrols_first(*args: object) -> None:
        if str(args[2]).startswith("INSERT INTO patients") and not interrupted:
            interrupted.append(True)
            with UnitOfWork(database) as other:
                other.patients.append(
                    "P-001", enrol(name="First"), expected_version=0, actor="bob", recorded_at=NOW
                )

    event.listen(database, "before_cursor_execute", other_clerk_enrols_first)
    try:
        with (
            pytest.raises(ConflictError, match="P-001 was enrolled by someone else"),
            UnitOfWork(database) as uow,
        ):
            uow.patients.append(
                "P-001", enrol(name="Second"), expected_version=0, actor="ann", recorded_at=NOW
            )
    finally:
        event.remove(database, "before_cursor_execute", other_clerk_enrols_first)
    with UnitOfWork(database) as uow:
        assert [stored.command for stored in uow.patients.history("P-001")] == [enrol(name="First")]
