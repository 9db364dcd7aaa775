"""ACCEPTANCE: a year of the pregnancy prevention programme, month by month, under
each rule set. Each row of a table is a day: the events recorded that day, the
state of the patient-month after them, and a step tried that day that the
programme must refuse, with words its message must contain (the unmet
requirement and the date or data that would satisfy it).

- iPLEDGE 2024, a patient who can get pregnant: two start tests, a home test
  accepted during treatment, a missed 7-day window (a new test the same day, no
  lockout), two wrong answers (counselling), a positive test (suspension with the
  referral, then a negative test and a clinician's override), an authorisation that
  expires unused, the end of the course and the post-course test.
- EU PPP 2018: one start test (a home test refused), a first prescription not
  dispensed within 7 days (a new medical test, a new prescription), a home test
  refused during treatment, a positive test, the post-course test (a home test
  refused).
- iPLEDGE and EU, a patient who cannot get pregnant: no monthly test, no
  comprehension check, no counselling after enrolment; completed at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from isotrack.clinical.programme.status import MonthState, programme_status
from isotrack.clinical.record.aggregate import PatientRecord
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_programme import (
    EU,
    US,
    Event,
    answers,
    authorize,
    contraception,
    counsel,
    day,
    dispense,
    end_course,
    enrol,
    override_positive,
    pregnancy_test,
    prescribe,
    refused,
    run,
    start_course,
    weight,
)

S = MonthState


@dataclass(frozen=True)
class Day:
    """One row: ``events`` recorded on day ``n``, then the state and month that day; then
    ``refuse`` is tried and must be refused with every text of ``saying``."""

    n: int
    events: list[Event]
    state: MonthState
    month: int | None
    refuse: Event | None = None
    saying: tuple[str, ...] = field(default=())


def month_of(n: int, rx: str, programme: str, *, test: str = "medical") -> list[Event]:
    """A plain month on day ``n``: a negative test, the answers, the prescription, the
    pharmacy's authorisation, the dispense."""
    return [
        pregnancy_test(n, setting=test),  # type: ignore[arg-type]
        answers(n, programme),
        weight(n),
        prescribe(n, rx),
        authorize(n),
        dispense(n, rx),
    ]


US_YEAR = [
    Day(-60, [enrol(-60, US), counsel(-60)], S.ENROLLED, None),
    Day(
        -58,
        [pregnancy_test(-58), *contraception(-58, "implant-etonogestrel", "male-condom")],
        S.ENROLLED,
        None,
    ),  # the screening test when the decision to treat is made
    Day(
        0,
        [weight(0), start_course(0), pregnancy_test(0)],  # confirmation, 58 days of two methods
        S.QUALIFYING,
        1,
        refuse=prescribe(0, "p1"),
        saying=("comprehension questions answered", f"on or after {day(-29)}"),
    ),
    Day(0, [answers(0, US)], S.ELIGIBLE_TO_PRESCRIBE, 1),
    Day(0, [prescribe(0, "p1")], S.PRESCRIBED, 1),
    Day(
        2,
        [],
        S.PRESCRIBED,
        1,
        refuse=dispense(2, "p1"),
        saying=("dispensing authorisation for prescription p1", "none is recorded"),
    ),
    Day(2, [authorize(2)], S.DISPENSE_AUTHORISED, 1),  # do not dispense after day 6
    Day(2, [dispense(2, "p1")], S.DISPENSED, 1),
    # Month 2: a home test, which iPLEDGE accepts during treatment.
    Day(30, [pregnancy_test(30, setting="home"), answers(30, US)], S.DISPENSED, 1),
    Day(31, [weight(31), prescribe(31, "p2"), authorize(31), dispense(31, "p2")], S.DISPENSED, 2),
    # Month 3: the test of day 59 goes unused; on day 67 its window has closed.
    Day(59, [pregnancy_test(59), answers(59, US)], S.DISPENSED, 2),
    Day(
        67,
        [weight(67)],
        S.WINDOW_MISSED,
        3,
        refuse=prescribe(67, "p3"),
        saying=(f"needs a negative pregnancy test dated {day(61)} or later", f"from {day(59)}"),
    ),
    Day(67, [pregnancy_test(67)], S.ELIGIBLE_TO_PRESCRIBE, 3),  # no lockout, no wait
    Day(67, [prescribe(67, "p3"), authorize(67), dispense(67, "p3")], S.DISPENSED, 3),
    # Month 4: two wrong answers send the patient to counselling.
    Day(
        97,
        [pregnancy_test(97), answers(97, US, wrong=2)],
        S.QUALIFYING,
        4,
        refuse=prescribe(97, "p4"),
        saying=("counselling (RecordCounselling)", f"dated {day(97)} or later", "to 2"),
    ),
    Day(97, [counsel(97, "two wrong answers reviewed")], S.ELIGIBLE_TO_PRESCRIBE, 4),
    Day(97, [weight(97), prescribe(97, "p4"), authorize(97), dispense(97, "p4")], S.DISPENSED, 4),
    # Month 5: a positive test suspends everything and names the referral.
    Day(
        126,
        [pregnancy_test(126, "positive")],
        S.SUSPENDED_POSITIVE_TEST,
        4,
        refuse=prescribe(126, "p5"),
        saying=(f"after the positive test of {day(126)}", "obstetrician-gynaecologist"),
    ),
    Day(
        128,
        [pregnancy_test(128), weight(128)],  # quantitative serum hCG, negative
        S.SUSPENDED_POSITIVE_TEST,
        5,
        refuse=prescribe(128, "p5"),
        saying=(f"override of PREG-TEST-POSITIVE (RecordOverride) dated {day(128)} or later",),
    ),
    Day(128, [override_positive(128), answers(128, US)], S.ELIGIBLE_TO_PRESCRIBE, 5),
    Day(
        128,
        [prescribe(128, "p5"), authorize(128), dispense(128, "p5")],
        S.DISPENSED,
        5,
    ),
    # Month 6: authorised, never picked up; the authorisation lapses with the window.
    Day(
        157,
        [pregnancy_test(157), answers(157, US), weight(157), prescribe(157, "p6"), authorize(157)],
        S.DISPENSE_AUTHORISED,
        6,
    ),
    Day(
        164,
        [],
        S.WINDOW_MISSED,
        6,
        refuse=dispense(164, "p6"),
        saying=(f"allowed dispensing up to {day(163)}",),
    ),
    Day(
        164,
        [],
        S.WINDOW_MISSED,
        6,
        refuse=authorize(164),
        saying=("a new negative pregnancy test and a new prescription", f"closed on {day(163)}"),
    ),
    Day(165, month_of(165, "p7", US), S.DISPENSED, 7),
    Day(194, month_of(194, "p8", US, test="home"), S.DISPENSED, 8),
    Day(224, month_of(224, "p9", US), S.DISPENSED, 9),
    # The end, and the test one month after the last dose.
    Day(253, [end_course(253)], S.POST_COURSE_FOLLOW_UP, None),
    Day(270, [pregnancy_test(270)], S.POST_COURSE_FOLLOW_UP, None),
    Day(283, [pregnancy_test(283, setting="home")], S.COMPLETED, None),
]

