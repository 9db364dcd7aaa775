from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import isotrack.clinical.screening.rules.labs  # noqa: F401  # registers the lab rules
from isotrack.clinical.findings import Finding, Severity
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import ConditionRecord, PatientSnapshot
from isotrack.knowledge import KnowledgeBase, load_knowledge
from tests.clinical.builders import TODAY, man, order, sct, text
from tests.clinical.builders_labs import baseline_labs, days_before, lab, ongoing


def finding(snapshot: PatientSnapshot, kb: KnowledgeBase, rule_id: str) -> Finding | None:
    result = screen_order(snapshot, order(), on=TODAY, kb=kb)
    return next((f for f in result.findings if f.rule_id == rule_id), None)


# --- LFT-HIGH ----------------------------------------------------------------------


def test_alt_above_three_times_default_uln_fires_as_clinic_policy(kb: KnowledgeBase) -> None:
    found = finding(man(labs=(lab("alt", 130.0),)), kb, "LFT-HIGH")
    assert found is not None
    assert found.severity is Severity.WARNING
    assert found.policy
    assert "clinic policy" in found.summary
    assert "120 U/L" in found.detail  # 3 × default ULN 40
    assert "ALT 130" in found.summary


def test_alt_exactly_three_times_uln_does_not_fire(kb: KnowledgeBase) -> None:
    assert finding(man(labs=(lab("alt", 120.0),)), kb, "LFT-HIGH") is None


def test_ast_uses_the_result_reference_range_over_the_default(kb: KnowledgeBase) -> None:
    # 100 U/L is above 3 × 30 (reference range) but not above 3 × 40 (default).
    found = finding(man(labs=(lab("ast", 100.0, reference_high=30.0),)), kb, "LFT-HIGH")
    assert found is not None
    assert "reference range" in found.detail
    assert finding(man(labs=(lab("ast", 100.0),)), kb, "LFT-HIGH") is None


def test_only_the_latest_alt_counts(kb: KnowledgeBase) -> None:
    labs = (lab("alt", 300.0, days_before(60)), lab("alt", 35.0, days_before(5)))
    assert finding(man(labs=labs), kb, "LFT-HIGH") is None


@given(
    value=st.floats(min_value=0, max_value=2000, allow_nan=False),
    uln=st.floats(min_value=5, max_value=200, allow_nan=False),
)
def test_lft_high_fires_exactly_above_the_multiple_of_uln(value: float, uln: float) -> None:
    kb = load_knowledge()
    found = finding(man(labs=(lab("alt", value, reference_high=uln),)), kb, "LFT-HIGH")
    assert (found is not None) == (value > kb.number("lft.uln_multiple") * uln)


# --- LIPIDS-HIGH ---------------------------------------------------------------------


def test_triglycerides_at_warning_threshold_fire_warning(kb: KnowledgeBase) -> None:
    found = finding(man(labs=(lab("triglycerides", 500.0),)), kb, "LIPIDS-HIGH")
    assert found is not None
    assert found.severity is Severity.WARNING
    assert "clinic policy" in found.summary


def test_triglycerides_just_under_warning_do_not_fire(kb: KnowledgeBase) -> None:
    assert finding(man(labs=(lab("triglycerides", 499.0),)), kb, "LIPIDS-HIGH") is None


def test_triglycerides_at_critical_threshold_fire_critical(kb: KnowledgeBase) -> None:
    found = finding(man(labs=(lab("triglycerides", 800.0),)), kb, "LIPIDS-HIGH")
    assert found is not None
    assert found.severity is Severity.CRITICAL
    assert "800" in found.summary


def test_active_hypertriglyceridaemia_fires_warning(kb: KnowledgeBase) -> None:
    condition = ConditionRecord(sct("302870006", "Hypertriglyceridemia (disorder)"))
    found = finding(man(conditions=(condition,)), kb, "LIPIDS-HIGH")
    assert found is not None
    assert found.severity is Severity.WARNING
    assert "Hypertriglyceridemia" in found.summary


def test_resolved_hypertriglyceridaemia_does_not_fire(kb: KnowledgeBase) -> None:
    condition = ConditionRecord(
        sct("302870006", "Hypertriglyceridemia (disorder)"), clinical_status="resolved"
    )
    assert finding(man(conditions=(condition,)), kb, "LIPIDS-HIGH") is None


