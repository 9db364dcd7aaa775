"""What the pharmacist's check shows: may this patient be dispensed today, and if
not, exactly why (pure: a record, a day and the knowledge base in, a view out).

The verdict comes from the programme's own functions, the ones the API and the
aggregate use, so the page can never say "yes" where the record would refuse:

- ``dispense``: a recorded authorisation is in force for the month's prescription
  with capsules left (:func:`~isotrack.clinical.programme.valid_authorization`)
  and :func:`~isotrack.clinical.programme.require_dispensable` passes;
- ``authorise``: no authorisation in force, but every requirement of one is met
  (:func:`~isotrack.clinical.programme.authorization_requirements` gives
  terms): the pharmacist may issue it;
- ``refused``: anything else, with each unmet requirement and what would satisfy it;
  also a prescription whose dose its capsules cannot make (DOSE-NOT-TAKEABLE: one
  stored before regimens), which the record refuses to dispense.

Quantities are given per capsule strength of the prescription's regimen ("60
capsules: 30 × 30 mg and 30 × 25 mg"), as the dispense is recorded.

An early or overlapping supply (SUPPLY-ON-HAND: the isotretinoin already dispensed
still covers more than the clinic's limit) is an unmet requirement until the
prescriber records the decision to supply early; the record refuses the
authorisation and the dispense without it (:func:`~isotrack.clinical.record.early_supply`).
The finding and the decision are shown either way.

When the month has no prescription to dispense (none yet, or all dispensed), the
check also lists what the *next* prescription needs
(:func:`~isotrack.clinical.programme.programme_status`), so the pharmacist
can tell the patient what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from isotrack.clinical.findings import Finding
from isotrack.clinical.programme import (
    DispenseTerms,
    MonthState,
    ProgrammeStatus,
    Requirement,
    authorization_requirements,
    course_as_of,
    course_ended,
    programme_status,
    require_dispensable,
    valid_authorization,
)
from isotrack.clinical.record import Override, early_supply
from isotrack.clinical.screening import supply_on_hand_finding
from isotrack.clinical.state import AuthorizationState, PatientRecord, PrescriptionState
from isotrack.errors import ProgrammeRefusal
from isotrack.knowledge.base import KnowledgeBase
from isotrack.web.views.words import plain

Verdict = Literal["dispense", "authorise", "refused"]

STATE_TEXT: dict[MonthState, str] = {
    MonthState.ENROLLED: "enrolled, no course started",
    MonthState.QUALIFYING: "qualifying for this month's prescription",
    MonthState.ELIGIBLE_TO_PRESCRIBE: "ready for this month's prescription",
    MonthState.PRESCRIBED: "prescribed, not yet authorised",
    MonthState.DISPENSE_AUTHORISED: "dispensing authorised",
    MonthState.DISPENSED: "this month's prescription is dispensed",
    MonthState.WINDOW_MISSED: "the window was missed: a new test and prescription are needed",
    MonthState.SUSPENDED_POSITIVE_TEST: "suspended: positive pregnancy test",
    MonthState.COMPLETED: "course completed",
    MonthState.POST_COURSE_FOLLOW_UP: "course ended: follow-up after the course",
}
"""The month's state in words (every state has one: a test checks it)."""


@dataclass(frozen=True, slots=True)
class RequirementLine:
    """One requirement as the page shows it: met or not, and the evidence or the need."""

    key: str
    met: bool
    text: str
    detail: str
    """When met: what was found; when not: what would satisfy it (dates included)."""


def requirement_line(requirement: Requirement) -> RequirementLine:
    detail = requirement.found if requirement.met else requirement.needs
    return RequirementLine(requirement.key, requirement.met, requirement.text, plain(detail))


@dataclass(frozen=True, slots=True)
class DispenseCheck:
    """The pharmacist's answer for one patient on one day."""

    patient_id: str
    name: str
    on: date
    verdict: Verdict
    status: ProgrammeStatus
    prescription: PrescriptionState | None
    """The prescription the check is about (the latest of the course on ``on``)."""
    authorization: AuthorizationState | None = None
    """The recorded authorisation in force (verdict ``dispense``)."""
    capsules_left: int = 0
    """Capsules the authorisation in force still allows."""
    terms: DispenseTerms | None = None
    """What a new authorisation would allow (verdict ``authorise``)."""
    checked: tuple[RequirementLine, ...] = ()
    """Every requirement of dispensing (or of an authorisation) that was checked."""
    next_prescription: tuple[RequirementLine, ...] = ()
    """When there is nothing to dispense: what the next prescription needs."""
    supply: Finding | None = None
    """SUPPLY-ON-HAND when the supply already dispensed is over the clinic's limit."""
    supply_decision: Override | None = None
    """The prescriber's decision to supply early anyway, when recorded."""

    @property
    def unmet(self) -> tuple[RequirementLine, ...]:
        return tuple(r for r in self.checked if not r.met)

    @property
    def state_text(self) -> str:
        return STATE_TEXT[self.status.state]

    def capsules_text(self, capsules: int) -> str:
        """'60 capsules (30 × 30 mg and 30 × 25 mg)': ``capsules`` of the prescription
        per strength of its regimen."""
        prescription = self.prescription
        by_strength = None if prescription is None else prescription.capsules_by_strength(capsules)
        if not by_strength:
            return f"{capsules} capsules"
        each = " and ".join(f"{n} × {s:g} mg" for s, n in by_strength)
        return f"{capsules} capsules ({each})"

    @property
    def regimen_text(self) -> str:
        """The prescription's regimen: 'morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)'."""
        prescription = self.prescription
        if prescription is None:
            return ""
        if prescription.regimen is None:
            return (
                f"{prescription.dose_mg:g} mg × {prescription.times_per_day} a day of "
                f"{prescription.strength_mg:g} mg capsules: not a whole number of capsules"
            )
        return prescription.regimen.describe()

    @property
    def headline(self) -> str:
        """One line: the answer to "may I dispense today?"."""
        if self.verdict == "dispense" and self.authorization is not None:
            return (
                f"Yes: dispense up to {self.capsules_text(self.capsules_left)} under "
                f"authorisation {self.authorization.id}, by "
                f"{self.authorization.not_after.isoformat()}."
            )
        if self.verdict == "authorise" and self.terms is not None:
            return (
                f"Not yet: every requirement is met. Create the authorisation (up to "
                f"{self.capsules_text(self.terms.max_quantity)}, dispense by "
                f"{self.terms.not_after.isoformat()}), then record the dispense."
            )
        count = len(self.unmet)
        reasons = "1 requirement is" if count == 1 else f"{count} requirements are"
        return f"No: do not dispense today. {reasons} not met."


