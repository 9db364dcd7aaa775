from __future__ import annotations

import pytest

import isotrack.clinical.screening.rules.contraception  # noqa: F401  # registers the rules under test
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.screening.context import assess_course, screen_order
from isotrack.clinical.snapshot import (
    MedicationRecord,
    PatientSnapshot,
    PregnancyCapability,
)
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order, rx, text
from tests.clinical.builders_pregnancy import ago, course, using, woman

CONTRACEPTION_RULES = (
    "CONTRACEPTION-REQUIRED",
    "CONTRACEPTION-MINIPILL",
    "CONTRACEPTION-STJOHNSWORT",
    "MON-CONTRACEPTION-AFTER",
)
ST_JOHNS_WORT = MedicationRecord(rx("258326", "St. John's wort extract"), "active")


def screen(snapshot: PatientSnapshot, kb: KnowledgeBase) -> Assessment:
    return screen_order(snapshot, order(), on=TODAY, kb=kb)


def finding(result: Assessment, rule_id: str) -> Finding:
    return next(f for f in result.findings if f.rule_id == rule_id)


def test_compliant_woman_gets_no_contraception_finding(kb: KnowledgeBase) -> None:
    assert not set(CONTRACEPTION_RULES) & set(screen(woman(), kb).rule_ids)


@pytest.mark.parametrize(
    "snapshot",
    [
        man(medications=(ST_JOHNS_WORT,), courses=(course(100, 10),)),
        woman(
            pregnancy_capability=PregnancyCapability.CANNOT,
            contraception=(using("progestin-only-pill", 90),),
            medications=(ST_JOHNS_WORT,),
            courses=(course(100, 10),),
        ),
    ],
)
def test_patients_who_cannot_get_pregnant_get_no_contraception_finding(
    kb: KnowledgeBase, snapshot: PatientSnapshot
) -> None:
    assert not set(CONTRACEPTION_RULES) & set(screen(snapshot, kb).rule_ids)
    assert not set(CONTRACEPTION_RULES) & set(assess_course(snapshot, on=TODAY, kb=kb).rule_ids)


# --- CONTRACEPTION-REQUIRED ----------------------------------------------------------------
def test_implant_alone_fires_contraception_required(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", 400),))
    found = finding(screen(snap, kb), "CONTRACEPTION-REQUIRED")
    assert found.severity.label == "critical"
    assert found.summary == (
        f"US contraception requirement not documented since {ago(30).isoformat()}: "
        "etonogestrel implant"
    )
    assert "only 1 counts: etonogestrel implant (primary)" in found.detail
    assert "assumed: female, 24 years" in found.detail


def test_no_contraception_fires_contraception_required(kb: KnowledgeBase) -> None:
    found = finding(screen(woman(contraception=()), kb), "CONTRACEPTION-REQUIRED")
    assert found.summary.endswith("none documented")


def test_second_method_one_day_short_fires(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", 400), using("male-condom", 29)))
    assert screen(snap, kb).has("CONTRACEPTION-REQUIRED")


def test_second_method_for_exactly_thirty_days_passes(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", 400), using("male-condom", 30)))
    assert not screen(snap, kb).has("CONTRACEPTION-REQUIRED")


def test_committed_abstinence_passes(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(), committed_abstinence=True)
    assert not screen(snap, kb).has("CONTRACEPTION-REQUIRED")


def test_text_only_method_is_said_in_the_detail(kb: KnowledgeBase) -> None:
    implant = using("implant-etonogestrel", 400)
    snap = woman(contraception=(type(implant)(implant.method, implant.start, by_text=True),))
    found = finding(screen(snap, kb), "CONTRACEPTION-REQUIRED")
    assert "recognised by name only" in found.detail


# --- CONTRACEPTION-MINIPILL ----------------------------------------------------------------
def test_minipill_in_use_fires(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(*woman().contraception, using("progestin-only-pill", 90)))
    found = finding(screen(snap, kb), "CONTRACEPTION-MINIPILL")
    assert found.severity.label == "warning"
    assert "progestin-only minipill" in found.summary


def test_stopped_minipill_does_not_fire(kb: KnowledgeBase) -> None:
    old = using("progestin-only-pill", 400, until_days=200)
    snap = woman(contraception=(*woman().contraception, old))
    assert not screen(snap, kb).has("CONTRACEPTION-MINIPILL")


# --- CONTRACEPTION-STJOHNSWORT -------------------------------------------------------------
def test_st_johns_wort_with_hormonal_method_fires(kb: KnowledgeBase) -> None:
    found = finding(screen(woman(medications=(ST_JOHNS_WORT,)), kb), "CONTRACEPTION-STJOHNSWORT")
    assert "etonogestrel implant" in found.summary


def test_st_johns_wort_by_name_fires_and_says_so(kb: KnowledgeBase) -> None:
    herb = MedicationRecord(text("Hypericum 300 mg capsules"), "active")
    found = finding(screen(woman(medications=(herb,)), kb), "CONTRACEPTION-STJOHNSWORT")
    assert "recognised by name only" in found.detail


def test_st_johns_wort_with_copper_iud_and_condom_does_not_fire(kb: KnowledgeBase) -> None:
    snap = woman(
        medications=(ST_JOHNS_WORT,),
        contraception=(using("iud-copper", 90), using("male-condom", 90)),
    )
    assert not screen(snap, kb).has("CONTRACEPTION-STJOHNSWORT")


def test_stopped_st_johns_wort_does_not_fire(kb: KnowledgeBase) -> None:
    herb = MedicationRecord(rx("258326", "St. John's wort extract"), "stopped")
    assert not screen(woman(medications=(herb,)), kb).has("CONTRACEPTION-STJOHNSWORT")


# --- MON-CONTRACEPTION-AFTER ---------------------------------------------------------------
def test_within_thirty_days_after_last_dose_fires(kb: KnowledgeBase) -> None:
    snap = woman(courses=(course(200, 30),))
    found = finding(assess_course(snap, on=TODAY, kb=kb), "MON-CONTRACEPTION-AFTER")
    assert found.severity.label == "info"
    assert f"until {TODAY.isoformat()}" in found.summary


def test_thirty_one_days_after_last_dose_does_not_fire(kb: KnowledgeBase) -> None:
    snap = woman(courses=(course(200, 31),))
    assert not assess_course(snap, on=TODAY, kb=kb).has("MON-CONTRACEPTION-AFTER")


def test_active_course_does_not_fire_contraception_after(kb: KnowledgeBase) -> None:
    assert not assess_course(woman(courses=(course(20),)), on=TODAY, kb=kb).has(
        "MON-CONTRACEPTION-AFTER"
    )
