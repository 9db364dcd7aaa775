"""Earlier isotretinoin prescriptions grouped into courses.

Every isotretinoin MedicationRequest other than the order under review (not
cancelled, entered in error or a draft) and every isotretinoin
MedicationStatement is one prescription. A prescription covers its supply: the
expected supply duration, else quantity × strength ÷ daily dose, else the
programme's maximum supply (``ppp.max_supply_days``, with a note). The next
prescription belongs to the same course when it starts no more than
``course.prescription_gap_days`` after that cover ends; a longer gap starts a
new course. The last course is still running (no end) when the order under
review falls within that gap of its cover; otherwise it ended when its cover
did. A course whose latest prescription is ``completed`` or ``stopped`` with a
``dispenseRequest.validityPeriod`` end (how isotrack exports an ended course,
and how an EHR closes a discontinued order) ended on that day, whatever the
gap. isotrack's plan of a course with no prescription yet (intent ``plan``, the
course as ``groupIdentifier``) starts a course with no supply; while it is active
or on hold the course is running.

``cumulative_mg`` is what was prescribed (capsules × strength, else daily dose ×
supply days), assuming every capsule was taken; ``None`` when one prescription
cannot be read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from isotrack.clinical.snapshot import IsotretinoinCourse
from isotrack.errors import FhirDecodeError
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.medications import MedicationEntry
from isotrack.fhir.order import read_order
from isotrack.fhir.own_items import is_course_plan
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge.base import KnowledgeBase

NOT_PRESCRIPTIONS = frozenset({"cancelled", "entered-in-error", "draft", "not-taken"})
CLOSED = frozenset({"completed", "stopped"})
OPEN_PLANS = frozenset({"active", "on-hold"})
"""A course plan in these statuses is a course in progress, however long ago it began."""
"""Statuses of a request that nothing more is done under: its validity end is the end."""


@dataclass(frozen=True, slots=True)
class Prescription:
    start: date
    covered_until: date
    product: str | None
    daily_mg: float | None
    total_mg: float | None
    source: str
    closed_on: date | None = None
    """The day a completed or stopped request's validity ended (the course ended)."""
    plan: str | None = None
    """The status of isotrack's plan of a course with no prescription yet (no supply)."""


def prescriptions_from(
    entries: Iterable[MedicationEntry], bundle: FhirBundle, kb: KnowledgeBase, notes: list[str]
) -> list[Prescription]:
    """Earlier isotretinoin prescriptions (the order under review already left out)."""
    found: list[Prescription] = []
    assumed_supply: list[str] = []
    for entry in entries:
        if entry.status in NOT_PRESCRIPTIONS:
            continue
        if entry.start is None:
            notes.append(f"{entry.label}: isotretinoin record without a date; not counted")
            continue
        closed = entry.end if entry.status in CLOSED else None
        product, daily, total, days = None, None, None, None
        if isinstance(entry.resource, MedicationRequest) and is_course_plan(entry.resource):
            plan = entry.status or "active"
            found.append(
                Prescription(entry.start, entry.start, None, None, 0.0, entry.label, closed, plan)
            )
            continue
        if isinstance(entry.resource, MedicationRequest):
            read = read_order(entry.resource, kb, bundle=bundle)
            order = read.order
            product = None if read.product_assumed else order.product
            daily = order.daily_dose_mg
            days = order.supply_days
            if order.quantity is not None and order.strength_mg is not None:
                total = order.quantity * order.strength_mg
            if days is None and total is not None and daily:
                days = total / daily
            if total is None and daily is not None and days is not None:
                total = daily * days
        elif entry.end is not None:
            days = float((entry.end - entry.start).days)
        if days is None:
            days = kb.number("ppp.max_supply_days")
            assumed_supply.append(entry.label)
        try:
            covered = entry.start + timedelta(days=days)
        except OverflowError:
            raise FhirDecodeError(
                entry.label,
                f"a supply of {days:g} days from {entry.start.isoformat()} runs past the "
                "last date isotrack can represent (9999-12-31); check the prescription's date",
            ) from None
        found.append(Prescription(entry.start, covered, product, daily, total, entry.label, closed))
    if assumed_supply:
        notes.append(
            f"Supply of earlier isotretinoin prescription(s) {', '.join(assumed_supply)} not "
            f"recorded; assumed {kb.number('ppp.max_supply_days'):g} days each"
        )
    return sorted(found, key=lambda p: (p.start, p.source))


def courses_from(
    prescriptions: list[Prescription], order_date: date | None, kb: KnowledgeBase
) -> tuple[IsotretinoinCourse, ...]:
    """Group prescriptions (sorted by start) into courses; see the module docstring."""
    gap = timedelta(days=kb.number("course.prescription_gap_days"))
    groups: list[list[Prescription]] = []
    for prescription in prescriptions:
        if groups and prescription.start <= max(p.covered_until for p in groups[-1]) + gap:
            groups[-1].append(prescription)
        else:
            groups.append([prescription])
    courses = []
    for index, group in enumerate(groups):
        covered = max(p.covered_until for p in group)
        closed = group[-1].closed_on
        if closed is not None and closed >= group[-1].start:
            courses.append(_course(group, closed))
            continue
        planned = any(p.plan in OPEN_PLANS for p in group)
        running = (
            index == len(groups) - 1
            and order_date is not None
            and group[0].start <= order_date
            and (order_date <= covered + gap or planned)
        )
        courses.append(_course(group, None if running else covered))
    return tuple(courses)


def _course(group: list[Prescription], end: date | None) -> IsotretinoinCourse:
    totals = [p.total_mg for p in group]
    product = next((p.product for p in reversed(group) if p.product is not None), None)
    return IsotretinoinCourse(
        start=group[0].start,
        end=end,
        product=product,
        cumulative_mg=None if None in totals else sum(t for t in totals if t is not None),
        last_dose_increase=_last_increase(group),
        prescriptions=sum(1 for p in group if p.plan is None),
        source=", ".join(p.source for p in group),
    )


def _last_increase(group: list[Prescription]) -> date | None:
    last = None
    for before, after in pairwise(group):
        if before.daily_mg is not None and after.daily_mg is not None:
            last = after.start if after.daily_mg > before.daily_mg else last
    return last
