"""The course record keeps the programme's own commands: comprehension answers,
counselling and dispensing authorisations; it refuses them when malformed, and a
prescription records the rule set and version that applied."""

from __future__ import annotations

import pytest

from isotrack.clinical.programme.comprehension import questions_to_ask
from isotrack.clinical.record.aggregate import PatientRecord, replay
from isotrack.clinical.state.commands import (
    PauseCourse,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordCounselling,
    decode_command,
    encode_command,
)
from isotrack.errors import CommandRejected
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_programme import (
    EU,
    US,
    Event,
    answers,
    authorize,
    counsel,
    day,
    dispense,
    eligible_events,
    enrol,
    first_month,
    logged,
    man,
    prescribe,
    run,
)


def rejected(record: PatientRecord, event: Event, kb: KnowledgeBase) -> CommandRejected:
    with pytest.raises(CommandRejected) as caught:
        run([event], kb, record)
    return caught.value


def authorization(**changes: object) -> RecordAuthorization:
    fields: dict[str, object] = {
        "on": day(0),
        "authorization_id": "X1",
        "prescription_id": "p1",
        "not_after": day(3),
        "max_quantity": 30,
    }
    fields.update(changes)
    return RecordAuthorization(**fields)  # type: ignore[arg-type]


# --- comprehension answers ---------------------------------------------------------------------


def test_answers_are_kept_with_the_wrong_ones_and_the_month_they_belong_to(
    kb: KnowledgeBase,
) -> None:
    record = run([enrol(-10, US), answers(-5, US, wrong=2)], kb)
    (check,) = record.comprehension_checks
    bank = kb.questions(US)
    assert check.wrong == (bank[0].id, bank[1].id)
    assert (check.programme, check.version) == (US, kb.programme(US).version)
    assert (check.course_id, check.prescriptions_before) == (None, 0)
    record = run([answers(30, US)], kb, first_month(US, kb))
    assert (
        record.comprehension_checks[-1].course_id,
        record.comprehension_checks[-1].prescriptions_before,
    ) == ("c1", 1)


def test_the_questions_asked_are_the_whole_bank_of_the_patients_programme(
    kb: KnowledgeBase,
) -> None:
    record = run([enrol(-10, EU)], kb)
    assert questions_to_ask(record, kb) == kb.questions(EU)
    assert 6 <= len(kb.questions(EU)) <= 8


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda a: a[1:], "not answered: "),
        (lambda a: (*a, a[0]), "is answered twice"),
        (lambda a: (("eu-ppp-2018.q-sharing", 1), *a[1:]), "is not a question of us-ipledge-2024"),
        (lambda a: ((a[0][0], 9), *a[1:]), "has options 0–"),
    ],
    ids=["a question left out", "twice", "another programme", "no such option"],
)
def test_malformed_answers_are_refused(change: object, words: str, kb: KnowledgeBase) -> None:
    record = run([enrol(-10, US)], kb)
    good = answers(0, US).answers
    bad = RecordComprehensionAnswers(on=day(0), answers=change(good))  # type: ignore[operator]
    error = rejected(record, bad, kb)
    assert error.field == "answers"
    assert words in error.message
    assert "answer each question of the us-ipledge-2024 bank once" in error.message


# --- counselling ----------------------------------------------------------------------------------


def test_counselling_is_kept_after_the_checks_recorded_before_it(kb: KnowledgeBase) -> None:
    record = run([enrol(-10, US), answers(-5, US), counsel(-5, "wrong answers")], kb)
    (counselling,) = record.counselling
    assert (counselling.topic, counselling.checks_before) == ("wrong answers", 1)


def test_counselling_needs_a_topic(kb: KnowledgeBase) -> None:
    error = rejected(run([enrol(-10, US)], kb), RecordCounselling(on=day(0), topic=" "), kb)
    assert error.field == "topic"


# --- authorisations ---------------------------------------------------------------------------


def test_a_prescription_records_the_rule_set_and_version_that_applied(kb: KnowledgeBase) -> None:
    (prescription,) = first_month(EU, kb).courses[0].prescriptions
    assert (prescription.programme, prescription.programme_version) == (
        EU,
        kb.programme(EU).version,
    )


def test_an_authorisation_is_kept_with_what_was_dispensed_before_it(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorization(), dispense(0, "p1", 20)], kb, man(kb))
    record = run([authorization(authorization_id="X2", on=day(1), max_quantity=20)], kb, record)
    first, second = record.courses[0].authorizations
    assert (first.dispensed_before, second.dispensed_before) == (0, 20)
    assert second.not_after == day(3)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"authorization_id": " "}, "authorization_id", "is empty"),
        ({"prescription_id": "p9"}, "prescription_id", "no prescription 'p9'"),
        ({"on": day(1), "not_after": day(0)}, "not_after", "is before the authorisation's date"),
        ({"max_quantity": 0}, "max_quantity", "at least 1 capsule"),
    ],
)
def test_a_malformed_authorisation_is_refused(
    changes: dict[str, object], field: str, words: str, kb: KnowledgeBase
) -> None:
    record = run([prescribe(0, "p1")], kb, man(kb))
    error = rejected(record, authorization(**changes), kb)
    assert error.field == field
    assert words in error.message


def test_an_authorisation_id_is_recorded_once(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorization()], kb, man(kb))
    error = rejected(record, authorization(), kb)
    assert "X1 is already used" in error.message


def test_no_authorisation_while_the_course_is_paused(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), PauseCourse(on=day(0), reason="trip")], kb, man(kb))
    assert "resume it" in rejected(record, authorization(), kb).message


def test_an_authorisation_before_its_prescription_is_refused(kb: KnowledgeBase) -> None:
    record = run([prescribe(2, "p1")], kb, man(kb))
    error = rejected(record, authorization(), kb)
    assert "no prescription 'p1' written by" in error.message


# --- the log ----------------------------------------------------------------------------------


def test_the_programme_commands_round_trip_through_json() -> None:
    for command in (
        answers(0, US),
        counsel(0),
        authorization(),
    ):
        assert decode_command(encode_command(command)) == command


def test_replay_of_a_programme_month_gives_the_same_record(kb: KnowledgeBase) -> None:
    events = [*eligible_events(US, kb), prescribe(0, "p1"), authorize(0), dispense(0, "p1")]
    record, log = logged(events, kb)
    assert record == first_month(US, kb)
    history = [(command, command.on) for command in log]
    assert replay(history, kb=kb) == record
    assert replay(history, kb=kb, strict=True) == record
