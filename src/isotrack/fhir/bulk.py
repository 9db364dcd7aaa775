"""FHIR Bulk Data exports: the files of an export, streamed line by line, and
the lines partitioned into per-patient shards with bounded memory.

An export is a folder of NDJSON files, one resource type per file, several
files per type allowed (``Patient.000.ndjson.gz``, ``Condition.001.ndjson``),
plain or gzipped. ``log.ndjson`` and the types isotrack does not read
(:data:`~isotrack.fhir.resources.RESOURCE_TYPES`) are skipped.

Grouping by patient never loads the export: :func:`partition_export` reads
each file one line at a time and appends each line to one of ``K`` shard
files chosen by a hash of the patient id (the resource's own id for a
Patient, else its ``subject`` or ``patient`` reference), so all of a
patient's resources land in one shard and a shard fits in memory. Medication
resources have no patient: they go to a small on-disk lookup
(:class:`MedicationLookup`, SQLite) from which each shard takes the ones its
MedicationRequests and MedicationStatements reference.

>>> patient_of(b'{"resourceType": "Condition", "subject": {"reference": "Patient/p7"}}')
('Condition', 'p7')
>>> shard_of("p7", 16) == shard_of("p7", 16)
True
"""

from __future__ import annotations

import gzip
import os
import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import msgspec

from isotrack.errors import InvalidInputError
from isotrack.fhir.datatypes import CodeableReference, Reference
from isotrack.fhir.resources import RESOURCE_TYPES

NDJSON = re.compile(r"(?P<type>[A-Z][A-Za-z]+)(?:\.[^/]*)?\.ndjson(?:\.gz)?\Z")
"""``Type.ndjson``, ``Type.000.ndjson.gz``, ``Type.anything.ndjson``."""
READ_TYPES = frozenset(RESOURCE_TYPES)
SHARED_TYPES = frozenset({"Medication"})
"""Types without a patient: kept in the medication lookup, not in the shards."""
GZIP_RATIO = 10
"""Estimated NDJSON bytes per gzipped byte (FHIR NDJSON compresses 8–15 times)."""
SHARD_TARGET_BYTES = 32 * 1024 * 1024
"""About this much NDJSON per shard: grouped in memory by one worker at a time."""
MIN_SHARDS, MAX_SHARDS = 8, 256
"""At least a few shards to spread over the cores; at most what one process may keep open."""
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}\Z")


@dataclass(frozen=True, slots=True)
class ExportFile:
    path: Path
    resource_type: str
    size: int
    mtime_ns: int

    @property
    def gzipped(self) -> bool:
        return self.path.name.endswith(".gz")

    @property
    def estimated_bytes(self) -> int:
        return self.size * GZIP_RATIO if self.gzipped else self.size


