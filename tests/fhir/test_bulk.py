"""Reading a Bulk Data export: files, lines, patients, shards and the medication lookup."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.errors import InvalidInputError
from isotrack.fhir.bulk import (
    MedicationLookup,
    iter_lines,
    medication_path,
    partition_export,
    patient_of,
    read_export,
    read_shard,
    reference_id,
    shard_of,
    shard_path,
)
from isotrack.fhir.datatypes import Reference
from tests.population.exports import condition, patient, weight, write_export

IDS = st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True)


def test_an_export_lists_the_types_isotrack_reads_and_skips_the_log_and_other_types(
    tmp_path: Path,
) -> None:
    write_export(tmp_path, [patient("p1"), condition("p1", "1", "x", "2020-01-01", id="c1")])
    (tmp_path / "log.ndjson").write_text("{}\n")
    (tmp_path / "Immunization.000.ndjson").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("hello")
    export = read_export(tmp_path)
    assert sorted(f.resource_type for f in export.files) == ["Condition", "Patient"]
    assert set(export.skipped) == {"log.ndjson", "Immunization.000.ndjson", "notes.txt"}


def test_a_missing_folder_or_one_without_patients_is_refused_saying_what_to_give(
    tmp_path: Path,
) -> None:
    with pytest.raises(InvalidInputError, match="no such folder"):
        read_export(tmp_path / "absent")
    with pytest.raises(InvalidInputError, match="no Patient file"):
        read_export(tmp_path)


def test_a_changed_file_changes_the_fingerprint(tmp_path: Path) -> None:
    write_export(tmp_path, [patient("p1")])
    before = read_export(tmp_path).fingerprint()
    (tmp_path / "Patient.000.ndjson").write_text(json.dumps(patient("p2")) + "\n\n")
    assert read_export(tmp_path).fingerprint() != before


def test_plain_and_gzipped_files_give_the_same_lines_without_blank_ones(tmp_path: Path) -> None:
    text = b'{"resourceType": "Patient", "id": "a"}\n\n  \n{"resourceType": "Patient", "id": "b"}'
    (tmp_path / "plain.ndjson").write_bytes(text)
    (tmp_path / "zipped.ndjson.gz").write_bytes(gzip.compress(text))
    plain = list(iter_lines(tmp_path / "plain.ndjson"))
    assert plain == list(iter_lines(tmp_path / "zipped.ndjson.gz"))
    assert len(plain) == 2


def test_a_truncated_gzip_file_is_refused_with_its_name(tmp_path: Path) -> None:
    data = gzip.compress(b'{"resourceType": "Patient", "id": "a"}\n' * 1000)
    (tmp_path / "Patient.ndjson.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInputError, match=r"Patient\.ndjson\.gz"):
        list(iter_lines(tmp_path / "Patient.ndjson.gz"))


@given(IDS, st.sampled_from(["Patient/{}", "https://ehr.example/fhir/Patient/{}",
                             "Patient/{}/_history/3", "urn:uuid:{}"]))  # fmt: skip
def test_a_patient_reference_gives_the_patient_id_in_every_form(pid: str, form: str) -> None:
    assert reference_id(Reference(reference=form.format(pid)), "Patient") == pid


@pytest.mark.parametrize("text", ["Group/g1", "Patient?identifier=x|1", "", "Patient/"])
def test_a_reference_to_no_patient_gives_none(text: str) -> None:
    assert reference_id(Reference(reference=text), "Patient") is None


def test_each_resource_names_its_patient_through_its_own_element() -> None:
    assert patient_of(b'{"resourceType": "Patient", "id": "p1"}') == ("Patient", "p1")
    allergy = b'{"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/p2"}}'
    assert patient_of(allergy) == ("AllergyIntolerance", "p2")
    assert patient_of(b'{"resourceType": "Medication", "id": "m1"}') == ("Medication", None)


@given(IDS, st.integers(min_value=1, max_value=300))
def test_a_patient_always_lands_in_the_same_shard(pid: str, shards: int) -> None:
    assert 0 <= shard_of(pid, shards) < shards
    assert shard_of(pid, shards) == shard_of(pid, shards)


def _export(folder: Path, patients: int) -> Path:
    resources = []
    for number in range(patients):
        pid = f"p{number}"
        resources.append(patient(pid))
        resources.append(weight(pid, 60 + number % 30, "2024-01-01", id=f"w{number}"))
        resources.append(condition(pid, "1", "x" * 200, "2020-01-01", id=f"c{number}"))
    resources.append({"resourceType": "Medication", "id": "m1", "code": {"text": "x"}})
    resources.append(condition("nobody", "1", "x", "2020-01-01", id="c-orphan") | {"subject": {}})
    return write_export(folder, resources, gzipped=True, per_file=500)


def test_partitioning_puts_all_of_a_patients_lines_in_one_shard_and_medications_aside(
    tmp_path: Path,
) -> None:
    export = read_export(_export(tmp_path / "export", 50))
    result = partition_export(export, tmp_path / "work", 4)
    assert (result.lines, result.unassigned, result.unreadable) == (50 * 3 + 2, 1, ())
    seen: dict[str, int] = {}
    for shard in range(4):
        for pid, lines in read_shard(shard_path(tmp_path / "work", shard)).items():
            assert pid not in seen, f"{pid} in shards {seen[pid]} and {shard}"
            seen[pid] = shard
            assert len(lines) == 3
            assert all(json.loads(line)["resourceType"] for line in lines)
    assert len(seen) == 50
    lookup = MedicationLookup(medication_path(tmp_path / "work"))
    try:
        assert [json.loads(m)["id"] for m in lookup.get(["m1", "m-absent"])] == ["m1"]
    finally:
        lookup.close()


def test_the_partition_pass_holds_a_line_at_a_time_not_the_export(tmp_path: Path) -> None:
    """Memory stays far below the export's size: lines stream from file to shard."""
    export = read_export(_export(tmp_path / "export", 6000))
    unpacked = sum(len(gzip.decompress(f.path.read_bytes())) for f in export.files)
    tracemalloc.start()
    try:
        partition_export(export, tmp_path / "work", 8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert unpacked > 5_000_000
    # The shard files' write buffers (64 KiB each) and a line or two; never the export.
    assert peak < unpacked / 5, f"peak {peak} bytes for an export of {unpacked} bytes"
