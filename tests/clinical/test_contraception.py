from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.codes import SNOMED, Coding, Concept
from isotrack.clinical.screening.contraception import contraception_status, method_for, removal_for
from isotrack.clinical.snapshot import (
    ConditionRecord,
    ContraceptionUse,
    PatientSnapshot,
    ProcedureRecord,
    Sex,
)
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, rx, sct, text
from tests.clinical.builders_pregnancy import ago, using, woman

EU = "eu-ppp-2018"


# --- method_for: codes from the sample data, text as a last resort -------------------------
@pytest.mark.parametrize(
    ("concept", "method"),
    [
        (rx("389221", "Etonogestrel 68 MG Drug Implant"), "implant-etonogestrel"),
        (sct("169553002", "Insertion of subcutaneous contraceptive"), "implant-etonogestrel"),
        (
            rx("1000126", "1 ML medroxyprogesterone acetate 150 MG/ML Injection"),
            "injection-medroxyprogesterone",
        ),
        (rx("1534809", "norelgestromin / ethinyl estradiol patch"), "patch"),
        (rx("1367439", "NuvaRing 0.12/0.015 MG per 24HR 21 Day Vaginal Ring"), "vaginal-ring"),
        (rx("807283", "Mirena 52 MG Intrauterine System"), "iud-levonorgestrel"),
        (rx("1856546", "Kyleena 19.5 MG Intrauterine System"), "iud-levonorgestrel"),
        (sct("65200003", "Insertion of intrauterine contraceptive device"), "iud-unspecified"),
        (rx("751905", "Trinessa 28 Day Pack"), "combined-oral"),
        (rx("749762", "Seasonique 91 Day Pack"), "combined-oral"),
        (rx("235389", "Mestranol / Norethynodrel [Enovid]"), "combined-oral"),
        (rx("748962", "Camila 28 Day Pack"), "progestin-only-pill"),
        (rx("831533", "Errin 28 Day Pack"), "progestin-only-pill"),
        (rx("757594", "Jolivette 28 Day Pack"), "progestin-only-pill"),
    ],
)
def test_sample_data_codes_name_their_method(
    kb: KnowledgeBase, concept: Concept, method: str
) -> None:
    assert method_for(concept, kb) == (method, False)


def test_text_only_match_is_flagged(kb: KnowledgeBase) -> None:
    assert method_for(text("Nexplanon 68 mg implant"), kb) == ("implant-etonogestrel", True)


def test_minipill_text_wins_over_the_combined_pill(kb: KnowledgeBase) -> None:
    assert method_for(text("norethindrone 0.35 MG Oral Tablet"), kb) == (
        "progestin-only-pill",
        True,
    )


def test_female_condom_is_not_a_male_condom(kb: KnowledgeBase) -> None:
    assert method_for(text("female condom"), kb) == ("female-condom", True)
    assert method_for(text("condoms"), kb) == ("male-condom", True)


@pytest.mark.parametrize(
    "concept",
    [
        rx("198031", "24hr nicotine transdermal patch"),
        rx("1736854", "Cisplatin 50 MG Injection"),
        sct("76601001", "Intramuscular injection"),
        text("Repair of diaphragmatic hernia"),
    ],
)
def test_other_products_are_not_contraception(kb: KnowledgeBase, concept: Concept) -> None:
    assert method_for(concept, kb) is None


def test_removal_procedures_end_methods_and_are_not_methods(kb: KnowledgeBase) -> None:
    implant_out = sct("301807007", "Removal of subcutaneous contraceptive")
    iud_out = sct("68254000", "Removal of intrauterine device")
    assert method_for(implant_out, kb) is None
    assert removal_for(implant_out, kb) == ("implant-etonogestrel",)
    assert set(removal_for(iud_out, kb)) == {"iud-levonorgestrel", "iud-copper", "iud-unspecified"}


# --- contraception_status: US programme (default) ------------------------------------------
def test_active_implant_is_a_primary_method(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(ContraceptionUse("implant-etonogestrel", start=date(2019, 1, 2)),))
    status = contraception_status(snap, TODAY, kb)
    assert [m.method.id for m in status.primary_methods] == ["implant-etonogestrel"]
    assert status.primary_methods[0].covers_window
    assert not status.met
    assert "needs 2 methods" in status.reason
    assert status.describe().startswith("etonogestrel implant (primary) since 2019-01-02")


def test_implant_and_condom_for_thirty_days_meet_the_us_requirement(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", 30), using("male-condom", 30)))
    status = contraception_status(snap, TODAY, kb)
    assert status.met
    assert status.window_start == ago(30)


def test_second_method_started_29_days_ago_is_too_recent(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", 400), using("male-condom", 29)))
    status = contraception_status(snap, TODAY, kb)
    assert not status.met
    assert "not documented for the whole period: male condom" in status.reason


@settings(deadline=None)
@given(days=st.integers(min_value=0, max_value=120))
def test_us_requirement_needs_the_whole_window(kb: KnowledgeBase, days: int) -> None:
    snap = woman(contraception=(using("combined-oral", days), using("male-condom", days)))
    status = contraception_status(snap, TODAY, kb)
    assert status.met is (days >= kb.number("ppp.contraception_before_days"))


def test_unknown_start_cannot_prove_thirty_days(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("implant-etonogestrel", None), using("male-condom", 90)))
    status = contraception_status(snap, TODAY, kb)
    assert not status.met
    assert "start date unknown" in status.reason


def test_two_secondary_methods_are_not_enough(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("male-condom", 90), using("diaphragm", 90)))
    status = contraception_status(snap, TODAY, kb)
    assert not status.met
    assert "none is primary" in status.reason


