from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isotrack.clinical.screening.rules.pregnancy  # noqa: F401  # registers the rules under test
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.screening.context import assess_course, screen_order
from isotrack.clinical.snapshot import (
    ConditionRecord,
    PatientSnapshot,
    PregnancyCapability,
    PregnancyState,
    ProcedureRecord,
    TestSetting,
)
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order, sct, text
from tests.clinical.builders_pregnancy import (
    START_TESTS,
    ago,
    course,
    indeterminate,
    negative,
    positive,
    status,
    using,
    woman,
)

PREGNANCY_RULES = (
    "PREG-ACTIVE",
    "PREG-TEST-POSITIVE",
    "PREG-TEST-INDETERMINATE",
    "PREG-TEST-REQUIRED",
    "PPP-START-TESTS",
    "BREASTFEEDING",
    "MON-PREG-TEST-DUE",
    "MON-POST-COURSE-TEST",
)


def screen(snapshot: PatientSnapshot, kb: KnowledgeBase) -> Assessment:
    return screen_order(snapshot, order(), on=TODAY, kb=kb)


def finding(result: Assessment, rule_id: str) -> Finding:
    return next(f for f in result.findings if f.rule_id == rule_id)


def test_compliant_woman_gets_no_pregnancy_finding(kb: KnowledgeBase) -> None:
    result = screen(woman(), kb)
    assert not set(PREGNANCY_RULES) & set(result.rule_ids)
    assert any("assumed able to get pregnant" in a for a in result.assumptions)


@pytest.mark.parametrize(
    "snapshot",
    [
        man(pregnancy_tests=(positive(2),), pregnancy_statuses=(status(2),), lactating=None),
        woman(pregnancy_capability=PregnancyCapability.CANNOT, pregnancy_tests=(positive(2),)),
        woman(pregnancy_capability=PregnancyCapability.CANNOT, pregnancy_tests=()),
    ],
)
def test_patients_who_cannot_get_pregnant_get_no_pregnancy_finding(
    kb: KnowledgeBase, snapshot: PatientSnapshot
) -> None:
    result = screen(snapshot, kb)
    assert not set(PREGNANCY_RULES) & set(result.rule_ids)
    course_result = assess_course(snapshot, on=TODAY, kb=kb)
    assert not set(PREGNANCY_RULES) & set(course_result.rule_ids)


