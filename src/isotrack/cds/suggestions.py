"""Concrete fixes offered on cards (CDS Hooks ``suggestions``), one function per rule.

- DOSE-ABOVE-RANGE: update the draft MedicationRequest to the dose closest to,
  and not above, the product's usual maximum for the recent weight, in the
  label's number of equal divided doses, made of the order's capsule strength
  (capsules chosen by :func:`isotrack.clinical.dosing.choose_capsules`, as the
  planner does). When that strength cannot make such a dose, one capsule
  strength of the product that can is used and the medication becomes the
  text "Isotretinoin N MG Oral Capsule" (the EHR maps it to its product).
- DOSE-NOT-TAKEABLE: one suggestion per nearest takeable regimen
  (:func:`isotrack.clinical.screening.untakeable_dose`): the draft updated to
  one ``dosageInstruction`` per administration (morning, evening), each with its
  dose in mg and its capsules in the text. A regimen of one capsule strength
  names that strength ("Absorica 10 MG Oral Capsule" when it is not the
  order's) and its capsule quantity; a regimen of several strengths names the
  product's capsules without a strength and gives the quantity per strength in
  the dispense note (one FHIR quantity cannot count two strengths).
- SUPPLY-OVER-30-DAYS, REFILLS-NOT-ALLOWED: update the draft order to the
  programme's supply limit (``ppp.max_supply_days``) and no repeats.
- PREG-TEST-REQUIRED: create a ServiceRequest for an hCG test;
  BASELINE-LABS-MISSING: one for each missing baseline test. The LOINC code is
  the first of the test's value set in the knowledge base.

A rule without a concrete fix, or one whose fix cannot be computed (no recent
weight, no draft order JSON), gets no suggestion. The resources of the actions
hold no null or empty value (:func:`pruned`), whatever the EHR's draft held.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from isotrack.cds.models import Action, Suggestion
from isotrack.clinical.codes import SYSTEMS, UCUM
from isotrack.clinical.dosing import Regimen, choose_capsules
from isotrack.clinical.findings import Finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening import ScreeningContext, untakeable_dose
from isotrack.clinical.screening.rules.labs import BASELINE_ANALYTES
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.clinical.units import exact
from isotrack.fhir.export_values import regimen_dosages
from isotrack.fhir.observations import HCG, LAB_VALUESETS
from isotrack.knowledge.base import KnowledgeBase

_VALUESET_OF_ANALYTE = {analyte: valueset for valueset, analyte in LAB_VALUESETS.items()}


@dataclass(frozen=True)
class SuggestionContext:
    """What the suggestions of one request may use."""

    kb: KnowledgeBase
    on: date
    snapshot: PatientSnapshot
    order: IsotretinoinOrder | None = None
    draft: dict[str, Any] | None = None
    """The draft MedicationRequest under review, as the EHR sent it."""


def suggestions_for(finding: Finding, ctx: SuggestionContext) -> tuple[Suggestion, ...]:
    if finding.rule_id == "DOSE-NOT-TAKEABLE":
        return _takeable_regimens(ctx)
    make = _BY_RULE.get(finding.rule_id)
    if make is None:
        return ()
    made = make(ctx)
    return () if made is None else (made,)


def _dose_in_range(ctx: SuggestionContext) -> Suggestion | None:
    order, draft = ctx.order, ctx.draft
    if order is None or draft is None or order.product is None:
        return None
    product = ctx.kb.product(order.product)
    usual_max = product.usual_max_mg_per_kg_day
    weight = ScreeningContext(ctx.snapshot, ctx.on, ctx.kb, order).recent_weight
    if usual_max is None or weight is None or not product.strengths_mg:
        return None
    doses = product.divided_doses or order.times_per_day or 1
    ceiling = exact(weight.kg) * exact(usual_max) / doses
    one_dose = None
    if order.strength_mg:
        one_dose = choose_capsules(ceiling, ceiling, (order.strength_mg,), 1)
    if one_dose is None:
        one_dose = choose_capsules(ceiling, ceiling, product.strengths_mg, 1)
    if one_dose is None or len(one_dose.strengths_used) != 1:
        return None  # no single capsule strength makes a dose in range
    strength = next(iter(one_dose.strengths_used))
    dose_mg = one_dose.total_mg
    daily_mg = dose_mg * doses
    updated = copy.deepcopy(draft)
    if strength != order.strength_mg:
        updated.pop("medicationReference", None)
        updated["medicationCodeableConcept"] = {
            "text": f"Isotretinoin {strength:g} MG Oral Capsule"
        }
    old = (draft.get("dosageInstruction") or [{}])[0]
    dosage: dict[str, Any] = {
        "text": f"{dose_mg:g} mg by mouth {doses} times a day",
        "timing": {"repeat": {"frequency": doses, "period": 1, "periodUnit": "d"}},
        "doseAndRate": [{"doseQuantity": _mg(dose_mg)}],
    }
    if isinstance(old, dict) and "route" in old:
        dosage["route"] = old["route"]
    updated["dosageInstruction"] = [dosage]
    if order.quantity is not None or order.supply_days is not None:
        days = min(order.supply_days or _limit(ctx), _limit(ctx))
        _set_supply(updated, days, daily_mg / strength * days)
    per_kg = round(daily_mg / weight.kg, 2)
    label = (
        f"Change the dose to {dose_mg:g} mg {doses}×/day "
        f"({daily_mg:g} mg/day, {per_kg:g} mg/kg/day)"
    )
    return _suggestion(label, Action(type="update", description=label, resource=updated))


def _takeable_regimens(ctx: SuggestionContext) -> tuple[Suggestion, ...]:
    order, draft = ctx.order, ctx.draft
    if order is None or draft is None:
        return ()
    untakeable = untakeable_dose(ScreeningContext(ctx.snapshot, ctx.on, ctx.kb, order))
    if untakeable is None:
        return ()
    made = []
    for regimen in untakeable.nearest:
        updated = _with_regimen(ctx, draft, regimen, untakeable.product.name)
        label = f"Prescribe {regimen.describe()} ({regimen.total_mg:g} mg/day)"
        made.append(_suggestion(label, Action(type="update", description=label, resource=updated)))
    return tuple(made)


def _with_regimen(
    ctx: SuggestionContext, draft: dict[str, Any], regimen: Regimen, product_name: str
) -> dict[str, Any]:
    order = ctx.order
    assert order is not None
    updated = copy.deepcopy(draft)
    strengths = sorted(regimen.strengths_used, reverse=True)
    if strengths != [order.strength_mg]:
        updated.pop("medicationReference", None)
        written = " and ".join(f"{s:g} MG" for s in strengths)
        updated["medicationCodeableConcept"] = {"text": f"{product_name} {written} Oral Capsule"}
    old = (draft.get("dosageInstruction") or [{}])[0]
    route = old.get("route") if isinstance(old, dict) else None
    updated["dosageInstruction"] = regimen_dosages(regimen, route)
    if order.quantity is not None or order.supply_days is not None:
        days = int(min(order.supply_days or _limit(ctx), _limit(ctx)))
        capsules = regimen.capsule_count * days if len(strengths) == 1 else None
        _set_supply(updated, days, capsules)
        if capsules is None:
            updated["dispenseRequest"].pop("quantity", None)
            each = " and ".join(f"{n} × {s:g} mg" for s, n in regimen.quantities(days))
            updated["note"] = [{"text": f"Dispense {each} capsules ({days} days)."}]
    return updated


def _supply_within_limit(ctx: SuggestionContext) -> Suggestion | None:
    order, draft = ctx.order, ctx.draft
    if order is None or draft is None:
        return None
    days = _limit(ctx)
    updated = copy.deepcopy(draft)
    capsules = None
    if order.daily_dose_mg and order.strength_mg:
        capsules = order.daily_dose_mg / order.strength_mg * days
    _set_supply(updated, days, capsules)
    label = f"Limit the order to {days:g} days' supply with no refills"
    return _suggestion(label, Action(type="update", description=label, resource=updated))


def _pregnancy_test(ctx: SuggestionContext) -> Suggestion | None:
    return _tests(ctx, [HCG], "Order a pregnancy test (hCG)")


def _baseline_labs(ctx: SuggestionContext) -> Suggestion | None:
    screening = ScreeningContext(ctx.snapshot, ctx.on, ctx.kb)
    since = screening.days_ago(ctx.kb.number("labs.baseline_window_days"))
    missing = [
        _VALUESET_OF_ANALYTE[analyte]
        for analyte, _ in BASELINE_ANALYTES
        if not any(lab.on >= since for lab in screening.labs(analyte))
    ]
    if not missing:
        return None
    names = " and ".join(name for analyte, name in BASELINE_ANALYTES
                         if _VALUESET_OF_ANALYTE[analyte] in missing)  # fmt: skip
    return _tests(ctx, missing, f"Order baseline {names}")


def _tests(ctx: SuggestionContext, valuesets: list[str], label: str) -> Suggestion | None:
    actions = []
    for valueset_id in valuesets:
        codes = [c for c in ctx.kb.valueset(valueset_id).codes if c.system == "loinc"]
        if not codes:
            continue
        code = codes[0]
        coding = {"system": SYSTEMS[code.system], "code": code.code, "display": code.display}
        request = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "order",
            "code": {"coding": [coding], "text": code.display},
            "subject": {"reference": f"Patient/{ctx.snapshot.patient_id}"},
        }
        actions.append(Action(type="create", description=f"Order {code.display}", resource=request))
    if not actions:
        return None
    return _suggestion(label, *actions)


def _limit(ctx: SuggestionContext) -> float:
    return ctx.kb.number("ppp.max_supply_days")


def _set_supply(resource: dict[str, Any], days: float, capsules: float | None) -> None:
    dispense = resource.get("dispenseRequest")
    dispense = dict(dispense) if isinstance(dispense, dict) else {}
    dispense["numberOfRepeatsAllowed"] = 0
    dispense["expectedSupplyDuration"] = {
        "value": days,
        "unit": "days",
        "system": UCUM,
        "code": "d",
    }
    if capsules is not None:
        whole = int(capsules)  # never more than the limit: round down
        dispense["quantity"] = {"value": whole, "unit": "capsule", "system": UCUM,
                                "code": "{capsule}"}  # fmt: skip
    resource["dispenseRequest"] = dispense


def _mg(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "mg", "system": UCUM, "code": "mg"}


def _suggestion(label: str, *actions: Action) -> Suggestion:
    kept = tuple(
        Action(type=a.type, description=a.description, resource=pruned(a.resource))
        if a.resource is not None
        else a
        for a in actions
    )
    return Suggestion(label=label, uuid=str(uuid.uuid4()), is_recommended=True, actions=kept)


def pruned(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` without null or empty values (``null``, ``""``, ``[]``, ``{}``), all the
    way down: CDS Hooks 2.0.1 and FHIR JSON both forbid them, and an update action copies
    the EHR's draft, which may hold some.

    >>> pruned({"id": None, "note": [], "dosage": [{"text": "", "route": {"text": "oral"}}]})
    {'dosage': [{'route': {'text': 'oral'}}]}
    """
    kept = _pruned(resource)
    return kept if isinstance(kept, dict) else {}


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        items = ((key, _pruned(inner)) for key, inner in value.items())
        return {key: inner for key, inner in items if not _empty(inner)}
    if isinstance(value, list):
        return [inner for inner in (_pruned(item) for item in value) if not _empty(inner)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


_BY_RULE: dict[str, Callable[[SuggestionContext], Suggestion | None]] = {
    "DOSE-ABOVE-RANGE": _dose_in_range,
    "SUPPLY-OVER-30-DAYS": _supply_within_limit,
    "REFILLS-NOT-ALLOWED": _supply_within_limit,
    "PREG-TEST-REQUIRED": _pregnancy_test,
    "BASELINE-LABS-MISSING": _baseline_labs,
}
