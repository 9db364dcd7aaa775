"""Two pharmacies scan the same authorisation at the same moment: exactly one
dispense is recorded; the other is refused (a conflict, or, checked again, "already
dispensed"), on both backends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from isotrack.clinical.programme import as_command, authorize_dispense
from isotrack.clinical.state.commands import (
    Dispense,
    EnrolPatient,
    Prescribe,
    RecordCounselling,
    RecordWeight,
    StartCourse,
)
from isotrack.errors import CommandRejected, ConflictError
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute, read_record

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = AT.date()
PHARMACIES = ("pharm.lee at Main St", "pharm.roy at Station Rd", "pharm.kay at Market Sq")


def authorised(database: Engine, kb: KnowledgeBase) -> str:
    for command in (
        EnrolPatient(
            on=TODAY, patient_id="m1", name="Sam Quinlan", birth_date=date(1997, 11, 23),
            sex="male",
        ),
        RecordCounselling(on=TODAY, topic="enrolment"),
        RecordWeight(on=TODAY, value=70),
        StartCourse(on=TODAY, course_id="c1", product="conventional"),
        Prescribe(
            on=TODAY, prescription_id="p1", dose_mg=35, times_per_day=2, strength_mg=35,
            quantity=60, supply_days=30,
        ),
    ):  # fmt: skip
        execute(database, "m1", command, actor="dr.kim", now=AT, kb=kb)
    record, _ = read_record(database, "m1", actor="test", now=AT, kb=kb)
    issued = authorize_dispense(record, on=TODAY, kb=kb, authorization_id="PA-ONCE")
    execute(database, "m1", as_command(issued), actor="dr.kim", now=AT, kb=kb)
    return issued.id


def test_concurrent_dispenses_under_one_authorisation_record_exactly_one(
    database: Engine, kb: KnowledgeBase
) -> None:
    authorization_id = authorised(database, kb)
    start = threading.Barrier(len(PHARMACIES))

    def dispense(pharmacy: str) -> str:
        command = Dispense(
            on=TODAY, prescription_id="p1", quantity=60, authorization_id=authorization_id,
            dispensed_by=pharmacy,
        )  # fmt: skip
        start.wait()
        try:
            execute(database, "m1", command, actor=pharmacy, now=AT, kb=kb)
        except (ConflictError, CommandRejected) as refused:
            return f"refused: {refused}"
        return "recorded"

    with ThreadPoolExecutor(max_workers=len(PHARMACIES)) as pool:
        outcomes = list(pool.map(dispense, PHARMACIES))
    assert outcomes.count("recorded") == 1, outcomes
    record, _ = read_record(database, "m1", actor="test", now=AT, kb=kb)
    (dispensed,) = record.courses[0].dispenses
    assert dispensed.authorization_id == authorization_id
    assert dispensed.quantity == 60
    # Whoever lost, trying again, is told when and by whom the first one was.
    loser = next(p for p, o in zip(PHARMACIES, outcomes, strict=True) if o != "recorded")
    again = Dispense(
        on=TODAY, prescription_id="p1", quantity=60, authorization_id=authorization_id,
        dispensed_by=loser,
    )  # fmt: skip
    with pytest.raises(CommandRejected) as refused:
        execute(database, "m1", again, actor=loser, now=AT, kb=kb)
    first = f"on {TODAY} (60 capsules, by {dispensed.dispensed_by})"
    assert f"was already dispensed {first}" in str(refused.value)