# --- PREG-ACTIVE ---------------------------------------------------------------------------
def test_unabated_normal_pregnancy_fires_preg_active(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(sct("72892002", "Normal pregnancy"), onset=ago(40))
    result = screen(woman(conditions=(preg,)), kb)
    found = finding(result, "PREG-ACTIVE")
    assert found.severity.label == "critical"
    assert "Normal pregnancy" in found.summary
    assert "assumed: female, 24 years" in found.detail


def test_abated_pregnancy_does_not_fire(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(
        sct("72892002", "Normal pregnancy"),
        onset=ago(300),
        abatement=ago(40),
        clinical_status="resolved",
    )
    assert not screen(woman(conditions=(preg,)), kb).has("PREG-ACTIVE")


def test_miscarriage_does_not_fire_preg_active(kb: KnowledgeBase) -> None:
    loss = ConditionRecord(sct("19169002", "Miscarriage in first trimester"), onset=ago(40))
    assert not screen(woman(conditions=(loss,)), kb).has("PREG-ACTIVE")


def test_pregnancy_status_fires_preg_active(kb: KnowledgeBase) -> None:
    assert screen(woman(pregnancy_statuses=(status(3),)), kb).has("PREG-ACTIVE")
    not_pregnant = status(3, PregnancyState.NOT_PREGNANT)
    assert not screen(woman(pregnancy_statuses=(not_pregnant,)), kb).has("PREG-ACTIVE")


def test_pregnancy_is_reported_even_when_assumed_too_old(kb: KnowledgeBase) -> None:
    from datetime import date

    snap = woman(birth_date=date(1969, 1, 1), pregnancy_statuses=(status(3),))
    assert screen(snap, kb).has("PREG-ACTIVE")


def test_a_pregnancy_recorded_longer_ago_than_a_pregnancy_lasts_is_a_warning(
    kb: KnowledgeBase,
) -> None:
    days = int(kb.number("pregnancy.longest_duration_days"))
    recent = finding(screen(woman(pregnancy_statuses=(status(days),)), kb), "PREG-ACTIVE")
    old = finding(screen(woman(pregnancy_statuses=(status(days + 1),)), kb), "PREG-ACTIVE")
    assert (recent.severity.label, old.severity.label) == ("critical", "warning")
    assert ago(days + 1).isoformat() in old.summary


def test_an_undated_active_pregnancy_condition_is_critical(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(sct("72892002", "Normal pregnancy"))
    found = finding(screen(woman(conditions=(preg,)), kb), "PREG-ACTIVE")
    assert found.severity.label == "critical"
    assert "date unknown" in found.summary


def test_a_later_not_pregnant_status_ends_a_pregnancy_condition(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(sct("72892002", "Normal pregnancy"), onset=ago(100))
    ended = status(10, PregnancyState.NOT_PREGNANT)
    assert not screen(woman(conditions=(preg,), pregnancy_statuses=(ended,)), kb).has("PREG-ACTIVE")


def test_an_outcome_known_by_name_only_does_not_end_a_pregnancy(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(sct("72892002", "Normal pregnancy"), onset=ago(100))
    named = ConditionRecord(text("miscarriage at home"), onset=ago(10))
    assert screen(woman(conditions=(preg, named)), kb).has("PREG-ACTIVE")


# --- PREG-TEST-POSITIVE --------------------------------------------------------------------
def test_latest_positive_test_fires(kb: KnowledgeBase) -> None:
    result = screen(woman(pregnancy_tests=(*START_TESTS, positive(1))), kb)
    assert ago(1).isoformat() in finding(result, "PREG-TEST-POSITIVE").summary


def test_older_positive_followed_by_negative_does_not_fire(kb: KnowledgeBase) -> None:
    result = screen(woman(pregnancy_tests=(positive(90), *START_TESTS)), kb)
    assert not result.has("PREG-TEST-POSITIVE")


def test_same_day_positive_counts_as_the_latest(kb: KnowledgeBase) -> None:
    result = screen(woman(pregnancy_tests=(negative(2), positive(2))), kb)
    assert result.has("PREG-TEST-POSITIVE")


# --- PREG-TEST-INDETERMINATE ---------------------------------------------------------------
def test_latest_indeterminate_test_fires_with_its_reason(kb: KnowledgeBase) -> None:
    why = "12 m[IU]/mL is above the negative cut-off"
    result = screen(woman(pregnancy_tests=(*START_TESTS, indeterminate(1, why))), kb)
    found = finding(result, "PREG-TEST-INDETERMINATE")
    assert found.severity.label == "critical"
    assert ago(1).isoformat() in found.summary
    assert why in found.detail


def test_an_indeterminate_followed_by_a_negative_does_not_fire(kb: KnowledgeBase) -> None:
    result = screen(woman(pregnancy_tests=(negative(60), indeterminate(5), negative(3))), kb)
    assert not result.has("PREG-TEST-INDETERMINATE")
    assert not result.has("PREG-TEST-REQUIRED")


def test_an_indeterminate_after_a_negative_leaves_no_negative_in_the_window(
    kb: KnowledgeBase,
) -> None:
    result = screen(woman(pregnancy_tests=(negative(60), negative(3), indeterminate(1))), kb)
    assert result.has("PREG-TEST-INDETERMINATE")
    assert result.has("PREG-TEST-REQUIRED")
    summary = finding(result, "PPP-START-TESTS").summary
    assert f"no negative test since the indeterminate result of {ago(1).isoformat()}" in summary


def test_a_same_day_indeterminate_counts_as_the_latest(kb: KnowledgeBase) -> None:
    result = screen(woman(pregnancy_tests=(negative(60), negative(2), indeterminate(2))), kb)
    assert result.has("PREG-TEST-INDETERMINATE")
    assert result.has("PREG-TEST-REQUIRED")


def test_an_indeterminate_monthly_test_makes_the_next_test_due_at_once(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(20), indeterminate(4)), courses=(course(60),))
    found = finding(assess_course(snap, on=TODAY, kb=kb), "MON-PREG-TEST-DUE")
    assert f"overdue since {ago(4).isoformat()}" in found.summary
    assert "not negative" in found.detail


def test_an_indeterminate_test_is_never_a_start_test(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(indeterminate(60), indeterminate(3)))
    found = finding(screen(snap, kb), "PPP-START-TESTS")
    assert "no negative test recorded" in found.summary


# --- PREG-TEST-REQUIRED --------------------------------------------------------------------
def test_negative_test_six_days_ago_is_inside_the_window(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(60, TestSetting.HOME), negative(6)))
    assert not screen(snap, kb).has("PREG-TEST-REQUIRED")


def test_negative_test_seven_days_ago_is_outside_the_window(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(60, TestSetting.HOME), negative(7)))
    found = finding(screen(snap, kb), "PREG-TEST-REQUIRED")
    assert (
        f"needs a negative pregnancy test with a specimen date on or after {ago(6).isoformat()}"
        in found.detail
    )
    assert f"the last result: negative on {ago(7).isoformat()}" in found.detail


@settings(deadline=None)
@given(days_ago=st.integers(min_value=0, max_value=60))
def test_required_fires_exactly_when_the_negative_test_is_out_of_window(
    kb: KnowledgeBase, days_ago: int
) -> None:
    window = kb.number("ppp.test_window_days")
    result = screen(woman(pregnancy_tests=(negative(days_ago),)), kb)
    assert result.has("PREG-TEST-REQUIRED") is (days_ago >= window)


def test_test_procedure_without_result_is_not_a_result(kb: KnowledgeBase) -> None:
    procedure = ProcedureRecord(sct("252160004", "Standard pregnancy test"), ago(1), "completed")
    found = finding(
        screen(woman(pregnancy_tests=(), procedures=(procedure,)), kb), "PREG-TEST-REQUIRED"
    )
    assert "the last result: none recorded" in found.detail
    assert "Standard pregnancy test" in found.detail


# --- PPP-START-TESTS -----------------------------------------------------------------------
def test_start_tests_complete_do_not_fire(kb: KnowledgeBase) -> None:
    assert not screen(woman(), kb).has("PPP-START-TESTS")


def test_single_negative_test_fires_start_tests(kb: KnowledgeBase) -> None:
    found = finding(screen(woman(pregnancy_tests=(negative(2),)), kb), "PPP-START-TESTS")
    assert "only one negative test" in found.summary


def test_confirmation_test_at_home_fires_start_tests(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(60), negative(2, TestSetting.HOME)))
    found = finding(screen(snap, kb), "PPP-START-TESTS")
    assert "medical setting" in found.summary


def test_confirmation_before_thirty_days_of_contraception_fires(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", 31), using("male-condom", 31)))
    snap_tests = woman(
        contraception=snap.contraception,
        pregnancy_tests=(negative(20, TestSetting.HOME), negative(2)),
    )
    found = finding(screen(snap_tests, kb), "PPP-START-TESTS")
    assert f"confirmation test {ago(2).isoformat()} before 30 days" in found.summary


def test_confirmation_after_exactly_thirty_days_of_contraception_passes(kb: KnowledgeBase) -> None:
    snap = woman(
        contraception=(using("implant-etonogestrel", 32), using("male-condom", 32)),
        pregnancy_tests=(negative(20, TestSetting.HOME), negative(2)),
    )
    assert not screen(snap, kb).has("PPP-START-TESTS")


def test_start_tests_not_checked_after_the_first_prescription(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(2),), courses=(course(40, prescriptions=1),))
    assert not screen(snap, kb).has("PPP-START-TESTS")


# --- BREASTFEEDING -------------------------------------------------------------------------
def test_lactation_condition_fires_breastfeeding(kb: KnowledgeBase) -> None:
    feeding = ConditionRecord(sct("169750002", "Mother currently breast-feeding"), onset=ago(60))
    assert finding(screen(woman(conditions=(feeding,)), kb), "BREASTFEEDING").severity.label == (
        "critical"
    )


def test_ended_lactation_does_not_fire(kb: KnowledgeBase) -> None:
    feeding = ConditionRecord(
        sct("169750002", "Mother currently breast-feeding"), onset=ago(300), abatement=ago(30)
    )
    assert not screen(woman(conditions=(feeding,)), kb).has("BREASTFEEDING")


def test_recorded_lactating_fires_and_recorded_not_lactating_overrides(kb: KnowledgeBase) -> None:
    feeding = ConditionRecord(text("breastfeeding"), onset=ago(60))
    assert screen(woman(lactating=True), kb).has("BREASTFEEDING")
    assert not screen(woman(lactating=False, conditions=(feeding,)), kb).has("BREASTFEEDING")


# --- MON-PREG-TEST-DUE ---------------------------------------------------------------------
def test_monthly_test_due_within_seven_days_fires(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(23),), courses=(course(50),))
    found = finding(assess_course(snap, on=TODAY, kb=kb), "MON-PREG-TEST-DUE")
    assert found.severity.label == "warning"
    assert f"due by {ago(-7).isoformat()}" in found.summary


