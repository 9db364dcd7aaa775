"""The third-party FHIR R4 corpus (tests/data/fhir-corpus/) as records isotrack can read.

Each file is kept exactly as its source published it (see the README of its folder).
Many are single resources (an Observation, a MedicationRequest), as a FHIR server
returns them on a read; isotrack reads a *record*: a Bundle holding the patient.
:func:`record_of` makes one, transparently and always the same way:

- a Bundle file is used as it is;
- a single resource is wrapped in a ``collection`` Bundle (entries without
  ``fullUrl``, so references resolve by ``Type/id``);
- every ``Medication/<id>`` the record refers to and does not hold is added from
  the same folder when a file there has that id (the Medication a US Core
  MedicationRequest references);
- a record without a Patient gets the Patient its resources name as subject:
  the file of the same folder with that id (the Patient of a US Core
  Observation), else a **stand-in** Patient with that id (the Oracle Health-shaped
  search Bundles name ``Patient/70001002``, which no file holds):
  :data:`STAND_IN` says what it holds (female, of an age to get pregnant, so the
  pregnancy rules apply), and :attr:`Record.stand_in` tells which records have one.

Nothing else is added, changed or removed: what a test asserts about a record
is what the third party (or, for ``oracle-health-shaped/``, isotrack) wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import REPO

Json = dict[str, Any]

CORPUS = REPO / "tests" / "data" / "fhir-corpus"
STAND_IN: Json = {
    "resourceType": "Patient",
    "gender": "female",
    "birthDate": "1990-01-01",
    "name": [{"text": "Corpus stand-in"}],
}
"""The Patient added (with the referenced id) to a record whose source publishes none."""
SUPPORT_TYPES = frozenset({"Medication"})
"""Resources that are only ever read through a record that references them."""
_MEDICATION = re.compile(r"\AMedication/[A-Za-z0-9\-.]{1,64}\Z")


@dataclass(frozen=True)
class Record:
    """One corpus file as a Bundle isotrack reads."""

    path: Path
    document: Json
    patient_id: str
    stand_in: bool

    @property
    def name(self) -> str:
        """``<source folder>/<file name>``: the id of the record in test names."""
        return f"{self.path.parent.name}/{self.path.name}"


def corpus_files() -> list[Path]:
    """Every corpus file that is a record on its own (Medications are read through
    the requests that reference them), sorted."""
    return sorted(
        path
        for path in CORPUS.glob("*/*.json")
        if _load(path).get("resourceType") not in SUPPORT_TYPES
    )


def record_of(path: Path) -> Record:
    """The file at ``path`` as a record (see the module docstring)."""
    document = _load(path)
    if document.get("resourceType") == "Bundle":
        bundle = json.loads(json.dumps(document))  # a copy: tests may not change the file
        bundle.setdefault("entry", [])
    else:
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": document}]}
    entries: list[Json] = bundle["entry"]
    folder = _in_folder(path.parent)
    held = {_key(e.get("resource") or {}) for e in entries}
    for reference in sorted(_medication_references(entries) - held):
        if reference in folder:
            entries.append({"resource": folder[reference]})
    patients = [r for r in (e.get("resource") or {} for e in entries) if _is_patient(r)]
    if patients:
        return Record(path, bundle, str(patients[0].get("id", "")), stand_in=False)
    subject = _first_subject(entries)
    published = folder.get(f"Patient/{subject}")
    entries.append({"resource": published or {**STAND_IN, "id": subject}})
    return Record(path, bundle, subject, stand_in=published is None)


@cache
def _load(path: Path) -> Json:
    loaded: Json = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _in_folder(folder: Path) -> dict[str, Json]:
    """The Patients and Medications of one source folder, by ``Type/id``."""
    found: dict[str, Json] = {}
    for path in sorted(folder.glob("*.json")):
        document = _load(path)
        if document.get("resourceType") in ("Patient", "Medication") and document.get("id"):
            found.setdefault(_key(document), document)
    return found


def _key(resource: Json) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _is_patient(resource: Json) -> bool:
    return resource.get("resourceType") == "Patient"


def _medication_references(entries: list[Json]) -> set[str]:
    """The ``Medication/<id>`` references anywhere in the entries."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            reference = value.get("reference")
            if isinstance(reference, str) and _MEDICATION.match(reference):
                found.add(reference)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk([e.get("resource") for e in entries])
    return found


def _first_subject(entries: list[Json]) -> str:
    for entry in entries:
        resource = entry.get("resource") or {}
        subject = resource.get("subject") or resource.get("patient") or {}
        reference = subject.get("reference") if isinstance(subject, dict) else None
        if isinstance(reference, str) and reference.startswith("Patient/"):
            return reference.removeprefix("Patient/")
    return "corpus-stand-in"
