"""All observations of one patient to snapshot values, each by the reader of its kind."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.observations.measures import lab, weight
from isotrack.fhir.observations.model import (
    HCG,
    LAB_VALUESETS,
    PHQ9_ITEM9,
    PHQ9_TOTAL,
    PREGNANCY_STATUS,
    SKIPPED_STATUSES,
    WEIGHT,
    ObservationKinds,
    ObservationValues,
    Part,
)
from isotrack.fhir.observations.mood import mood_screens, phq9_score
from isotrack.fhir.observations.pregnancy import hcg, pregnancy_status
from isotrack.fhir.resources import Observation, ObservationComponent
from isotrack.fhir.values import concept, fhir_date
from isotrack.knowledge.base import KnowledgeBase


def read_observations(
    observations: Iterable[Observation], kb: KnowledgeBase, bundle: FhirBundle | None = None
) -> ObservationValues:
    """Weights, labs, hCG tests, PHQ-9 screens and pregnancy statuses from observations
    (``bundle``: where an hCG's Specimen and performers are looked up)."""
    kinds = kb.derived("fhir.observation-kinds", ObservationKinds)
    values = ObservationValues()
    totals: dict[date, tuple[int, str]] = {}
    item9s: dict[date, tuple[int, str]] = {}
    for observation in observations:
        if observation.status in SKIPPED_STATUSES:
            continue
        parts = list(_relevant_parts(observation, kinds, values.notes))
        if not parts:
            continue
        label = f"Observation/{observation.id}" if observation.id else "Observation (no id)"
        on = _effective(observation, label)
        if on is None:
            values.notes.append(f"{label}: no effective date; ignored")
            continue
        for part in parts:
            if part.kind == WEIGHT:
                weight(part, on, label, kb, values)
            elif part.kind in LAB_VALUESETS:
                lab(part, LAB_VALUESETS[part.kind], on, label, kb, values)
            elif part.kind == HCG:
                hcg(part, observation, on, label, values, kb, bundle)
            elif part.kind in (PHQ9_TOTAL, PHQ9_ITEM9):
                score = phq9_score(part, label, values.notes)
                if score is not None:
                    target = totals if part.kind == PHQ9_TOTAL else item9s
                    target[on] = (score, label)
            elif part.kind == PREGNANCY_STATUS:
                pregnancy_status(part, on, label, kb, values)
    values.mood_screens.extend(mood_screens(totals, item9s, values.notes))
    return values


def _relevant_parts(
    observation: Observation, kinds: ObservationKinds, notes: list[str]
) -> Iterator[Part]:
    holders: list[Observation | ObservationComponent] = [observation, *observation.component]
    for holder in holders:
        found = kinds.kind_of(holder.code)
        if found is None:
            continue
        kind, code, by_text = found
        if by_text:
            what = concept(holder.code).label
            notes.append(
                f"Observation/{observation.id}: {what!r} read as {kind} by its name only "
                "(no matching code)"
            )
        yield Part(kind, code, holder)


def _effective(observation: Observation, label: str) -> date | None:
    if observation.effective_date_time is not None:
        return fhir_date(observation.effective_date_time, f"{label} effectiveDateTime")
    if observation.effective_period is not None:
        period = observation.effective_period
        return fhir_date(period.start or period.end, f"{label} effectivePeriod")
    return fhir_date(observation.effective_instant, f"{label} effectiveInstant")
