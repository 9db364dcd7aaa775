"""Validation of the course commands (start, prescribe, dispense, missed doses,
pause, resume, dose change, end): the rules of a course, each in one place.

Course commands act on the current course (the one not ended) and are
recorded in date order: a prescription, dispense, dose change, pause, resume
or end dated before the course's latest event is refused. Missed days are
the exception: they are reported after the fact, so they may fall before
events already recorded (but not in a pause, nor before the first dispense).

A dose must be one the capsules can take (:mod:`.regimen_checks`), and is
checked against the product's range in mg/kg/day with the weight in force on the
command's date (:func:`check_dose`): above the absolute maximum it is always
refused; outside the usual range it needs an ``override_reason``.

Then the pregnancy prevention programme (:mod:`isotrack.clinical.programme.status`):
a prescription must pass ``require_prescribable``, a dispense ``require_dispensable``
(a recorded authorisation in force), and a ``RecordAuthorization`` may allow no
later date and no more capsules than the programme's terms on its day
(:func:`isotrack.clinical.programme.check_recorded_terms`). These come last, so
that a malformed command is refused for what is wrong with it first.
"""

from __future__ import annotations

from datetime import date, timedelta

from isotrack.clinical.dosing import check_target, oral_product
from isotrack.clinical.programme import (
    check_authorization_use,
    check_recorded_terms,
    refusal,
    require_dispensable,
    require_prescribable,
    rule_set,
    supply_requirement,
)
from isotrack.clinical.record.regimen_checks import check_dispensed_capsules, check_takeable
from isotrack.clinical.state import (
    AnyCommand,
    ChangeDose,
    CourseState,
    Dispense,
    EndCourse,
    PatientRecord,
    PauseCourse,
    Prescribe,
    RecordAuthorization,
    RecordMissedDoses,
    ResumeCourse,
    StartCourse,
    command_type,
)
from isotrack.errors import CommandRejected, InvalidInputError, IsotrackError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Product

ONE_DAY = timedelta(days=1)


def rejection(field: str, error: IsotrackError, hint: str = "") -> CommandRejected:
    """A CommandRejected from an error raised by a value object or a lookup."""
    message = error.message
    if isinstance(error, InvalidInputError):
        message = message.removeprefix(f"{error.field}: ")
    return CommandRejected(field, message + (f": {hint}" if hint else ""))


def check_course_command(
    record: PatientRecord, command: AnyCommand, *, today: date, kb: KnowledgeBase
) -> None:
    """Raise CommandRejected when a course command cannot be applied."""
    match command:
        case StartCourse():
            _check_start_course(record, command, kb)
        case Prescribe():
            _check_prescribe(record, command, kb)
        case Dispense():
            _check_dispense(record, command, kb)
        case RecordAuthorization():
            _check_authorization(record, command, kb)
        case RecordMissedDoses():
            _check_missed(record, command, today)
        case PauseCourse():
            course = current_course(record, command)
            if course.status == "paused":
                raise CommandRejected(
                    "course",
                    f"course {course.course_id} is already paused since {course.open_pause}: "
                    "resume it (ResumeCourse) before pausing it again",
                )
            _in_date_order(course, command.on)
            missed_later = [d for d in course.missed_days if d >= command.on]
            if missed_later:
                raise CommandRejected(
                    "on",
                    f"a dose is recorded as missed on {missed_later[-1]}, on or after the pause "
                    f"({command.on}): a paused day has no dose to miss; pause from "
                    f"{missed_later[-1] + ONE_DAY} or later",
                )
        case ResumeCourse():
            course = current_course(record, command)
            if course.status != "paused":
                raise CommandRejected(
                    "course",
                    f"course {course.course_id} is not paused: only a paused course can be resumed",
                )
            _in_date_order(course, command.on)
        case ChangeDose():
            _check_change_dose(record, command, kb)
        case EndCourse():
            _in_date_order(current_course(record, command), command.on)
        case _:
            raise CommandRejected("command", f"{command_type(command)} is not a course command")


def course_product(product_id: str, kb: KnowledgeBase) -> Product:
    try:
        return oral_product(kb, product_id)
    except IsotrackError as error:
        raise rejection("product", error, "choose an oral isotretinoin product") from None


def current_course(record: PatientRecord, command: AnyCommand) -> CourseState:
    """The course a course command acts on; refused when there is none or the command
    is dated before its start."""
    course = record.current_course
    if course is None:
        last = record.last_course
        ended = f" (course {last.course_id} ended on {last.end})" if last is not None else ""
        raise CommandRejected("course", f"no course{ended}: start one with StartCourse")
    if command.on < course.start:
        raise CommandRejected(
            "on",
            f"{command.on} is before course {course.course_id} started ({course.start}): "
            f"date it on or after {course.start}",
        )
    return course


def _in_date_order(course: CourseState, on: date) -> None:
    latest, what = course.latest_event
    if on < latest:
        raise CommandRejected(
            "on",
            f"{on} is before the latest event of course {course.course_id} ({what} on "
            f"{latest}): a course is recorded in date order; date it on or after {latest}",
        )


