"""Medications and procedures to medication records and contraception in use.

Contraception comes from three kinds of record, all named through
:func:`isotrack.clinical.screening.method_for`:

- a medication (request, statement or administration): in use from
  ``authoredOn`` (the statement's start, the administration's ``effective[x]``)
  while active; a completed or stopped one ends at its recorded end, or, with no
  end recorded, on the day it started (a note says so: it proves use on that day
  only);
- a long-acting method (implant, IUD, depot injection) is different: it is given
  once and protects for its labelled duration
  (:func:`~isotrack.clinical.screening.contraception.protected_until`, by product). An
  active or *completed* request or statement, or a completed or in-progress
  administration, means it was given on its date; it counts from then for that
  duration, never longer (an "active" order of an injection given a year ago is
  no protection today). A stopped one ends at its recorded end. An administration
  that was not done, stopped part-way or entered in error gives nothing;
- a procedure: an implant or IUD insertion (or replacement) starts the method
  on the day performed, for its labelled duration; a later removal
  (:func:`~isotrack.clinical.screening.removal_for`) ends it.

Records of one method that overlap are merged (the earliest start wins), so
an implant prescribed and inserted on the same day counts once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from isotrack.clinical.codes import Concept
from isotrack.clinical.screening import method_for, removal_for
from isotrack.clinical.screening.contraception import product_for, protected_until
from isotrack.clinical.snapshot import ContraceptionUse, MedicationRecord, ProcedureRecord
from isotrack.fhir.order import MedicationResource, route_of
from isotrack.fhir.resources import MedicationAdministration, MedicationRequest
from isotrack.fhir.values import fhir_date, period_end, period_start, refusing_impossible
from isotrack.knowledge.base import KnowledgeBase

IN_USE = frozenset({"active", "intended", "recorded"})
"""Request and statement statuses of a medication in use (``recorded``: R5 statements)."""
ENDED = frozenset({"completed", "stopped"})
NOT_RECORDS = frozenset({"entered-in-error", "cancelled", "not-done"})
GIVEN = frozenset({"completed", "in-progress"})
"""Administration statuses that mean the medication was given."""
_ADMINISTRATION_STATUS = {"completed": "completed", "in-progress": "active"}
"""An administration as a medication record: one in progress is active (an infusion)."""
_LISTED = 3


@dataclass(frozen=True, slots=True)
class MedicationEntry:
    """A medication request or statement with its concept resolved."""

    resource: MedicationResource
    concept: Concept
    label: str
    start: date | None
    end: date | None

    @classmethod
    def of(cls, resource: MedicationResource, medication: Concept) -> MedicationEntry:
        kind = type(resource).__name__
        label = f"{kind}/{resource.id}" if resource.id else kind
        if isinstance(resource, MedicationRequest):
            start = fhir_date(resource.authored_on, f"{label} authoredOn")
            dispense = resource.dispense_request
            validity = dispense.validity_period if dispense is not None else None
            end = period_end(validity, f"{label} dispenseRequest.validityPeriod")
        elif isinstance(resource, MedicationAdministration):
            period = resource.effective_period or resource.occurence_period
            start = period_start(period, f"{label} effectivePeriod") or fhir_date(
                resource.effective_date_time or resource.occurence_date_time,
                f"{label} effectiveDateTime",
            )
            end = period_end(period, f"{label} effectivePeriod") or start
        else:
            start = period_start(resource.effective_period, f"{label} effectivePeriod")
            if start is None:
                start = fhir_date(resource.effective_date_time, f"{label} effectiveDateTime")
            end = period_end(resource.effective_period, f"{label} effectivePeriod")
        return cls(resource, medication, label, start, end)

    @property
    def status(self) -> str | None:
        return self.resource.status

    @property
    def administered(self) -> bool:
        return isinstance(self.resource, MedicationAdministration)

    def record(self, kb: KnowledgeBase) -> MedicationRecord:
        resource = self.resource
        status = self.status
        if isinstance(resource, MedicationRequest):
            route = route_of(resource.dosage_instruction, kb)
        elif isinstance(resource, MedicationAdministration):
            route = route_of((resource.dosage,) if resource.dosage is not None else (), kb)
            status = _ADMINISTRATION_STATUS.get(status or "", status)
        else:
            route = route_of(resource.dosage, kb)
            status = "active" if status == "recorded" else status  # R5: a statement of use
        with refusing_impossible(self.label, "period"):
            return MedicationRecord(self.concept, status, self.start, self.end, route, self.label)

    def given_until(self, labelled: date) -> tuple[bool, date | None]:
        """For a long-acting method whose one dose protects until ``labelled``:
        whether the record shows use at all, and its last day (``None``: no end).
        Orders and administrations are one dose given on their date (a completed
        order was given, not stopped); a statement asserts a period of use and is
        taken at its word."""
        status = self.status
        if self.administered:
            return status in GIVEN, labelled
        if isinstance(self.resource, MedicationRequest):
            if status in IN_USE or status == "completed":
                return True, labelled
            return status == "stopped", min(labelled, self.end or self.start or labelled)
        if status in IN_USE:
            return True, self.end
        if status in ENDED:
            return True, self.end or (labelled if status == "completed" else self.start)
        return False, None


def contraception_from_medications(
    entries: Iterable[MedicationEntry], kb: KnowledgeBase, notes: list[str]
) -> list[ContraceptionUse]:
    uses: list[ContraceptionUse] = []
    undated: list[str] = []
    for entry in entries:
        if entry.status not in IN_USE | ENDED and not entry.administered:
            continue
        found = method_for(entry.concept, kb)
        if found is None:
            continue
        if kb.contraception_method(found[0]).protection is not None:
            use = _long_acting(entry, found, kb)
            if use is not None:
                uses.append(use)
            continue
        if entry.administered:
            continue
        end = None if entry.status in IN_USE else entry.end
        if entry.status in ENDED and end is None and entry.start is not None:
            end = entry.start
            undated.append(f"{entry.label} ({entry.concept.label}, {entry.start})")
        with refusing_impossible(entry.label, "period"):
            uses.append(ContraceptionUse(found[0], entry.start, end, entry.label, found[1]))
    if undated:
        more = f" and {len(undated) - _LISTED} more" if len(undated) > _LISTED else ""
        notes.append(
            f"{len(undated)} contraceptive medication record(s) ended without an end date; "
            f"each counts for the day it started only: {', '.join(undated[:_LISTED])}{more}"
        )
    return uses


def _long_acting(
    entry: MedicationEntry, found: tuple[str, bool], kb: KnowledgeBase
) -> ContraceptionUse | None:
    """An implant, IUD or injection given on the record's date, protecting for its
    labelled duration; one recorded as stopped or over ends then, if that is sooner."""
    if entry.start is None:
        return None
    method_id, by_text = found
    product = product_for(entry.concept, method_id, kb)
    labelled = protected_until(method_id, product, entry.start, kb)
    given, end = entry.given_until(labelled or entry.start)
    if not given:
        return None
    with refusing_impossible(entry.label, "period"):
        return ContraceptionUse(method_id, entry.start, end, entry.label, by_text)


def contraception_from_procedures(
    procedures: Iterable[ProcedureRecord], kb: KnowledgeBase
) -> tuple[list[ContraceptionUse], list[tuple[date, tuple[str, ...]]]]:
    """Methods started by a procedure, and the removals: (date, method ids ended)."""
    uses: list[ContraceptionUse] = []
    removals: list[tuple[date, tuple[str, ...]]] = []
    for procedure in procedures:
        if procedure.performed is None or not procedure.done_by(procedure.performed):
            continue
        ended = removal_for(procedure.concept, kb)
        if ended:
            removals.append((procedure.performed, ended))
            continue
        found = method_for(procedure.concept, kb)
        if found is not None:
            product = product_for(procedure.concept, found[0], kb)
            end = protected_until(found[0], product, procedure.performed, kb)
            uses.append(
                ContraceptionUse(found[0], procedure.performed, end, procedure.source, found[1])
            )
    return uses, removals


def apply_removals(
    uses: Iterable[ContraceptionUse], removals: list[tuple[date, tuple[str, ...]]]
) -> list[ContraceptionUse]:
    """End each use at the first removal of its method after it started."""
    result = []
    for use in uses:
        end = use.end
        for day, ended in sorted(removals):
            after_start = use.start is not None and use.start < day
            if use.method in ended and after_start and (end is None or day < end):
                end = day
                break
        result.append(use if end == use.end else replace(use, end=end))
    return result


def merge_uses(uses: Iterable[ContraceptionUse]) -> list[ContraceptionUse]:
    """One use per method and uninterrupted period: overlapping records of the
    same method merge (earliest start, latest end, an open end wins). Uses with
    an unknown start are kept as they are."""
    merged: list[ContraceptionUse] = []
    by_method: dict[str, list[ContraceptionUse]] = {}
    for use in uses:
        if use.start is None:
            merged.append(use)
        else:
            by_method.setdefault(use.method, []).append(use)
    for method_uses in by_method.values():
        run: ContraceptionUse | None = None
        for use in sorted(method_uses, key=lambda u: (u.start, u.source)):
            if run is not None and use.start is not None and _overlaps(run, use.start):
                run = _join(run, use)
                continue
            if run is not None:
                merged.append(run)
            run = use
        if run is not None:
            merged.append(run)
    return merged


def _overlaps(run: ContraceptionUse, start: date) -> bool:
    return run.end is None or start <= run.end


def _join(run: ContraceptionUse, use: ContraceptionUse) -> ContraceptionUse:
    end = None if run.end is None or use.end is None else max(run.end, use.end)
    return ContraceptionUse(
        run.method,
        run.start,
        end,
        f"{run.source}, {use.source}",
        run.by_text and use.by_text,
    )
