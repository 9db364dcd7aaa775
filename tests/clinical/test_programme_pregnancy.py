"""The programme (prescribing and dispensing from the isotrack record) never counts an
indeterminate pregnancy test as negative, and a recorded current pregnancy refuses."""

from __future__ import annotations

import pytest

from isotrack.clinical.record.aggregate import PatientRecord
from isotrack.clinical.state.commands import RecordPregnancyStatus
from isotrack.errors import ProgrammeRefusal
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_programme import (
    US,
    Event,
    answers,
    authorize,
    day,
    dispense,
    eligible,
    first_month,
    pregnancy_test,
    prescribe,
    run,
    weight,
)


def refusal_of(record: PatientRecord, event: Event, kb: KnowledgeBase) -> ProgrammeRefusal:
    with pytest.raises(ProgrammeRefusal) as caught:
        run([event], kb, record)
    return caught.value


def status(n: int, state: str, note: str = "") -> RecordPregnancyStatus:
    return RecordPregnancyStatus(on=day(n), status=state, note=note)  # type: ignore[arg-type]  # a Literal


def test_an_indeterminate_start_test_after_the_negative_one_refuses_the_first_prescription(
    kb: KnowledgeBase,
) -> None:
    record = run([pregnancy_test(0, "indeterminate")], kb, eligible(US, kb))
    error = refusal_of(record, prescribe(0, "p1"), kb)
    assert "start-tests" in error.unmet
    run([pregnancy_test(1), answers(1, US), prescribe(1, "p1")], kb, record)


def test_an_indeterminate_monthly_test_after_a_negative_one_refuses_until_a_new_negative(
    kb: KnowledgeBase,
) -> None:
    events = [pregnancy_test(25), pregnancy_test(27, "indeterminate"), answers(30, US), weight(31)]
    record = run(events, kb, first_month(US, kb))
    error = refusal_of(record, prescribe(31, "p2"), kb)
    assert error.unmet == ("pregnancy-test",)
    run([pregnancy_test(28), prescribe(31, "p2")], kb, record)


def test_a_recorded_pregnancy_refuses_prescribing_until_a_not_pregnant_status(
    kb: KnowledgeBase,
) -> None:
    record = run([status(0, "pregnant")], kb, eligible(US, kb))
    error = refusal_of(record, prescribe(0, "p1"), kb)
    assert "pregnancy-status" in error.unmet
    assert f"after the pregnancy recorded on {day(0)}" in error.message
    run(
        [status(1, "not-pregnant"), pregnancy_test(1), answers(1, US), prescribe(1, "p1")],
        kb,
        record,
    )


def test_an_unknown_status_refuses_nothing(kb: KnowledgeBase) -> None:
    record = run([status(0, "unknown", "Possible pregnancy")], kb, eligible(US, kb))
    run([prescribe(0, "p1")], kb, record)


def test_a_pregnancy_recorded_after_the_authorisation_stops_the_dispense(
    kb: KnowledgeBase,
) -> None:
    record = run([prescribe(0, "p1"), authorize(0), status(1, "pregnant")], kb, eligible(US, kb))
    error = refusal_of(record, dispense(1, "p1"), kb)
    assert error.unmet == ("pregnancy-status",)
