from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.screening.rules import course as course_rules  # noqa: F401  # registers the rules
from isotrack.clinical.screening.rules import patient as patient_rules  # noqa: F401  # WEIGHT-MISSING
from isotrack.clinical.snapshot import PatientSnapshot, Weight
from isotrack.knowledge import KnowledgeBase, load_knowledge
from tests.clinical.builders import TODAY, man, order
from tests.clinical.builders_labs import course, days_before, ongoing


def screen(snapshot: PatientSnapshot, kb: KnowledgeBase) -> Assessment:
    return screen_order(snapshot, order(), on=TODAY, kb=kb)


def finding(snapshot: PatientSnapshot, kb: KnowledgeBase, rule_id: str) -> Finding | None:
    return next((f for f in screen(snapshot, kb).findings if f.rule_id == rule_id), None)


def ended(days_ago: int) -> PatientSnapshot:
    return man(courses=(course(days_before(days_ago + 140), days_before(days_ago)),))


# --- SECOND-COURSE-TOO-EARLY -------------------------------------------------------


def test_new_course_seven_weeks_after_the_last_fires(kb: KnowledgeBase) -> None:
    found = finding(ended(49), kb, "SECOND-COURSE-TOO-EARLY")
    assert found is not None
    assert "49 days ago" in found.summary
    assert days_before(49 - 56).isoformat() in found.summary  # earliest start


def test_new_course_exactly_eight_weeks_after_does_not_fire(kb: KnowledgeBase) -> None:
    assert finding(ended(56), kb, "SECOND-COURSE-TOO-EARLY") is None


def test_continuing_the_current_course_is_not_a_second_course(kb: KnowledgeBase) -> None:
    previous = course(days_before(300), days_before(200))
    current = course(days_before(30), None, prescriptions=1)
    # The current course's start is what counts, not this refill: no finding.
    assert finding(man(courses=(previous, current)), kb, "SECOND-COURSE-TOO-EARLY") is None


def test_no_previous_course_does_not_fire(kb: KnowledgeBase) -> None:
    assert not screen(man(), kb).has("SECOND-COURSE-TOO-EARLY")


@given(days=st.integers(min_value=1, max_value=400))
def test_second_course_fires_only_inside_the_gap(days: int) -> None:
    kb = load_knowledge()
    result = screen(ended(days), kb)
    assert result.has("SECOND-COURSE-TOO-EARLY") == (
        days < kb.number("course.second_course_gap_days")
    )


# --- CUMULATIVE-TARGET-REACHED ---------------------------------------------------------


def test_cumulative_dose_at_default_target_fires(kb: KnowledgeBase) -> None:
    # 70 kg × 150 mg/kg = 10 500 mg.
    found = finding(
        man(courses=(ongoing(150, cumulative_mg=10_500.0),)), kb, "CUMULATIVE-TARGET-REACHED"
    )
    assert found is not None
    assert "150 mg/kg" in found.summary
    assert "70 kg" in found.summary


def test_cumulative_dose_just_under_the_target_does_not_fire(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(150, cumulative_mg=10_450.0),))
    assert finding(snapshot, kb, "CUMULATIVE-TARGET-REACHED") is None


def test_course_target_overrides_the_default(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(150, cumulative_mg=8_400.0, target_mg_per_kg=120.0),))
    found = finding(snapshot, kb, "CUMULATIVE-TARGET-REACHED")
    assert found is not None
    assert "this course's target" in found.detail


def test_without_a_recent_weight_the_target_is_an_assumption_not_a_pass(
    kb: KnowledgeBase,
) -> None:
    snapshot = man(
        weights=(Weight(70.0, days_before(90)),),
        courses=(ongoing(150, cumulative_mg=20_000.0),),
    )
    result = screen(snapshot, kb)
    assert not result.has("CUMULATIVE-TARGET-REACHED")
    assert any("cumulative target could not be checked" in a for a in result.assumptions)
    assert result.has("WEIGHT-MISSING")


def test_unknown_cumulative_dose_is_an_assumption(kb: KnowledgeBase) -> None:
    result = screen(man(courses=(ongoing(60),)), kb)
    assert not result.has("CUMULATIVE-TARGET-REACHED")
    assert any("cumulative dose" in a and "not recorded" in a for a in result.assumptions)


def test_first_order_without_a_course_has_no_cumulative_finding(kb: KnowledgeBase) -> None:
    result = screen(man(), kb)
    assert not result.has("CUMULATIVE-TARGET-REACHED")
    assert not any("cumulative" in a for a in result.assumptions)
