"""The clinic's worklist and REPORT-NEEDS-REVIEW: which patient reports ask the
clinic to act, how a clinician's steps change them, and the stop instruction.
Real commands through ``apply``; the findings through ``assess_course``."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.findings import Severity
from isotrack.clinical.record import PatientRecord, apply, to_snapshot
from isotrack.clinical.record.reports import stop_instruction
from isotrack.clinical.record.worklist import patient_worklist
from isotrack.clinical.screening import assess_course
from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AssignWorkItem,
    RecordPHQ9,
    RecordPregnancyTest,
    RecordSymptoms,
    ResolveWorkItem,
    StartContraception,
    StopContraception,
)
from isotrack.errors import CommandRejected
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.clinical.builders_record import day, enrol_man, enrol_woman, run, standard_course


def review_findings(record: PatientRecord, on: date, kb: KnowledgeBase) -> list[Severity]:
    result = assess_course(to_snapshot(record, on=on, kb=kb), on=on, kb=kb)
    return [f.severity for f in result.findings if f.rule_id == "REPORT-NEEDS-REVIEW"]


def test_a_stop_symptom_needs_review_until_acknowledged(kb: KnowledgeBase) -> None:
    record = run(
        [RecordSymptoms(on=day(3), symptoms=("severe-headache", "dry-lips"))],
        kb,
        standard_course(kb),
    )
    assert review_findings(record, day(3), kb) == [Severity.CRITICAL]
    item = next(i for i in patient_worklist(record, on=day(3), kb=kb) if i.report)
    assert item.id == "symptoms-1"
    assert item.stop
    assert "bad headache" in item.summary
    acknowledged = apply(record, AcknowledgeWorkItem(on=day(3), item=item.id), today=day(3), kb=kb)
    assert review_findings(acknowledged, day(3), kb) == []
    assert review_findings(acknowledged, day(2), kb) == []  # the report came later


def test_manage_only_symptoms_ask_nothing_of_the_clinic(kb: KnowledgeBase) -> None:
    record = run([RecordSymptoms(on=day(3), symptoms=("dry-lips",))], kb, standard_course(kb))
    assert review_findings(record, day(3), kb) == []
    assert not [i for i in patient_worklist(record, on=day(3), kb=kb) if i.report]


@pytest.mark.parametrize(
    ("command", "severity"),
    [
        (RecordPHQ9(on=day(1), total=12, item9=0), Severity.WARNING),
        (RecordPHQ9(on=day(1), total=4, item9=1), Severity.CRITICAL),
        (RecordPregnancyTest(on=day(1), result="positive", setting="home"), Severity.CRITICAL),
        (RecordSymptoms(on=day(1), symptoms=("missed-period",)), Severity.WARNING),
    ],
)
def test_each_report_has_the_catalogue_severity(
    kb: KnowledgeBase,
    command: RecordPHQ9 | RecordPregnancyTest | RecordSymptoms,
    severity: Severity,
) -> None:
    record = run([enrol_woman(on=day(-7)), command], kb)
    assert review_findings(record, day(1), kb) == [severity]


def test_a_phq9_below_the_cut_off_and_a_clinic_test_ask_nothing(kb: KnowledgeBase) -> None:
    record = run(
        [
            enrol_woman(on=day(-7)),
            RecordPHQ9(on=day(1), total=9, item9=0),
            RecordPregnancyTest(on=day(1), result="positive", setting="medical"),
        ],
        kb,
    )
    assert review_findings(record, day(1), kb) == []


def test_a_stopped_method_is_a_warning_to_review(kb: KnowledgeBase) -> None:
    record = run(
        [
            enrol_woman(on=day(-7)),
            StartContraception(on=day(-7), method="male-condom"),
            StopContraception(on=day(1), method="male-condom"),
        ],
        kb,
    )
    items = [i for i in patient_worklist(record, on=day(1), kb=kb) if i.report]
    assert [(i.kind, i.severity) for i in items] == [("contraception", Severity.WARNING)]


def test_assign_acknowledge_and_resolve_are_recorded_in_order(kb: KnowledgeBase) -> None:
    record = run(
        [
            RecordSymptoms(on=day(3), symptoms=("low-mood",)),
            AssignWorkItem(on=day(3), item="symptoms-1", assignee="dr.lee"),
            AcknowledgeWorkItem(on=day(3), item="symptoms-1", note="called"),
        ],
        kb,
        standard_course(kb),
    )
    item = next(i for i in patient_worklist(record, on=day(3), kb=kb) if i.id == "symptoms-1")
    assert (item.status, item.assignee, item.acknowledged_on) == ("acknowledged", "dr.lee", day(3))
    assert stop_instruction(record, on=day(3), kb=kb) == item  # acknowledged is not resolved
    resolved = apply(
        record, ResolveWorkItem(on=day(4), item="symptoms-1", note="seen, mood fine"),
        today=day(4), kb=kb,
    )  # fmt: skip
    assert stop_instruction(resolved, on=day(4), kb=kb) is None
    done = next(i for i in patient_worklist(resolved, on=day(4), kb=kb) if i.id == "symptoms-1")
    assert (done.status, done.note, done.resolved_on) == ("resolved", "seen, mood fine", day(4))


@pytest.mark.parametrize(
    ("steps", "field", "words"),
    [
        ([AcknowledgeWorkItem(on=day(3), item="symptoms-9")], "item", "not on the patient"),
        ([ResolveWorkItem(on=day(3), item="symptoms-1", note="  ")], "note", "is empty"),
        ([AssignWorkItem(on=day(3), item="symptoms-1", assignee="")], "assignee", "is empty"),
        (
            [AcknowledgeWorkItem(on=day(3), item="symptoms-1")] * 2,
            "item",
            "already acknowledged",
        ),
        (
            [
                ResolveWorkItem(on=day(3), item="symptoms-1", note="ok"),
                AcknowledgeWorkItem(on=day(3), item="symptoms-1"),
            ],
            "item",
            "was resolved",
        ),
    ],
)
def test_a_wrong_step_is_refused_and_changes_nothing(
    kb: KnowledgeBase, steps: list[AcknowledgeWorkItem], field: str, words: str
) -> None:
    record = run([RecordSymptoms(on=day(3), symptoms=("low-mood",))], kb, standard_course(kb))
    *before, last = steps
    record = run(before, kb, record) if before else record
    with pytest.raises(CommandRejected) as caught:
        apply(record, last, today=day(3), kb=kb)
    assert caught.value.field == field
    assert words in caught.value.message


def test_a_man_without_a_course_has_an_empty_worklist(kb: KnowledgeBase) -> None:
    record = run([enrol_man()], kb)
    assert patient_worklist(record, on=day(0), kb=kb) == ()


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(st.sampled_from(["assign", "acknowledge", "resolve"]), max_size=6),
)
def test_an_item_never_goes_back_and_needs_review_only_while_open(steps: list[str]) -> None:
    """The state machine: open → acknowledged → resolved; refused steps change nothing."""
    kb = default_knowledge()
    record = run([RecordSymptoms(on=day(3), symptoms=("blurred-vision",))], kb, standard_course(kb))
    order = ["open", "acknowledged", "resolved"]
    seen = 0
    for step in steps:
        command = {
            "assign": AssignWorkItem(on=day(3), item="symptoms-1", assignee="dr.lee"),
            "acknowledge": AcknowledgeWorkItem(on=day(3), item="symptoms-1"),
            "resolve": ResolveWorkItem(on=day(3), item="symptoms-1", note="done"),
        }[step]
        with contextlib.suppress(CommandRejected):
            record = apply(record, command, today=day(3), kb=kb)
        item = next(i for i in patient_worklist(record, on=day(3), kb=kb) if i.id == "symptoms-1")
        assert order.index(item.status) >= seen
        seen = order.index(item.status)
        assert bool(review_findings(record, day(3), kb)) == (item.status == "open")
        assert (stop_instruction(record, on=day(3), kb=kb) is None) == (item.status == "resolved")
