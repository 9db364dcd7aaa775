"""Shared helpers of the decode and screening benchmarks (not part of the tests).

- :func:`load_bundles`: the 86 Synthea R4 bundles, decompressed in memory once.
- :func:`with_order` / :func:`screen_bundle`: the path of ``isotrack screen
  PATIENT.json --order ORDER.json --date D`` (and of the CDS order hooks): decode
  the patient's bundle, add the order file's resources, find the isotretinoin order,
  build the snapshot, read the order, screen it.
- :func:`best_of`: repeat a timed function, keep every run, report best and median.
- :func:`machine` and :func:`print_table`: what the README records with the numbers.
"""

from __future__ import annotations

import gc
import gzip
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ISOTRACK_SHARED", REPO.parent / "shared"))
SYNTHEA = SHARED / "data" / "synthea-r4"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
T = TypeVar("T")


@dataclass(frozen=True)
class Bundle:
    name: str
    data: bytes
    """The decompressed JSON of the bundle."""
    order: bytes
    """A draft isotretinoin MedicationRequest for the bundle's patient (the --order file)."""
    on: date
    """Evaluation date: the last encounter of the record (as the acceptance test does)."""


def load_bundles(folder: Path = SYNTHEA) -> list[Bundle]:
    """Every ``*.json.gz`` of ``folder`` decompressed, each with an order and a date."""
    from isotrack.fhir import decode_bundle
    from isotrack.fhir.resources import Encounter
    from isotrack.fhir.values import fhir_date

    paths = sorted(folder.glob("*.json.gz"))
    if not paths:
        sys.exit(f"no Synthea bundles in {folder}: set ISOTRACK_SHARED to the shared folder")
    bundles = []
    for path in paths:
        data = gzip.decompress(path.read_bytes())
        record = decode_bundle(data)
        days = [
            fhir_date(e.period.end or e.period.start, "Encounter.period")
            for e in record.of_type(Encounter)
            if e.period is not None
        ]
        on = max(d for d in days if d is not None)
        patient = next(e for e in record.entries if e.resource_type == "Patient")
        order = _order(
            patient.full_url or f"Patient/{patient.resource and patient.resource.id}", on
        )
        bundles.append(Bundle(path.name, data, order, on))
    return bundles


def _order(patient_url: str, on: date) -> bytes:
    """Isotretinoin 40 mg twice a day by mouth, 60 capsules, 30 days, no repeats."""
    import msgspec

    def quantity(value: float, unit: str, code: str) -> dict[str, Any]:
        return {"value": value, "unit": unit, "system": UCUM, "code": code}

    capsule = {"system": RXNORM, "code": "197845", "display": "Isotretinoin 40 MG Oral Capsule"}
    oral = {"system": SNOMED, "code": "26643006", "display": "Oral route"}
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "isotrack-bench-order",
        "status": "draft",
        "intent": "order",
        "authoredOn": on.isoformat(),
        "subject": {"reference": patient_url},
        "medicationCodeableConcept": {"coding": [capsule], "text": capsule["display"]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "route": {"coding": [oral]},
                "doseAndRate": [{"doseQuantity": quantity(40, "mg", "mg")}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": quantity(60, "capsule", "{capsule}"),
            "expectedSupplyDuration": quantity(30, "days", "d"),
        },
    }
    return msgspec.json.encode(order)


def screen_bundle(bundle: Bundle, kb: Any) -> Any:
    """``isotrack screen`` on one bundle with its order file: the Assessment.

    The same calls, in the same order, as ``isotrack.cli.screen_cmd`` (load the
    bundle, add the order file's resources, find the order, snapshot, read the
    order, screen) and as the CDS order hooks, minus reading files and printing.
    """
    from isotrack.clinical.screening import screen_order
    from isotrack.fhir import decode_bundle, read_order, snapshot_from_bundle
    from isotrack.fhir.order import is_isotretinoin, medication_of
    from isotrack.fhir.resources import MedicationRequest

    record = decode_bundle(bundle.data)
    ordered = decode_bundle(bundle.order)
    (request,) = ordered.of_type(MedicationRequest)
    if not is_isotretinoin(medication_of(request, ordered)[0], kb):
        raise RuntimeError(f"{bundle.name}: the order was not recognised as isotretinoin")
    record = record.including(ordered)
    snapshot = snapshot_from_bundle(record, kb=kb, order=request, on=bundle.on)
    order = read_order(request, kb, bundle=record).order
    return screen_order(snapshot, order, on=bundle.on, kb=kb)


@dataclass(frozen=True)
class Timing:
    label: str
    runs: tuple[float, ...]
    """Seconds of each repetition (wall clock)."""
    cpu: tuple[float, ...]
    """CPU seconds of this process for each repetition."""
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)


def each(work: Callable[[T], object], items: Sequence[T]) -> Callable[[], None]:
    """A timed run that handles the items one after another and keeps no result
    (as a server or a stream does): the heap holds one bundle's objects at a time."""

    def run() -> None:
        for item in items:
            work(item)

    return run


def best_of(label: str, work: Callable[[], object], repeat: int, note: str = "") -> Timing:
    """Run ``work`` ``repeat`` times (after one warm-up run), each from a collected heap."""
    work()
    runs, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        wall, used = time.perf_counter(), time.process_time()
        work()
        cpu.append(time.process_time() - used)
        runs.append(time.perf_counter() - wall)
    return Timing(label, tuple(runs), tuple(cpu), note)


def machine() -> str:
    """One line: cores, CPU model, Python, date (UTC)."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}, {when}"
    )


def load_average() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def print_table(
    timings: Sequence[Timing], megabytes: float, count: int, baseline: str, what: str
) -> None:
    """Seconds (best, median, CPU), MB/s, bundles/s and speed relative to ``baseline``
    by wall clock and by CPU time (steadier when other processes share the cores)."""
    base = next(t for t in timings if t.label == baseline)
    header = (
        f"{'':30} {'best s':>7} {'median s':>8} {'cpu s':>7} {'MB/s':>7} "
        f"{what + '/s':>10} {'× ' + baseline:>15} {'cpu ×':>7}"
    )
    print(header)
    print("-" * len(header))
    for t in timings:
        print(
            f"{t.label:30} {t.best:7.3f} {t.median:8.3f} {t.best_cpu:7.3f} "
            f"{megabytes / t.best:7.1f} {count / t.best:10.1f} {base.best / t.best:15.3f} "
            f"{base.best_cpu / t.best_cpu:7.3f}"
        )
        if t.note:
            print(f"{'':30} {t.note}")
