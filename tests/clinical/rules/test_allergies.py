from __future__ import annotations

import isotrack.clinical.screening.rules.allergies  # noqa: F401  # registers the allergy rules
from isotrack.clinical.codes import RXNORM
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import AllergyRecord
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders import TODAY, man, order
from tests.clinical.builders_drugs import (
    NUT_ALLERGY,
    PEANUT_ALLERGY,
    SOY_ALLERGY,
    TREE_NUT,
    allergy,
)


def screen(kb: KnowledgeBase, *allergies: AllergyRecord, **order_changes: object) -> Assessment:
    return screen_order(man(allergies=allergies), order(**order_changes), on=TODAY, kb=kb)


def only(result: Assessment, rule_id: str) -> Finding:
    found = [f for f in result.findings if f.rule_id == rule_id]
    assert len(found) == 1, found
    return found[0]


# --- HYPERSENS-ISOTRETINOIN ----------------------------------------------------------------


def test_isotretinoin_allergy_by_rxnorm_fires_critical(kb: KnowledgeBase) -> None:
    finding = only(
        screen(kb, allergy("6064", "isotretinoin", system=RXNORM)), "HYPERSENS-ISOTRETINOIN"
    )
    assert finding.severity.label == "critical"
    assert "isotretinoin" in finding.summary


def test_vitamin_a_allergy_by_name_fires_and_says_so(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, allergy(None, "Allergy to vitamin A")), "HYPERSENS-ISOTRETINOIN")
    assert "recognised by name only" in finding.detail


def test_acitretin_substance_allergy_fires(kb: KnowledgeBase) -> None:
    assert screen(kb, allergy("386938006", "Acitretin (substance)")).has("HYPERSENS-ISOTRETINOIN")


def test_resolved_isotretinoin_allergy_does_not_fire(kb: KnowledgeBase) -> None:
    resolved = allergy("6064", "isotretinoin", system=RXNORM, status="resolved")
    assert not screen(kb, resolved).has("HYPERSENS-ISOTRETINOIN")


def test_vitamin_and_mineral_allergy_is_not_vitamin_a(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy(None, "Allergy to vitamin and mineral supplement"))
    assert not result.has("HYPERSENS-ISOTRETINOIN")


def test_synthea_aspirin_allergy_does_not_fire(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy("1191", "Aspirin", system=RXNORM))
    assert not result.has("HYPERSENS-ISOTRETINOIN")
    assert not result.has("HYPERSENS-EXCIPIENT")


# --- HYPERSENS-EXCIPIENT ----------------------------------------------------------------------


def test_synthea_soy_allergy_with_conventional_capsules_warns(kb: KnowledgeBase) -> None:
    finding = only(screen(kb, allergy(*SOY_ALLERGY)), "HYPERSENS-EXCIPIENT")
    assert finding.severity.label == "warning"
    assert "soy" in finding.summary
    assert "Allergy to soya" in finding.summary
    # Every oral product lists soybean oil, so none is offered as an alternative.
    assert "Every product in the knowledge base lists one of these excipients" in finding.detail


def test_synthea_peanut_allergy_with_conventional_capsules_warns(kb: KnowledgeBase) -> None:
    assert screen(kb, allergy(*PEANUT_ALLERGY)).has("HYPERSENS-EXCIPIENT")


def test_peanut_allergy_with_absorica_warns_because_of_its_soybean_oil(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy(*PEANUT_ALLERGY), product="absorica", strength_mg=20.0)
    assert result.has("HYPERSENS-EXCIPIENT")


def test_soy_allergy_with_absorica_ld_warns_as_a_precaution(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy(*SOY_ALLERGY), product="absorica-ld", strength_mg=16.0)
    assert result.has("HYPERSENS-EXCIPIENT")


def test_shellfish_allergy_does_not_warn_for_any_product(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy("300913006", "Shellfish allergy"), product="absorica-ld")
    assert not result.has("HYPERSENS-EXCIPIENT")


def test_tree_nut_allergy_is_not_a_peanut_allergy(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy(*NUT_ALLERGY), allergy(*TREE_NUT))
    assert not result.has("HYPERSENS-EXCIPIENT")


def test_tartrazine_allergy_warns_for_absorica_25_mg(kb: KnowledgeBase) -> None:
    result = screen(
        kb, allergy(None, "Tartrazine allergy"), product="absorica", dose_mg=25.0, strength_mg=25.0
    )
    finding = only(result, "HYPERSENS-EXCIPIENT")
    assert "tartrazine" in finding.summary
    assert "not 25 mg" in finding.detail


def test_tartrazine_allergy_does_not_warn_for_absorica_20_mg(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy(None, "Tartrazine allergy"), product="absorica", strength_mg=20.0)
    assert not result.has("HYPERSENS-EXCIPIENT")


def test_unknown_strength_checks_every_strength(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy(None, "Tartrazine allergy"), product="absorica", strength_mg=None)
    assert "every strength" in only(result, "HYPERSENS-EXCIPIENT").detail


def test_unknown_product_checks_every_product_and_says_so(kb: KnowledgeBase) -> None:
    result = screen(kb, allergy(*PEANUT_ALLERGY), product=None, strength_mg=None)
    assert "not identified" in only(result, "HYPERSENS-EXCIPIENT").detail


def test_paraben_allergy_warns_for_conventional_capsules(kb: KnowledgeBase) -> None:
    assert screen(kb, allergy(None, "Allergy to methylparaben")).has("HYPERSENS-EXCIPIENT")


def test_inactive_soy_allergy_does_not_warn(kb: KnowledgeBase) -> None:
    assert not screen(kb, allergy(*SOY_ALLERGY, status="inactive")).has("HYPERSENS-EXCIPIENT")


def test_every_allergen_a_product_lists_has_a_code_list(kb: KnowledgeBase) -> None:
    listed = {a for p in kb.products for a in p.excipient_allergens} | {
        a for p in kb.products for allergens in p.strength_allergens.values() for a in allergens
    }
    assert listed, "products.toml lists no excipient allergens"
    for allergen in listed:
        kb.valueset(f"excipient-allergy-{allergen}")  # NotFoundError when missing
