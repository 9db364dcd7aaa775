"""PHQ-9 total scores and item 9, paired by day into mood screens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from isotrack.clinical.snapshot import MoodScreen
from isotrack.fhir.observations.model import PHQ9_TOTAL, Part
from isotrack.fhir.values import refusing_impossible

_PHQ_ANSWERS = {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}
"""LOINC answers (LL358-3): not at all, several days, more than half the days, nearly every day."""


def phq9_score(part: Part, label: str, notes: list[str]) -> int | None:
    holder = part.holder
    what = "PHQ-9 total" if part.kind == PHQ9_TOTAL else "PHQ-9 item 9"
    number: float | None = holder.value_integer
    if number is None and holder.value_quantity is not None:
        number = holder.value_quantity.value
    if number is None and holder.value_codeable_concept is not None:
        answers = [_PHQ_ANSWERS.get(c.code or "") for c in holder.value_codeable_concept.coding]
        number = next((a for a in answers if a is not None), None)
    if number is None or number != int(number):
        notes.append(f"{label}: {what} is not a whole-number score; ignored")
        return None
    return int(number)


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
                "not counted as a mood screen"
            )
