"""The clinic's recording forms: what was typed becomes one command, or messages
next to the fields (never an exception), whatever is typed."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.state.commands import (
    RecordCounselling,
    RecordLabResult,
    RecordLesionCount,
    RecordWeight,
    StopContraception,
)
from isotrack.web.views.clinic_forms import RECORD_FORMS, form_state, parse_record_form

TODAY = date(2026, 3, 2)


def test_a_weight_in_pounds_keeps_its_unit_for_the_record_to_convert() -> None:
    command, errors = parse_record_form("weight", {"value": "154,5", "unit": "[lb_av]"}, TODAY)
    assert errors == {}
    assert command == RecordWeight(on=TODAY, value=154.5, unit="[lb_av]")


def test_an_empty_lab_unit_is_the_analytes_canonical_unit() -> None:
    command, _ = parse_record_form("lab", {"analyte": "alt", "value": "35"}, TODAY)
    assert isinstance(command, RecordLabResult)
    assert command.unit == "U/L"
    assert command.reference_high is None


def test_a_date_in_the_future_is_refused_next_to_the_date() -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    command, errors = parse_record_form(
        "weight", {"value": "60", "unit": "kg", "on": tomorrow}, TODAY
    )
    assert command is None
    assert "in the future" in errors["on"]


def test_an_unknown_choice_is_refused() -> None:
    command, errors = parse_record_form(
        "pregnancy-test", {"result": "maybe", "setting": "medical"}, TODAY
    )
    assert command is None
    assert set(errors) == {"result"}


def test_stopping_a_method_and_a_note_and_a_lesion_count() -> None:
    stop, _ = parse_record_form("contraception", {"action": "stop", "method": "patch"}, TODAY)
    assert stop == StopContraception(on=TODAY, method="patch")
    note, _ = parse_record_form("note", {"topic": " call ", "note": "ok"}, TODAY)
    assert note == RecordCounselling(on=TODAY, topic="call", note="ok")
    count, errors = parse_record_form("lesions", {"nodules": "3", "inflammatory": "2.5"}, TODAY)
    assert count is None
    assert "whole number" in errors["inflammatory"]
    count, _ = parse_record_form("lesions", {"nodules": "3"}, TODAY)
    assert count == RecordLesionCount(on=TODAY, nodules=3)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_any_number_typed_is_read_back_exactly(value: float) -> None:
    command, errors = parse_record_form("weight", {"value": repr(value), "unit": "kg"}, TODAY)
    assert errors == {}
    assert isinstance(command, RecordWeight)
    assert command.value == value


@given(
    st.sampled_from(sorted(RECORD_FORMS)),
    st.dictionaries(
        st.sampled_from(["on", "value", "unit", "analyte", "result", "setting", "method",
                         "action", "topic", "note", "nodules", "inflammatory", "comedones",
                         "reference_high"]),
        st.text(max_size=12),
    ),
)  # fmt: skip
def test_whatever_is_typed_gives_a_command_or_messages_never_an_error(
    name: str, values: dict[str, str]
) -> None:
    command, errors = parse_record_form(name, values, TODAY)
    assert (command is None) == bool(errors)
    assert set(errors) <= set(RECORD_FORMS[name].fields)


def test_a_refused_form_keeps_what_was_typed_and_the_others_their_defaults() -> None:
    state = form_state(TODAY, {"weight": {"values": {"value": "abc"}, "errors": {"value": "x"}}})
    assert state["weight"]["values"]["value"] == "abc"
    assert state["weight"]["errors"] == {"value": "x"}
    assert state["lab"]["values"]["on"] == TODAY.isoformat()
    assert state["lab"]["errors"] == {}
