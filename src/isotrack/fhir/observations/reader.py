"""All observations of one patient to snapshot values, each by the reader of its kind.

What every kind shares is decided here, before a kind's reader sees the observation:

- status: final, amended, corrected and appended are results; preliminary is read
  as a result with a note (it is already shown to clinicians); registered and
  unknown hold no result; cancelled and entered-in-error are skipped (each with a
  note). The status is read whatever its
  case and separators ("Final", "ENTERED_IN_ERROR"); no status is read as a result,
  with a note.
- date: effectiveDateTime, else effectivePeriod (its start, else its end), else
  effectiveInstant; an observation with none is ignored with a note.
- dataAbsentReason: an absent value is never a value (a note says so), except for
  hCG, whose reader counts an absent result as an indeterminate test.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.observations.measures import lab, weight
from isotrack.fhir.observations.model import (
    HCG,
    LAB_VALUESETS,
    NO_RESULT_STATUSES,
    PHQ9_ITEM9,
    PHQ9_PANEL,
    PHQ9_TOTAL,
    PREGNANCY_STATUS,
    PRELIMINARY,
    RESULT_STATUSES,
    SKIPPED_STATUSES,
    WEIGHT,
    ObservationKinds,
    ObservationValues,
    Part,
    PatientFacts,
    status_code,
)
from isotrack.fhir.observations.mood import mood_screens, phq9_score
from isotrack.fhir.observations.pregnancy import hcg, pregnancy_status
from isotrack.fhir.resources import Observation, ObservationComponent
from isotrack.fhir.values import concept, fhir_date
from isotrack.knowledge.base import KnowledgeBase


def read_observations(
    observations: Iterable[Observation],
    kb: KnowledgeBase,
    patient: PatientFacts | None = None,
    bundle: FhirBundle | None = None,
) -> ObservationValues:
    """Weights, labs, hCG tests, PHQ-9 screens and pregnancy statuses from observations.

    ``patient`` (sex, birth date) chooses among a lab result's reference ranges;
    ``bundle`` is where an hCG's Specimen and performers are looked up."""
    kinds = kb.derived("fhir.observation-kinds", ObservationKinds)
    facts = patient if patient is not None else PatientFacts()
    values = ObservationValues()
    totals: dict[date, tuple[int, str]] = {}
    item9s: dict[date, tuple[int, str]] = {}
    for observation in observations:
        parts = list(_relevant_parts(observation, kinds, values.notes))
        if not parts:
            continue
        label = f"Observation/{observation.id}" if observation.id else "Observation (no id)"
        own_status_only = all(part.kind in READS_OWN_STATUS for part in parts)
        if own_status_only:
            if _skipped(observation.status, label, values.notes):
                continue
        elif not _is_result(observation.status, label, values.notes):
            continue
        on = _effective(observation, label)
        if on is None:
            values.notes.append(
                f"{label}: no effective date; ignored (it has no effectiveDateTime, "
                "effectivePeriod or effectiveInstant)"
            )
            continue
        for part in parts:
            if part.kind not in READS_OWN_STATUS and _value_absent(part, label, values.notes):
                continue
            if part.kind == WEIGHT:
                weight(part, on, label, kb, values)
            elif part.kind in LAB_VALUESETS:
                lab(part, LAB_VALUESETS[part.kind], on, label, kb, values, facts)
            elif part.kind == HCG:
                hcg(part, observation, on, label, values, kb, bundle)
            elif part.kind in (PHQ9_TOTAL, PHQ9_ITEM9):
                score = phq9_score(part, label, kb, values.notes)
                if score is not None:
                    scores = totals if part.kind == PHQ9_TOTAL else item9s
                    _keep_score(scores, on, score, label, values.notes)
            elif part.kind == PREGNANCY_STATUS:
                pregnancy_status(part, on, label, kb, values)
    values.mood_screens.extend(mood_screens(totals, item9s, values.notes))
    return values


READS_OWN_STATUS = frozenset({HCG, PREGNANCY_STATUS})
"""Kinds whose reader judges a status other than cancelled or entered-in-error, and an
absent value, itself: a preliminary (or registered, unknown) positive hCG must never be
lost, an absent hCG result is an indeterminate test, and an absent pregnancy status is an
unknown one (:mod:`.pregnancy`)."""


def _skipped(status: str | None, label: str, notes: list[str]) -> bool:
    """True (with a note) for an observation that was cancelled or entered in error."""
    if status_code(status) in SKIPPED_STATUSES:
        notes.append(f"{label}: status {status!r}; skipped")
        return True
    return False


def _is_result(status: str | None, label: str, notes: list[str]) -> bool:
    """Whether an observation with this status holds a result (the note says why not)."""
    code = status_code(status)
    if code in RESULT_STATUSES:
        return True
    if code == PRELIMINARY:
        notes.append(
            f"{label}: preliminary result, read as a result (it is already shown to clinicians)"
        )
        return True
    if code is None:
        notes.append(f"{label}: no status; read as a result")
        return True
    if code in SKIPPED_STATUSES:
        notes.append(f"{label}: status {status!r}; skipped")
    elif code in NO_RESULT_STATUSES:
        notes.append(f"{label}: status {status!r} has no result; not counted as a result")
    else:
        notes.append(f"{label}: status {status!r} is not an Observation status; not read")
    return False


def _value_absent(part: Part, label: str, notes: list[str]) -> bool:
    """True (with a note) when the part says its value is absent: a dataAbsentReason
    is never a value, even beside one (FHIR obs-6 forbids both)."""
    reason = part.holder.data_absent_reason
    if reason is None:
        return False
    why = concept(reason)
    shown = next((c.code for c in why.codings), None) or why.label
    notes.append(f"{label}: {_NAMES.get(part.kind, part.kind)} value absent ({shown}); no value")
    return True


def _keep_score(
    scores: dict[date, tuple[int, str]], on: date, score: int, label: str, notes: list[str]
) -> None:
    """Keep the highest score of a day: two screens on one day cannot be ordered, and the
    higher one is the one a clinician must see."""
    held = scores.get(on)
    if held is not None and held[0] != score:
        kept = max(held, (score, label))
        notes.append(
            f"{label}: two PHQ-9 scores on {on} ({held[0]} in {held[1]}, {score} here); "
            f"the higher, {kept[0]}, is kept"
        )
    if held is None or score > held[0]:
        scores[on] = (score, label)


_NAMES = {
    WEIGHT: "body weight",
    PHQ9_TOTAL: "PHQ-9 total",
    PHQ9_ITEM9: "PHQ-9 item 9",
    PREGNANCY_STATUS: "pregnancy status",
    **LAB_VALUESETS,
}


def _relevant_parts(
    observation: Observation, kinds: ObservationKinds, notes: list[str]
) -> Iterator[Part]:
    holders: list[Observation | ObservationComponent] = [observation, *observation.component]
    for holder in holders:
        found = kinds.kind_of(holder.code)
        if found is None:
            continue
        kind, code, by_text = found
        if kind == PHQ9_PANEL:
            continue  # its components are the parts
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
