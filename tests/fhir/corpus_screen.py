"""Screening a corpus record (tests/fhir/corpus.py) the way an EHR's order would be.

The order under review is the record's own isotretinoin order when it has one (the
REMS prototypes' iPLEDGE order), else a test order: Isotretinoin 40 mg twice a day
(tests/fhir/builders.py), written on the screening day for the record's patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import msgspec

from isotrack.clinical.findings import Assessment
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.fhir import decode_bundle, find_isotretinoin_order, read_order, snapshot_from_bundle
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import KnowledgeBase
from tests.fhir.builders import isotretinoin_order
from tests.fhir.corpus import Record

TEST_ORDER_ID = "corpus-test-order"
_DATED = re.compile(
    rb'"(?:effectiveDateTime|authoredOn|performedDateTime|onsetDateTime|recordedDate|start)"'
    rb'\s*:\s*"(\d{4}-\d{2}-\d{2})'
)


@dataclass(frozen=True)
class Screened:
    snapshot: PatientSnapshot
    request: MedicationRequest
    order: IsotretinoinOrder
    order_notes: tuple[str, ...]
    assessment: Assessment
    on: date


def last_day(record: Record) -> date:
    """The latest clinical date the record states (effective, authored, performed, onset,
    recorded, period start); a record without one is screened on 2026-06-01."""
    days = [date.fromisoformat(m.decode()) for m in _DATED.findall(_encoded(record))]
    return max(days, default=date(2026, 6, 1))


_SCREENED: dict[tuple[str, date, int], Screened] = {}


def screened(record: Record, on: date, kb: KnowledgeBase) -> Screened:
    """The record screened on ``on`` (once per record, day and knowledge base)."""
    key = (record.name, on, id(kb))
    if key not in _SCREENED:
        _SCREENED[key] = _screen(record, on, kb)
    return _SCREENED[key]


def _screen(record: Record, on: date, kb: KnowledgeBase) -> Screened:
    bundle = decode_bundle(_encoded(record))
    request = find_isotretinoin_order(bundle, kb=kb, patient_id=record.patient_id)
    if request is None:
        order = isotretinoin_order(id=TEST_ORDER_ID, authored=on.isoformat())
        order["subject"] = {"reference": f"Patient/{record.patient_id}"}
        bundle = bundle.including(decode_bundle(order))
        request = find_isotretinoin_order(bundle, kb=kb, patient_id=record.patient_id)
        assert request is not None
        assert request.id == TEST_ORDER_ID
    snapshot = snapshot_from_bundle(
        bundle, kb=kb, patient_id=record.patient_id, order=request, on=on
    )
    read = read_order(request, kb, bundle=bundle)
    assessment = screen_order(snapshot, read.order, on=on, kb=kb)
    return Screened(snapshot, request, read.order, read.notes, assessment, on)


def _encoded(record: Record) -> bytes:
    return msgspec.json.encode(record.document)
