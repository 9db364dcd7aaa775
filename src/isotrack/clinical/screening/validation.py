"""Checks a snapshot and an order against the evaluation date and the
plausibility limits of the knowledge base. Raises InvalidInputError naming the
first bad field; returns nothing when all is well."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase


def _not_after(field_name: str, dates: Iterable[date | None], on: date) -> None:
    for day in dates:
        if day is not None and day > on:
            raise InvalidInputError(
                field_name, f"dated {day.isoformat()}, after the evaluation date {on.isoformat()}"
            )


def validate(
    snapshot: PatientSnapshot, order: IsotretinoinOrder | None, *, on: date, kb: KnowledgeBase
) -> None:
    low, high = kb.number("valid.weight_min_kg"), kb.number("valid.weight_max_kg")
    for weight in snapshot.weights:
        if not low <= weight.kg <= high:
            raise InvalidInputError(
                "weight", f"{weight.kg:g} kg on {weight.on} is outside {low:g}–{high:g} kg"
            )
    if snapshot.birth_date is not None:
        if snapshot.birth_date > on:
            raise InvalidInputError("birth_date", f"{snapshot.birth_date} is after {on}")
        oldest = kb.number("valid.max_age_years")
        if on.year - snapshot.birth_date.year > oldest:
            raise InvalidInputError(
                "birth_date", f"{snapshot.birth_date} gives an age over {oldest:g}"
            )
    _not_after("weight", (w.on for w in snapshot.weights), on)
    _not_after("lab result", (lab.on for lab in snapshot.labs), on)
    _not_after("pregnancy test", (t.on for t in snapshot.pregnancy_tests), on)
    _not_after("mood screen", (m.on for m in snapshot.mood_screens), on)
    _not_after("lesion count", (c.on for c in snapshot.lesion_counts), on)
    _not_after("dispense", (s.on for s in snapshot.supplies), on)
    if order is not None:
        daily = order.daily_dose_mg
        limit = kb.number("valid.max_daily_dose_mg")
        if daily is not None and daily > limit:
            raise InvalidInputError("order dose", f"{daily:g} mg/day is above {limit:g} mg/day")
        if order.product is not None:
            kb.product(order.product)  # NotFoundError for an unknown product id
