"""Commands: the only way a patient's course record changes.

Each command is a frozen, tagged msgspec Struct, so a list of commands encodes
to JSON and back without loss (the store keeps them as its command log):

>>> import msgspec
>>> from datetime import date
>>> raw = msgspec.json.encode(RecordWeight(on=date(2026, 3, 2), value=70.0))
>>> raw
b'{"type":"RecordWeight","on":"2026-03-02","value":70.0,"unit":"kg"}'
>>> decode_command(raw) == RecordWeight(on=date(2026, 3, 2), value=70.0)
True

``on`` is the clinical date the command is about (the specimen date of a
test, the day of a dispense). Who gave the command, and when it was recorded,
belong to the store's envelope and the audit trail, not to the command.

Course-scoped commands act on the patient's current course; the aggregate
(:mod:`isotrack.clinical.record.aggregate`) refuses them when there is none.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, cast

import msgspec

from isotrack.clinical.order.regimen import Regimen

SexName = Literal["female", "male", "other", "unknown"]
CapabilityName = Literal["can-get-pregnant", "cannot-get-pregnant"]
TestResultName = Literal["positive", "negative", "indeterminate"]
TestSettingName = Literal["medical", "home", "unknown"]
PregnancyStateName = Literal["pregnant", "not-pregnant", "unknown"]


class Command(msgspec.Struct, frozen=True, kw_only=True, tag=True, forbid_unknown_fields=True):
    on: date


# --- the patient ------------------------------------------------------------------
class EnrolPatient(Command, frozen=True, kw_only=True):
    patient_id: str
    name: str
    birth_date: date
    sex: SexName
    pregnancy_capability: CapabilityName | None = None
    capability_reason: str = ""
    programme: str | None = None
    """Pregnancy prevention programme id; None: the clinic default parameter."""


class RecordPregnancyCapability(Command, frozen=True, kw_only=True):
    capability: CapabilityName
    reason: str


class RecordWeight(Command, frozen=True, kw_only=True):
    value: float
    unit: str = "kg"


class RecordLabResult(Command, frozen=True, kw_only=True):
    analyte: str
    value: float
    unit: str
    reference_high: float | None = None
    code: str = ""
    """The LOINC code the result came with (serum glucose 2345-7 is not blood glucose
    2339-0); empty when recorded by analyte only."""


class RecordPregnancyTest(Command, frozen=True, kw_only=True):
    result: TestResultName
    setting: TestSettingName = "medical"


class RecordPregnancyStatus(Command, frozen=True, kw_only=True):
    """A pregnancy status on a day: a clinician's assessment, or an EHR's pregnancy-status
    observation brought in by ``isotrack import`` ("unknown" is not "not pregnant")."""

    status: PregnancyStateName
    note: str = ""
    """The status as written when it says more ('Possible pregnancy')."""


class StartContraception(Command, frozen=True, kw_only=True):
    method: str
    """Knowledge-base contraception method id."""


class StopContraception(Command, frozen=True, kw_only=True):
    method: str


class RecordSymptoms(Command, frozen=True, kw_only=True):
    symptoms: tuple[str, ...]
    """Knowledge-base symptom ids (triage.toml)."""
    note: str = ""


class RecordPHQ9(Command, frozen=True, kw_only=True):
    total: int
    item9: int | None = None
    given_in_clinic_by: str = ""
    """The staff member (username) who gave the questionnaire at a clinic visit;
    empty when the patient answered on their own (the portal, an import)."""


class RecordLesionCount(Command, frozen=True, kw_only=True):
    nodules: int
    inflammatory: int | None = None
    comedones: int | None = None


# --- the course -------------------------------------------------------------------
class StartCourse(Command, frozen=True, kw_only=True):
    course_id: str
    product: str
    target_mg_per_kg: float | None = None
    """None: the knowledge-base default cumulative target."""


class Prescribe(Command, frozen=True, kw_only=True):
    prescription_id: str
    dose_mg: float
    """Per administration (the mean when the regimen's administrations differ)."""
    times_per_day: int
    strength_mg: float
    """The capsule strength (the largest of the regimen's when it has several)."""
    quantity: int
    """Capsules (of every strength of the regimen)."""
    supply_days: int
    override_reason: str = ""
    """Required when the dose is outside the product's usual range."""
    regimen: Regimen | None = None
    """Each daily administration with its capsules (e.g. morning 1 × 30 mg, evening
    1 × 25 mg). None: ``dose_mg`` of ``strength_mg`` capsules ``times_per_day`` times,
    which must then be a whole number of capsules (:func:`prescription_of` builds a
    command from a regimen)."""


def prescription_of(
    *,
    on: date,
    prescription_id: str,
    regimen: Regimen,
    supply_days: int,
    override_reason: str = "",
) -> Prescribe:
    """The prescription of ``regimen`` for ``supply_days`` days: the capsules of every
    strength for those days, the single-dose fields derived from it.

    >>> from isotrack.clinical.order.regimen import regimen_of
    >>> p = prescription_of(on=date(2026, 3, 2), prescription_id="p1",
    ...                     regimen=regimen_of((30, 25), (25, 30)), supply_days=30)
    >>> p.dose_mg, p.times_per_day, p.strength_mg, p.quantity
    (27.5, 2, 30.0, 60)
    """
    return Prescribe(
        on=on,
        prescription_id=prescription_id,
        dose_mg=regimen.total_mg / regimen.times_per_day,
        times_per_day=regimen.times_per_day,
        strength_mg=max(regimen.strengths_used),
        quantity=regimen.capsule_count * supply_days,
        supply_days=supply_days,
        override_reason=override_reason,
        regimen=regimen,
    )


class Dispense(Command, frozen=True, kw_only=True):
    prescription_id: str
    quantity: int
    """Capsules handed out."""
    authorization_id: str = ""
    """The dispensing authorisation it is made under (a scanned or pasted token names
    it); empty: the one in force for the prescription. Each authorisation is used
    once: a second dispense under it is refused."""
    dispensed_by: str = ""
    """Who handed it out and where (the pharmacist's account, the pharmacy), shown
    when a second dispense under the same authorisation is refused."""


class RecordMissedDoses(Command, frozen=True, kw_only=True):
    days: tuple[date, ...]


class PauseCourse(Command, frozen=True, kw_only=True):
    reason: str


class ResumeCourse(Command, frozen=True, kw_only=True):
    pass


class ChangeDose(Command, frozen=True, kw_only=True):
    dose_mg: float
    times_per_day: int
    override_reason: str = ""


class EndCourse(Command, frozen=True, kw_only=True):
    reason: str


class RecordOverride(Command, frozen=True, kw_only=True):
    """A clinician's decision to go ahead despite a finding, with the reason."""

    rule_id: str
    reason: str


# --- the pregnancy prevention programme ------------------------------------------------
class RecordComprehensionAnswers(Command, frozen=True, kw_only=True):
    """The patient's answers to the comprehension questions of the programme's bank
    (every question of the bank once; see :mod:`isotrack.clinical.programme.comprehension`)."""

    answers: tuple[tuple[str, int], ...]
    """(question id, index of the chosen option) pairs."""
    given_in_clinic_by: str = ""
    """The staff member (username) who asked the questions at a clinic visit; empty
    when the patient answered on their own."""


class RecordCounselling(Command, frozen=True, kw_only=True):
    """Counselling given to the patient (at enrolment; after two wrong answers)."""

    topic: str
    note: str = ""


class RecordAuthorization(Command, frozen=True, kw_only=True):
    """A dispensing authorisation issued for a prescription of the current course
    (:func:`isotrack.clinical.programme.authorize_dispense`), kept so that it can
    be looked up by id; ``Dispense`` needs a valid one."""

    authorization_id: str
    prescription_id: str
    not_after: date
    """Do-not-dispense-after date."""
    max_quantity: int
    """Capsules."""


# --- the clinic's worklist ---------------------------------------------------------------
class AssignWorkItem(Command, frozen=True, kw_only=True):
    """Give a worklist item (:mod:`isotrack.clinical.worklist`) to a clinician."""

    item: str
    """The item's id ('report-symptoms-3')."""
    assignee: str
    """The clinician's user name."""


class AcknowledgeWorkItem(Command, frozen=True, kw_only=True):
    """A clinician has seen a worklist item and is acting on it: a patient report no
    longer raises REPORT-NEEDS-REVIEW."""

    item: str
    note: str = ""


class ResolveWorkItem(Command, frozen=True, kw_only=True):
    """A worklist item is dealt with; the note says how (required)."""

    item: str
    note: str


AnyCommand = (
    EnrolPatient
    | RecordPregnancyCapability
    | RecordWeight
    | RecordLabResult
    | RecordPregnancyTest
    | RecordPregnancyStatus
    | StartContraception
    | StopContraception
    | RecordSymptoms
    | RecordPHQ9
    | RecordLesionCount
    | StartCourse
    | Prescribe
    | Dispense
    | RecordMissedDoses
    | PauseCourse
    | ResumeCourse
    | ChangeDose
    | EndCourse
    | RecordOverride
    | RecordComprehensionAnswers
    | RecordCounselling
    | RecordAuthorization
    | AssignWorkItem
    | AcknowledgeWorkItem
    | ResolveWorkItem
)

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__name__: cls
    for cls in (
        EnrolPatient, RecordPregnancyCapability, RecordWeight, RecordLabResult,
        RecordPregnancyTest, RecordPregnancyStatus, StartContraception, StopContraception,
        RecordSymptoms,
        RecordPHQ9, RecordLesionCount, StartCourse, Prescribe, Dispense, RecordMissedDoses,
        PauseCourse, ResumeCourse, ChangeDose, EndCourse, RecordOverride,
        RecordComprehensionAnswers, RecordCounselling, RecordAuthorization,
        AssignWorkItem, AcknowledgeWorkItem, ResolveWorkItem,
    )
}  # fmt: skip

_decoder = msgspec.json.Decoder(AnyCommand)


def encode_command(command: Command) -> bytes:
    return msgspec.json.encode(command)


def decode_command(raw: bytes | str) -> AnyCommand:
    """Decode one command; malformed input raises msgspec.ValidationError/DecodeError."""
    return cast(AnyCommand, _decoder.decode(raw))


def command_from_dict(data: dict[str, object]) -> AnyCommand:
    """Build a command from a JSON-like dict with a ``type`` key (API and CLI input)."""
    return cast(AnyCommand, msgspec.convert(data, AnyCommand))


def given_in_clinic(command: RecordPHQ9 | RecordComprehensionAnswers) -> str:
    """', given in clinic by <username>' when staff gave the questions at a visit, else ''.

    >>> given_in_clinic(RecordPHQ9(on=date(2026, 3, 2), total=4, given_in_clinic_by="nurse.kim"))
    ', given in clinic by nurse.kim'
    """
    by = command.given_in_clinic_by
    return f", given in clinic by {by}" if by else ""


def command_type(command: Command) -> str:
    return type(command).__name__
