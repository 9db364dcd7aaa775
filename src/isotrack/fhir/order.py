"""The isotretinoin order under review: finding it in a bundle and reading it.

:func:`order_from_medication_request` reads product, route, dose, frequency,
strength, quantity, supply and repeats from a MedicationRequest. Anything it
cannot read stays ``None`` (the DOSE-UNPARSEABLE rule and the supply rules
report it) and :func:`read_order` says why in its notes. It never guesses a
unit: a dose without a unit is unreadable.

How dose, doses a day, route, quantity and supply are read is
:mod:`isotrack.fhir.dosage`; the words and codes it knows are knowledge data
(``fhir-vocabulary.toml``), and which products exist for which route is in the
knowledge base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import msgspec

from isotrack.clinical.codes import Concept, match
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.fhir import dosage
from isotrack.fhir.datatypes import Dosage, Reference
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.resources import (
    Medication,
    MedicationAdministration,
    MedicationDispense,
    MedicationIngredient,
    MedicationRequest,
    MedicationStatement,
    Substance,
)
from isotrack.fhir.values import concept, fhir_date, quantity_unit, refusing_impossible
from isotrack.knowledge.base import KnowledgeBase

ISOTRETINOIN = "isotretinoin"
ORDER_STATUSES = frozenset({"draft", "active"})
ORDER_INTENTS = frozenset({"order", "proposal", "plan"})
PRODUCTS = (
    ("isotretinoin-absorica-ld", "absorica-ld"),
    ("isotretinoin-absorica", "absorica"),
    ("isotretinoin-conventional", "conventional"),
)
"""Product value sets, most specific first ("Absorica LD" also contains "Absorica")."""
ASSUMED_PRODUCT = "conventional"

_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*mg\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReadOrder:
    """An order as read, and what the reader had to assume or could not read."""

    order: IsotretinoinOrder
    notes: tuple[str, ...] = ()
    product_assumed: bool = False
    """True when no product value set matched and the product is the assumed default."""


MedicationResource = MedicationRequest | MedicationStatement | MedicationAdministration
"""The resources that name a medication (R4 ``medication[x]`` or R5 ``medication``)."""


def medication_of(
    resource: MedicationResource | MedicationDispense, bundle: FhirBundle | None
) -> tuple[Concept, Medication | None]:
    """The medication concept of a request, statement or administration: its
    CodeableConcept (R4 ``medicationCodeableConcept``, R5 ``medication.concept``),
    or the Medication it references (R4 ``medicationReference``, R5
    ``medication.reference``; in the bundle or contained) with the codes of each of
    its ingredients, so that a multivitamin listing vitamin A is read as vitamin A
    too."""
    coded, reference = resource.medication_codeable_concept, resource.medication_reference
    if resource.medication is not None:
        coded = coded or resource.medication.concept
        reference = reference or resource.medication.reference
    if coded is not None:
        return concept(coded), None
    medication = _referenced(reference, resource.contained, bundle, (Medication,))
    if isinstance(medication, Medication):
        return _with_ingredients(medication, resource.contained, bundle), medication
    display = reference.display if reference is not None else None
    return Concept((), display), None


def _referenced(
    reference: Reference | None,
    contained: tuple[msgspec.Raw, ...],
    bundle: FhirBundle | None,
    kinds: tuple[type[Medication] | type[Substance], ...],
) -> Medication | Substance | None:
    """The resource of one of ``kinds`` a reference points to: contained (``#id``,
    decoded only now) or in the bundle."""
    if reference is None or not reference.reference:
        return None
    if reference.reference.startswith("#"):
        wanted = reference.reference[1:]
        for raw in contained:
            kind = next((k for k in kinds if k.__name__ == _raw_type(raw)), None)
            if kind is None:
                continue
            try:
                found = msgspec.json.decode(raw, type=kind)
            except msgspec.MsgspecError:
                continue
            if found.id == wanted:
                return found
        return None
    resolved = bundle.resolve(reference) if bundle is not None else None
    return resolved if isinstance(resolved, kinds) else None


class _TypeOnly(msgspec.Struct, rename="camel"):
    resource_type: str | None = None


def _raw_type(raw: msgspec.Raw) -> str | None:
    try:
        return msgspec.json.decode(raw, type=_TypeOnly).resource_type
    except msgspec.MsgspecError:
        return None


def _with_ingredients(
    medication: Medication, contained: tuple[msgspec.Raw, ...], bundle: FhirBundle | None
) -> Concept:
    """The Medication's own concept followed by its ingredients' codes (and their text
    when they have one): a product matches a value set of any of its ingredients."""
    base = concept(medication.code)
    containers = (*contained, *medication.contained)
    parts = [_ingredient_concept(i, containers, bundle) for i in medication.ingredient]
    parts = [p for p in parts if p.codings or p.text]
    if not parts:
        return base
    codings = tuple(dict.fromkeys((*base.codings, *(c for p in parts for c in p.codings))))
    texts = [p.text for p in parts if p.text]
    if not texts:
        return Concept(codings, base.text)
    own = base.text or (base.label if base.codings else None)
    return Concept(codings, "; ".join(dict.fromkeys(t for t in (own, *texts) if t)))


def _ingredient_concept(
    ingredient: MedicationIngredient, contained: tuple[msgspec.Raw, ...], bundle: FhirBundle | None
) -> Concept:
    item = ingredient.item
    coded = ingredient.item_codeable_concept or (item.concept if item is not None else None)
    if coded is not None:
        return concept(coded)
    reference = ingredient.item_reference or (item.reference if item is not None else None)
    found = _referenced(reference, contained, bundle, (Substance, Medication))
    if found is not None:
        return concept(found.code)
    return Concept((), reference.display if reference is not None else None)


def is_isotretinoin(medication: Concept, kb: KnowledgeBase) -> bool:
    return match(medication, kb.valueset(ISOTRETINOIN)).matched


def find_isotretinoin_order(
    bundle: FhirBundle, *, kb: KnowledgeBase, patient_id: str | None = None
) -> MedicationRequest | None:
    """The isotretinoin order under review: a draft or active MedicationRequest
    with intent order, proposal or plan, the most recently authored (one with
    no authoredOn is being written now, so it counts as the latest; then a
    draft before an active one, then the later in the bundle)."""
    candidates: list[tuple[date, bool, int, MedicationRequest]] = []
    for index, request in enumerate(bundle.of_type(MedicationRequest)):
        if request.status not in ORDER_STATUSES or request.intent not in ORDER_INTENTS:
            continue
        if patient_id is not None and not bundle.refers_to(request.subject, "Patient", patient_id):
            continue
        if not is_isotretinoin(medication_of(request, bundle)[0], kb):
            continue
        authored = fhir_date(request.authored_on, f"{_label(request)} authoredOn") or date.max
        candidates.append((authored, request.status == "draft", index, request))
    return max(candidates, key=lambda c: c[:3])[3] if candidates else None


def _label(request: MedicationRequest) -> str:
    return f"MedicationRequest/{request.id}" if request.id else "MedicationRequest"


def order_from_medication_request(
    request: MedicationRequest, kb: KnowledgeBase, *, bundle: FhirBundle | None = None
) -> IsotretinoinOrder:
    """Read an isotretinoin MedicationRequest as the order to screen."""
    return read_order(request, kb, bundle=bundle).order


def read_order(
    request: MedicationRequest, kb: KnowledgeBase, *, bundle: FhirBundle | None = None
) -> ReadOrder:
    """Read an isotretinoin MedicationRequest, with notes on what was assumed or unreadable."""
    label = _label(request)
    notes: list[str] = []
    medication, resource = medication_of(request, bundle)
    route = dosage.route_of(request.dosage_instruction, kb)
    if not route.recognised:
        notes.append(f"{label}: route {route.word!r} not recognised; screened as oral")
    known_route = route.word if route.recognised else None
    product, by_text, assumed = _product(medication, known_route, kb, notes, label)
    strength = _strength(medication, resource)
    daily = dosage.daily_dose(request.dosage_instruction, strength, kb, notes, label)
    dispense = request.dispense_request
    quantity = dosage.dispensed_capsules(
        dispense.quantity if dispense else None, strength, kb, notes, label
    )
    supply = dosage.supply_days(
        dispense.expected_supply_duration if dispense else None, kb, notes, label
    )
    with refusing_impossible(label, "dosage or dispenseRequest"):
        order = IsotretinoinOrder(
            product=product,
            route=route.word,
            route_recognised=route.recognised,
            dose_mg=daily.dose_mg,
            times_per_day=daily.times_per_day,
            doses_mg=daily.doses_mg,
            lowest_daily_mg=daily.lowest_daily_mg,
            strength_mg=strength,
            quantity=quantity,
            supply_days=supply,
            repeats=dispense.number_of_repeats_allowed if dispense else None,
            text=medication.label,
            product_by_text=by_text,
            source=label,
        )
    return ReadOrder(order, tuple(notes), assumed)


def _product(
    medication: Concept, route: str | None, kb: KnowledgeBase, notes: list[str], label: str
) -> tuple[str | None, bool, bool]:
    """(product id, recognised by text only, assumed)."""
    for valueset_id, product_id in PRODUCTS:
        found = match(medication, kb.valueset(valueset_id))
        if found.matched:
            return product_id, found.by_text, False
    generic = match(medication, kb.valueset(ISOTRETINOIN))
    if route not in (None, "oral"):
        notes.append(f"{label}: isotretinoin product not identified for the {route} route")
        return None, generic.by_text, False
    notes.append(
        f"{label}: isotretinoin product not identified ({medication.label}); "
        "screened as conventional capsules"
    )
    return ASSUMED_PRODUCT, generic.by_text, True


def route_of(dosages: tuple[Dosage, ...], kb: KnowledgeBase) -> str | None:
    """The route of the first dosage that states one: the route word ("oral",
    "topical", "rectal" ...), or the route as written (lower case) when no
    vocabulary knows it."""
    return dosage.route_of(dosages, kb).word


def _strength(medication: Concept, resource: Medication | None) -> float | None:
    """The mg per capsule: from Medication.ingredient.strength, else from the name
    ("Isotretinoin 40 MG Oral Capsule" → 40) when the name gives one strength."""
    if resource is not None:
        for ingredient in resource.ingredient:
            ratio = ingredient.strength
            if ratio is None or ratio.numerator is None or ratio.numerator.value is None:
                continue
            per = ratio.denominator.value if ratio.denominator is not None else 1
            if (quantity_unit(ratio.numerator) or "").casefold() == "mg" and per:
                return ratio.numerator.value / per
    texts = [medication.text or "", *(c.display or "" for c in medication.codings)]
    found = {float(m) for text in texts for m in _STRENGTH.findall(text)}
    return found.pop() if len(found) == 1 else None
