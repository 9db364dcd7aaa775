"""The recording forms of the patient page: their fields, defaults and choices,
and turning what was typed into one command, or into messages next to the fields.

Pure: the form values (strings, as the browser sends them), the day and the
knowledge base in; a command or ``{field: message}`` out. The record's own
checks (possible weights, known units, dates not in the future) run when the
command is stored, and their refusal is shown next to its field too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from isotrack.clinical.record import PatientRecord
from isotrack.clinical.state import (
    AnyCommand,
    RecordCounselling,
    RecordLabResult,
    RecordLesionCount,
    RecordPregnancyTest,
    RecordWeight,
    StartContraception,
    StopContraception,
)
from isotrack.clinical.units import CANONICAL
from isotrack.knowledge.base import KnowledgeBase

Values = Mapping[str, str]
Errors = dict[str, str]
LAB_NAMES = {
    "triglycerides": "Triglycerides (fasting)",
    "alt": "ALT",
    "ast": "AST",
    "cholesterol": "Total cholesterol",
    "hdl": "HDL cholesterol",
    "ldl": "LDL cholesterol",
    "glucose": "Glucose",
}
WEIGHT_UNITS = (("kg", "kg"), ("[lb_av]", "lb"))
TEST_RESULTS = (("negative", "Negative"), ("positive", "Positive"), ("indeterminate", "Unclear"))
TEST_SETTINGS = (("medical", "Clinic or lab"), ("home", "Home test"), ("unknown", "Not known"))


@dataclass(frozen=True, slots=True)
class RecordForm:
    name: str
    title: str
    fields: tuple[str, ...]
    build: Callable[[Values, date, Errors], AnyCommand | None]
    done: str
    """The message after storing, e.g. 'Weight recorded'."""


def text(values: Values, name: str) -> str:
    return values.get(name, "").strip()


def required(values: Values, name: str, errors: Errors, message: str) -> str:
    value = text(values, name)
    if not value:
        errors[name] = message
    return value


def number(values: Values, name: str, errors: Errors, *, optional: bool = False) -> float | None:
    raw = text(values, name)
    if not raw:
        if not optional:
            errors[name] = "Enter a number."
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        errors[name] = f"{raw!r} is not a number: enter digits, e.g. 62.5"
        return None
    if value != value or value in (float("inf"), float("-inf")):
        errors[name] = "Enter a finite number."
        return None
    return value


def whole(values: Values, name: str, errors: Errors, *, optional: bool = False) -> int | None:
    value = number(values, name, errors, optional=optional)
    if value is None:
        return None
    if value != int(value) or value < 0:
        errors[name] = "Enter a whole number, 0 or more."
        return None
    return int(value)


def day(values: Values, name: str, today: date, errors: Errors) -> date:
    raw = text(values, name)
    if not raw:
        return today
    try:
        found = date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return today
    if found > today:
        errors[name] = f"{found} is in the future: enter today ({today}) or an earlier day."
    return found


def choice(values: Values, name: str, allowed: tuple[str, ...], errors: Errors) -> str:
    value = text(values, name)
    if value not in allowed:
        errors[name] = "Choose one of the options."
    return value


def _weight(values: Values, today: date, errors: Errors) -> AnyCommand | None:
    on = day(values, "on", today, errors)
    kg = number(values, "value", errors)
    unit = choice(values, "unit", tuple(u for u, _ in WEIGHT_UNITS), errors)
    if errors or kg is None:
        return None
    return RecordWeight(on=on, value=kg, unit=unit)


def _lab(values: Values, today: date, errors: Errors) -> AnyCommand | None:
    on = day(values, "on", today, errors)
    analyte = choice(values, "analyte", tuple(LAB_NAMES), errors)
    value = number(values, "value", errors)
    unit = text(values, "unit") or CANONICAL.get(analyte, "")
    high = number(values, "reference_high", errors, optional=True)
    if errors or value is None:
        return None
    return RecordLabResult(on=on, analyte=analyte, value=value, unit=unit, reference_high=high)


def _pregnancy_test(values: Values, today: date, errors: Errors) -> AnyCommand | None:
    on = day(values, "on", today, errors)
    result = choice(values, "result", tuple(r for r, _ in TEST_RESULTS), errors)
    setting = choice(values, "setting", tuple(s for s, _ in TEST_SETTINGS), errors)
    if errors:
        return None
    return RecordPregnancyTest(on=on, result=result, setting=setting)  # type: ignore[arg-type]  # checked by choice


def _contraception(values: Values, today: date, errors: Errors) -> AnyCommand | None:
    on = day(values, "on", today, errors)
    method = required(values, "method", errors, "Choose a method.")
    action = choice(values, "action", ("start", "stop"), errors)
    if errors:
        return None
    if action == "stop":
        return StopContraception(on=on, method=method)
    return StartContraception(on=on, method=method)


def _note(values: Values, today: date, errors: Errors) -> AnyCommand | None:
    on = day(values, "on", today, errors)
    topic = required(values, "topic", errors, "Say what the note or counselling is about.")
    if errors:
        return None
    return RecordCounselling(on=on, topic=topic, note=text(values, "note"))


def _lesions(values: Values, today: date, errors: Errors) -> AnyCommand | None:
    on = day(values, "on", today, errors)
    nodules = whole(values, "nodules", errors)
    inflammatory = whole(values, "inflammatory", errors, optional=True)
    comedones = whole(values, "comedones", errors, optional=True)
    if errors or nodules is None:
        return None
    return RecordLesionCount(on=on, nodules=nodules, inflammatory=inflammatory, comedones=comedones)


RECORD_FORMS: dict[str, RecordForm] = {
    form.name: form
    for form in (
        RecordForm("weight", "Weight", ("on", "value", "unit"), _weight, "Weight recorded"),
        RecordForm(
            "lab", "Lab result", ("on", "analyte", "value", "unit", "reference_high"), _lab,
            "Lab result recorded",
        ),
        RecordForm(
            "pregnancy-test", "Pregnancy test", ("on", "result", "setting"), _pregnancy_test,
            "Pregnancy test recorded",
        ),
        RecordForm(
            "contraception", "Contraception", ("on", "action", "method"), _contraception,
            "Contraception recorded",
        ),
        RecordForm(
            "lesions", "Lesion count", ("on", "nodules", "inflammatory", "comedones"), _lesions,
            "Lesion count recorded",
        ),
        RecordForm("note", "Note or counselling", ("on", "topic", "note"), _note, "Note recorded"),
    )
}  # fmt: skip


def parse_record_form(name: str, values: Values, today: date) -> tuple[AnyCommand | None, Errors]:
    """The command of form ``name``, or the messages to show next to its fields."""
    errors: Errors = {}
    command = RECORD_FORMS[name].build(values, today, errors)
    return (None if errors else command), errors


def form_choices(record: PatientRecord, kb: KnowledgeBase) -> dict[str, list[tuple[str, str]]]:
    """The options of the forms' select fields."""
    in_use = {u.method for u in record.contraception if u.end is None}
    methods = [
        (m.id, f"{m.name}{' (in use)' if m.id in in_use else ''}") for m in kb.contraception_methods
    ]
    return {
        "unit": list(WEIGHT_UNITS),
        "analyte": list(LAB_NAMES.items()),
        "result": [("", "Choose the result"), *TEST_RESULTS],
        "setting": [("", "Choose where"), *TEST_SETTINGS],
        "method": [("", "Choose a method"), *methods],
        "action": [("", "Choose"), ("start", "Started"), ("stop", "Stopped")],
    }


def form_state(today: date, refused: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each form's values (a refused form keeps what was typed) and errors."""
    state: dict[str, dict[str, Any]] = {}
    for name in RECORD_FORMS:
        given = refused.get(name, {})
        # Nothing that states a finding is pre-chosen (a result, started or stopped):
        # recording it is the user's act.
        values = {"on": today.isoformat(), "unit": "kg"}
        if name == "lab":
            values.update(analyte="triglycerides", unit="")
        values.update(given.get("values", {}))
        state[name] = {"values": values, "errors": dict(given.get("errors", {}))}
    for name, given in refused.items():
        state.setdefault(name, {"values": dict(given.get("values", {})), "errors": {}})
        state[name]["errors"] = dict(given.get("errors", {}))
    return state