def _not_paused(course: CourseState, doing: str) -> None:
    if course.status == "paused":
        raise CommandRejected(
            "course",
            f"course {course.course_id} is paused since {course.open_pause}: resume it "
            f"(ResumeCourse) before you {doing}",
        )


def _check_start_course(record: PatientRecord, command: StartCourse, kb: KnowledgeBase) -> None:
    current = record.current_course
    if current is not None:
        raise CommandRejected(
            "course",
            f"course {current.course_id} (started {current.start}) is still {current.status}: "
            "end it first (EndCourse)",
        )
    if not command.course_id.strip():
        raise CommandRejected("course_id", "is empty: give the course an id")
    same = record.course(command.course_id)
    if same is not None:
        raise CommandRejected(
            "course_id",
            f"{command.course_id} is already the id of the course started {same.start}: "
            "give a new id",
        )
    course_product(command.product, kb)
    if command.target_mg_per_kg is not None:
        try:
            check_target(kb, command.target_mg_per_kg)
        except InvalidInputError as error:
            raise rejection("target_mg_per_kg", error) from None
    last = record.last_course
    if last is not None and last.end is not None and command.on <= last.end:
        raise CommandRejected(
            "on",
            f"the previous course {last.course_id} ended on {last.end}: a new course starts "
            "after that day",
        )


def _check_prescribe(record: PatientRecord, command: Prescribe, kb: KnowledgeBase) -> None:
    course = current_course(record, command)
    _not_paused(course, "prescribe")
    _in_date_order(course, command.on)
    if not command.prescription_id.strip():
        raise CommandRejected("prescription_id", "is empty: give the prescription an id")
    if command.prescription_id in record.prescription_ids:
        raise CommandRejected(
            "prescription_id",
            f"{command.prescription_id} is already used: give each prescription a new id",
        )
    product = course_product(course.product, kb)
    if command.strength_mg not in product.strengths_mg:
        strengths = ", ".join(f"{s:g}" for s in product.strengths_mg)
        message = f"{command.strength_mg:g} mg is not a strength of {product.name}"
        raise CommandRejected("strength_mg", f"{message}: use one of {strengths} mg")
    if command.quantity < 1:
        raise CommandRejected("quantity", f"must be at least 1 capsule, got {command.quantity}")
    check_takeable(record, command, product)
    if command.supply_days < 1:
        raise CommandRejected("supply_days", f"must be at least 1 day, got {command.supply_days}")
    rules = rule_set(record, kb)
    supply = supply_requirement(command.supply_days, rules)
    if not supply.met:
        raise refusal("prescribing", rules, (supply,))
    check_dose(
        record, product, command.on, command.dose_mg, command.times_per_day,
        command.override_reason, kb,
    )  # fmt: skip
    require_prescribable(record, on=command.on, kb=kb, supply_days=command.supply_days)


def _check_change_dose(record: PatientRecord, command: ChangeDose, kb: KnowledgeBase) -> None:
    course = current_course(record, command)
    if not course.prescriptions:
        raise CommandRejected(
            "course",
            f"course {course.course_id} has no prescription yet: prescribe first (Prescribe)",
        )
    _in_date_order(course, command.on)
    product = course_product(course.product, kb)
    check_dose(
        record, product, command.on, command.dose_mg, command.times_per_day,
        command.override_reason, kb,
    )  # fmt: skip


def check_dose(
    record: PatientRecord,
    product: Product,
    on: date,
    dose_mg: float,
    times_per_day: int,
    override_reason: str,
    kb: KnowledgeBase,
) -> None:
    """A daily dose against the product's range in mg/kg/day, with the weight in force on
    ``on``: above the absolute maximum always refused; outside the usual range refused
    without an override reason."""
    if not dose_mg > 0:
        raise CommandRejected("dose_mg", f"must be above 0 mg, got {dose_mg:g}")
    if times_per_day < 1:
        raise CommandRejected("times_per_day", f"must be at least 1, got {times_per_day}")
    weight = record.weight_on(on)
    max_age = kb.number("dose.weight_max_age_days")
    if weight is None or (on - weight.on).days > max_age:
        last = f"the last: {weight.kg:g} kg on {weight.on}" if weight else "none recorded"
        raise CommandRejected(
            "weight",
            f"no weight in the {max_age:g} days up to {on} ({last}), so mg/kg/day cannot be "
            "checked: record a weight first (RecordWeight)",
        )
    low = product.usual_min_mg_per_kg_day
    high = product.usual_max_mg_per_kg_day
    highest = product.absolute_max_mg_per_kg_day
    if low is None or high is None or highest is None:
        raise CommandRejected("product", f"{product.name} has no dose range to check against")
    tolerance = kb.number("dose.tolerance_mg_per_kg_day")
    daily = dose_mg * times_per_day
    per_kg = daily / weight.kg
    dose = f"{daily:g} mg/day = {per_kg:.2f} mg/kg/day at {weight.kg:g} kg ({weight.on})"
    if per_kg > highest + tolerance:
        raise CommandRejected(
            "dose_mg",
            f"{dose} is above the absolute maximum of {highest:g} mg/kg/day for "
            f"{product.name}: give at most {highest * weight.kg:g} mg/day (no override allows "
            "more)",
        )
    outside = per_kg > high + tolerance or per_kg < low - tolerance
    if outside and not override_reason.strip():
        raise CommandRejected(
            "override_reason",
            f"{dose} is outside the usual {low:g}–{high:g} mg/kg/day of {product.name}: give "
            f"{low * weight.kg:g}–{high * weight.kg:g} mg/day, or an override_reason",
        )