def dispense_check(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> DispenseCheck:
    """May ``record``'s patient be dispensed on ``on``? (see the module doc)."""
    status = programme_status(record, on=on, kb=kb)
    requirements, terms = authorization_requirements(record, None, on=on, kb=kb)
    course = course_as_of(record, on)
    prescription = None
    if course is not None and not course_ended(course, on):
        written = [p for p in course.prescriptions if p.on <= on]
        prescription = written[-1] if written else None
    if prescription is not None and prescription.regimen is None:
        line = RequirementLine(
            "regimen", False, "a dose the prescription's capsules can make (DOSE-NOT-TAKEABLE)",
            f"prescription {prescription.id} gives {prescription.dose_mg:g} mg of "
            f"{prescription.strength_mg:g} mg capsules: ask the prescriber for a new "
            "prescription of a takeable regimen",
        )  # fmt: skip
        return DispenseCheck(
            record.patient_id, record.name, on, "refused", status, prescription, checked=(line,)
        )
    supply = _supply(record, prescription, on, kb)
    if course is not None and prescription is not None and supply.line is None:
        authorization, left = valid_authorization(course, prescription.id, on)
        if authorization is not None and _dispensable(record, prescription, on, kb):
            found = f"{authorization.id} until {authorization.not_after}, {left} capsules left"
            line = RequirementLine(
                "authorisation", True, "a dispensing authorisation in force", found
            )
            return DispenseCheck(
                record.patient_id, record.name, on, "dispense", status, prescription,
                authorization=authorization, capsules_left=left, checked=(line,),
                supply=supply.finding, supply_decision=supply.decision,
            )  # fmt: skip
    lines = tuple(requirement_line(r) for r in requirements)
    if supply.line is not None:
        lines = (*lines, supply.line)
    if terms is not None and supply.line is None:
        return DispenseCheck(
            record.patient_id, record.name, on, "authorise", status, prescription,
            terms=terms, checked=lines, supply=supply.finding, supply_decision=supply.decision,
        )  # fmt: skip
    if any(r.key == "prescription" and r.met for r in requirements):
        return DispenseCheck(
            record.patient_id, record.name, on, "refused", status, prescription, checked=lines,
            supply=supply.finding, supply_decision=supply.decision,
        )  # fmt: skip
    # Nothing left to dispense (no prescription yet, or all of it dispensed): the rest
    # of the authorisation's requirements are moot; say what the next one needs.
    first = tuple(line for line in lines if line.key in _BEFORE_PRESCRIPTION)
    upcoming = tuple(requirement_line(r) for r in status.requirements)
    return DispenseCheck(
        record.patient_id, record.name, on, "refused", status, prescription,
        checked=first, next_prescription=upcoming,
    )  # fmt: skip


_BEFORE_PRESCRIPTION = frozenset({"course", "prescription"})


@dataclass(frozen=True, slots=True)
class _Supply:
    finding: Finding | None = None
    decision: Override | None = None
    line: RequirementLine | None = None
    """The unmet requirement while no decision to supply early is recorded."""


def _supply(
    record: PatientRecord, prescription: PrescriptionState | None, on: date, kb: KnowledgeBase
) -> _Supply:
    """SUPPLY-ON-HAND for an authorisation or a dispense of ``prescription`` today."""
    if prescription is None:
        return _Supply()
    early = early_supply(record, prescription.id, on=on, kb=kb)
    if early is None:
        return _Supply()
    found, decision = early
    finding = supply_on_hand_finding(kb, found)
    if decision is not None:
        return _Supply(finding, decision)
    limit = kb.number("ppp.supply_on_hand_max_days")
    wait = f", or dispense from {found.due_on(limit).isoformat()}" if found.over(limit) else ""
    line = RequirementLine(
        "supply",
        False,
        f"no earlier isotretinoin supply left beyond the clinic's limit of {limit:g} days",
        f"the prescriber's decision to supply early, with the reason{wait}: {finding.summary}",
    )
    return _Supply(finding, None, line)


def _dispensable(
    record: PatientRecord, prescription: PrescriptionState, on: date, kb: KnowledgeBase
) -> bool:
    """Whether the recorded authorisation allows a dispense today (a positive test since
    it was issued does not: the authorisation requirements then say why)."""
    try:
        require_dispensable(record, prescription.id, on=on, kb=kb)
    except ProgrammeRefusal:
        return False
    return True
