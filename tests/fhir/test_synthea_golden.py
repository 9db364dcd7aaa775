"""Findings on the 86 Synthea bundles stay as they are unless a change says why.

``tests/data/synthea-findings.json`` holds, per bundle, the findings (rule id and
severity, most severe first) of the order screening of ``test_synthea.py`` (a draft
isotretinoin order on the last encounter) and of a patient-view assessment on the same
day with that order as the course under way. A change to the FHIR reader or the rules
that moves any of them fails here; when the move is intended, regenerate the file
(``ISOTRACK_REGENERATE_GOLDEN=1 pytest tests/fhir/test_synthea_golden.py``)
and explain each changed bundle in CHANGELOG.md.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from isotrack.clinical.screening.context import assess_course
from isotrack.fhir import decode_bundle, snapshot_from_bundle
from isotrack.knowledge import KnowledgeBase
from tests.fhir.test_synthea import FILES, order_document, patient_url, screened

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "synthea-findings.json"
REGENERATE = os.environ.get("ISOTRACK_REGENERATE_GOLDEN") == "1"


def findings_of(path: Path, kb: KnowledgeBase) -> dict[str, list[str]]:
    screen = screened(path)
    record = decode_bundle(gzip.decompress(path.read_bytes()))
    active = {**order_document(patient_url(record), screen.on), "status": "active"}
    record = record.including(decode_bundle(active))
    snapshot = snapshot_from_bundle(record, kb=kb, on=screen.on, review_order=False)
    course = assess_course(snapshot, on=screen.on, kb=kb)
    return {
        "order": [f"{f.rule_id}:{f.severity.name.lower()}" for f in screen.assessment.findings],
        "patient_view": [f"{f.rule_id}:{f.severity.name.lower()}" for f in course.findings],
    }


def test_synthea_findings_match_the_recorded_ones(synthea_dir: Path, kb: KnowledgeBase) -> None:
    found = {name: findings_of(synthea_dir / name, kb) for name in FILES}
    if REGENERATE:
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden file regenerated")
    recorded = json.loads(GOLDEN.read_text())
    changed = {
        name: {"recorded": recorded.get(name), "now": now}
        for name, now in found.items()
        if recorded.get(name) != now
    }
    assert not changed, json.dumps(changed, indent=1)
