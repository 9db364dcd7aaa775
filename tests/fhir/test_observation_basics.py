"""What every kind of observation shares: its status, its date and an absent value."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from isotrack.clinical.codes import LOINC
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.fhir import snapshot_from_bundle
from isotrack.fhir.observations.model import status_code
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import bundle, concept, hcg, observation, quantity, read, weight

ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def snap(kb: KnowledgeBase, *resources: dict[str, Any]) -> PatientSnapshot:
    return snapshot_from_bundle(read(bundle(*resources)), kb=kb)


def dated(**effective: Any) -> dict[str, Any]:
    observed = weight(70, "kg")
    del observed["effectiveDateTime"]
    return {**observed, **effective}


# --- status -------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["final", "amended", "corrected", "appended"])
def test_a_final_amended_corrected_or_appended_observation_is_a_result(
    kb: KnowledgeBase, status: str
) -> None:
    snapshot = snap(kb, weight(70, "kg", status=status))
    assert [w.kg for w in snapshot.weights] == [70]
    assert snapshot.notes == ()


def test_a_preliminary_result_counts_with_a_note(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, weight(70, "kg", status="preliminary"))
    assert [w.kg for w in snapshot.weights] == [70]
    assert any("preliminary result, read as a result" in n for n in snapshot.notes)


@pytest.mark.parametrize("status", ["registered", "unknown"])
def test_a_registered_or_unknown_observation_is_not_a_result_and_says_so(
    kb: KnowledgeBase, status: str
) -> None:
    snapshot = snap(kb, weight(70, "kg", status=status))
    assert snapshot.weights == ()
    assert f"Observation/obs-1: status {status!r} has no result; not counted as a result" in (
        snapshot.notes
    )


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "Entered_In_Error"])
def test_a_cancelled_or_entered_in_error_observation_is_skipped_with_a_note(
    kb: KnowledgeBase, status: str
) -> None:
    snapshot = snap(kb, weight(70, "kg", status=status))
    assert snapshot.weights == ()
    assert f"Observation/obs-1: status {status!r}; skipped" in snapshot.notes


@pytest.mark.parametrize("status", ["Final", "FINAL", " final ", "Amended"])
def test_a_status_is_read_whatever_its_case(kb: KnowledgeBase, status: str) -> None:
    assert [w.kg for w in snap(kb, weight(70, "kg", status=status)).weights] == [70]


def test_a_status_that_is_no_observation_status_is_not_read(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, weight(70, "kg", status="done"))
    assert snapshot.weights == ()
    assert any("'done' is not an Observation status" in n for n in snapshot.notes)


def test_an_observation_without_a_status_is_read_with_a_note(kb: KnowledgeBase) -> None:
    observed = weight(70, "kg")
    del observed["status"]
    snapshot = snap(kb, observed)
    assert [w.kg for w in snapshot.weights] == [70]
    assert "Observation/obs-1: no status; read as a result" in snapshot.notes


def test_status_spellings_come_to_the_fhir_code() -> None:
    assert [status_code(s) for s in ("final", "ENTERED_IN_ERROR", "Entered in error", None)] == [
        "final",
        "entered-in-error",
        "entered-in-error",
        None,
    ]


# --- effective[x] -------------------------------------------------------------------
@pytest.mark.parametrize(
    "effective",
    [
        {"effectiveDateTime": "2026-02-20T09:30:00+01:00"},
        {"effectiveDateTime": "2026-02-20"},
        {"effectivePeriod": {"start": "2026-02-20T09:00:00Z", "end": "2026-02-21T10:00:00Z"}},
        {"effectivePeriod": {"end": "2026-02-20T10:00:00Z"}},
        {"effectiveInstant": "2026-02-20T09:30:00.000Z"},
    ],
)
def test_the_date_comes_from_any_effective_element(
    kb: KnowledgeBase, effective: dict[str, Any]
) -> None:
    (recorded,) = snap(kb, dated(**effective)).weights
    assert recorded.on == date(2026, 2, 20)


def test_a_period_without_start_or_end_is_no_date(kb: KnowledgeBase) -> None:
    snapshot = snap(kb, dated(effectivePeriod={}))
    assert snapshot.weights == ()
    assert any("no effective date; ignored" in n for n in snapshot.notes)


# --- dataAbsentReason -----------------------------------------------------------------
def test_an_absent_value_is_never_a_value(kb: KnowledgeBase) -> None:
    absent = triglycerides_absent()
    snapshot = snap(kb, absent)
    assert snapshot.labs == ()
    assert "Observation/tg-1: triglycerides value absent (error); no value" in snapshot.notes


def test_a_data_absent_reason_beside_a_value_wins(kb: KnowledgeBase) -> None:
    absent = triglycerides_absent(valueQuantity=quantity(900, "mg/dL"))
    assert snap(kb, absent).labs == ()


def test_an_absent_phq9_item_in_a_panel_leaves_the_total(kb: KnowledgeBase) -> None:
    panel = observation(
        "44249-1",
        "PHQ-9 panel",
        component=[
            {"code": concept(LOINC, "44261-6", "total"), "valueInteger": 11},
            {
                "code": concept(LOINC, "44260-8", "item 9"),
                "dataAbsentReason": {"coding": [{"system": ABSENT, "code": "asked-declined"}]},
            },
        ],
    )
    snapshot = snap(kb, panel)
    assert [(m.phq9_total, m.item9) for m in snapshot.mood_screens] == [(11, None)]
    assert any("PHQ-9 item 9 value absent (asked-declined)" in n for n in snapshot.notes)


def test_an_absent_hcg_result_still_reaches_the_hcg_reader(kb: KnowledgeBase) -> None:
    absent = hcg(dataAbsentReason={"coding": [{"system": ABSENT, "code": "error"}]})
    snapshot = snap(kb, absent)
    assert not any("value absent" in n for n in snapshot.notes)
    assert snapshot.pregnancy_tests or any("Observation/hcg-1" in n for n in snapshot.notes)


def triglycerides_absent(**extra: Any) -> dict[str, Any]:
    return observation(
        "2571-8",
        "Triglycerides",
        id="tg-1",
        dataAbsentReason={"coding": [{"system": ABSENT, "code": "error"}], "text": "Error"},
        **extra,
    )