@dataclass(frozen=True, slots=True)
class Export:
    """The files of an export that isotrack reads, and what it skipped."""

    folder: Path
    files: tuple[ExportFile, ...]
    skipped: tuple[str, ...] = ()

    def fingerprint(self) -> list[list[str | int]]:
        """File names, sizes and modification times: a changed export changes it."""
        return [[f.path.name, f.size, f.mtime_ns] for f in self.files]

    @property
    def estimated_bytes(self) -> int:
        return sum(f.estimated_bytes for f in self.files)

    def shard_count(self) -> int:
        """Shards for this export: about :data:`SHARD_TARGET_BYTES` each, within bounds."""
        wanted = -(-self.estimated_bytes // SHARD_TARGET_BYTES)
        return max(MIN_SHARDS, min(MAX_SHARDS, wanted))


def read_export(folder: Path) -> Export:
    """The NDJSON files of an export folder; refuses a folder without Patient data."""
    if not folder.is_dir():
        raise InvalidInputError(
            str(folder), "no such folder: give the folder of a FHIR Bulk Data export"
        )
    files: list[ExportFile] = []
    skipped: list[str] = []
    for path in sorted(folder.iterdir()):
        found = NDJSON.match(path.name)
        if not path.is_file() or found is None or found["type"] not in READ_TYPES:
            skipped.append(path.name)
            continue
        stat = path.stat()
        files.append(ExportFile(path, found["type"], stat.st_size, stat.st_mtime_ns))
    if not any(f.resource_type == "Patient" for f in files):
        raise InvalidInputError(
            str(folder),
            "no Patient file (Patient.ndjson or Patient.000.ndjson.gz ...): "
            "give the folder of a FHIR Bulk Data export with Patient resources",
        )
    return Export(folder, tuple(files), tuple(skipped))


def _open(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzipped (by its magic number, not its name)."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return gzip.open(path, "rb")  # type: ignore[return-value]  # GzipFile reads bytes like any IO[bytes]; the caller closes it
    return path.open("rb")


def iter_lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of an NDJSON file (plain or gzip), one at a time."""
    with _open(path) as stream:
        try:
            for line in stream:
                line = line.strip()
                if line:
                    yield line
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInputError(str(path), f"not a readable gzip file: {exc}") from None


# --- which patient a line belongs to -------------------------------------------------------
class _Keys(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    resource_type: str | None = None
    id: str | None = None
    subject: Reference | None = None
    patient: Reference | None = None
    medication_reference: Reference | None = None
    medication: CodeableReference | None = None
    """R5 ``medication``: its ``reference`` names the Medication like R4's."""


_KEYS = msgspec.json.Decoder(_Keys)


def reference_id(reference: Reference | None, resource_type: str) -> str | None:
    """The id in ``Type/id``, ``.../Type/id`` (also with ``/_history/n``) or ``urn:uuid:id``."""
    text = reference.reference if reference is not None else None
    if not text:
        return None
    if text.startswith("urn:uuid:"):
        found = text[len("urn:uuid:") :]
        return found if _ID.match(found) else None
    parts = text.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == resource_type and _ID.match(parts[-1]):
        return parts[-1]
    return None


def patient_of(line: bytes) -> tuple[str | None, str | None]:
    """(resource type, patient id) of one NDJSON line; the id is None when the
    resource names no patient. Raises msgspec.DecodeError for a line that is no JSON object."""
    keys = _KEYS.decode(line)
    if keys.resource_type == "Patient":
        return keys.resource_type, keys.id if keys.id and _ID.match(keys.id) else None
    subject = reference_id(keys.subject, "Patient") or reference_id(keys.patient, "Patient")
    return keys.resource_type, subject


def medication_of(line: bytes) -> str | None:
    """The Medication id a MedicationRequest, MedicationStatement or
    MedicationAdministration line references (R4 ``medicationReference`` or R5
    ``medication.reference``)."""
    try:
        keys = _KEYS.decode(line)
    except msgspec.DecodeError:
        return None
    reference = keys.medication_reference
    if reference is None and keys.medication is not None:
        reference = keys.medication.reference
    return reference_id(reference, "Medication")


def shard_of(patient_id: str, shards: int) -> int:
    """A stable shard number for a patient id (the same in every process and run)."""
    return zlib.crc32(patient_id.encode("utf-8")) % shards


# --- the medication lookup ------------------------------------------------------------------
class MedicationLookup:
    """Medication resources by id, on disk (a Medication has no patient to shard by)."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'ro'}"
        self._db = sqlite3.connect(uri, uri=True)
        if create:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS medication (id TEXT PRIMARY KEY, raw BLOB)"
            )

    def add(self, rows: Iterable[tuple[str, bytes]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO medication VALUES (?, ?)", rows)
        self._db.commit()

    def get(self, ids: Iterable[str]) -> list[bytes]:
        found = []
        for medication_id in sorted(set(ids)):
            row = self._db.execute(
                "SELECT raw FROM medication WHERE id = ?", (medication_id,)
            ).fetchone()
            if row is not None:
                found.append(bytes(row[0]))
        return found

    def close(self) -> None:
        self._db.close()


# --- partitioning -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Partition:
    """What the partition pass wrote and what it could not place."""

    shards: int
    lines: int
    unassigned: int
    """Lines of a patient-bound type that name no patient (or not as ``Patient/id``)."""
    unreadable: tuple[str, ...]
    """``file:line`` of lines that are not JSON objects."""


def shard_path(work: Path, shard: int) -> Path:
    return work / "shards" / f"shard-{shard:04d}.ndjson"


def medication_path(work: Path) -> Path:
    return work / "medications.sqlite"


_BATCH = 1000


def partition_export(export: Export, work: Path, shards: int) -> Partition:
    """Write each line of the export to its patient's shard file under ``work``
    (one line of the export in memory at a time), Medications to the lookup;
    every file is flushed and fsynced before this returns."""
    (work / "shards").mkdir(parents=True, exist_ok=True)
    lines = unassigned = 0
    unreadable: list[str] = []
    lookup = MedicationLookup(medication_path(work), create=True)
    try:
        with ExitStack() as stack:
            outputs = [
                stack.enter_context(shard_path(work, i).open("wb", buffering=64 * 1024))
                for i in range(shards)
            ]
            for file in export.files:
                batch: list[tuple[str, bytes]] = []
                for number, line in enumerate(iter_lines(file.path), start=1):
                    lines += 1
                    try:
                        kind, patient_id = patient_of(line)
                    except msgspec.DecodeError:
                        unreadable.append(f"{file.path.name}:{number}")
                        continue
                    if kind in SHARED_TYPES or file.resource_type in SHARED_TYPES:
                        medication_id = _KEYS.decode(line).id
                        if medication_id:
                            batch.append((medication_id, line))
                        if len(batch) >= _BATCH:
                            lookup.add(batch)
                            batch = []
                        continue
                    if patient_id is None:
                        unassigned += 1
                        continue
                    out = outputs[shard_of(patient_id, shards)]
                    out.write(patient_id.encode("utf-8") + b"\t" + line + b"\n")
                lookup.add(batch)
            for out in outputs:
                out.flush()
                os.fsync(out.fileno())
    finally:
        lookup.close()
    return Partition(shards, lines, unassigned, tuple(unreadable))


def read_shard(path: Path) -> dict[str, list[bytes]]:
    """A shard's lines grouped by patient id (the shard fits in memory by design)."""
    groups: dict[str, list[bytes]] = {}
    with path.open("rb") as stream:
        for line in stream:
            patient_id, _, raw = line.rstrip(b"\n").partition(b"\t")
            groups.setdefault(patient_id.decode("utf-8"), []).append(raw)
    return groups
