"""Screen one patient of a population: the unit a job runner, Dask or Spark maps over.

:func:`screen_patient` takes the patient's raw FHIR resources (JSON bytes: the
Patient, its records, and the Medication resources its orders reference) and
returns one JSON-ready dict. It reads no file, clock or environment: the
evaluation date and the knowledge base are arguments, so the same call gives
the same line on a laptop or on a cluster worker.

The result has exactly one of three shapes, told apart by its keys:

- screened: ``patient``, ``age``, ``sex``, ``on_isotretinoin``, ``isotretinoin``,
  ``order``, ``findings``, ``contraception``, ``programme``, ``notes``;
- skipped (not written by the runner, counted): ``patient``, ``skipped`` (why);
- unreadable: ``patient``, ``error`` (what could not be read).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from isotrack.clinical.dosing import label_doses
from isotrack.clinical.findings import Assessment, Finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening import (
    assess_course,
    contraception_status,
    method_for,
    screen_order,
)
from isotrack.clinical.screening.rules.contraception import MINIPILL
from isotrack.clinical.snapshot import ContraceptionUse, IsotretinoinCourse, PatientSnapshot
from isotrack.errors import IsotrackError
from isotrack.fhir.decode import FhirBundle, decode_bundle
from isotrack.fhir.order import ASSUMED_PRODUCT, find_isotretinoin_order, read_order
from isotrack.fhir.snapshot import snapshot_from_bundle
from isotrack.knowledge.base import KnowledgeBase
from isotrack.population.records import as_of

SKIP_NOT_ON_ISOTRETINOIN = "not on isotretinoin"
SKIP_NOT_BORN = "born after the evaluation date"
SKIP_DECEASED = "deceased"
SKIP_NO_PATIENT = "no Patient resource"
AFTER_COURSE_PARAMETERS = (
    "ppp.contraception_after_days",
    "ppp.post_course_test_days",
    "after.blood_donation_days",
    "after.cosmetic_procedures_days",
)
"""A course that ended within the longest of these windows is recent: the
"during the course" rules still have something to say about it."""
US_RULE = "us-two-methods"


def screen_patient(
    resources: Sequence[bytes], *, on: date, kb: KnowledgeBase, order_all: bool = False
) -> dict[str, Any]:
    """Screen one patient's record as of ``on``; see the module docstring for the result.

    Patients on isotretinoin on ``on`` (a draft or active isotretinoin order, or
    a course running or recently ended) have their order screened
    (:func:`~isotrack.clinical.screening.screen_order`) and the course rules
    run (:func:`~isotrack.clinical.screening.assess_course`). With
    ``order_all``, every patient without an order of their own gets a
    hypothetical new order screened (:func:`hypothetical_order`).
    """
    try:
        kept = as_of(resources, on)
    except (IsotrackError, ValueError) as exc:
        return {"patient": None, "error": " ".join(str(exc).split())}
    status = kept.patient
    if status is None:
        return {"patient": None, "error": f"{SKIP_NO_PATIENT} in the export for these resources"}
    pid = status.patient_id or ""
    if status.birth_date is not None and status.birth_date > on:
        return {"patient": pid, "skipped": SKIP_NOT_BORN}
    if status.deceased is not None:
        return {"patient": pid, "skipped": SKIP_DECEASED}
    try:
        return _screen(kept.resources, pid, on, kb, order_all, kept.note(on))
    except (IsotrackError, ValueError) as exc:
        return {"patient": pid, "error": " ".join(str(exc).split())}


def _bundle(resources: Sequence[bytes]) -> FhirBundle:
    """The resources as one collection Bundle (one decode instead of one per resource).

    Safe to splice: :func:`~isotrack.population.records.as_of` has decoded each
    line as exactly one JSON object, so none can close the array early."""
    body = b'{"resource":' + b'},{"resource":'.join(resources) + b"}"
    return decode_bundle(b'{"resourceType":"Bundle","type":"collection","entry":[' + body + b"]}")


def _screen(
    resources: list[bytes],
    pid: str,
    on: date,
    kb: KnowledgeBase,
    order_all: bool,
    left_out: str | None,
) -> dict[str, Any]:
    bundle = _bundle(resources)
    request = find_isotretinoin_order(bundle, kb=kb, patient_id=pid)
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=pid, order=request, on=on)
    current, recent = _courses(snapshot, on, kb)
    on_isotretinoin = request is not None or current is not None or recent is not None
    if not on_isotretinoin and not order_all:
        return {"patient": pid, "skipped": SKIP_NOT_ON_ISOTRETINOIN}
    notes = [left_out] if left_out else []
    order: IsotretinoinOrder | None = None
    hypothetical = False
    if request is not None:
        order = read_order(request, kb, bundle=bundle).order
    elif order_all:
        order, note = hypothetical_order(snapshot, on, kb)
        hypothetical = True
        notes.append(note)
    findings: list[tuple[str, Finding]] = []
    assessments: list[Assessment] = []
    if order is not None:
        screened = screen_order(snapshot, order, on=on, kb=kb)
        assessments.append(screened)
        findings += [("order", f) for f in screened.findings]
    if current is not None or recent is not None:
        course = assess_course(snapshot, on=on, kb=kb)
        assessments.append(course)
        findings += [("course", f) for f in course.findings]
    for assessment in assessments:
        notes.extend(assessment.assumptions)
    findings.sort(key=lambda item: (item[1].sort_key, item[0]))
    return {
        "patient": pid,
        "birth_date": snapshot.birth_date.isoformat() if snapshot.birth_date else None,
        "age": age_on(snapshot.birth_date, on),
        "sex": snapshot.sex.value,
        "on_isotretinoin": on_isotretinoin,
        "isotretinoin": {
            "order": request.id if request is not None else None,
            "course": _course_json(current or recent),
            "course_running": current is not None,
        },
        "order": _order_json(order, hypothetical) if order is not None else None,
        "findings": [_finding_json(f, where) for where, f in findings],
        "contraception": contraception_json(snapshot, on, kb),
        "programme": kb.text("ppp.default_programme"),
        "notes": list(dict.fromkeys([*notes, *snapshot.notes])),
    }


def age_on(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _courses(
    snapshot: PatientSnapshot, on: date, kb: KnowledgeBase
) -> tuple[IsotretinoinCourse | None, IsotretinoinCourse | None]:
    """(the course running on ``on``, else the most recent course that ended
    within the longest after-course window)."""
    running = [c for c in snapshot.courses if c.active_on(on)]
    if running:
        return max(running, key=lambda c: c.start), None
    window = timedelta(days=max(kb.number(p) for p in AFTER_COURSE_PARAMETERS))
    ended = [c for c in snapshot.courses if c.end is not None and on - window <= c.end < on]
    return None, max(ended, key=lambda c: c.end or c.start, default=None)


def hypothetical_order(
    snapshot: PatientSnapshot, on: date, kb: KnowledgeBase
) -> tuple[IsotretinoinOrder, str]:
    """A new order as a prescriber would start it, and a note saying how it was built:
    the conventional product at the label's usual minimum (its starting dose) for
    the latest weight, in the product's divided doses, for the programme's maximum
    supply, no repeats. Without a weight the dose is the smallest capsule per
    dose (WEIGHT-MISSING fires and mg/kg is not judged)."""
    product = kb.product(ASSUMED_PRODUCT)
    times = product.divided_doses or 1
    supply = kb.number("ppp.max_supply_days")
    weights = [w for w in snapshot.weights if w.on <= on]
    latest = max(weights, key=lambda w: w.on, default=None)
    if latest is None:
        dose = min(product.strengths_mg)
        how = (
            f"no weight recorded, so the label dose cannot be worked out: {dose:g} mg "
            "(the smallest capsule) per dose, not judged in mg/kg"
        )
    else:
        start = next(d for d in label_doses(kb, product.id, latest.kg) if d.level == "usual_min")
        dose = start.daily_mg / times
        how = (
            f"the label's starting dose, {start.mg_per_kg_day:g} mg/kg/day at {latest.kg:g} kg "
            f"(weighed {latest.on.isoformat()}): {start.daily_mg:g} mg/day"
        )
    order = IsotretinoinOrder(
        product=product.id,
        route="oral",
        dose_mg=dose,
        times_per_day=times,
        supply_days=supply,
        repeats=0,
        text=f"{product.name} (hypothetical order)",
        source="hypothetical",
    )
    note = (
        f"Hypothetical order screened: {product.name}, {how}, in {times} divided doses, "
        f"{supply:g} days, no repeats"
    )
    return order, note


def _course_json(course: IsotretinoinCourse | None) -> dict[str, Any] | None:
    if course is None:
        return None
    return {
        "start": course.start.isoformat(),
        "end": course.end.isoformat() if course.end else None,
        "product": course.product,
        "prescriptions": course.prescriptions,
    }


def _order_json(order: IsotretinoinOrder, hypothetical: bool) -> dict[str, Any]:
    return {
        "hypothetical": hypothetical,
        "source": order.source,
        "text": order.text,
        "product": order.product,
        "route": order.route,
        "dose_mg": order.dose_mg,
        "times_per_day": order.times_per_day,
        "daily_dose_mg": order.daily_dose_mg,
        "supply_days": order.supply_days,
        "repeats": order.repeats,
    }


def _finding_json(finding: Finding, screened: str) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.label,
        "summary": finding.summary,
        "data": dict(finding.data),
        "from": screened,
    }


def contraception_json(
    snapshot: PatientSnapshot, on: date, kb: KnowledgeBase
) -> list[dict[str, Any]]:
    """Every contraceptive record recognised, with its method, its class under the
    clinic's programme and whether the programme counts it as in use on ``on``."""
    status = contraception_status(snapshot, on, kb)
    in_use = {m.method.id for m in status.methods}
    us = status.programme.contraception_rule == US_RULE
    uses = list(snapshot.contraception)
    for condition in snapshot.conditions:
        found = method_for(condition.concept, kb)
        if found is not None and condition.ever_on(on):
            uses.append(ContraceptionUse(found[0], condition.onset, None, condition.source))
    listed = []
    for use in sorted(uses, key=lambda u: (u.start or date.min, u.method, u.source)):
        method = kb.contraception_method(use.method)
        covers_day = (use.start is None or use.start <= on) and (use.end is None or use.end >= on)
        listed.append(
            {
                "method": method.id,
                "name": method.name,
                "class": method.us_class if us else method.eu_class,
                "minipill": method.id == MINIPILL,
                "source": use.source,
                "start": use.start.isoformat() if use.start else None,
                "end": use.end.isoformat() if use.end else None,
                "in_use": covers_day and method.id in in_use,
                "by_text": use.by_text,
            }
        )
    return listed