def test_monthly_test_due_in_eight_days_does_not_fire(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(22),), courses=(course(50),))
    assert not assess_course(snap, on=TODAY, kb=kb).has("MON-PREG-TEST-DUE")


def test_monthly_test_overdue_fires(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(45),), courses=(course(50),))
    found = finding(assess_course(snap, on=TODAY, kb=kb), "MON-PREG-TEST-DUE")
    assert f"overdue since {ago(15).isoformat()}" in found.summary


def test_monthly_test_not_due_without_a_course(kb: KnowledgeBase) -> None:
    assert not assess_course(woman(pregnancy_tests=(negative(45),)), on=TODAY, kb=kb).has(
        "MON-PREG-TEST-DUE"
    )


# --- MON-POST-COURSE-TEST ------------------------------------------------------------------
def test_post_course_test_outstanding_fires(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(20),), courses=(course(200, 40),))
    found = finding(assess_course(snap, on=TODAY, kb=kb), "MON-POST-COURSE-TEST")
    assert f"overdue since {ago(10).isoformat()}" in found.summary


def test_negative_test_thirty_days_after_last_dose_satisfies(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(10),), courses=(course(200, 40),))
    assert not assess_course(snap, on=TODAY, kb=kb).has("MON-POST-COURSE-TEST")


def test_negative_test_29_days_after_last_dose_is_too_early(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(11),), courses=(course(200, 40),))
    assert assess_course(snap, on=TODAY, kb=kb).has("MON-POST-COURSE-TEST")


def test_post_course_test_not_due_during_a_course(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_tests=(negative(20),), courses=(course(200, 40), course(10)))
    assert not assess_course(snap, on=TODAY, kb=kb).has("MON-POST-COURSE-TEST")
