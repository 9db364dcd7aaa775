"""Questionnaires given at the visit: the record keeps who gave them, and refuses a
name that is not a username (blanks around it, or too long)."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from isotrack.clinical.record.aggregate import apply
from isotrack.clinical.state import RecordPHQ9, decode_command, encode_command, given_in_clinic
from isotrack.errors import CommandRejected
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_record import comprehension, day, enrolled


def test_a_phq9_given_in_clinic_is_kept_with_who_gave_it(kb: KnowledgeBase) -> None:
    given = RecordPHQ9(on=day(0), total=3, item9=0, given_in_clinic_by="kim")
    record = apply(enrolled(kb), given, today=day(0), kb=kb)
    assert record.mood_screens[-1].phq9_total == 3
    assert decode_command(encode_command(given)) == given
    assert given_in_clinic(given) == ", given in clinic by kim"
    assert given_in_clinic(replace(given, given_in_clinic_by="")) == ""


def test_answers_the_patient_sent_themselves_decode_as_before(kb: KnowledgeBase) -> None:
    """A command stored before the field existed reads as answered by the patient."""
    stored = b'{"type":"RecordPHQ9","on":"2026-03-02","total":4,"item9":0}'
    command = decode_command(stored)
    assert isinstance(command, RecordPHQ9)
    assert command.given_in_clinic_by == ""


@pytest.mark.parametrize("name", [" kim", "kim ", "k" * 201])
def test_a_name_that_is_not_a_username_is_refused(kb: KnowledgeBase, name: str) -> None:
    record = enrolled(kb)
    with pytest.raises(CommandRejected, match="given_in_clinic_by"):
        apply(record, RecordPHQ9(on=day(0), total=3, given_in_clinic_by=name), today=day(0), kb=kb)
    answers = replace(comprehension(0), given_in_clinic_by=name)
    with pytest.raises(CommandRejected, match="given_in_clinic_by"):
        apply(record, answers, today=day(0), kb=kb)
