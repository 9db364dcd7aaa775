from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.codes import ICD10CM, Coding, Concept
from isotrack.clinical.screening.context import ScreeningContext
from isotrack.clinical.screening.pregnancy import (
    cbp_status,
    negative_in_window,
    pregnancy_capability,
    pregnancy_context,
    recorded_pregnancies,
    window_first_day,
)
from isotrack.clinical.snapshot import (
    ConditionRecord,
    PregnancyCapability,
    ProcedureRecord,
    Sex,
)
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, sct, text
from tests.clinical.builders_pregnancy import ago, negative, using, woman


def born_aged(years: int) -> date:
    return date(TODAY.year - years, 1, 1)


def test_female_of_child_bearing_age_is_assumed_able_to_get_pregnant(kb: KnowledgeBase) -> None:
    status = pregnancy_capability(woman(), TODAY, kb)
    assert status.can_get_pregnant
    assert status.assumed
    assert status.label == "can get pregnant (assumed: female, 24 years)"


def test_recorded_category_overrides_the_assumption(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_capability=PregnancyCapability.CANNOT)
    status = pregnancy_capability(snap, TODAY, kb)
    assert not status.can_get_pregnant
    assert not status.assumed
    assert status.assumption == ""


def test_recorded_can_get_pregnant_wins_for_a_man(kb: KnowledgeBase) -> None:
    status = pregnancy_capability(man(pregnancy_capability=PregnancyCapability.CAN), TODAY, kb)
    assert status.can_get_pregnant
    assert not status.assumed


def test_man_is_assumed_not_able_to_get_pregnant(kb: KnowledgeBase) -> None:
    status = pregnancy_capability(man(), TODAY, kb)
    assert not status.can_get_pregnant
    assert status.basis == "sex"
    assert not status.pregnancy_evidence_counts


def test_hysterectomy_procedure_means_not_able(kb: KnowledgeBase) -> None:
    surgery = ProcedureRecord(sct("236886002", "Hysterectomy"), ago(400), "completed")
    status = pregnancy_capability(woman(procedures=(surgery,)), TODAY, kb)
    assert not status.can_get_pregnant
    assert "Hysterectomy" in status.reason


def test_hysterectomy_planned_for_later_does_not_count(kb: KnowledgeBase) -> None:
    surgery = ProcedureRecord(sct("236886002", "Hysterectomy"), ago(-10), "preparation")
    assert pregnancy_capability(woman(procedures=(surgery,)), TODAY, kb).can_get_pregnant


def test_bilateral_oophorectomy_status_condition_means_not_able(kb: KnowledgeBase) -> None:
    absent = Concept((Coding(ICD10CM, "Z90.722", "Acquired absence of ovaries, bilateral"),))
    status = pregnancy_capability(woman(conditions=(ConditionRecord(absent),)), TODAY, kb)
    assert not status.can_get_pregnant


def test_menopause_condition_means_not_able(kb: KnowledgeBase) -> None:
    meno = ConditionRecord(sct("76498008", "Postmenopausal state"), onset=ago(300))
    snap = woman(birth_date=born_aged(50), conditions=(meno,))
    assert not pregnancy_capability(snap, TODAY, kb).can_get_pregnant


def test_perimenopause_is_not_menopause(kb: KnowledgeBase) -> None:
    peri = ConditionRecord(text("Perimenopausal state"), onset=ago(300))
    snap = woman(birth_date=born_aged(48), conditions=(peri,))
    assert pregnancy_capability(snap, TODAY, kb).can_get_pregnant


def test_tubal_sterilisation_does_not_change_the_category(kb: KnowledgeBase) -> None:
    tubal = ConditionRecord(sct("267020005", "History of tubal ligation (situation)"), ago(900))
    assert pregnancy_capability(woman(conditions=(tubal,)), TODAY, kb).can_get_pregnant


def test_hysterectomy_known_by_name_only_is_not_used_but_said(kb: KnowledgeBase) -> None:
    surgery = ProcedureRecord(text("hysterectomy (outside hospital)"), ago(400))
    status = pregnancy_capability(woman(procedures=(surgery,)), TODAY, kb)
    assert status.can_get_pregnant
    assert "recognised by name only" in status.reason


@pytest.mark.parametrize(("age", "expected"), [(9, False), (10, True), (55, True), (56, False)])
def test_assumed_age_range_edges(kb: KnowledgeBase, age: int, expected: bool) -> None:
    status = pregnancy_capability(woman(birth_date=born_aged(age)), TODAY, kb)
    assert status.can_get_pregnant is expected


@settings(deadline=None)
@given(age=st.integers(min_value=0, max_value=120))
def test_female_capability_follows_the_age_parameters(kb: KnowledgeBase, age: int) -> None:
    low, high = kb.number("ppp.cbp_assumed_min_age"), kb.number("ppp.cbp_assumed_max_age")
    status = pregnancy_capability(woman(birth_date=born_aged(age)), TODAY, kb)
    assert status.can_get_pregnant is (low <= age <= high)
    assert status.assumed