def test_minipill_does_not_count_in_the_us(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("progestin-only-pill", 90), using("male-condom", 90)))
    status = contraception_status(snap, TODAY, kb)
    assert not status.met
    assert "not acceptable under this programme: progestin-only minipill" in status.reason


def test_iud_order_and_insertion_are_one_device(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("iud-levonorgestrel", 90), using("iud-unspecified", 88)))
    status = contraception_status(snap, TODAY, kb)
    assert not status.met
    assert "only 1 counts" in status.reason


def test_removal_ends_the_implant(kb: KnowledgeBase) -> None:
    removal = ProcedureRecord(sct("301807007", "Removal of subcutaneous contraceptive"), ago(10))
    snap = woman(
        contraception=(using("implant-etonogestrel", 400), using("male-condom", 90)),
        procedures=(removal,),
    )
    status = contraception_status(snap, TODAY, kb)
    assert not status.uses("implant-etonogestrel")
    assert not status.met


def test_earlier_removal_does_not_end_a_newer_implant(kb: KnowledgeBase) -> None:
    removal = ProcedureRecord(sct("301807007", "Removal of subcutaneous contraceptive"), ago(500))
    snap = woman(procedures=(removal,))
    assert contraception_status(snap, TODAY, kb).met


def test_stopped_method_is_not_in_use(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("combined-oral", 200, until_days=40),))
    assert contraception_status(snap, TODAY, kb).methods == ()


def test_committed_abstinence_meets_the_us_requirement(kb: KnowledgeBase) -> None:
    status = contraception_status(woman(contraception=(), committed_abstinence=True), TODAY, kb)
    assert status.met
    assert status.abstinence


def test_no_contraception_says_so(kb: KnowledgeBase) -> None:
    status = contraception_status(woman(contraception=()), TODAY, kb)
    assert not status.met
    assert status.reason.startswith("no contraception is documented")


def test_tubal_ligation_history_condition_is_a_primary_method(kb: KnowledgeBase) -> None:
    tubal = ConditionRecord(sct("267020005", "History of tubal ligation (situation)"), ago(900))
    snap = woman(contraception=(using("male-condom", 60),), conditions=(tubal,))
    status = contraception_status(snap, TODAY, kb)
    assert status.uses("tubal-sterilisation")
    assert status.met


# --- EU programme ----------------------------------------------------------------------------
def test_eu_one_user_independent_method_is_enough(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("iud-copper", 60),))
    assert contraception_status(snap, TODAY, kb, EU).met


def test_eu_pill_and_condom_are_complementary(kb: KnowledgeBase) -> None:
    snap = woman(contraception=(using("combined-oral", 60), using("male-condom", 60)))
    assert contraception_status(snap, TODAY, kb, EU).met


def test_eu_two_hormonal_user_dependent_methods_are_not_complementary(kb: KnowledgeBase) -> None:
    snap = woman(
        contraception=(using("combined-oral", 60), using("injection-medroxyprogesterone", 60))
    )
    status = contraception_status(snap, TODAY, kb, EU)
    assert not status.met
    assert status.methods[0].programme_class == "user-dependent"


def test_eu_does_not_count_abstinence(kb: KnowledgeBase) -> None:
    status = contraception_status(woman(contraception=(), committed_abstinence=True), TODAY, kb, EU)
    assert not status.met


# --- Synthea: a patient with an active etonogestrel implant ----------------------------------
def _snapshot_from_bundle(path: Path, kb: KnowledgeBase) -> PatientSnapshot:
    """What the FHIR reader does for contraception: active MedicationRequests and
    completed Procedures through method_for, removals kept as procedures."""
    bundle = json.loads(gzip.decompress(path.read_bytes()))
    uses, procedures = [], []
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "MedicationRequest" and res.get("status") == "active":
            coding = res["medicationCodeableConcept"]["coding"][0]
            concept = rx(coding["code"], coding["display"])
            found = method_for(concept, kb)
            if found:
                start = date.fromisoformat(res["authoredOn"][:10])
                uses.append(ContraceptionUse(found[0], start=start, by_text=found[1]))
        if res["resourceType"] == "Procedure":
            coding = res["code"]["coding"][0]
            when = res.get("performedPeriod", {}).get("start") or res.get("performedDateTime")
            performed = date.fromisoformat(when[:10])
            concept = Concept((Coding(SNOMED, coding["code"], coding["display"]),))
            procedures.append(ProcedureRecord(concept, performed, res.get("status")))
            found = method_for(concept, kb)
            if found:
                uses.append(ContraceptionUse(found[0], start=performed, by_text=found[1]))
    return PatientSnapshot(
        "synthea", sex=Sex.FEMALE, contraception=tuple(uses), procedures=tuple(procedures)
    )


def test_synthea_patient_with_active_implant_has_a_primary_method(
    kb: KnowledgeBase, synthea_dir: Path
) -> None:
    path = next(synthea_dir.glob("Carin_Kerluke_*.json.gz"), None)
    if path is None:
        pytest.skip("sample patient Carin Kerluke not in the Synthea folder")
    snap = _snapshot_from_bundle(path, kb)
    status = contraception_status(snap, date(2021, 3, 1), kb)
    assert [m.method.id for m in status.primary_methods] == ["implant-etonogestrel"]
    assert status.primary_methods[0].since == date(2020, 10, 24)
    assert not status.met  # one method: the US programme needs two
