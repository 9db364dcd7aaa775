from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

import isotrack.clinical.screening.rules.patient  # noqa: F401  # registers the patient rules
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import PatientSnapshot, Weight
from isotrack.knowledge import KnowledgeBase, load_knowledge
from tests.clinical.builders import TODAY, man, order
from tests.clinical.builders_labs import days_before


def screen(snapshot: PatientSnapshot, kb: KnowledgeBase) -> Assessment:
    return screen_order(snapshot, order(), on=TODAY, kb=kb)


def finding(snapshot: PatientSnapshot, kb: KnowledgeBase, rule_id: str) -> Finding | None:
    return next((f for f in screen(snapshot, kb).findings if f.rule_id == rule_id), None)


def born_years_ago(years: int, days_extra: int = 0) -> date:
    """A birth date giving exactly ``years`` on TODAY (minus ``days_extra`` days)."""
    return days_before(days_extra, TODAY.replace(year=TODAY.year - years))


# --- AGE-UNDER-12 / AGE-ADOLESCENT-BONE ------------------------------------------


def test_eleven_year_old_fires_age_under_12(kb: KnowledgeBase) -> None:
    found = finding(man(birth_date=born_years_ago(11)), kb, "AGE-UNDER-12")
    assert found is not None
    assert "11 years" in found.summary


def test_twelfth_birthday_today_is_not_under_12_but_adolescent(kb: KnowledgeBase) -> None:
    result = screen(man(birth_date=born_years_ago(12)), kb)
    assert not result.has("AGE-UNDER-12")
    assert result.has("AGE-ADOLESCENT-BONE")


def test_day_before_twelfth_birthday_is_under_12(kb: KnowledgeBase) -> None:
    birth = TODAY.replace(year=TODAY.year - 12, day=TODAY.day + 1)
    assert screen(man(birth_date=birth), kb).has("AGE-UNDER-12")


def test_seventeen_year_old_fires_adolescent_bone_as_info(kb: KnowledgeBase) -> None:
    found = finding(man(birth_date=born_years_ago(17, 300)), kb, "AGE-ADOLESCENT-BONE")
    assert found is not None
    assert found.severity.label == "info"


def test_eighteenth_birthday_today_is_adult(kb: KnowledgeBase) -> None:
    result = screen(man(birth_date=born_years_ago(18)), kb)
    assert not result.has("AGE-ADOLESCENT-BONE")
    assert not result.has("AGE-UNDER-12")


def test_unknown_birth_date_is_an_assumption_and_data_missing(kb: KnowledgeBase) -> None:
    result = screen(man(birth_date=None), kb)
    assert not result.has("AGE-UNDER-12")
    assert not result.has("AGE-ADOLESCENT-BONE")
    assert sum("birth date is unknown" in note for note in result.assumptions) == 1
    data_missing = next(f for f in result.findings if f.rule_id == "DATA-MISSING")
    assert "birth date" in data_missing.summary


@given(age=st.integers(min_value=1, max_value=90))
def test_age_rules_split_ages_into_three_bands(age: int) -> None:
    kb = load_knowledge()
    result = screen(man(birth_date=born_years_ago(age, 100)), kb)
    assert result.has("AGE-UNDER-12") == (age < kb.number("age.min_years"))
    adolescent = kb.number("age.min_years") <= age < kb.number("age.adult_years")
    assert result.has("AGE-ADOLESCENT-BONE") == adolescent


# --- WEIGHT-MISSING ----------------------------------------------------------------


def test_no_weight_at_all_fires_and_says_none_on_record(kb: KnowledgeBase) -> None:
    found = finding(man(weights=()), kb, "WEIGHT-MISSING")
    assert found is not None
    assert "No body weight on record" in found.summary
    assert found.policy


def test_old_weight_fires_and_gives_the_last_one(kb: KnowledgeBase) -> None:
    old = Weight(68.5, days_before(31))
    found = finding(man(weights=(old,)), kb, "WEIGHT-MISSING")
    assert found is not None
    assert f"68.5 kg on {old.on.isoformat()}" in found.summary


def test_weight_on_the_last_day_of_the_window_does_not_fire(kb: KnowledgeBase) -> None:
    snapshot = man(weights=(Weight(70.0, days_before(30)),))
    assert finding(snapshot, kb, "WEIGHT-MISSING") is None


# --- DATA-MISSING ------------------------------------------------------------------------


def test_missing_prefetch_keys_are_listed_in_one_info_finding(kb: KnowledgeBase) -> None:
    snapshot = man(missing=("prefetch 'labs'", "prefetch 'conditions'"))
    result = screen(snapshot, kb)
    findings = [f for f in result.findings if f.rule_id == "DATA-MISSING"]
    assert len(findings) == 1
    assert findings[0].severity.label == "info"
    assert "prefetch 'labs'" in findings[0].detail
    assert "prefetch 'conditions'" in findings[0].detail


def test_nothing_missing_means_no_data_missing_finding(kb: KnowledgeBase) -> None:
    assert not screen(man(), kb).has("DATA-MISSING")


def test_long_missing_list_keeps_the_summary_within_the_card_limit(kb: KnowledgeBase) -> None:
    snapshot = man(missing=tuple(f"prefetch key number {n}" for n in range(20)))
    found = finding(snapshot, kb, "DATA-MISSING")
    assert found is not None
    assert len(found.summary) <= 140
    assert "prefetch key number 19" in found.detail
