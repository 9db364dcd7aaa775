"""What isotrack's export says comes back through the FHIR reader that CDS, import and
population screening share (issue 13, "one truth everywhere"): record → export →
:func:`~isotrack.fhir.snapshot_from_bundle` → the same facts."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from isotrack.clinical.record.aggregate import replay
from isotrack.clinical.snapshot import LesionCount, PatientSnapshot, PregnancyCapability
from isotrack.clinical.state.commands import (
    AnyCommand,
    EndCourse,
    RecordLesionCount,
    RecordPregnancyCapability,
)
from isotrack.fhir import decode_bundle, snapshot_from_bundle
from isotrack.fhir.export import record_to_bundle
from isotrack.fhir.order import find_isotretinoin_order
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_record import (
    counsel,
    day,
    enrol_woman,
    prescribe,
    start_course,
    weight,
)
from tests.fhir.test_export_import import log_of

Bundle = dict[str, Any]


def exported(commands: list[AnyCommand], kb: KnowledgeBase, on: date) -> Bundle:
    log = log_of((c, c.on) for c in commands)
    record = replay(((e.command, e.recorded_on) for e in log), kb=kb)
    bundle: Bundle = record_to_bundle(record, log, kb=kb, on=on)
    return bundle


def read_back(bundle: Bundle, kb: KnowledgeBase, on: date) -> PatientSnapshot:
    decoded = decode_bundle(json.dumps(bundle).encode())
    return snapshot_from_bundle(decoded, kb=kb, on=on, review_order=False)


def course_of(*, ended: int | None = None) -> list[AnyCommand]:
    commands: list[AnyCommand] = [
        enrol_woman(),
        counsel(),
        weight(0),
        start_course(0),
        prescribe(0),
    ]
    if ended is not None:
        commands.append(EndCourse(on=day(ended), reason="clear skin"))
    return commands


def test_a_course_ended_before_its_supply_ran_out_reads_back_ended_on_its_day(
    kb: KnowledgeBase,
) -> None:
    """demo-eva: the prescription's cover plus the gap would say "still running"."""
    on = day(20)
    bundle = exported(course_of(ended=12), kb, on)
    request = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    )
    assert request["status"] == "stopped"
    assert request["dispenseRequest"]["validityPeriod"]["end"] == day(12).isoformat()
    (course,) = read_back(bundle, kb, on).courses
    assert (course.start, course.end) == (day(0), day(12))
    assert not course.active_on(on)


def test_a_course_still_running_reads_back_running(kb: KnowledgeBase) -> None:
    on = day(20)
    (course,) = read_back(exported(course_of(), kb, on), kb, on).courses
    assert (course.start, course.end) == (day(0), None)


def test_an_ehr_order_stopped_with_a_validity_end_ends_the_course_then(
    kb: KnowledgeBase,
) -> None:
    """What an EHR sends for a discontinued order: status stopped, validity closed."""
    on = day(20)
    bundle = exported(course_of(), kb, on)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "MedicationRequest":
            resource["status"] = "stopped"
            resource["dispenseRequest"]["validityPeriod"] = {"end": day(9).isoformat()}
    (course,) = read_back(bundle, kb, on).courses
    assert course.end == day(9)


def test_cannot_get_pregnant_reads_back_from_the_patient(kb: KnowledgeBase) -> None:
    """demo-grace: the capability a clinician recorded is what the reader uses."""
    on = day(20)
    later = RecordPregnancyCapability(
        on=day(3), capability="cannot-get-pregnant", reason="hysterectomy"
    )
    snapshot = read_back(exported([*course_of(), later], kb, on), kb, on)
    assert snapshot.pregnancy_capability is PregnancyCapability.CANNOT
    first = read_back(exported(course_of(), kb, on), kb, on)
    assert first.pregnancy_capability is PregnancyCapability.CAN


def test_lesion_counts_read_back_with_isotracks_own_code(kb: KnowledgeBase) -> None:
    """demo-luca: RESPONSE-NODULES-70 needs the counts."""
    on = day(60)
    counts = [
        RecordLesionCount(on=day(0), nodules=10, inflammatory=30, comedones=None),
        RecordLesionCount(on=day(56), nodules=2),
    ]
    snapshot = read_back(exported([*course_of(), *counts], kb, on), kb, on)
    assert sorted(snapshot.lesion_counts, key=lambda c: c.on) == [
        LesionCount(day(0), 10, 30, None),
        LesionCount(day(56), 2, None, None),
    ]


def test_a_course_with_no_prescription_yet_reads_back_as_a_course_in_progress(
    kb: KnowledgeBase,
) -> None:
    """demo-iris: started, nothing prescribed; the plan is the course, not an order."""
    commands: list[AnyCommand] = [enrol_woman(), counsel(), weight(0), start_course(0)]
    on = day(40)  # far beyond any prescription gap: only the plan says it is running
    bundle = exported(commands, kb, on)
    (plan,) = (
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    )
    assert (plan["intent"], plan["status"]) == ("plan", "active")
    snapshot = read_back(bundle, kb, on)
    (course,) = snapshot.courses
    assert (course.start, course.end, course.prescriptions) == (day(0), None, 0)
    decoded = decode_bundle(json.dumps(bundle).encode())
    assert find_isotretinoin_order(decoded, kb=kb) is None


def test_a_course_ended_before_any_prescription_reads_back_ended(kb: KnowledgeBase) -> None:
    commands: list[AnyCommand] = [enrol_woman(), counsel(), weight(0), start_course(0)]
    commands.append(EndCourse(on=day(5), reason="changed her mind"))
    (course,) = read_back(exported(commands, kb, day(40)), kb, day(40)).courses
    assert (course.start, course.end) == (day(0), day(5))


def test_the_plan_goes_once_the_course_has_a_prescription(kb: KnowledgeBase) -> None:
    bundle = exported(course_of(), kb, day(20))
    intents = [
        e["resource"]["intent"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert intents == ["order"]