EU_YEAR = [
    Day(
        -60,
        [enrol(-60, EU), counsel(-60, "risks, checklist and acknowledgement")],
        S.ENROLLED,
        None,
    ),
    Day(-45, contraception(-45, "combined-oral", "male-condom"), S.ENROLLED, None),
    Day(
        0,
        [weight(0), start_course(0), pregnancy_test(0, setting="home"), answers(0, EU)],
        S.QUALIFYING,
        1,
        refuse=prescribe(0, "p1"),
        saying=(
            f"a negative confirmation test in a medical setting dated {day(-6)} or later",
            f"the last one is from {day(0)} (home setting)",
        ),
    ),
    Day(1, [pregnancy_test(1)], S.ELIGIBLE_TO_PRESCRIBE, 1),
    Day(1, [weight(1), prescribe(1, "p1")], S.PRESCRIBED, 1),
    Day(8, [], S.PRESCRIBED, 1),  # the last day: 7 days after the prescription
    Day(
        9,
        [],
        S.WINDOW_MISSED,
        1,
        refuse=authorize(9),
        saying=("a new negative pregnancy test and a new prescription", f"closed on {day(8)}"),
    ),
    # Nothing was dispensed: the new prescription needs a new medical start test.
    Day(9, [pregnancy_test(9), answers(9, EU), weight(9), prescribe(9, "p2")], S.PRESCRIBED, 2),
    Day(10, [authorize(10), dispense(10, "p2")], S.DISPENSED, 2),
    Day(39, [pregnancy_test(39, setting="home"), answers(39, EU)], S.DISPENSED, 2),
    Day(
        40,
        [weight(40)],
        S.QUALIFYING,
        3,
        refuse=prescribe(40, "p3"),
        saying=(
            f"a negative pregnancy test in a medical setting dated {day(34)} or later",
            f"the last one is from {day(39)} (home setting)",
        ),
    ),
    Day(40, [pregnancy_test(40)], S.ELIGIBLE_TO_PRESCRIBE, 3),
    Day(40, [prescribe(40, "p3"), authorize(40), dispense(40, "p3")], S.DISPENSED, 3),
    Day(70, month_of(70, "p4", EU), S.DISPENSED, 4),
    Day(
        99,
        [pregnancy_test(99, "positive"), weight(99)],
        S.SUSPENDED_POSITIVE_TEST,
        4,
        refuse=prescribe(99, "p5"),
        saying=(f"after the positive test of {day(99)}", "teratology"),
    ),
    Day(
        102,
        [pregnancy_test(102), override_positive(102), answers(102, EU)],
        S.ELIGIBLE_TO_PRESCRIBE,
        5,
    ),
    Day(
        102,
        [weight(102), prescribe(102, "p5"), authorize(102), dispense(102, "p5")],
        S.DISPENSED,
        5,
    ),
    Day(132, month_of(132, "p6", EU), S.DISPENSED, 6),
    Day(162, month_of(162, "p7", EU), S.DISPENSED, 7),
    Day(192, month_of(192, "p8", EU), S.DISPENSED, 8),
    Day(222, [end_course(222)], S.POST_COURSE_FOLLOW_UP, None),
    Day(252, [pregnancy_test(252, setting="home")], S.POST_COURSE_FOLLOW_UP, None),
    Day(253, [pregnancy_test(253)], S.COMPLETED, None),
]


