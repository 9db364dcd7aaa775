"""Acceptance (issue 12): every third-party FHIR R4 example of tests/data/fhir-corpus/ is
screened, imported into a real SQLite store and exported back without error.

The facts each example carries are asserted in test_corpus_facts.py. A record is
read as :func:`tests.fhir.corpus.record_of` makes it (a single resource wrapped in a
Bundle with its Patient); the order under review is the record's own isotretinoin
order (the REMS iPLEDGE prototypes) or, for every other record, a test order
(Isotretinoin 40 mg twice a day) written on the record's last day.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import Engine

from isotrack.clinical.screening.context import assess_course
from isotrack.errors import InvalidInputError
from isotrack.fhir import decode_bundle, snapshot_from_bundle
from isotrack.fhir.transfer import export_patient, import_bundle
from isotrack.knowledge import KnowledgeBase
from isotrack.store import create_engine_for, row_counts
from tests.fhir.corpus import Record, corpus_files, record_of
from tests.fhir.corpus_screen import last_day, screened
from tests.store.conftest import sqlite_template  # noqa: F401  # the fixture used below

RECORDS = [record_of(path) for path in corpus_files()]
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
"""The import moment: after every date in the corpus."""
WITHOUT_BIRTH_DATE = frozenset(
    {
        "hl7-r4-core/Bundle-lipids.json",
        "hl7-r4-core/MedicationRequest-medrx0301.json",
        "hl7-r4-core/MedicationRequest-medrx0303.json",
        "hl7-r4-core/MedicationRequest-medrx0312.json",
        "hl7-r4-core/Patient-pat1.json",
        "hl7-r4-core/Patient-pat2.json",
    }
)
"""Records whose published Patient (FHIR R4 core pat1, pat2) has no birth date: isotrack
cannot enrol them, and says so."""


def by_name(record: Record) -> str:
    return record.name


@pytest.fixture
def store(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:  # noqa: F811
    """An empty SQLite database at the newest schema."""
    path = tmp_path / "corpus.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine_for(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def test_the_corpus_holds_every_source_and_at_least_forty_records() -> None:
    sources = {record.path.parent.name for record in RECORDS}
    assert sources == {"hl7-r4-core", "ips", "oracle-health-shaped", "rems-test-ehr", "us-core"}
    assert len(RECORDS) >= 40


def test_every_corpus_folder_names_each_of_its_files_in_its_readme() -> None:
    for folder in {record.path.parent for record in RECORDS}:
        readme = (folder / "README.md").read_text(encoding="utf-8")
        for path in folder.glob("*.json"):
            assert f"`{path.name}`" in readme, f"{folder.name}/README.md does not list {path.name}"


@pytest.mark.parametrize("record", RECORDS, ids=by_name)
def test_every_record_screens_an_isotretinoin_order_on_its_last_day(
    record: Record, kb: KnowledgeBase
) -> None:
    screen = screened(record, last_day(record), kb)
    assert screen.assessment.evaluated_on == screen.on
    assert all(finding.rule_id for finding in screen.assessment.findings)
    if record.stand_in:
        assert screen.snapshot.patient_id == record.patient_id


@pytest.mark.parametrize("record", RECORDS, ids=by_name)
def test_every_record_is_assessed_as_a_course_without_an_order(
    record: Record, kb: KnowledgeBase
) -> None:
    on = last_day(record)
    bundle = decode_bundle(msgspec.json.encode(record.document))
    snapshot = snapshot_from_bundle(
        bundle, kb=kb, patient_id=record.patient_id, on=on, review_order=False
    )
    assessment = assess_course(snapshot, on=on, kb=kb)
    assert assessment.evaluated_on == on


@pytest.mark.parametrize(
    "record", [r for r in RECORDS if r.name not in WITHOUT_BIRTH_DATE], ids=by_name
)
def test_every_record_is_imported_into_an_empty_store_and_exported_back(
    record: Record, store: Engine, kb: KnowledgeBase
) -> None:
    bundle = decode_bundle(msgspec.json.encode(record.document))
    result = import_bundle(store, bundle, actor="importer", now=NOW, kb=kb)
    assert result.created
    assert row_counts(store)["commands"] == len(result.plan.commands)
    exported = export_patient(store, result.plan.patient_id, actor="exporter", now=NOW, kb=kb)
    back = decode_bundle(msgspec.json.encode(exported))  # through JSON, as a file carries it
    kinds = [entry.resource_type for entry in back.entries]
    assert kinds[0] == "Patient"
    recorded = [c for c in result.plan.commands if type(c).__name__.startswith("Record")]
    assert kinds.count("Observation") == len(recorded)  # each recorded value comes back


@pytest.mark.parametrize(
    "record", [r for r in RECORDS if r.name in WITHOUT_BIRTH_DATE], ids=by_name
)
def test_a_record_whose_patient_has_no_birth_date_is_refused_and_stores_nothing(
    record: Record, store: Engine, kb: KnowledgeBase
) -> None:
    bundle = decode_bundle(msgspec.json.encode(record.document))
    with pytest.raises(InvalidInputError, match=r"Patient\.birthDate"):
        import_bundle(store, bundle, actor="importer", now=NOW, kb=kb)
    assert row_counts(store)["commands"] == 0
