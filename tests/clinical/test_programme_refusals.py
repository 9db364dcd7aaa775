"""ACCEPTANCE: every kind of programme refusal names the unmet requirement and the
date or data that would satisfy it; a near miss is accepted."""

from __future__ import annotations

import pytest

from isotrack.clinical.programme.authorization import authorize_dispense
from isotrack.clinical.programme.status import programme_status, require_prescribable
from isotrack.clinical.record.aggregate import PatientRecord, apply
from isotrack.clinical.state.commands import (
    PauseCourse,
    RecordAuthorization,
    StopContraception,
)
from isotrack.errors import CommandRejected, ProgrammeRefusal
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
    eligible,
    end_course,
    enrol,
    first_month,
    man,
    override_positive,
    pregnancy_test,
    prescribe,
    run,
    start_course,
    weight,
)


def refusal_of(record: PatientRecord, event: Event, kb: KnowledgeBase) -> ProgrammeRefusal:
    with pytest.raises(ProgrammeRefusal) as caught:
        run([event], kb, record)
    return caught.value


def says(error: CommandRejected, *texts: str) -> None:
    for text in texts:
        assert text in error.message, error.message


def accepted(record: PatientRecord, *events: Event, kb: KnowledgeBase) -> PatientRecord:
    return run(events, kb, record)


def woman(programme: str, kb: KnowledgeBase, *events: Event) -> PatientRecord:
    """A patient who can get pregnant, enrolled and counselled, then ``events``."""
    return run([enrol(-60, programme), counsel(-60), *events], kb)


# --- prescribing ---------------------------------------------------------------------------------


def test_prescribing_needs_counselling_at_enrolment(kb: KnowledgeBase) -> None:
    record = run([enrol(-30, US, None, sex="male"), weight(0), start_course(0)], kb)
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(error, "counselling documented at enrolment", f"on or before {day(0)}")
    assert error.unmet == ("counselling",)
    accepted(record, counsel(0), prescribe(0, "p1"), kb=kb)


def test_the_eu_programme_asks_no_counselling_of_a_man(kb: KnowledgeBase) -> None:
    record = run([enrol(-30, EU, None, sex="male"), weight(0), start_course(0)], kb)
    accepted(record, prescribe(0, "p1"), kb=kb)


def test_the_start_test_must_be_in_the_window_before_the_first_prescription(
    kb: KnowledgeBase,
) -> None:
    events = [pregnancy_test(-40), *contraception(-40, "implant-etonogestrel", "male-condom")]
    record = woman(US, kb, *events, pregnancy_test(-7), weight(0), start_course(0), answers(0, US))
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(
        error,
        "2 negative start tests in a medical setting",
        f"a negative confirmation test in a medical setting dated {day(-6)} or later",
        f"the last one is from {day(-7)}",
    )
    just_inside = woman(
        US, kb, *events, pregnancy_test(-6), weight(0), start_course(0), answers(0, US)
    )
    accepted(just_inside, prescribe(0, "p1"), kb=kb)


def test_the_confirmation_test_comes_after_30_days_of_contraception(kb: KnowledgeBase) -> None:
    record = woman(
        US,
        kb,
        pregnancy_test(-40),
        *contraception(-29, "implant-etonogestrel", "male-condom"),
        weight(0),
        start_course(0),
        pregnancy_test(0),
        answers(0, US),
    )
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(
        error,
        "taken after 30 days of the programme's contraception",
        f"the test of {day(0)} came before that contraception",
        f"documented since {day(-30)}",
    )
    assert set(error.unmet) == {"start-tests", "contraception"}
    a_day_earlier = woman(
        US,
        kb,
        pregnancy_test(-40),
        *contraception(-30, "implant-etonogestrel", "male-condom"),
        weight(0),
        start_course(0),
        pregnancy_test(0),
        answers(0, US),
    )
    accepted(a_day_earlier, prescribe(0, "p1"), kb=kb)


def test_iplege_needs_a_screening_test_before_the_confirmation_test(kb: KnowledgeBase) -> None:
    events = [
        *contraception(-40, "implant-etonogestrel", "male-condom"),
        weight(0),
        start_course(0),
        pregnancy_test(0),
    ]
    record = woman(US, kb, *events, answers(0, US))
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(
        error,
        "1 negative screening test(s) in a medical setting dated before the confirmation "
        f"test of {day(0)}; 0 recorded",
    )
    accepted(woman(EU, kb, *events, answers(0, EU)), prescribe(0, "p1"), kb=kb)  # EU: one test


