"""The command door (isotrack.clinical.state.door): what a command may hold to be
stored and read back. Property tests over every float and every character."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.state import (
    EARLIEST_DATE,
    LATEST_DATE,
    EnrolPatient,
    RecordLabResult,
    RecordMissedDoses,
    RecordSymptoms,
    decode_command,
    encode_command,
    storable_problem,
)

DAY = date(2026, 3, 2)


@given(st.floats())
def test_a_lab_value_passes_the_door_exactly_when_it_survives_json(value: float) -> None:
    command = RecordLabResult(on=DAY, analyte="alt", value=value, unit="U/L")
    problem = storable_problem(command)
    assert (problem is None) == math.isfinite(value)
    if problem is None:
        assert decode_command(encode_command(command)) == command
    else:
        assert problem[0] == "value"


@given(st.text())
def test_a_name_passes_the_door_only_without_control_characters(name: str) -> None:
    command = EnrolPatient(
        on=DAY, patient_id="p1", name=name, birth_date=date(1999, 5, 4), sex="female"
    )
    problem = storable_problem(command)
    control = any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name)
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in name)
    line_separator = "\u2028" in name or "\u2029" in name
    assert (problem is None) == (not (control or surrogate or line_separator))
    if problem is None:
        assert decode_command(encode_command(command)) == command


def test_a_note_may_hold_line_breaks_and_tabs_but_no_nul() -> None:
    note = RecordSymptoms(on=DAY, symptoms=("dry-lips",), note="since Monday\r\n\tworse")
    assert storable_problem(note) is None
    assert storable_problem(RecordSymptoms(on=DAY, symptoms=("a\nb",))) is not None
    with_nul = RecordSymptoms(on=DAY, symptoms=("dry-lips",), note="x\x00")
    assert storable_problem(with_nul) == ("note", "holds a NUL character; remove it")


@given(st.dates())
def test_a_date_passes_the_door_exactly_inside_the_sane_range(day: date) -> None:
    problem = storable_problem(RecordMissedDoses(on=DAY, days=(DAY, day)))
    assert (problem is None) == (EARLIEST_DATE <= day <= LATEST_DATE)
    if problem is not None:
        assert problem[0] == "days.1"
