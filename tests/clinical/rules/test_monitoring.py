from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import isotrack.clinical.screening.rules.monitoring  # noqa: F401  # registers the course rules
from isotrack.clinical.findings import Assessment, Finding, Severity
from isotrack.clinical.screening.context import assess_course
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.knowledge import KnowledgeBase, load_knowledge
from tests.clinical.builders import TODAY, man
from tests.clinical.builders_labs import (
    baseline_labs,
    course,
    days_before,
    lab,
    mood,
    nodules,
    ongoing,
)


def assess(snapshot: PatientSnapshot, kb: KnowledgeBase) -> Assessment:
    return assess_course(snapshot, on=TODAY, kb=kb)


def finding(snapshot: PatientSnapshot, kb: KnowledgeBase, rule_id: str) -> Finding | None:
    return next((f for f in assess(snapshot, kb).findings if f.rule_id == rule_id), None)


# --- MON-LABS-DUE ------------------------------------------------------------------


def test_recheck_due_after_a_month_without_new_labs(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(31),), labs=baseline_labs(days_before(35)))
    found = finding(snapshot, kb, "MON-LABS-DUE")
    assert found is not None
    assert "triglycerides and ALT" in found.summary
    assert days_before(1).isoformat() in found.summary  # start + 30 days


def test_recheck_not_yet_due_before_a_month(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(29),), labs=baseline_labs(days_before(35)))
    assert finding(snapshot, kb, "MON-LABS-DUE") is None


def test_recheck_a_few_days_early_counts(kb: KnowledgeBase) -> None:
    # Due one day ago (start + 30); drawn 6 days ago, within the 7-day early allowance.
    snapshot = man(courses=(ongoing(31),), labs=baseline_labs(days_before(6)))
    assert finding(snapshot, kb, "MON-LABS-DUE") is None


def test_labs_too_early_in_the_course_do_not_count_as_the_recheck(kb: KnowledgeBase) -> None:
    # Drawn 20 days after the start: before the early allowance opens.
    snapshot = man(courses=(ongoing(31),), labs=baseline_labs(days_before(11)))
    assert finding(snapshot, kb, "MON-LABS-DUE") is not None


def test_only_the_analyte_not_rechecked_is_named(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(40),), labs=(lab("triglycerides", 150.0, days_before(5)),))
    found = finding(snapshot, kb, "MON-LABS-DUE")
    assert found is not None
    assert "Recheck of ALT due" in found.summary


def test_a_dose_increase_makes_a_new_recheck_due(kb: KnowledgeBase) -> None:
    snapshot = man(
        courses=(ongoing(90, last_dose_increase=days_before(35)),),
        labs=baseline_labs(days_before(55)),  # the 1-month recheck, before the increase
    )
    found = finding(snapshot, kb, "MON-LABS-DUE")
    assert found is not None
    assert "dose increase" in found.summary


def test_no_active_course_means_no_recheck(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(course(days_before(200), days_before(60)),))
    assert finding(snapshot, kb, "MON-LABS-DUE") is None


# --- RESPONSE-NODULES-70 ------------------------------------------------------------------


def test_nodules_down_by_more_than_70_percent_fire(kb: KnowledgeBase) -> None:
    snapshot = man(
        courses=(ongoing(100),),
        lesion_counts=(nodules(days_before(110), 10), nodules(days_before(3), 2)),
    )
    found = finding(snapshot, kb, "RESPONSE-NODULES-70")
    assert found is not None
    assert "down 80%" in found.summary


def test_nodules_down_by_exactly_70_percent_do_not_fire(kb: KnowledgeBase) -> None:
    snapshot = man(
        courses=(ongoing(100),),
        lesion_counts=(nodules(days_before(110), 10), nodules(days_before(3), 3)),
    )
    assert finding(snapshot, kb, "RESPONSE-NODULES-70") is None


def test_baseline_is_the_last_count_before_the_start(kb: KnowledgeBase) -> None:
    counts = (
        nodules(days_before(400), 40),  # an old count: not the baseline
        nodules(days_before(105), 10),
        nodules(days_before(3), 4),
    )
    snapshot = man(courses=(ongoing(100),), lesion_counts=counts)
    assert finding(snapshot, kb, "RESPONSE-NODULES-70") is None


def test_first_count_of_the_course_is_the_baseline_when_none_before(kb: KnowledgeBase) -> None:
    counts = (nodules(days_before(95), 20), nodules(days_before(3), 5))
    snapshot = man(courses=(ongoing(100),), lesion_counts=counts)
    assert finding(snapshot, kb, "RESPONSE-NODULES-70") is not None


def test_ended_course_has_no_response_finding(kb: KnowledgeBase) -> None:
    snapshot = man(
        courses=(course(days_before(150), days_before(10)),),
        lesion_counts=(nodules(days_before(155), 10), nodules(days_before(12), 1)),
    )
    assert finding(snapshot, kb, "RESPONSE-NODULES-70") is None


def test_missing_nodule_counts_are_an_assumption(kb: KnowledgeBase) -> None:
    result = assess(man(courses=(ongoing(60),)), kb)
    assert not result.has("RESPONSE-NODULES-70")
    assert any("nodule counts" in a for a in result.assumptions)