def test_a_home_test_is_never_a_start_test(kb: KnowledgeBase) -> None:
    record = woman(
        US,
        kb,
        pregnancy_test(-40),
        *contraception(-40, "implant-etonogestrel", "male-condom"),
        weight(0),
        start_course(0),
        pregnancy_test(0, setting="home"),
        answers(0, US),
    )
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(error, "in a medical setting", f"the last one is from {day(0)} (home setting)")


def test_a_monthly_prescription_needs_a_negative_test_in_the_7_day_window(
    kb: KnowledgeBase,
) -> None:
    record = run([pregnancy_test(24), answers(30, US), weight(31)], kb, first_month(US, kb))
    error = refusal_of(record, prescribe(31, "p2"), kb)
    says(
        error,
        f"a negative pregnancy test in the 7 days up to {day(31)}",
        f"needs a negative pregnancy test dated {day(25)} or later",
        f"the last one is from {day(24)} (medical setting)",
    )
    accepted(record, pregnancy_test(25, setting="home"), prescribe(31, "p2"), kb=kb)


def test_the_eu_programme_refuses_a_home_test_during_treatment(kb: KnowledgeBase) -> None:
    record = run(
        [pregnancy_test(30, setting="home"), answers(30, EU), weight(31)], kb, first_month(EU, kb)
    )
    error = refusal_of(record, prescribe(31, "p2"), kb)
    says(
        error,
        f"a negative pregnancy test in a medical setting dated {day(25)} or later",
        f"the last one is from {day(30)} (home setting)",
    )
    accepted(record, pregnancy_test(31), prescribe(31, "p2"), kb=kb)


def test_prescribing_needs_the_programmes_contraception(kb: KnowledgeBase) -> None:
    events = [
        pregnancy_test(-40),
        *contraception(-40, "implant-etonogestrel"),
        weight(0),
        start_course(0),
        pregnancy_test(0),
    ]
    record = woman(US, kb, *events, answers(0, US))
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(
        error,
        "contraception as iPLEDGE REMS requires",
        f"contraception documented since {day(-30)}",
        "2 methods at the same time",
    )
    accepted(woman(EU, kb, *events, answers(0, EU)), prescribe(0, "p1"), kb=kb)  # EU: implant


def test_prescribing_needs_this_months_comprehension_check(kb: KnowledgeBase) -> None:
    record = eligible(US, kb, answered=False)
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(error, "comprehension questions answered", f"on or after {day(-29)}; none is recorded")
    too_old = run([answers(-30, US)], kb, record)
    says(refusal_of(too_old, prescribe(0, "p1"), kb), "is too old for this month")
    accepted(run([answers(-29, US)], kb, record), prescribe(0, "p1"), kb=kb)


def test_two_wrong_answers_in_a_month_need_counselling(kb: KnowledgeBase) -> None:
    record = run(
        [answers(-3, US, wrong=1), answers(0, US, wrong=1)], kb, eligible(US, kb, answered=False)
    )
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(
        error,
        f"needs counselling (RecordCounselling) dated {day(0)} or later",
        f"after the check of {day(0)} that brought this month's wrong answers to 2",
    )
    one_wrong = run([answers(0, US, wrong=1)], kb, eligible(US, kb, answered=False))
    accepted(one_wrong, prescribe(0, "p1"), kb=kb)
    accepted(record, counsel(0, "wrong answers reviewed"), prescribe(0, "p1"), kb=kb)


def test_counselling_before_the_wrong_answers_does_not_count(kb: KnowledgeBase) -> None:
    record = run(
        [counsel(0, "early"), answers(0, US, wrong=2)], kb, eligible(US, kb, answered=False)
    )
    says(refusal_of(record, prescribe(0, "p1"), kb), "needs counselling")