def test_plain_hyperlipidaemia_is_left_to_the_triglyceride_value(kb: KnowledgeBase) -> None:
    condition = ConditionRecord(sct("55822004", "Hyperlipidemia"))
    assert finding(man(conditions=(condition,)), kb, "LIPIDS-HIGH") is None


def test_lipid_disorder_recognised_by_name_says_so(kb: KnowledgeBase) -> None:
    condition = ConditionRecord(text("Familial combined hyperlipidaemia"))
    found = finding(man(conditions=(condition,)), kb, "LIPIDS-HIGH")
    assert found is not None
    assert "recognised by name only" in found.detail


def test_critical_triglycerides_with_a_lipid_disorder_stay_critical(kb: KnowledgeBase) -> None:
    condition = ConditionRecord(sct("302870006", "Hypertriglyceridemia (disorder)"))
    snapshot = man(conditions=(condition,), labs=(lab("triglycerides", 900.0),))
    found = finding(snapshot, kb, "LIPIDS-HIGH")
    assert found is not None
    assert found.severity is Severity.CRITICAL
    assert "Hypertriglyceridemia" in found.detail


def test_clinic_policy_file_moves_the_triglyceride_threshold(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[parameters]\n"tg.warning_mg_dl" = 450\n', encoding="utf-8")
    kb = load_knowledge(policy)
    assert finding(man(labs=(lab("triglycerides", 460.0),)), kb, "LIPIDS-HIGH") is not None


@given(value=st.floats(min_value=0, max_value=3000, allow_nan=False))
def test_lipids_high_severity_follows_the_thresholds(value: float) -> None:
    kb = load_knowledge()
    found = finding(man(labs=(lab("triglycerides", value),)), kb, "LIPIDS-HIGH")
    if value >= kb.number("tg.critical_mg_dl"):
        assert found is not None
        assert found.severity is Severity.CRITICAL
    elif value >= kb.number("tg.warning_mg_dl"):
        assert found is not None
        assert found.severity is Severity.WARNING
    else:
        assert found is None


# --- BASELINE-LABS-MISSING -------------------------------------------------------------


def test_first_prescription_without_labs_names_both_missing(kb: KnowledgeBase) -> None:
    found = finding(man(), kb, "BASELINE-LABS-MISSING")
    assert found is not None
    assert "triglycerides and ALT" in found.summary


def test_first_prescription_with_recent_labs_does_not_fire(kb: KnowledgeBase) -> None:
    assert finding(man(labs=baseline_labs()), kb, "BASELINE-LABS-MISSING") is None


def test_labs_on_the_first_day_of_the_window_count(kb: KnowledgeBase) -> None:
    labs = baseline_labs(days_before(30))
    assert finding(man(labs=labs), kb, "BASELINE-LABS-MISSING") is None


def test_labs_one_day_outside_the_window_fire_and_give_their_date(kb: KnowledgeBase) -> None:
    old = days_before(31)
    found = finding(man(labs=baseline_labs(old)), kb, "BASELINE-LABS-MISSING")
    assert found is not None
    assert old.isoformat() in found.detail


def test_only_the_missing_analyte_is_named(kb: KnowledgeBase) -> None:
    found = finding(man(labs=(lab("triglycerides", 110.0),)), kb, "BASELINE-LABS-MISSING")
    assert found is not None
    assert "no ALT" in found.summary
    assert "triglycerides" not in found.summary.split("no ", 1)[1]


def test_later_prescription_of_a_course_does_not_need_baseline_labs(kb: KnowledgeBase) -> None:
    snapshot = man(courses=(ongoing(40, prescriptions=1),))
    assert finding(snapshot, kb, "BASELINE-LABS-MISSING") is None


def test_both_transaminases_high_are_both_in_the_summary(kb: KnowledgeBase) -> None:
    found = finding(man(labs=(lab("alt", 200.0), lab("ast", 150.0))), kb, "LFT-HIGH")
    assert found is not None
    assert "ALT 200" in found.summary
    assert "AST 150" in found.summary