def test_unknown_age_is_conservatively_able(kb: KnowledgeBase) -> None:
    status = pregnancy_capability(woman(birth_date=None), TODAY, kb)
    assert status.can_get_pregnant
    assert "no birth date" in status.reason


@pytest.mark.parametrize("sex", [Sex.UNKNOWN, Sex.OTHER])
def test_unknown_or_other_sex_is_conservatively_able(kb: KnowledgeBase, sex: Sex) -> None:
    status = pregnancy_capability(woman(sex=sex), TODAY, kb)
    assert status.can_get_pregnant
    assert "treated as able" in status.reason


def test_cbp_status_adds_the_assumption_once(kb: KnowledgeBase) -> None:
    ctx = ScreeningContext(snapshot=woman(), on=TODAY, kb=kb)
    cbp_status(ctx)
    cbp_status(ctx)
    assert len(ctx.assumptions) == 1
    assert "assumed able to get pregnant (female, 24 years)" in ctx.assumptions[0]


def test_recorded_capability_adds_no_assumption(kb: KnowledgeBase) -> None:
    snap = woman(pregnancy_capability=PregnancyCapability.CAN)
    ctx = ScreeningContext(snapshot=snap, on=TODAY, kb=kb)
    cbp_status(ctx)
    assert ctx.assumptions == []


def test_test_window_counts_the_specimen_day_as_day_one(kb: KnowledgeBase) -> None:
    assert window_first_day(TODAY, kb) == ago(6)
    assert negative_in_window(woman(pregnancy_tests=(negative(6),)), TODAY, kb) is not None
    assert negative_in_window(woman(pregnancy_tests=(negative(7),)), TODAY, kb) is None


def test_pregnancy_without_abatement_is_active(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(sct("72892002", "Normal pregnancy"), onset=ago(40))
    ctx = ScreeningContext(snapshot=woman(conditions=(preg,)), on=TODAY, kb=kb)
    assert [(p.what, p.on) for p in recorded_pregnancies(ctx)] == [("Normal pregnancy", ago(40))]


def test_pregnancy_with_abatement_is_not_active(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(
        sct("72892002", "Normal pregnancy"),
        onset=ago(300),
        abatement=ago(40),
        clinical_status="resolved",
    )
    ctx = ScreeningContext(snapshot=woman(conditions=(preg,)), on=TODAY, kb=kb)
    assert recorded_pregnancies(ctx) == []


def test_miscarriage_is_not_an_ongoing_pregnancy(kb: KnowledgeBase) -> None:
    loss = ConditionRecord(sct("19169002", "Miscarriage in first trimester"), onset=ago(40))
    ctx = ScreeningContext(snapshot=woman(conditions=(loss,)), on=TODAY, kb=kb)
    assert recorded_pregnancies(ctx) == []


def test_later_termination_ends_an_unabated_pregnancy(kb: KnowledgeBase) -> None:
    preg = ConditionRecord(sct("72892002", "Normal pregnancy"), onset=ago(60))
    end = ProcedureRecord(sct("714812005", "Induced termination of pregnancy"), ago(30))
    ctx = ScreeningContext(snapshot=woman(conditions=(preg,), procedures=(end,)), on=TODAY, kb=kb)
    assert recorded_pregnancies(ctx) == []


def test_context_shows_capability_and_contraception(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", 400),))
    lines = dict(pregnancy_context(ScreeningContext(snapshot=snap, on=TODAY, kb=kb)))
    assert lines["pregnancy capability"] == "can get pregnant (assumed: female, 24 years)"
    assert lines["contraception"].startswith(
        f"etonogestrel implant (primary) since {ago(400).isoformat()}; requirement not met: "
        "US programme needs 2 methods"
    )
    assert lines["last pregnancy test"].startswith("negative on")


def test_context_for_a_man_has_no_contraception_line(kb: KnowledgeBase) -> None:
    lines = pregnancy_context(ScreeningContext(snapshot=man(), on=TODAY, kb=kb))
    assert lines == [
        ("pregnancy capability", "cannot get pregnant (assumed: administrative gender male)")
    ]


def test_context_shows_the_latest_pregnancy_status_with_its_date(kb: KnowledgeBase) -> None:
    from isotrack.clinical.snapshot import PregnancyState, PregnancyStatus

    statuses = (
        PregnancyStatus(ago(400), PregnancyState.PREGNANT),
        PregnancyStatus(ago(5), PregnancyState.UNKNOWN, detail="Possible pregnancy"),
    )
    snap = woman(pregnancy_statuses=statuses)
    lines = dict(pregnancy_context(ScreeningContext(snapshot=snap, on=TODAY, kb=kb)))
    assert lines["pregnancy status"] == f"unknown (Possible pregnancy) on {ago(5).isoformat()}"