@given(baseline=st.integers(min_value=1, max_value=60), latest=st.integers(0, 80))
def test_response_fires_only_above_the_label_fraction(baseline: int, latest: int) -> None:
    kb = load_knowledge()
    snapshot = man(
        courses=(ongoing(100),),
        lesion_counts=(nodules(days_before(101), baseline), nodules(days_before(1), latest)),
    )
    fired = finding(snapshot, kb, "RESPONSE-NODULES-70") is not None
    fraction = kb.number("course.nodule_response_fraction")
    assert fired == ((baseline - latest) / baseline > fraction)


# --- MOOD-SCREEN-DUE -------------------------------------------------------------------------


def test_mood_screen_older_than_a_month_is_due(kb: KnowledgeBase) -> None:
    last = days_before(31)
    found = finding(
        man(courses=(ongoing(60),), mood_screens=(mood(last, 3),)), kb, "MOOD-SCREEN-DUE"
    )
    assert found is not None
    assert last.isoformat() in found.summary


def test_mood_screen_thirty_days_ago_is_not_due(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(60),), mood_screens=(mood(days_before(30), 3),))
    assert finding(snapshot, kb, "MOOD-SCREEN-DUE") is None


def test_never_screened_is_due(kb: KnowledgeBase) -> None:
    found = finding(man(courses=(ongoing(5),)), kb, "MOOD-SCREEN-DUE")
    assert found is not None
    assert "none on record" in found.summary


def test_no_active_course_no_mood_screen_due(kb: KnowledgeBase) -> None:
    assert finding(man(), kb, "MOOD-SCREEN-DUE") is None


# --- MOOD-PHQ9-POSITIVE ------------------------------------------------------------------------


def test_phq9_of_ten_is_a_warning(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(60),), mood_screens=(mood(days_before(2), 10),))
    found = finding(snapshot, kb, "MOOD-PHQ9-POSITIVE")
    assert found is not None
    assert found.severity is Severity.WARNING


def test_phq9_of_nine_is_not_positive(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(60),), mood_screens=(mood(days_before(2), 9),))
    assert finding(snapshot, kb, "MOOD-PHQ9-POSITIVE") is None


def test_any_self_harm_answer_is_critical_whatever_the_total(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(60),), mood_screens=(mood(days_before(2), 3, item9=1),))
    found = finding(snapshot, kb, "MOOD-PHQ9-POSITIVE")
    assert found is not None
    assert found.severity is Severity.CRITICAL
    assert "refer urgently" in found.summary


def test_only_the_latest_screen_counts(kb: KnowledgeBase) -> None:
    screens = (mood(days_before(40), 20, item9=2), mood(days_before(2), 4))
    snapshot = man(courses=(ongoing(60),), mood_screens=screens)
    assert finding(snapshot, kb, "MOOD-PHQ9-POSITIVE") is None


def test_missing_item9_is_asked_for_and_noted(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(60),), mood_screens=(mood(days_before(2), 12, None),))
    result = assess(snapshot, kb)
    found = next(f for f in result.findings if f.rule_id == "MOOD-PHQ9-POSITIVE")
    assert "ask about self-harm" in found.detail
    assert any("item 9" in a for a in result.assumptions)


def test_old_positive_screen_outside_a_course_does_not_fire(kb: KnowledgeBase) -> None:
    snapshot = man(mood_screens=(mood(days_before(200), 15, item9=1),))
    assert finding(snapshot, kb, "MOOD-PHQ9-POSITIVE") is None


def test_recent_positive_screen_outside_a_course_fires(kb: KnowledgeBase) -> None:
    snapshot = man(mood_screens=(mood(days_before(5), 15),))
    assert finding(snapshot, kb, "MOOD-PHQ9-POSITIVE") is not None


# --- BLOOD-DONATION / COSMETIC-PROCEDURES ------------------------------------------


def test_active_course_fires_both_restrictions(kb: KnowledgeBase) -> None:
    result = assess(man(courses=(ongoing(20),)), kb)
    assert result.has("BLOOD-DONATION")
    assert result.has("COSMETIC-PROCEDURES")


def test_blood_donation_on_the_thirtieth_day_after_still_fires(kb: KnowledgeBase) -> None:
    found = finding(man(courses=(course(days_before(150), days_before(30)),)), kb, "BLOOD-DONATION")
    assert found is not None
    assert TODAY.isoformat() in found.summary


def test_blood_donation_allowed_from_day_31_but_cosmetic_still_not(kb: KnowledgeBase) -> None:
    result = assess(man(courses=(course(days_before(150), days_before(31)),)), kb)
    assert not result.has("BLOOD-DONATION")
    assert result.has("COSMETIC-PROCEDURES")


def test_cosmetic_procedures_restriction_ends_after_six_months(kb: KnowledgeBase) -> None:
    days = int(kb.number("after.cosmetic_procedures_days"))
    inside = assess(man(courses=(course(days_before(days + 100), days_before(days)),)), kb)
    outside = assess(man(courses=(course(days_before(days + 100), days_before(days + 1)),)), kb)
    assert inside.has("COSMETIC-PROCEDURES")
    assert not outside.has("COSMETIC-PROCEDURES")


def test_never_treated_patient_has_no_restrictions(kb: KnowledgeBase) -> None:
    result = assess(man(), kb)
    assert not result.has("BLOOD-DONATION")
    assert not result.has("COSMETIC-PROCEDURES")
