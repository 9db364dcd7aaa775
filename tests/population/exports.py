"""Small Bulk Data exports for tests: resources of several patients as NDJSON files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from isotrack.clinical.codes import LOINC, RXNORM, SNOMED, UCUM

Json = dict[str, Any]
ISOTRETINOIN_40 = {
    "coding": [{"system": RXNORM, "code": "197845", "display": "Isotretinoin 40 MG Oral Capsule"}],
    "text": "Isotretinoin 40 MG Oral Capsule",
}


def patient(pid: str, gender: str = "female", born: str = "1998-05-04", **extra: Any) -> Json:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": born, **extra}


def subject(pid: str) -> Json:
    return {"reference": f"Patient/{pid}"}


def weight(pid: str, kg: float, on: str, *, id: str) -> Json:
    return {
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body Weight"}]},
        "subject": subject(pid),
        "effectiveDateTime": f"{on}T09:00:00+00:00",
        "valueQuantity": {"value": kg, "unit": "kg", "system": UCUM, "code": "kg"},
    }


def condition(pid: str, code: str, display: str, onset: str, *, id: str) -> Json:
    return {
        "resourceType": "Condition",
        "id": id,
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
        "subject": subject(pid),
        "onsetDateTime": f"{onset}T09:00:00+00:00",
    }


def isotretinoin_order(pid: str, authored: str, *, id: str, medication: Json | None = None) -> Json:
    """Isotretinoin 40 mg twice a day, 60 capsules, 30 days, no repeats (a draft)."""
    order: Json = {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "subject": subject(pid),
        "authoredOn": f"{authored}T10:00:00+00:00",
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 40, "unit": "mg", "system": UCUM,
                                                  "code": "mg"}}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 60, "unit": "capsule", "system": UCUM, "code": "{capsule}"},
            "expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"},
        },
    }  # fmt: skip
    if medication is None:
        order["medicationCodeableConcept"] = ISOTRETINOIN_40
    else:
        order["medicationReference"] = medication
    return order


def write_export(
    folder: Path, resources: Iterable[Json], *, gzipped: bool = False, per_file: int = 0
) -> Path:
    """One file per resource type (``Type.000.ndjson[.gz]``), split every ``per_file``
    lines when given; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    for kind, lines in by_type.items():
        size = per_file or len(lines)
        for number, first in enumerate(range(0, len(lines), size)):
            text = "\n".join(lines[first : first + size]) + "\n"
            name = f"{kind}.{number:03d}.ndjson"
            if gzipped:
                (folder / f"{name}.gz").write_bytes(gzip.compress(text.encode()))
            else:
                (folder / name).write_text(text)
    return folder


def copy_plain(source: Path, target: Path) -> Path:
    """The export at ``source`` with every gzipped file decompressed."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name.endswith(".gz"):
            (target / path.name[:-3]).write_bytes(gzip.decompress(path.read_bytes()))
        else:
            (target / path.name).write_bytes(path.read_bytes())
    return target


def read_lines(path: Path) -> list[Json]:
    return [json.loads(line) for line in path.read_text().splitlines()]