def test_a_positive_test_suspends_until_a_negative_test_and_an_override(
    kb: KnowledgeBase,
) -> None:
    record = run([pregnancy_test(0, "positive")], kb, eligible(US, kb))
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(
        error,
        "no unresolved positive pregnancy test",
        f"a negative pregnancy test in a medical setting dated after the positive test of {day(0)}",
        "refer the patient to an obstetrician-gynaecologist",
    )
    early_override = run([override_positive(1), pregnancy_test(2), answers(2, US)], kb, record)
    error = refusal_of(early_override, prescribe(2, "p1"), kb)
    says(error, f"override of PREG-TEST-POSITIVE (RecordOverride) dated {day(2)} or later")
    assert error.unmet == ("positive-test",)
    accepted(early_override, override_positive(2), prescribe(2, "p1"), kb=kb)


def test_a_supply_over_30_days_is_refused_by_the_programme(kb: KnowledgeBase) -> None:
    record = man(kb)
    error = refusal_of(record, prescribe(0, "p1", supply_days=31), kb)
    assert error.field == "supply_days"
    says(error, "a supply of at most 30 days, no refills", "31 days were asked")
    accepted(record, prescribe(0, "p1", supply_days=30), kb=kb)


def test_prescribing_needs_a_course_in_progress(kb: KnowledgeBase) -> None:
    paused = run([PauseCourse(on=day(1), reason="trip")], kb, man(kb))
    with pytest.raises(ProgrammeRefusal) as caught:
        require_prescribable(paused, on=day(2), kb=kb)
    says(caught.value, "course c1 resumed (ResumeCourse); it is paused since " + str(day(1)))
    with pytest.raises(ProgrammeRefusal) as caught:
        require_prescribable(man(kb), on=day(-1), kb=kb)
    says(caught.value, f"a course started (StartCourse) on or before {day(-1)}")


# --- authorising ---------------------------------------------------------------------------------


def authorise(record: PatientRecord, n: int, kb: KnowledgeBase) -> ProgrammeRefusal:
    with pytest.raises(ProgrammeRefusal) as caught:
        authorize_dispense(record, on=day(n), kb=kb, authorization_id=f"T{n}")
    return caught.value


def test_an_authorisation_needs_a_prescription(kb: KnowledgeBase) -> None:
    says(
        authorise(man(kb), 0, kb),
        f"a prescription of course c1 written on or before {day(0)} (Prescribe)",
        "prescriptions: none yet",
    )


def test_an_authorisation_needs_capsules_left_within_30_days(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorize(0), dispense(0, "p1", 40)], kb, man(kb))
    assert authorize_dispense(record, on=day(1), kb=kb, authorization_id="T").max_quantity == 20
    record = run([authorize(1), dispense(1, "p1", 20)], kb, record)  # each is used once
    says(
        authorise(record, 2, kb),
        "a new prescription (Prescribe): p1 has 60 of its capsules dispensed",
        "all that 30 days of its dose allow",
    )


@pytest.mark.parametrize(
    ("programme", "last_day", "counted"),
    [
        (US, 6, f"day 7 counting the specimen date {day(0)} as day 1"),
        (EU, 7, f"7 days after the prescription of {day(0)}"),
    ],
)
def test_an_authorisation_falls_in_the_dispensing_window(
    programme: str, last_day: int, counted: str, kb: KnowledgeBase
) -> None:
    record = run([prescribe(0, "p1")], kb, eligible(programme, kb))
    error = authorise(record, last_day + 1, kb)
    assert error.field == "on"
    says(
        error,
        "a new negative pregnancy test and a new prescription",
        f"closed on {day(last_day)}",
        counted,
    )
    assert authorize_dispense(
        record, on=day(last_day), kb=kb, authorization_id="T"
    ).not_after == day(last_day)


def test_a_patient_who_cannot_get_pregnant_has_30_days_from_the_visit(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, man(kb))
    error = authorise(record, 30, kb)
    says(
        error,
        "a new prescription",
        f"closed on {day(29)} (day 30 counting the prescription of {day(0)} as day 1)",
    )
    assert "pregnancy test" not in error.message
    assert authorize_dispense(record, on=day(29), kb=kb, authorization_id="T")


def test_an_authorisation_needs_contraception_on_its_day(kb: KnowledgeBase) -> None:
    record = run(
        [prescribe(0, "p1"), StopContraception(on=day(1), method="male-condom")],
        kb,
        eligible(US, kb),
    )
    says(authorise(record, 2, kb), "contraception documented since", "only 1 counts")
    # a method stopped on a day no longer counts that day (issue 13: the patient who
    # stopped a method was told it still met the programme)
    says(authorise(record, 1, kb), "contraception documented since", "only 1 counts")
    assert authorize_dispense(record, on=day(0), kb=kb, authorization_id="T")


