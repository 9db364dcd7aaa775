"""PHQ-9 total scores and item 9, paired by day into mood screens.

A score is read from ``valueInteger``, ``valueQuantity`` (unit ``{score}``, another
score annotation or none), a numeric ``valueString`` ("12") or, for an item, its
LOINC answer code (LL358-3, in the knowledge base). The total and item 9 come as
separate observations (paired by day) or as components of a PHQ-9 panel (US Core,
SDC). A day with two totals keeps the higher one, with a note.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date

from isotrack.clinical.codes import SYSTEMS
from isotrack.clinical.snapshot import MoodScreen
from isotrack.fhir.observations.model import PHQ9_TOTAL, Part
from isotrack.fhir.values import quantity_unit, refusing_impossible
from isotrack.knowledge.base import KnowledgeBase

_ANSWER_VALUESETS = tuple(f"phq9-answer-{score}" for score in range(4))
"""The knowledge base's LOINC answers of a PHQ-9 item (LL358-3), by score 0–3."""
_SCORE_UNITS = frozenset({"", "{score}", "score", "{#}", "1", "{points}", "points"})
"""Units a PHQ-9 score is sent with (UCUM annotations, the unity "1", or none)."""


def _answers(kb: KnowledgeBase) -> dict[tuple[str, str], int]:
    return {
        (SYSTEMS[code.system], code.code): score
        for score, valueset in enumerate(_ANSWER_VALUESETS)
        for code in kb.valueset(valueset).codes
    }


def phq9_score(part: Part, label: str, kb: KnowledgeBase, notes: list[str]) -> int | None:
    """A PHQ-9 total or item score from ``valueInteger``, ``valueQuantity`` (unit
    ``{score}`` or none), a numeric ``valueString`` or a LOINC answer code."""
    holder = part.holder
    what = "PHQ-9 total" if part.kind == PHQ9_TOTAL else "PHQ-9 item 9"
    number: float | None = holder.value_integer
    quantity = holder.value_quantity
    if number is None and quantity is not None and quantity.value is not None:
        unit = (quantity_unit(quantity) or "").strip().casefold()
        if unit not in _SCORE_UNITS:
            notes.append(f"{label}: {what} in unit {unit!r} is not a score; ignored")
            return None
        number = quantity.value
    if number is None and holder.value_string is not None:
        number = _number(holder.value_string)
    if number is None and holder.value_codeable_concept is not None:
        answers = kb.derived("fhir.phq9-answers", _answers)
        coded = (
            answers.get((c.system or "", c.code or ""))
            for c in holder.value_codeable_concept.coding
        )
        number = next((a for a in coded if a is not None), None)
    if number is None or number != int(number):
        notes.append(f"{label}: {what} is not a whole-number score; ignored")
        return None
    return int(number)


def _number(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def mood_screens(
    totals: dict[date, tuple[int, str]], item9s: dict[date, tuple[int, str]], notes: list[str]
) -> Iterator[MoodScreen]:
    for on, (total, source) in sorted(totals.items()):
        item9 = item9s.get(on)
        with refusing_impossible(source, "PHQ-9 score"):
            yield MoodScreen(on, total, None if item9 is None else item9[0], source)
    for on, (score, source) in sorted(item9s.items()):
        if on not in totals:
            notes.append(
                f"{source}: PHQ-9 item 9 = {score} on {on} without a total score on that day; "
                "read for self-harm thoughts, not counted as a whole mood screen"
            )
            with refusing_impossible(source, "PHQ-9 item 9"):
                yield MoodScreen(on, None, score, source)
