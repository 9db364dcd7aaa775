"""Medications as EHRs write them: CodeableConcept, contained or bundled Medication,
R5 ``medication``, each Medication.ingredient, RxNorm products and NDC codes, and
MedicationAdministration. One clinical situation, every representation, the same
findings."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.codes import Coding, Concept, match
from isotrack.fhir import decode_bundle, find_isotretinoin_order
from isotrack.fhir.bulk import medication_of as bulk_medication_of
from isotrack.fhir.order import medication_of
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import KnowledgeBase, default_knowledge
from isotrack.knowledge.rxnorm import ndc_product_key
from tests.fhir.builders import ISOTRETINOIN_40, bundle
from tests.fhir.builders_medications import (
    MEDICATION_SHAPES,
    NDC,
    RXNORM,
    administration,
    codeable,
    coding,
    named,
    request,
    screened,
    snapshot_of,
    statement,
)

ON = date(2026, 3, 2)
KB = default_knowledge()

DOXYCYCLINE = {
    "ingredient": codeable(coding(RXNORM, "3640", "doxycycline")),
    "scd": codeable(coding(RXNORM, "1649988", "doxycycline hyclate 100 MG Oral Capsule")),
    "pack": codeable(coding(RXNORM, "757466")),
}
VITAMIN_A = codeable(coding(RXNORM, "11246", "vitamin A"))
TETRACYCLINE_PACK = codeable(coding(RXNORM, "758019"))


def doxycycline_order(shape: str, code: str, status: str) -> list[dict[str, object]]:
    return named(request(status, "2026-02-20", "doxy"), DOXYCYCLINE[code], shape, "doxy")


# --- one situation, every representation -------------------------------------------------
BASELINE = screened(KB, [], ON)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from(MEDICATION_SHAPES),
    code=st.sampled_from(sorted(DOXYCYCLINE)),
    status=st.sampled_from(["active", "on-hold"]),
)
def test_an_active_doxycycline_order_fires_tetracycline_however_it_is_written(
    shape: str, code: str, status: str
) -> None:
    found = screened(KB, doxycycline_order(shape, code, status), ON)
    assert found == tuple(sorted((*BASELINE, "TETRACYCLINE")))


@settings(max_examples=20, deadline=None)
@given(
    shape=st.sampled_from(MEDICATION_SHAPES),
    record=st.sampled_from(["request", "statement"]),
)
def test_a_multivitamin_with_vitamin_a_fires_vitamin_a_however_it_is_written(
    shape: str, record: str
) -> None:
    resource = (
        request("active", "2026-02-20", "mv")
        if record == "request"
        else statement("active", "2026-01-01", "mv")
    )
    found = screened(KB, named(resource, VITAMIN_A, shape, "mv"), ON)
    assert found == tuple(sorted((*BASELINE, "VITAMIN-A")))


# --- ingredients -------------------------------------------------------------------------
def test_a_multivitamin_listing_vitamin_a_among_its_ingredients_is_vitamin_a() -> None:
    multivitamin = {
        "resourceType": "Medication",
        "id": "mv",
        "code": codeable(text="Multivitamin with minerals"),
        "ingredient": [
            {"itemCodeableConcept": codeable(text="Vitamin C 60 mg")},
            {"itemCodeableConcept": VITAMIN_A},
            {"itemCodeableConcept": codeable(text="Zinc 15 mg")},
        ],
    }
    resource = {**request("active", "2026-02-20", "mv-order"), "contained": [multivitamin]}
    resource["medicationReference"] = {"reference": "#mv"}
    found, _ = medication_of(decode_bundle(bundle(resource)).of_type(MedicationRequest)[0], None)
    assert match(found, KB.valueset("vitamin-a")).matched
    assert "Multivitamin with minerals" in found.label


def test_a_combination_pack_containing_tetracycline_fires_tetracycline() -> None:
    order = named(request("active", "2026-02-20", "pack"), TETRACYCLINE_PACK, "codeable", "pack")
    assert "TETRACYCLINE" in screened(KB, order, ON)


def test_st_johns_wort_named_by_a_contained_substance_is_read() -> None:
    wort = codeable(coding(RXNORM, "258326", "St. John's wort extract"))
    resource = named(statement("active", "2026-01-01", "sjw"), wort, "ingredient-substance", "s")
    (record,) = snapshot_of(KB, resource, ON).medications
    assert match(record.concept, KB.valueset("st-johns-wort")).matched


def test_an_ingredient_reference_that_resolves_nowhere_keeps_its_display() -> None:
    product = {
        "resourceType": "Medication",
        "id": "m",
        "ingredient": [{"itemReference": {"reference": "Substance/far", "display": "retinol"}}],
    }
    resource = {**request("active", "2026-02-20", "r"), "contained": [product]}
    resource["medicationReference"] = {"reference": "#m"}
    assert "VITAMIN-A" in screened(KB, [resource], ON)


# --- NDC ---------------------------------------------------------------------------------
def test_every_form_of_an_ndc_reduces_to_its_labeler_and_product() -> None:
    assert {ndc_product_key(c) for c in ("78206-145-01", "78206014501", "78206-145")} == {
        "78206-0145"
    }
    assert ndc_product_key("0023-5858-01") == ndc_product_key("00023585801") == "00023-5858"
    assert ndc_product_key("0023585801") is None  # 10 digits without hyphens: ambiguous
    assert ndc_product_key("not-an-ndc") is None


def test_an_ndc_coded_product_matches_the_value_sets_of_its_rxnorm_product() -> None:
    nexplanon = Concept((Coding(NDC, "78206014501"),))
    assert match(nexplanon, KB.valueset("contraception-implant")).matched
    unknown = Concept((Coding(NDC, "99999-999-99"),))
    assert not match(unknown, KB.valueset("contraception-implant")).matched


# --- R5 and the order under review -------------------------------------------------------
def test_an_r5_shaped_isotretinoin_order_is_the_order_under_review(kb: KnowledgeBase) -> None:
    order = named(request("draft", "2026-03-02", "r5-order"), ISOTRETINOIN_40, "r5-concept", "o")
    found = find_isotretinoin_order(decode_bundle(bundle(*order)), kb=kb)
    assert found is not None
    assert found.id == "r5-order"


def test_an_isotretinoin_order_through_a_medication_ingredient_is_recognised(
    kb: KnowledgeBase,
) -> None:
    ingredient = codeable(coding(RXNORM, "6064", "isotretinoin"))
    order = named(request("draft", "2026-03-02", "ingr"), ingredient, "ingredient", "o")
    found = find_isotretinoin_order(decode_bundle(bundle(*order)), kb=kb)
    assert found is not None
    assert found.id == "ingr"


# --- MedicationAdministration --------------------------------------------------------------
def test_an_administration_in_progress_is_an_active_medication() -> None:
    given = named(
        administration("in-progress", "2026-03-02", "a1"), DOXYCYCLINE["scd"], "codeable", "a"
    )
    (record,) = snapshot_of(KB, given, ON).medications
    assert (record.status, record.start) == ("active", ON)
    assert record.active_on(ON)


def test_an_administration_not_done_is_no_medication() -> None:
    refused = named(
        administration("not-done", "2026-03-02", "a2"), DOXYCYCLINE["scd"], "codeable", "a"
    )
    assert snapshot_of(KB, refused, ON).medications == ()


def test_a_completed_administration_is_a_dose_given_not_an_active_drug() -> None:
    given = named(
        administration("completed", "2026-02-01", "a3", r5=True), VITAMIN_A, "r5-concept", "a"
    )
    (record,) = snapshot_of(KB, given, ON).medications
    assert (record.status, record.start, record.end) == (
        "completed",
        date(2026, 2, 1),
        date(2026, 2, 1),
    )
    assert "VITAMIN-A" not in screened(KB, given, ON)


def test_an_r5_statement_recorded_is_a_medication_in_use() -> None:
    recorded = named(
        statement("recorded", "2026-01-01", "r5"), DOXYCYCLINE["scd"], "r5-concept", "s"
    )
    assert "TETRACYCLINE" in screened(KB, recorded, ON)


def test_a_bulk_line_names_its_medication_in_r4_or_r5() -> None:
    r4 = b'{"resourceType":"MedicationRequest","medicationReference":{"reference":"Medication/m1"}}'
    r5 = b'{"resourceType":"MedicationRequest","medication":{"reference":'
    r5 += b'{"reference":"Medication/m1"}}}'
    assert bulk_medication_of(r4) == bulk_medication_of(r5) == "m1"