def _check_dispense(record: PatientRecord, command: Dispense, kb: KnowledgeBase) -> None:
    course = current_course(record, command)
    _not_paused(course, "dispense")
    prescription = course.prescription(command.prescription_id)
    if prescription is None:
        known = ", ".join(p.id for p in course.prescriptions) or "none yet"
        raise CommandRejected(
            "prescription_id",
            f"no prescription {command.prescription_id!r} in course {course.course_id} "
            f"(prescriptions: {known}): prescribe first (Prescribe) or dispense one of them",
        )
    if command.on < prescription.on:
        raise CommandRejected(
            "on",
            f"dispense on {command.on} is before its prescription {prescription.id} of "
            f"{prescription.on}: dispense on or after {prescription.on}",
        )
    _in_date_order(course, command.on)
    if command.authorization_id:  # first: "already dispensed" says more than "none left"
        check_authorization_use(course, command)
    if command.quantity < 1:
        raise CommandRejected("quantity", f"must be at least 1 capsule, got {command.quantity}")
    check_dispensed_capsules(prescription, command.quantity)
    left = prescription.remaining_capsules
    if command.quantity > left:
        raise CommandRejected(
            "quantity",
            f"{command.quantity} capsules is more than the {left} left on prescription "
            f"{prescription.id} ({prescription.quantity} prescribed, "
            f"{prescription.dispensed_capsules} dispensed): dispense at most {left}"
            + (", or write a new prescription" if left == 0 else ""),
        )
    require_dispensable(
        record, command.prescription_id, on=command.on, kb=kb, quantity=command.quantity
    )


def _check_authorization(
    record: PatientRecord, command: RecordAuthorization, kb: KnowledgeBase
) -> None:
    course = current_course(record, command)
    _not_paused(course, "authorise a dispense")
    if not command.authorization_id.strip():
        raise CommandRejected("authorization_id", "is empty: give the authorisation an id")
    used = {a.id for c in record.courses for a in c.authorizations}
    if command.authorization_id in used:
        raise CommandRejected(
            "authorization_id", f"{command.authorization_id} is already used: give a new id"
        )
    prescription = course.prescription(command.prescription_id)
    if prescription is None or prescription.on > command.on:
        known = ", ".join(p.id for p in course.prescriptions if p.on <= command.on) or "none"
        raise CommandRejected(
            "prescription_id",
            f"no prescription {command.prescription_id!r} written by {command.on} in course "
            f"{course.course_id} (prescriptions: {known}): authorise one of them",
        )
    if command.not_after < command.on:
        raise CommandRejected(
            "not_after",
            f"{command.not_after} is before the authorisation's date {command.on}: an "
            f"authorisation runs from its date, give {command.on} or later",
        )
    if command.max_quantity < 1:
        raise CommandRejected(
            "max_quantity", f"must be at least 1 capsule, got {command.max_quantity}"
        )
    check_recorded_terms(record, command, kb)


def _check_missed(record: PatientRecord, command: RecordMissedDoses, today: date) -> None:
    course = current_course(record, command)
    if not command.days:
        raise CommandRejected("days", "none given: list the days the doses were missed")
    first_dispense = min((d.on for d in course.dispenses), default=None)
    seen: set[date] = set()
    for day in command.days:
        where = f"course {course.course_id}"
        if day in seen:
            raise CommandRejected("days", f"{day} is listed twice: list each day once")
        seen.add(day)
        if day > today:
            raise CommandRejected(
                "days",
                f"{day} is in the future (today is {today}): record a missed dose once the "
                "day has come",
            )
        if day > command.on:
            raise CommandRejected(
                "days",
                f"{day} is after the date of the report ({command.on}): date the report on "
                "or after the last missed day",
            )
        if day < course.start:
            raise CommandRejected(
                "days",
                f"{day} is before {where} started ({course.start}): missed days fall within "
                "the course",
            )
        if first_dispense is None or day < first_dispense:
            since = f" (first dispense {first_dispense})" if first_dispense else ""
            raise CommandRejected(
                "days",
                f"{day}: nothing had been dispensed in {where} by then{since}: only a day "
                "with capsules to take can be missed",
            )
        if course.paused_on(day):
            raise CommandRejected(
                "days",
                f"{day}: {where} was paused, no dose was due: only a day with a dose due "
                "can be missed",
            )
        if day in course.missed_days:
            raise CommandRejected(
                "days", f"{day} is already recorded as missed: record each missed day once"
            )