def test_a_positive_test_after_the_prescription_stops_the_authorisation(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), pregnancy_test(1, "positive")], kb, eligible(US, kb))
    says(authorise(record, 1, kb), f"after the positive test of {day(1)}", "refer the patient")


# --- dispensing -----------------------------------------------------------------------------------


def test_a_dispense_needs_a_recorded_authorisation(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, man(kb))
    error = refusal_of(record, dispense(0, "p1"), kb)
    assert error.field == "prescription_id"
    says(
        error,
        "a dispensing authorisation for prescription p1 recorded on or before",
        "none is recorded",
    )


def test_an_expired_authorisation_does_not_allow_a_dispense(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorize(0)], kb, eligible(US, kb))
    error = refusal_of(record, dispense(7, "p1"), kb)
    says(error, f"the last one, A0, allowed dispensing up to {day(6)}")
    accepted(record, dispense(6, "p1"), kb=kb)


def test_a_dispense_may_not_exceed_the_authorised_quantity(kb: KnowledgeBase) -> None:
    small = RecordAuthorization(
        on=day(0), authorization_id="S", prescription_id="p1", not_after=day(3), max_quantity=20
    )
    record = run([prescribe(0, "p1"), small], kb, man(kb))
    error = refusal_of(record, dispense(0, "p1", 21), kb)
    assert error.field == "quantity"
    says(error, "at most 20 capsules under authorisation S (20 in all); 21 were asked")
    record = accepted(record, dispense(1, "p1", 15), kb=kb)
    says(  # each authorisation is used once: the 5 left need a new one
        refusal_of(record, dispense(2, "p1", 5), kb),
        "S was used on",
        "each authorisation is used once",
    )


def test_a_positive_test_after_the_authorisation_stops_the_dispense(kb: KnowledgeBase) -> None:
    record = run(
        [prescribe(0, "p1"), authorize(0), pregnancy_test(1, "positive")], kb, eligible(US, kb)
    )
    says(refusal_of(record, dispense(1, "p1"), kb), f"after the positive test of {day(1)}")


def test_a_recorded_authorisation_may_not_be_more_generous_than_the_programme(
    kb: KnowledgeBase,
) -> None:
    record = run([prescribe(0, "p1")], kb, eligible(US, kb))
    late = RecordAuthorization(
        on=day(0), authorization_id="X", prescription_id="p1", not_after=day(7), max_quantity=60
    )
    with pytest.raises(CommandRejected) as caught:
        apply(record, late, today=day(0), kb=kb)
    assert caught.value.field == "not_after"
    says(caught.value, f"give {day(6)} or earlier")
    many = RecordAuthorization(
        on=day(0), authorization_id="X", prescription_id="p1", not_after=day(6), max_quantity=61
    )
    with pytest.raises(CommandRejected) as caught:
        apply(record, many, today=day(0), kb=kb)
    assert caught.value.field == "max_quantity"
    says(caught.value, "give at most 60")


# --- after the course ---------------------------------------------------------------------------


def test_the_post_course_requirements_name_their_dates(kb: KnowledgeBase) -> None:
    record = run(
        [end_course(20), StopContraception(on=day(25), method="male-condom")],
        kb,
        first_month(US, kb),
    )
    status = programme_status(record, on=day(30), kb=kb)
    needs = {r.key: r.needs for r in status.unmet}
    assert f"a negative pregnancy test dated {day(50)} or later" in needs["post-course-test"]
    assert (
        f"contraception as the programme requires until {day(50)}" in needs["contraception-after"]
    )
    after = programme_status(record, on=day(51), kb=kb)
    assert "contraception-after" not in {r.key for r in after.unmet}


def test_a_refusal_says_when_the_category_is_assumed(kb: KnowledgeBase) -> None:
    record = run([enrol(-30, US, None), counsel(-30), weight(0), start_course(0)], kb)
    error = refusal_of(record, prescribe(0, "p1"), kb)
    says(error, "Pregnancy capability is not recorded in isotrack: assumed able to get pregnant")
    recorded = run([enrol(-30, US), counsel(-30), weight(0), start_course(0)], kb)
    assert "not recorded in isotrack" not in refusal_of(recorded, prescribe(0, "p1"), kb).message
