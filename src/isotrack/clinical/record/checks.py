"""Validation of commands against a patient's record: every rule a command must
meet before :func:`isotrack.clinical.record.aggregate.apply` changes the record.

Each rule lives once; each refusal is a
:class:`~isotrack.errors.CommandRejected` whose message says what is unmet and
what would satisfy it. Value ranges that a value object refuses by itself (a
PHQ-9 total outside 0–27, a negative lesion count) stay in that value object
(:mod:`isotrack.clinical.snapshot`); ``apply`` turns its refusal into a
``CommandRejected`` too.

This module holds the rules every command meets (not dated after the day it
is recorded; only ``EnrolPatient`` on an empty record, and only once) and the
rules of the patient's own data; the course's rules are in
:mod:`isotrack.clinical.record.course_checks`.
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.programme import answer_problems, programme_of
from isotrack.clinical.record.course_checks import check_course_command, rejection
from isotrack.clinical.record.supply_checks import check_supply_on_hand
from isotrack.clinical.record.work_checks import check_work_command
from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AnyCommand,
    AssignWorkItem,
    EnrolPatient,
    PatientRecord,
    RecordComprehensionAnswers,
    RecordCounselling,
    RecordLabResult,
    RecordLesionCount,
    RecordOverride,
    RecordPHQ9,
    RecordPregnancyCapability,
    RecordPregnancyStatus,
    RecordPregnancyTest,
    RecordSymptoms,
    RecordWeight,
    ResolveWorkItem,
    StartContraception,
    StopContraception,
    command_type,
)
from isotrack.clinical.units import CANONICAL, to_canonical
from isotrack.errors import CommandRejected, InvalidInputError, IsotrackError
from isotrack.knowledge.base import KnowledgeBase

NOT_LAB_ANALYTES = frozenset({"weight", "dose", "hcg"})
"""Analytes with a canonical unit that are not lab results: an hCG is a pregnancy test
(RecordPregnancyTest), never a lab value."""


def check_command(
    record: PatientRecord | None, command: AnyCommand, *, today: date, kb: KnowledgeBase
) -> None:
    """Raise CommandRejected when ``command`` cannot be applied to ``record`` today."""
    if command.on > today:
        raise CommandRejected(
            "on",
            f"{command_type(command)} dated {command.on} is after today ({today}): a command "
            f"cannot be dated in the future; record it on or after {command.on}",
        )
    if isinstance(command, EnrolPatient):
        _check_enrol(record, command, kb)
        return
    if record is None:
        raise CommandRejected("patient", "not enrolled: enrol the patient first (EnrolPatient)")
    match command:
        case RecordWeight():
            check_weight(command, kb)
        case RecordLabResult():
            check_lab(command, kb)
        case StartContraception():
            _check_start_contraception(record, command, kb)
        case StopContraception():
            _check_stop_contraception(record, command)
        case RecordSymptoms():
            _check_symptoms(command, kb)
        case RecordPHQ9():
            _check_phq9(command)
            _check_given_by(command)
        case RecordOverride():
            _check_override(command, kb)
        case RecordComprehensionAnswers():
            _check_answers(record, command, kb)
            _check_given_by(command)
        case AssignWorkItem() | AcknowledgeWorkItem() | ResolveWorkItem():
            check_work_command(record, command, kb)
        case RecordCounselling():
            if not command.topic.strip():
                raise CommandRejected("topic", "is empty: say what the counselling was about")
        case (
            RecordPregnancyCapability()
            | RecordPregnancyTest()
            | RecordPregnancyStatus()
            | RecordLesionCount()
        ):
            pass  # their values are checked by the value objects they become
        case _:
            check_course_command(record, command, today=today, kb=kb)
            check_supply_on_hand(record, command, kb)


# --- the patient ------------------------------------------------------------------


def _check_enrol(record: PatientRecord | None, command: EnrolPatient, kb: KnowledgeBase) -> None:
    if record is not None:
        raise CommandRejected(
            "patient",
            f"{record.patient_id} is already enrolled: a patient is enrolled once; change the "
            "record with the other commands",
        )
    if not command.patient_id.strip():
        raise CommandRejected("patient_id", "is empty: give the patient's id")
    if not command.name.strip():
        raise CommandRejected("name", "is empty: give the patient's name")
    if command.birth_date > command.on:
        raise CommandRejected(
            "birth_date",
            f"{command.birth_date} is after the enrolment date {command.on}: give the date "
            "of birth",
        )
    oldest = kb.number("valid.max_age_years")
    if command.on.year - command.birth_date.year > oldest:
        raise CommandRejected(
            "birth_date",
            f"{command.birth_date} gives an age over {oldest:g} years: check the date of birth",
        )
    if command.programme is not None:
        try:
            kb.programme(command.programme)
        except IsotrackError as error:
            raise rejection("programme", error, "choose a known programme") from None


def canonical(analyte: str, value: float, unit: str, kb: KnowledgeBase) -> float:
    try:
        return to_canonical(analyte, value, unit, kb)
    except InvalidInputError as error:
        raise rejection("unit", error, f"give {analyte} in a known unit") from None


def check_weight(command: RecordWeight, kb: KnowledgeBase) -> None:
    kg = canonical("weight", command.value, command.unit, kb)
    low, high = kb.number("valid.weight_min_kg"), kb.number("valid.weight_max_kg")
    if not low <= kg <= high:
        raise CommandRejected(
            "value",
            f"{command.value:g} {command.unit} ({kg:g} kg) is outside the possible "
            f"{low:g}–{high:g} kg: check the value and its unit",
        )


def check_lab(command: RecordLabResult, kb: KnowledgeBase) -> None:
    """A lab result of a known analyte, in a unit it converts from, with a LOINC code
    of that analyte if it has one."""
    if command.analyte not in CANONICAL or command.analyte in NOT_LAB_ANALYTES:
        known = ", ".join(a for a in CANONICAL if a not in NOT_LAB_ANALYTES)
        raise CommandRejected("analyte", f"unknown analyte {command.analyte!r}: use one of {known}")
    canonical(command.analyte, command.value, command.unit, kb)
    if command.value < 0:
        raise CommandRejected(
            "value", f"{command.value:g} {command.unit} is negative: give the measured value"
        )
    if command.reference_high is not None and not command.reference_high > 0:
        raise CommandRejected(
            "reference_high",
            f"{command.reference_high:g} is not above 0: give the upper limit of normal or "
            "leave it out",
        )
    codes = {c.code for c in kb.valueset(f"lab-{command.analyte}").codes if c.system == "loinc"}
    if command.code and command.code not in codes:
        raise CommandRejected(
            "code",
            f"{command.code!r} is not a LOINC code of {command.analyte} (known: "
            f"{', '.join(sorted(codes))}): give one of them or leave it out",
        )


def _check_start_contraception(
    record: PatientRecord, command: StartContraception, kb: KnowledgeBase
) -> None:
    try:
        method = kb.contraception_method(command.method)
    except IsotrackError as error:
        raise rejection("method", error, "use a known method id") from None
    in_use = record.contraception_in_use(command.method)
    if in_use is not None:
        raise CommandRejected(
            "method",
            f"{method.name} is already in use since {in_use.start}: stop it first "
            "(StopContraception) or record another method",
        )


def _check_stop_contraception(record: PatientRecord, command: StopContraception) -> None:
    in_use = record.contraception_in_use(command.method)
    if in_use is None:
        methods = ", ".join(u.method for u in record.contraception if u.end is None) or "none"
        raise CommandRejected(
            "method",
            f"{command.method!r} is not in use (in use: {methods}): only a started method "
            "can be stopped",
        )
    if in_use.start is not None and command.on < in_use.start:
        raise CommandRejected(
            "on",
            f"{command.on} is before {command.method} was started ({in_use.start}): date the "
            "stop on or after the start",
        )


def _check_symptoms(command: RecordSymptoms, kb: KnowledgeBase) -> None:
    if not command.symptoms:
        raise CommandRejected("symptoms", "none given: list at least one symptom id")
    for symptom in command.symptoms:
        try:
            kb.symptom(symptom)
        except IsotrackError as error:
            raise rejection("symptoms", error, "use known symptom ids") from None


def _check_phq9(command: RecordPHQ9) -> None:
    if command.item9 is not None and command.item9 > command.total:
        raise CommandRejected(
            "item9",
            f"{command.item9} is more than the total {command.total}: item 9 is part of the total",
        )


def _check_override(command: RecordOverride, kb: KnowledgeBase) -> None:
    try:
        kb.rule(command.rule_id)
    except IsotrackError as error:
        raise rejection("rule_id", error, "name a rule of the catalogue") from None
    if not command.reason.strip():
        raise CommandRejected("reason", "is empty: say why the finding is overridden")


def _check_answers(
    record: PatientRecord, command: RecordComprehensionAnswers, kb: KnowledgeBase
) -> None:
    programme = programme_of(record, kb).id
    problems = answer_problems(command.answers, programme, kb)
    if problems:
        raise CommandRejected(
            "answers",
            "; ".join(problems) + f": answer each question of the {programme} bank once",
        )


GIVEN_BY_MAX = 200
"""A username's most characters (the users table's)."""


def _check_given_by(command: RecordPHQ9 | RecordComprehensionAnswers) -> None:
    by = command.given_in_clinic_by
    if by != by.strip() or len(by) > GIVEN_BY_MAX:
        raise CommandRejected(
            "given_in_clinic_by",
            f"{by[:40]!r} is not a username: name the staff member who gave the questions "
            "(or leave it empty when the patient answered alone)",
        )