def cannot_year(programme: str, *, counselled: bool) -> list[Day]:
    """A patient who cannot get pregnant: prescriptions, authorisations, dispenses;
    nothing else after enrolment."""
    enrolment: list[Event] = [enrol(-30, programme, "cannot-get-pregnant"), weight(-30)]
    if counselled:
        enrolment.append(counsel(-30))
    rows = [
        Day(-30, enrolment, S.ENROLLED, None),
        Day(0, [weight(0), start_course(0)], S.ELIGIBLE_TO_PRESCRIBE, 1),
        Day(0, [prescribe(0, "p1")], S.PRESCRIBED, 1),
        Day(5, [authorize(5), dispense(5, "p1")], S.DISPENSED, 1),
    ]
    for month, n in enumerate(range(35, 300, 30), start=2):
        rx = f"p{month}"
        rows.append(
            Day(n, [weight(n), prescribe(n, rx), authorize(n), dispense(n, rx)], S.DISPENSED, month)
        )
    rows.append(Day(330, [], S.ELIGIBLE_TO_PRESCRIBE, 11))  # nothing to do but prescribe
    rows.append(Day(335, [end_course(335)], S.COMPLETED, None))
    return rows


YEARS = {
    "us-ipledge-can-get-pregnant": US_YEAR,
    "eu-ppp-can-get-pregnant": EU_YEAR,
    "us-ipledge-cannot-get-pregnant": cannot_year(US, counselled=True),
    "eu-ppp-cannot-get-pregnant": cannot_year(EU, counselled=False),
}


def live(rows: list[Day], kb: KnowledgeBase) -> PatientRecord:
    """Play the rows, checking each; the record at the end."""
    record: PatientRecord | None = None
    for row in rows:
        record = run(row.events, kb, record)
        status = programme_status(record, on=day(row.n), kb=kb)
        where = f"day {row.n} ({day(row.n)})"
        assert (status.state, status.month) == (row.state, row.month), (
            where,
            [r.describe() for r in status.unmet],
        )
        if row.refuse is not None:
            error = refused(record, row.refuse, kb)
            for words in row.saying:
                assert words in error.message, (where, error.message)
    assert record is not None
    return record


@pytest.mark.parametrize("story", YEARS, ids=str)
def test_a_year_month_by_month(story: str, kb: KnowledgeBase) -> None:
    live(YEARS[story], kb)


def test_the_iplege_year_records_each_month_with_its_rule_set(kb: KnowledgeBase) -> None:
    record = live(US_YEAR, kb)
    status = programme_status(record, on=day(283), kb=kb)
    version = kb.programme(US).version
    assert [m.state for m in status.history] == [
        S.DISPENSED,
        S.DISPENSED,
        S.DISPENSED,
        S.SUSPENDED_POSITIVE_TEST,  # month 4 ended on the day of the positive test
        S.DISPENSED,
        S.WINDOW_MISSED,  # authorised, never picked up
        S.DISPENSED,
        S.DISPENSED,
        S.DISPENSED,
    ]
    assert {(m.programme, m.version) for m in status.history} == {(US, version)}
    assert [m.prescription_id for m in status.history] == [f"p{n}" for n in range(1, 10)]
    assert status.history[2].start == day(61)  # month 3 opened when month 2's supply ran out


def test_the_post_course_follow_up_says_which_test_closes_it(kb: KnowledgeBase) -> None:
    record = live(US_YEAR[:-2], kb)
    status = programme_status(record, on=day(260), kb=kb)
    (test,) = [r for r in status.unmet if r.key == "post-course-test"]
    assert f"dated {day(283)} or later" in test.needs


def test_a_patient_who_cannot_get_pregnant_is_asked_for_nothing_monthly(
    kb: KnowledgeBase,
) -> None:
    record = live(cannot_year(US, counselled=True)[:4], kb)
    due = programme_status(record, on=day(35), kb=kb)
    assert due.state is S.ELIGIBLE_TO_PRESCRIBE
    keys = {r.key for r in due.requirements}
    assert not keys & {"pregnancy-test", "start-tests", "comprehension", "contraception"}
    record = run([weight(35), prescribe(35, "p2"), authorize(35)], kb, record)
    status = programme_status(record, on=day(35), kb=kb)
    assert not record.comprehension_checks
    assert len(record.counselling) == 1  # at enrolment only
    assert status.authorization is not None
    assert status.authorization.not_after == day(35 + 29)  # 30-day window from the visit
